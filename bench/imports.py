"""Benchmark 4: what a cold start pays for imports, ``import app`` vs ``import boto3``.

Each sample is a fresh interpreter (same environment, same working directory) timing only
the import statement with ``time.perf_counter``; runs are interleaved and medians compared.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from bench.report import Row
from bench.world import Sizes
from infra.template import ROOT

__all__ = ["run"]

_PROBE = "import sys, time; {setup}; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
STATEMENTS = {
    "app": "import app",
    "boto3": "import boto3",
    # what the first redirect of a cold Lambda imports beyond app.py (lazily)
    "redirect": "import app, ripple.service.redirect, ripple.adapters.repositories",
}


def _sample(stmt: str, setup: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(stmt=stmt, setup=setup)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def median_import_times(statements: dict[str, str], runs: int, setup: str = "pass") -> dict[str, float]:
    """Median seconds each statement takes in fresh interpreters (``setup`` untimed),
    statements interleaved in alternating order so drift hits them alike."""
    for stmt in statements.values():
        _sample(stmt, setup)  # warm the bytecode caches once, uncounted
    samples: dict[str, list[float]] = {k: [] for k in statements}
    for i in range(runs):
        keys = list(statements) if i % 2 == 0 else list(statements)[::-1]
        for key in keys:
            samples[key].append(_sample(statements[key], setup))
    return {k: statistics.median(v) for k, v in samples.items()}


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    med = median_import_times(STATEMENTS, sizes.import_runs)
    ratio = med["app"] / med["boto3"]
    ratio_redirect = med["redirect"] / med["boto3"]
    rows = [
        Row(
            "4. import app vs import boto3 (median)",
            f"{med['app'] * 1000:.0f} ms vs {med['boto3'] * 1000:.0f} ms = {ratio:.2f}x",
            "<= 1.25x",
            ratio <= 1.25,
        ),
        Row(
            "4. + redirect path (service, PynamoDB repos)",
            f"{med['redirect'] * 1000:.0f} ms = {ratio_redirect:.2f}x boto3",
            "",
            None,
        ),
    ]
    notes = [f"4: {sizes.import_runs} fresh interpreters per statement, interleaved; import statement timed only."]
    return rows, notes

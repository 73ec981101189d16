"""Benchmark 13: cold-start import time of every handler from the built artifacts, with the
shipped ``.pyc`` and without them.

The artifacts are what ``sam build`` produced (``.aws-sam/build``) or, without one, the same
Makefile targets it runs (``make build-<LogicalId>``, into ``.local/bench-build``). Each
sample is a fresh ``python -I -S`` that sees only the function's package, its layers (in
Lambda's order) and the runtime's boto3, and times the handler's import. "without .pyc" is
a copy with every ``__pycache__`` removed, run with ``-B``: on Lambda ``/opt`` and
``/var/task`` are read-only, so a layer shipped without ``.pyc`` compiles on every cold start.
Where the host cannot execute the arm64 poster layer's Pillow, this venv's build of the same
Pillow version stands in (compiled code is not what the ``.pyc`` question is about).
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from bench.report import Row
from bench.world import Sizes
from infra.template import ROOT, load_template

__all__ = ["init_seconds", "run"]

RUNS = 3  # per figure; --quick: 1
PROBE = (
    "import importlib, json, sys, time; sys.path[:0] = json.loads(sys.argv[1]); m, a = sys.argv[2].rsplit('.', 1); "
    "t = time.perf_counter(); getattr(importlib.import_module(m), a); print(time.perf_counter() - t)"
)


def _make(target: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["make", "-s", "-C", str(ROOT), f"build-{target}", f"ARTIFACTS_DIR={out}"],
        check=True,
        capture_output=True,
        timeout=900,
    )


@functools.cache
def _build() -> Path:
    """A build of every function and layer: sam's if there is one, else the Makefile's (cached)."""
    sam = ROOT / ".aws-sam" / "build"
    if (sam / "template.yaml").exists():
        return sam
    out = ROOT / ".local" / "bench-build"
    template = load_template()
    for lid, res in template["Resources"].items():
        if res["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion") and not (out / lid).exists():
            _make(lid, out / lid)
    return out


def _layout(build: Path, logical_id: str) -> tuple[Path, list[Path]]:
    template = load_template()
    props = template["Resources"][logical_id]["Properties"]
    refs = [*template["Globals"]["Function"]["Layers"], *props.get("Layers", [])]
    return build / logical_id, [build / ref["Ref"] / "python" for ref in refs]


@functools.cache
def _support() -> list[str]:
    """The runtime's boto3 closure and, on a non-arm64 host, the binary stand-ins."""
    from tests.packaging.test_lambda_package import _distribution_closure, _link_distributions

    root = Path(tempfile.mkdtemp(prefix="ripple-coldstart-"))
    runtime = root / "runtime"
    runtime.mkdir()
    _link_distributions(_distribution_closure(["boto3"]), runtime)
    paths = [str(runtime)]
    if platform.machine() not in ("aarch64", "arm64"):
        stand_in = root / "host-binaries"
        stand_in.mkdir()
        _link_distributions({"pillow": metadata.distribution("pillow")}, stand_in)
        paths.insert(0, str(stand_in))
    return paths


def _sample(task: Path, layers: list[Path], handler: str, *, pyc: bool) -> float:
    support = _support()
    path = [str(task), *support[:-1], *(str(p) for p in reversed(layers)), support[-1]]
    flags = ["-I", "-S"] + ([] if pyc else ["-B"])
    env = {"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, *flags, "-c", PROBE, json.dumps(path), handler],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _without_pyc(build: Path, logical_id: str, into: Path) -> tuple[Path, list[Path]]:
    task, layers = _layout(build, logical_id)
    copies = []
    for src in [task, *(layer.parent for layer in layers)]:
        dst = into / src.name
        if not dst.exists():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
        copies.append(dst)
    return copies[0], [c / "python" for c in copies[1:]]


@functools.cache
def _measure(logical_id: str, runs: int = RUNS) -> tuple[float, float]:
    """Median import seconds with and without .pyc."""
    handler = load_template()["Resources"][logical_id]["Properties"]["Handler"]
    build = _build()
    task, layers = _layout(build, logical_id)
    with tempfile.TemporaryDirectory(prefix="ripple-nopyc-") as tmp:
        bare_task, bare_layers = _without_pyc(build, logical_id, Path(tmp))
        on, off = [], []
        for i in range(runs):
            order = (True, False) if i % 2 == 0 else (False, True)
            for pyc in order:
                if pyc:
                    on.append(_sample(task, layers, handler, pyc=True))
                else:
                    off.append(_sample(bare_task, bare_layers, handler, pyc=False))
    return statistics.median(on), statistics.median(off)


@functools.cache
def init_seconds(logical_id: str) -> float:
    """What the handler's imports add to INIT as shipped (with .pyc): one sample."""
    handler = load_template()["Resources"][logical_id]["Properties"]["Handler"]
    task, layers = _layout(_build(), logical_id)
    return _sample(task, layers, handler, pyc=True)


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    template = load_template()
    functions = [lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    rows = []
    runs = 1 if sizes.visits < 1000 else RUNS
    if runs == 1:  # --quick: the hot path and the heaviest handler only
        functions = [lid for lid in functions if lid in ("ApiFunction", "PointsConsumerFunction")]
    for lid in functions:
        on, off = _measure(lid, runs)
        rows.append(
            Row(
                f"13. cold import {lid}",
                f"{on * 1000:.0f} ms with .pyc vs {off * 1000:.0f} ms without ({off / on:.1f}x)",
                "with < without",
                on < off,
            )
        )
    notes = [
        f"13: median of {runs} fresh `python -I -S` per figure, from {_build().relative_to(ROOT)}; imports only "
        "(the runtime's own bootstrap comes on top); host CPU, so Lambda's smaller CPU share at 512-1024 MB "
        "stretches both columns alike."
    ]
    return rows, notes

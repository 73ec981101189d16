"""``python -m bench --quick`` runs end to end and prints every figure.

Only that it runs: the figures themselves (timings, ratios) are never asserted in tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.runner import FIGURES

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_runs_and_prints_every_figure() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check: ~30 s of CPU, minutes of wall time on a loaded machine
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for figure in FIGURES:
        assert figure in proc.stdout, f"{figure!r} missing from:\n{proc.stdout}"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    table = [line for line in proc.stdout.splitlines() if line.startswith(tuple("123456"))]
    assert table and all(line.rstrip().endswith(("PASS", "MISS", "INFO")) for line in table), proc.stdout

"""Run every benchmark against one moto server and print one table."""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from collections.abc import Callable

from bench.env import moto_stack
from bench.report import Row, render
from bench.world import QUICK, Sizes

__all__ = ["FIGURES", "main"]

# The names every run prints (the smoke test checks each appears).
FIGURES = (
    "1. redirect as deployed",
    "1. redirect, cache cleared",
    "2. DynamoDB calls/redirect",
    "3. balance+board items beyond ledger",
    "3. write requests (TransactWriteItems)",
    "4. import app vs import boto3",
    "5. leaderboard top-10",
    "6. calls/redirect with share token",
    "6. chain tree",
    "7. redemptions/s",
    "7. conflicts per redemption",
    "7. stock 10, 50 clients at once",
    "7. cancellations per successful redemption",
    "8. settlement of",
    "8. settlement items read",
    "8. settlement items written",
    "9. poster render p50 (1080x1920 JPEG)",
    "9. poster render p95",
    "9. S3 calls per cached poster",
    "9. cold import poster fn vs app",
    "11. export",
    "11. export rows/s (to S3)",
    "12. analytics summary",
    "12. analytics breakdown items read",
    "3. analytics items / 1,000 visits",
)

Bench = Callable[[Sizes], tuple[list[Row], list[str]]]


def _benches() -> list[tuple[str, Bench]]:
    from bench import consumer, imports, reads, redirect

    # The consumer runs first, so the visits stream holds only its own visits.
    from bench import settle as settle_bench

    benches: list[tuple[str, Bench]] = [
        ("consumer", consumer.run),
        ("redirect", redirect.run),
        ("imports", imports.run),
        ("reads", reads.run),
    ]
    benches.append(("settle", settle_bench.run))
    from bench import redeem as redeem_bench

    benches.append(("redeem", redeem_bench.run))
    from bench import poster as poster_bench

    benches.append(("poster", poster_bench.run))
    from bench import export as export_bench

    benches.append(("export", export_bench.run))
    from bench import analytics as analytics_bench

    benches.append(("analytics", analytics_bench.run))
    return benches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test); figures are noisier")
    parser.add_argument("--only", action="append", metavar="NAME", help="consumer|redirect|imports|reads (repeatable)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    logging.basicConfig(level=logging.ERROR)
    started = time.perf_counter()
    rows: list[Row] = []
    notes: list[str] = []
    failed: list[str] = []
    with moto_stack():
        from ripple import bootstrap

        bootstrap.reset()
        for name, bench in _benches():
            if args.only and name not in args.only:
                continue
            t0 = time.perf_counter()
            print(f"running {name} ...", file=sys.stderr, flush=True)
            try:
                r, n = bench(sizes)
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            rows.extend(r)
            notes.extend(n)
            print(f"  {name} done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    rows.sort(key=lambda row: row.figure.split(".", 1)[0])
    notes.sort(key=lambda note: note.split(":", 1)[0])
    mode = "quick" if args.quick else "full"
    print(f"\nRipple benchmarks ({mode}, {time.perf_counter() - started:.0f}s, moto server over loopback HTTP)")
    print(render(rows, notes))
    misses = [r.figure for r in rows if r.ok is False]
    print(
        f"\n{sum(r.ok is True for r in rows)} PASS, {len(misses)} MISS"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0

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
    "3. consumer throughput vs raw conditional PutItem",
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
    "10. cost / 1M redirects, as templated before",
    "10. cost / 1M redirects, as templated now",
    "10. cost / 1M earned visits, consumer batch 100",
    "10. cost / 1M earned visits, consumer batch 1",
    "10. WRU per earned visit, consumer batch 100",
    "10. WRU per earned visit, consumer batch 10",
    "10. WRU per earned visit, consumer batch 1",
    "10. WRU per non-earning visit",
    "13. cold import ApiFunction",
    "13. cold import PointsConsumerFunction",
    "3. analytics items / 1,000 visits",
    "14. employee import",
    "14. import dry run rows/s",
    "14. re-import, all unchanged",
    "13. UA check per request, cache miss",
    "13. UA check per request, LRU hit",
    "13. same rules as one alternation",
    "13. cold start: first UA check",
    "13. ua-parser device+OS per UA",
    "14. token verification (JWKS cached)",
    "14. first token of a process",
    "14. JWKS fetches for all tokens",
    "15. push latency visit -> page socket, p50",
    "15. push latency, worst of",
    "16. card page render",
    "16. card page bytes",
    "16. GET /c/{code} warm",
    "17. e-mails per event",
    "17. e-mails per event, opted out or offboarded",
    "17. notification dispatch",
)

Bench = Callable[[Sizes], tuple[list[Row], list[str]]]


def _benches() -> list[tuple[str, Bench]]:
    from bench import coldstart, consumer, cost, imports, reads, redirect

    # The consumer runs first, so the visits stream holds only its own visits.
    from bench import settle as settle_bench

    benches: list[tuple[str, Bench]] = [
        ("consumer", consumer.run),
        ("redirect", redirect.run),
        ("cost", cost.run),
        ("coldstart", coldstart.run),
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
    from bench import employee_import

    benches.append(("employee-import", employee_import.run))
    from bench import useragents as useragents_bench

    benches.append(("useragents", useragents_bench.run))
    from bench import auth as auth_bench

    benches.append(("auth", auth_bench.run))
    from bench import live as live_bench

    benches.append(("live", live_bench.run))
    from bench import card as card_bench

    benches.append(("card", card_bench.run))
    from bench import notify as notify_bench

    benches.append(("notify", notify_bench.run))
    return benches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test); figures are noisier")
    parser.add_argument("--only", action="append", metavar="NAME", help="a bench name, e.g. cost (repeatable)")
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
    if any(r.figure.startswith("10.") for r in rows):
        from bench.cost import price_table

        print("\nprices (bench/prices.json):")
        print("\n".join(price_table()))
    misses = [r.figure for r in rows if r.ok is False]
    print(
        f"\n{sum(r.ok is True for r in rows)} PASS, {len(misses)} MISS"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0

"""Benchmark 11: CSV export of 1M rows (``--quick``: 50k) through the streaming writer.

Ledger-shaped synthetic rows (CJK team names, negative points, a formula-looking source
key now and then) go through ``ripple.adapters.exports.write_csv_to_s3`` into the moto
server's S3 by multipart upload (8 MiB parts), the way the ExportFunction writes them.
tracemalloc traces this process only (the moto server keeps the object in its own), so its
peak is what the function would hold; rows/s includes tracemalloc's overhead.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

from bench.report import Row
from bench.world import QUICK, Sizes

__all__ = ["run"]

TARGET_MIB = 64  # a 512 MB function keeps most of its memory for the runtime and boto3


def _rows(n: int) -> Iterator[tuple[Any, ...]]:
    teams = ("営業一部", "市场部", "Sales", "行銷部")
    for i in range(n):
        yield (
            f"2026-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z",
            f"emp-{i % 5000:05d}",
            "unique_visit" if i % 7 else "reversal",
            -5 if i % 7 == 0 else 10,
            "final",
            "spring-2026",
            teams[i % 4],
            "東京",
            f"2026-03-{1 + i % 28:02d}",
            f"=v{i}" if i % 1000 == 0 else f"v#{i:09d}",
        )


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    import boto3
    from botocore.config import Config

    from bench.env import STACK
    from infra.buckets import create_buckets
    from ripple.adapters.exports import PART_SIZE, write_csv_to_s3
    from ripple.domain.exports import COLUMNS

    n = 50_000 if sizes == QUICK else 1_000_000
    bucket = os.environ["RIPPLE_BUCKET"]
    client = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
    create_buckets(client, STACK)  # idempotent; the poster bench may not have run
    key = f"exports/bench/ledger-{n}.csv"
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        result = write_csv_to_s3(client, bucket, key, COLUMNS["ledger"], _rows(n))
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    stored = int(client.head_object(Bucket=bucket, Key=key)["ContentLength"])
    client.delete_object(Bucket=bucket, Key=key)
    peak_mib = peak / 2**20
    rows = [
        Row(
            f"11. export {n // 1000}k rows: peak memory",
            f"{peak_mib:.1f} MiB for {result.size / 2**20:.0f} MiB of CSV",
            f"<= {TARGET_MIB} MiB",
            peak_mib <= TARGET_MIB and stored == result.size,
        ),
        Row("11. export rows/s (to S3)", f"{result.rows / elapsed:,.0f} rows/s ({elapsed:.1f} s)", "", None),
    ]
    notes = [
        f"11: {n:,} ledger-shaped rows, {result.parts} multipart parts of {PART_SIZE // 2**20} MiB, "
        f"UTF-8 BOM + formula escaping; tracemalloc on (slows the writer), moto server S3 over loopback."
    ]
    return rows, notes

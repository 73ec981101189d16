"""Benchmark 14: importing 10,000 employees from a CSV (``--quick``: 1,000).

The file (Shift_JIS, as Japanese Excel saves it: CJK names, e-mails, 20 teams, 8 regions)
goes through ``POST /admin/employees/import`` (Chalice's in-process client) into the moto
server: first the dry run (decode, every row checked, compared with the stored employees),
then the job, run by the ImportFunction's handler in the request (``RIPPLE_IMPORT_INVOKE=local``)
so the wall time is the whole job: every row through ``upsert_employee``, 8 in flight,
progress recorded per 200 rows. Then the same file again (every row unchanged, nothing written).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from bench.report import Row
from bench.world import QUICK, Sizes, api_client, auth

__all__ = ["run"]

TARGET_SECONDS = 300  # 10,000 people: well inside one Lambda run (900 s), with room for IdP calls


def _csv(n: int) -> bytes:
    lines = ["id,name,email,team,region,role"]
    for i in range(n):
        lines.append(f"emp{i:05d},山田 太郎{i},emp{i:05d}@example.co.jp,team{i % 20},region{i % 8},employee")
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def _post(client: Any, data: bytes, headers: dict[str, str], query: str = "") -> tuple[int, dict[str, Any]]:
    resp = client.http.post(
        "/admin/employees/import" + query, headers={**headers, "Content-Type": "text/csv"}, body=data
    )
    return resp.status_code, json.loads(resp.body)


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    n = 1_000 if sizes == QUICK else 10_000
    previous = os.environ.get("RIPPLE_IMPORT_INVOKE")
    os.environ["RIPPLE_IMPORT_INVOKE"] = "local"
    try:
        client = api_client()
        admin = auth("bench-import", "boss", "admin")
        data = _csv(n)
        t0 = time.perf_counter()
        status, report = _post(client, data, admin, "?dry_run=true")
        dry = time.perf_counter() - t0
        assert status == 200 and report["error_count"] == 0, report
        t0 = time.perf_counter()
        status, job = _post(client, data, admin)
        full = time.perf_counter() - t0
        assert status == 202 and job["status"] == "done" and job["created"] == n, job
        t0 = time.perf_counter()
        status, again = _post(client, data, admin)
        repeat = time.perf_counter() - t0
        assert status == 202 and again["unchanged"] == n, again
    finally:
        if previous is None:
            os.environ.pop("RIPPLE_IMPORT_INVOKE", None)
        else:
            os.environ["RIPPLE_IMPORT_INVOKE"] = previous
    rows = [
        Row(
            f"14. employee import {n:,} rows",
            f"{full:.1f} s, {n / full:,.0f} rows/s",
            f"<= {TARGET_SECONDS} s",
            full <= TARGET_SECONDS,
        ),
        Row("14. import dry run rows/s", f"{n / dry:,.0f} rows/s ({dry:.2f} s)", "", None),
        Row("14. re-import, all unchanged", f"{n / repeat:,.0f} rows/s ({repeat:.2f} s)", "", None),
    ]
    notes = [
        f"14: {len(data) / 1024:.0f} KiB Shift_JIS CSV; each new row is upsert_employee "
        "(Cognito AdminCreateUser with its invitation, 2 GetItems, 1 TransactWriteItems claiming the e-mail) "
        "against the moto server over loopback HTTP, 8 in flight. On AWS Cognito's user-creation quota "
        "(50 requests/s per account by default) bounds it at >= 200 s for 10,000 new people."
    ]
    return rows, notes

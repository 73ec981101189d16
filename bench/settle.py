"""Benchmark 8: period-end settlement of a day with 10,000 employees.

Board rows (employee, team and region boards, across all campaigns and for one campaign)
and employee items are seeded with PynamoDB batch writes, like ``bench/reads.py``; prizes
are the top 3 employees and the top team. ``ripple.service.settlement.settle`` then runs
once (timed; every DynamoDB call recorded) and a second time, which must write nothing.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.calls import CallLog, recording
from bench.reads import _patient
from bench.report import Row
from bench.world import Sizes, bench_campaign

__all__ = ["run"]

TENANT = "settle"
CAMPAIGN = "autumn"
TZ = "Asia/Shanghai"
TEAMS = 100
REGIONS = ("north", "south", "east", "west", "central")


def _items_read(log: CallLog) -> int:
    total = log.items_read()
    for c in log.dynamodb():
        if c.operation == "BatchGetItem" and c.response is not None:
            total += sum(len(v) for v in c.response.get("Responses", {}).values())
    return total


def _items_written(log: CallLog) -> int:
    total = 0
    for c in log.dynamodb():
        if c.response is None:
            continue  # refused (e.g. a conditional put of a record that exists): nothing written
        if c.operation in ("PutItem", "UpdateItem", "DeleteItem"):
            total += 1
        elif c.operation == "BatchWriteItem":
            total += sum(len(v) for v in c.params.get("RequestItems", {}).values())
        elif c.operation == "TransactWriteItems":
            total += len(c.params.get("TransactItems", []))
    return total


def _seed(n: int, period: str) -> dict[str, int]:
    from ripple import bootstrap
    from ripple.adapters.models import BoardRowItem, EmployeeItem
    from ripple.domain.model import Tenant
    from ripple.domain.points import ALL_CAMPAIGNS, board_id
    from ripple.domain.settlement import PrizeRule

    svc = bootstrap.services()
    svc.tenants.put(Tenant(TENANT, "Bench", TZ))
    bench_campaign(TENANT, CAMPAIGN)
    rng = random.Random(8)
    scores = {f"emp{i:05d}": rng.randint(1, 50_000) for i in range(n)}
    team_of = {e: f"team{i % TEAMS:03d}" for i, e in enumerate(scores)}
    region_of = {e: REGIONS[i % len(REGIONS)] for i, e in enumerate(scores)}
    totals: dict[tuple[str, str], int] = {}
    for e, s in scores.items():
        totals[("employee", e)] = s
        totals[("team", team_of[e])] = totals.get(("team", team_of[e]), 0) + s
        totals[("region", region_of[e])] = totals.get(("region", region_of[e]), 0) + s
    with BoardRowItem.batch_write() as batch:
        for scope in (ALL_CAMPAIGNS, CAMPAIGN):
            for (dim, member), score in totals.items():
                board = board_id(TENANT, dim, scope, period)
                batch.save(BoardRowItem(BoardRowItem.key(board, member), board=board, member=member, score=score))
    with EmployeeItem.batch_write() as batch:
        for e in scores:
            batch.save(
                EmployeeItem(
                    EmployeeItem.key(TENANT, e),
                    gsi1pk=f"{TENANT}#EMP",
                    gsi1sk=e,
                    tenant=TENANT,
                    employee_id=e,
                    name=e,
                    team=team_of[e],
                    region=region_of[e],
                    active=True,
                )
            )
    prizes = [PrizeRule("employee", r, 100 * (4 - r)) for r in (1, 2, 3)] + [PrizeRule("team", 1, 1000)]
    svc.settlements.put_prizes(TENANT, {"day": prizes}, "bench", svc.clock())
    return {"rows": 2 * len(totals), "employees": n}


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    from ripple import bootstrap
    from ripple.adapters.models import BoardRowItem, CampaignItem, EmployeeItem, LedgerItem, MainItem
    from ripple.adapters.settlement import FrozenChunkItem, LateEventItem, SettlementItem
    from ripple.domain.timeutil import period_keys
    from ripple.service.settlement import settle

    svc = bootstrap.services()
    period = period_keys(svc.clock() - 2 * 86_400_000, TZ).day
    n = sizes.board_rows
    t0 = time.perf_counter()
    seeded = _seed(n, period)
    seed_s = time.perf_counter() - t0

    models: list[Any] = [BoardRowItem, EmployeeItem, CampaignItem, MainItem, LedgerItem]
    models += [SettlementItem, FrozenChunkItem, LateEventItem]
    with _patient(*models), recording() as first:
        t1 = time.perf_counter()
        summary = settle(svc, TENANT, period)
        elapsed = time.perf_counter() - t1
    with _patient(*models), recording() as second:
        again = settle(svc, TENANT, period)
    team_size = n // TEAMS
    if summary["rows"] != seeded["rows"] or summary["awards"] != 3 + team_size or again != summary:
        raise RuntimeError(f"settlement wrong: {summary} (again: {again})")
    if summary["points_awarded"] != 300 + 200 + 100 + 1000:
        raise RuntimeError(f"points awarded wrong: {summary}")
    ops = first.ops()
    read, written = _items_read(first), _items_written(first)
    rows = [
        Row(f"8. settlement of {n:,} employees: time", f"{elapsed:.2f} s", "", None),
        Row(
            "8. settlement items read",
            f"{read:,} ({ops['Query']} Query pages, {ops['BatchGetItem']} BatchGet, {ops['GetItem']} GetItem)",
            f"~ {seeded['rows']:,} board rows + {n:,} employees",
            None,
        ),
        Row(
            "8. settlement items written",
            f"{written:,} ({ops['TransactWriteItems']} transactions, {ops['BatchWriteItem']} batch writes)",
            "",
            None,
        ),
        Row(
            "8. settlement re-run: items written",
            str(_items_written(second)),
            "0 (idempotent)",
            _items_written(second) == 0,
        ),
    ]
    notes = [
        f"8: {seeded['rows']:,} board rows ({summary['boards']} boards) and {n:,} employees seeded in {seed_s:.1f}s; "
        f"prizes top-3 employees + top team (split among {team_size} members): {summary['awards']} awards, "
        f"{summary['points_awarded']:,} points; re-run read {_items_read(second)} items. moto sorts a GSI's whole "
        "table per Query page, so the time is dominated by moto, not by DynamoDB's cost."
    ]
    return rows, notes

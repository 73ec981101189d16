"""Benchmark 12: analytics answered from counters, for a tenant with 1M visits.

The counters a month of 1,000,000 visits leaves behind (30 days x 200 employees x 9
channels, plus devices, OS, countries, teams, regions) are planned by the same pure code
the stream consumer uses (``domain.analytics.plan_counters``) and written straight into
the analytics table; that is set-up, not what is measured. Measured: what
``GET /analytics/summary``, ``/timeseries`` and ``/breakdown`` read to answer, against the
target of at most one item per day per dimension value asked, and that the answer is exact.
"""

from __future__ import annotations

import random
import time
from typing import Any

from bench.calls import recording
from bench.report import Row
from bench.world import Sizes

__all__ = ["run"]

TENANT = "stats"
DAYS = 30
EMPLOYEES = 200
CHANNELS = ("wechat", "line", "weibo", "douyin", "xiaohongshu", "linkedin", "x", "email", "other")
TEAMS = ("sales", "eng", "ops", "hr", "exec")
REGIONS = ("east", "west", "north")
DEVICES = (("phone", "ios"), ("phone", "android"), ("desktop", "windows"), ("tablet", "ios"))
COUNTRIES = ("CN", "JP", "TW", "US")


def _facts(total_visits: int, today: str) -> tuple[list[Any], dict[str, int]]:
    from datetime import date, timedelta

    from ripple.domain.analytics import Fact

    rng = random.Random(12)
    end = date.fromisoformat(today)
    days = [(end - timedelta(days=i)).isoformat() for i in range(DAYS)]
    cells = [(d, e, c) for d in days for e in range(EMPLOYEES) for c in CHANNELS]
    weights = [rng.random() for _ in cells]
    scale = total_visits / sum(weights)
    visits = [int(w * scale) for w in weights]
    # largest remainders get the visits the floor dropped: the total is exact at any size
    order = sorted(range(len(cells)), key=lambda i: weights[i] * scale - visits[i], reverse=True)
    for i in order[: total_visits - sum(visits)]:
        visits[i] += 1
    facts = []
    totals: dict[str, int] = {}
    for i, ((day, emp, channel), n) in enumerate(zip(cells, visits, strict=True)):
        if n <= 0:
            continue
        device, os_name = DEVICES[i % len(DEVICES)]
        uniques = n * 6 // 10
        counts = {
            "exposures": n + n // 7,
            "visits": n,
            "unique_visitors": uniques,
            "d1": uniques - uniques // 5,
            "d2": uniques // 5,
            "forwards": uniques // 5,
            "leads": n // 100,
            "points": uniques * 10 + (uniques // 5) * 3 + (n // 100) * 50,
        }
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
        facts.append(
            Fact(
                tenant_id=TENANT,
                event_id=f"e{i}",
                day=day,
                campaign_id=f"camp{emp % 4}",
                employee_id=f"emp{emp:03d}",
                team=TEAMS[emp % len(TEAMS)],
                region=REGIONS[emp % len(REGIONS)],
                channel=channel,
                device=device,
                os=os_name,
                country=COUNTRIES[(i // 3) % len(COUNTRIES)],
                subdivision="",
                city="",
                visitor="",  # no profiles: segments are not part of this figure
                counts={k: v for k, v in counts.items() if v},
            )
        )
    return facts, totals


def _store(plan: Any) -> int:
    """Write a counter plan's items (set-up: batch writes, no markers)."""
    from ripple.adapters.analytics import batch_put, dim_pk, emp_pk

    items: list[dict[str, Any]] = []
    for (tenant, scope, dim, day), counters in plan.dimension_items.items():
        items.append({"pk": {"S": dim_pk(tenant, scope, dim)}, "sk": {"S": day}, **_n(counters)})
    for (tenant, day, employee), counters in plan.employee_items.items():
        team, region = plan.employee_labels[(tenant, day, employee)]
        items.append(
            {
                "pk": {"S": emp_pk(tenant, day)},
                "sk": {"S": employee},
                "team": {"S": team},
                "region": {"S": region},
                **_n(counters),
            }
        )
    return batch_put(items)


def _n(counters: dict[str, int]) -> dict[str, Any]:
    return {k: {"N": str(v)} for k, v in counters.items()}


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    from ripple import bootstrap
    from ripple.domain.analytics import plan_counters
    from ripple.domain.model import Employee, Role
    from ripple.domain.timeutil import period_keys
    from ripple.service.analytics import breakdown, summary, timeseries
    from ripple.service.auth import Principal

    svc = bootstrap.services()
    today = period_keys(svc.clock(), "UTC").day
    t0 = time.perf_counter()
    facts, totals = _facts(sizes.analytics_visits, today)
    stored = _store(plan_counters(facts))
    svc.employees.put(Employee(TENANT, "emp007", "Emp 7", TEAMS[7 % 5], REGIONS[7 % 3]))
    setup = time.perf_counter() - t0
    admin = Principal(TENANT, "boss", Role.ADMIN)
    window = {"to": today, "from": _minus(today, DAYS - 1)}

    def measured(fn: Any, query: dict[str, str]) -> tuple[dict[str, Any], int, float]:
        with recording() as log:
            t = time.perf_counter()
            out = fn(svc, admin, {**window, **query})
            ms = (time.perf_counter() - t) * 1000
        scans = log.ops().get("Scan", 0)
        if scans:
            raise RuntimeError("analytics issued a Scan")
        return out, int(out["items_read"]), ms

    s, s_items, s_ms = measured(summary, {})
    if s["totals"]["visits"] != sizes.analytics_visits or s["totals"]["points"] != totals["points"]:
        raise RuntimeError(f"summary wrong: {s['totals']} vs {totals}")
    ts, ts_items, _ = measured(timeseries, {})
    if sum(d["visits"] for d in ts["days"]) != sizes.analytics_visits:
        raise RuntimeError("timeseries does not add up")
    ch, ch_items, ch_ms = measured(breakdown, {"by": "channel"})
    if sum(r["visits"] for r in ch["rows"]) != sizes.analytics_visits:
        raise RuntimeError("channel breakdown does not add up")
    emp, emp_items, emp_ms = measured(breakdown, {"by": "employee", "limit": "1000"})
    active = len({f.employee_id for f in facts})
    if sum(r["visits"] for r in emp["rows"]) != sizes.analytics_visits or len(emp["rows"]) != active:
        raise RuntimeError("employee breakdown does not add up")
    one, one_items, _ = measured(summary, {"employee": "emp007"})
    if one["totals"]["visits"] != next(r["visits"] for r in emp["rows"] if r["key"] == "emp007"):
        raise RuntimeError("one employee's summary disagrees with the breakdown")
    rows = [
        Row(
            f"12. analytics summary, {sizes.analytics_visits:,} visits / {DAYS} days: items read",
            f"{s_items} ({s_ms:.0f} ms); timeseries {ts_items}; one employee {one_items}",
            f"<= {DAYS} (1/day)",
            s_items <= DAYS and ts_items <= DAYS and one_items <= DAYS,
        ),
        Row(
            "12. analytics breakdown items read",
            f"by channel {ch_items} for {len(ch['rows'])} values ({ch_ms:.0f} ms); by employee {emp_items} "
            f"for {len(emp['rows'])} values ({emp_ms:.0f} ms)",
            f"<= {DAYS} x values",
            ch_items <= DAYS * len(ch["rows"]) and emp_items <= DAYS * len(emp["rows"]),
        ),
    ]
    notes = [
        f"12: {len(facts):,} (day, employee, channel) facts carrying {sizes.analytics_visits:,} visits planned by "
        f"domain.analytics.plan_counters into {stored:,} counter items (set-up {setup:.1f}s, not measured); "
        "answers checked exact against the generated totals; 0 Scans. A breakdown by channel reads one item "
        "per day holding every channel's counters, so it reads fewer items than values x days."
    ]
    return rows, notes


def _minus(day: str, n: int) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=n)).isoformat()

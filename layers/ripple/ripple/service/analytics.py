"""Share analytics use cases: counting stream events, and answering dashboards from counters.

Counting happens in the stream consumer (:func:`record_events`), right after the ledger:
each event is counted once (a marker per event, in the same transaction as its counters)
together with the outcomes *that event* earned. Queries read counter items only (one per
day per dimension value asked) and report how many they read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ripple.domain.analytics import (
    BREAKDOWNS,
    DIMENSIONS,
    EMPLOYEE_DIMENSIONS,
    METRICS,
    DateRange,
    Fact,
    SegmentPolicy,
    attr_name,
    depth_distribution,
    fact_for_event,
    funnel,
    parse_attr,
    parse_range,
    segment_snapshot,
    visible_totals,
)
from ripple.domain.errors import ForbiddenError, NotFoundError, ValidationError
from ripple.domain.model import Employee, LedgerEntry, Role, Tenant, Visit
from ripple.domain.timeutil import period_keys
from ripple.domain.validation import check_id, reject_unknown_params, validate_limit
from ripple.service.auth import Principal
from ripple.service.context import Services
from ripple.service.ports import RecordResult

__all__ = [
    "breakdown",
    "day_totals",
    "record_events",
    "refresh_segments",
    "segments",
    "summary",
    "timeseries",
]

_RANGE_KEYS = {"from", "to", "campaign", "employee"}
MAX_BREAKDOWN_ROWS = 1000


# ------------------------------------------------------------------ counting (stream consumer)


def record_events(
    svc: Services,
    visits: Sequence[Visit],
    result: RecordResult,
    employees: Mapping[tuple[str, str], Employee],
    timezones: Mapping[str, str],
) -> int:
    """Count a batch of stream events and the outcomes each earned; safe to repeat.

    Outcomes are attributed to the event named by the stored ledger entry's ``source_id``:
    a duplicate candidate (a redelivery, or a repeat visit racing the first) is counted
    with this event only if the stored entry says this event earned it. Returns the number
    of events counted now."""
    if svc.analytics is None or not visits:
        return 0
    by_event: dict[str, list[LedgerEntry]] = {}
    for e in result.inserted:
        by_event.setdefault(e.source_id, []).append(e)
    for d in result.duplicates:
        stored = svc.points.entry(d.tenant_id, d.source_key)
        if stored is not None and stored.source_id == d.source_id:
            by_event.setdefault(stored.source_id, []).append(stored)
    facts: list[Fact] = []
    for v in visits:
        tz = timezones.get(v.tenant_id, "UTC")
        fact = fact_for_event(v, by_event.get(v.visit_id, []), employees.get((v.tenant_id, v.employee_id)), tz)
        if fact is not None:
            facts.append(fact)
    if not facts:
        return 0
    report = svc.analytics.record(facts, svc.clock())
    return int(report.counted)


# ------------------------------------------------------------------ queries


class _Scope:
    """Who and what a query is about, after the caller's rights are applied."""

    def __init__(self, tenant: Tenant, rng: DateRange, campaign: str | None, employee: str | None) -> None:
        self.tenant = tenant
        self.range = rng
        self.campaign = campaign
        self.employee = employee

    @property
    def counters_scope(self) -> str:
        """The dimension items' scope: the whole tenant, or one campaign."""
        return f"c:{self.campaign}" if self.campaign else "t"

    @property
    def employee_slice(self) -> tuple[str, str]:
        """Which (dimension, value) of an employee item holds the scope's numbers."""
        return ("campaign", self.campaign) if self.campaign else ("all", "-")

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.range.start.isoformat(),
            "to": self.range.end.isoformat(),
            "timezone": self.tenant.timezone,
            "campaign": self.campaign,
            "employee": self.employee,
        }


def _scope(
    svc: Services, principal: Principal, query: Mapping[str, str], extra: frozenset[str] = frozenset()
) -> _Scope:
    reject_unknown_params(query, _RANGE_KEYS | extra)
    tenant = svc.tenants.get(principal.tenant_id)
    rng = parse_range(query, tenant.timezone, svc.clock())
    campaign = query.get("campaign") or None
    if campaign is not None:
        check_id(campaign, "campaign")
        if svc.campaigns.get(principal.tenant_id, campaign) is None:
            raise NotFoundError("no such campaign")
    return _Scope(tenant, rng, campaign, _subject(svc, principal, query.get("employee") or None))


def _subject(svc: Services, principal: Principal, employee: str | None) -> str | None:
    """Whose numbers: employees always their own (asking for another's is 403); admins
    anyone's (an unknown employee is 404), or the whole tenant's (None)."""
    if principal.role is Role.EMPLOYEE:
        if employee is not None and employee != principal.sub:
            raise ForbiddenError("employees see their own analytics only")
        return principal.sub
    if employee is not None:
        check_id(employee, "employee")
        if svc.employees.get(principal.tenant_id, employee) is None:
            raise NotFoundError("no such employee")
    return employee


def _counters(item: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], int]]:
    """An item's counter attributes, parsed: ``(value, metric)`` in dimension items,
    ``(dimension, value, metric)`` in employee items."""
    for attr, n in item.items():
        parsed = parse_attr(attr)
        if parsed is not None:
            yield parsed, int(n)


def _add(rows: dict[str, dict[str, int]], row: str, metric: str, n: int) -> None:
    counts = rows.setdefault(row, {})
    counts[metric] = counts.get(metric, 0) + n


def _daily_totals(svc: Services, scope: _Scope) -> tuple[dict[str, dict[str, int]], int]:
    """day -> metric -> count for the scope, and how many items were read."""
    tenant_id = scope.tenant.tenant_id
    days = scope.range.days
    out: dict[str, dict[str, int]] = {}
    if scope.employee is None:
        items = svc.analytics.dimension_days(tenant_id, scope.counters_scope, "all", days[0], days[-1])
        for item in items:
            for p, n in _counters(item):
                if len(p) == 2:
                    _add(out, str(item["sk"]), p[1], n)
        return out, len(items)
    want = scope.employee_slice
    items = svc.analytics.employee_days(tenant_id, scope.employee, days, only=_wanted(*want))
    for item in items:
        day = str(item["pk"]).rsplit("#", 1)[-1]
        for p, n in _counters(item):
            if len(p) == 3 and p[:2] == want:
                _add(out, day, p[2], n)
    return out, len(items)


def day_totals(svc: Services, tenant_id: str, day: str) -> dict[str, int]:
    """The whole tenant's metrics of one of its days (the admins' daily summary): one item."""
    daily: dict[str, dict[str, int]] = {}
    for item in svc.analytics.dimension_days(tenant_id, "t", "all", day, day):
        for p, n in _counters(item):
            if len(p) == 2:
                _add(daily, str(item["sk"]), p[1], n)
    return visible_totals(daily.get(day, {}))


def _wanted(dim: str, value: str) -> list[str]:
    """The counter attributes of one (dimension, value) in employee items."""
    return [attr_name(value, metric, dim) for metric in METRICS]


def _sum(rows: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for row in rows.values():
        for metric, n in row.items():
            total[metric] = total.get(metric, 0) + n
    return total


def summary(svc: Services, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
    """Totals, chain-depth distribution and the funnel for a date range (tenant time zone)."""
    scope = _scope(svc, principal, query)
    daily, read = _daily_totals(svc, scope)
    totals = _sum(daily)
    return {
        **scope.to_dict(),
        "totals": visible_totals(totals),
        "depth": depth_distribution(totals),
        "funnel": funnel(totals),
        "items_read": read,
    }


def timeseries(svc: Services, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
    """One row per day of the range, zeros included."""
    scope = _scope(svc, principal, query)
    daily, read = _daily_totals(svc, scope)
    days = [{"day": day, **visible_totals(daily.get(day, {}))} for day in scope.range.days]
    return {**scope.to_dict(), "days": days, "items_read": read}


def breakdown(svc: Services, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
    """Metrics per value of one dimension (``by``), busiest first."""
    by = query.get("by") or ""
    if by not in BREAKDOWNS:
        raise ValidationError(f"by must be one of {', '.join(BREAKDOWNS)}", details={"field": "by"})
    limit = validate_limit(query.get("limit") or None, default=50, maximum=MAX_BREAKDOWN_ROWS)
    scope = _scope(svc, principal, query, frozenset({"by", "limit"}))
    tenant_id = scope.tenant.tenant_id
    days = scope.range.days
    rows: dict[str, dict[str, int]] = {}
    labels: dict[str, dict[str, str]] = {}
    if by == "employee":
        want = scope.employee_slice
        if scope.employee is not None:
            items = svc.analytics.employee_days(tenant_id, scope.employee, days, only=_wanted(*want))
        else:
            only = _wanted(*want)
            items = [item for day in days for item in svc.analytics.employees_of_day(tenant_id, day, only=only)]
        for item in items:
            key = str(item["sk"])
            labels[key] = {"team": str(item.get("team", "")), "region": str(item.get("region", ""))}
            for p, n in _counters(item):
                if len(p) == 3 and p[:2] == want:
                    _add(rows, key, p[2], n)
    elif scope.employee is not None:
        if by not in EMPLOYEE_DIMENSIONS or scope.campaign is not None:
            raise ValidationError(
                f"one employee's numbers break down by {', '.join(EMPLOYEE_DIMENSIONS)} (without a campaign filter)",
                details={"field": "by"},
            )
        items = svc.analytics.employee_days(tenant_id, scope.employee, days)
        for item in items:
            for p, n in _counters(item):
                if len(p) == 3 and p[0] == by:
                    _add(rows, p[1], p[2], n)
    else:
        if scope.campaign is not None and by == "campaign":
            raise ValidationError("a campaign's numbers cannot break down by campaign", details={"field": "by"})
        assert by in DIMENSIONS
        items = svc.analytics.dimension_days(tenant_id, scope.counters_scope, by, days[0], days[-1])
        for item in items:
            for p, n in _counters(item):
                if len(p) == 2:
                    _add(rows, p[0], p[1], n)
    read = len(items)
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1].get("visits", 0), -kv[1].get("exposures", 0), kv[0]))
    out_rows: list[dict[str, Any]] = []
    for key, metrics in ordered[:limit]:
        row_out: dict[str, Any] = {"key": key, **visible_totals(metrics)}
        if key in labels:
            row_out.update(labels[key])
        out_rows.append(row_out)
    if by == "employee" and out_rows:
        names = svc.employees.batch_get({(tenant_id, r["key"]) for r in out_rows})
        for r in out_rows:
            emp = names.get((tenant_id, r["key"]))
            r["name"] = emp.name if emp is not None else r["key"]
    return {**scope.to_dict(), "by": by, "rows": out_rows, "total_rows": len(rows), "items_read": read}


def _policy(tenant: Tenant) -> SegmentPolicy:
    return SegmentPolicy(
        window_days=tenant.segment_window_days,
        medium=tenant.segment_medium,
        heavy=tenant.segment_heavy,
        reach_days=tenant.reach_days,
    )


def segments(svc: Services, principal: Principal, query: Mapping[str, str]) -> dict[str, Any]:
    """The latest snapshot: people by level, reach, and (admins) reach per employee."""
    reject_unknown_params(query, {"employee", "limit"})
    limit = validate_limit(query.get("limit") or None, default=50, maximum=MAX_BREAKDOWN_ROWS)
    employee = _subject(svc, principal, query.get("employee") or None)
    tenant = svc.tenants.get(principal.tenant_id)
    items = svc.analytics.snapshot(principal.tenant_id, employee)
    head = next((i for i in items if i.get("sk") == "-"), None)
    rows = [i for i in items if str(i.get("sk", "")).startswith("e#")]
    counters = ("touched", "reachable", "light", "medium", "heavy")
    emp_rows: list[dict[str, Any]] = sorted(
        ({"employee_id": str(i["sk"])[2:], **{k: int(i.get(k, 0)) for k in counters}} for i in rows),
        key=lambda r: (-int(r["reachable"]), -int(r["touched"]), str(r["employee_id"])),
    )
    out: dict[str, Any] = {
        "as_of": head.get("as_of_day") if head else None,
        "computed_at": head.get("at") if head else None,
        **_policy(tenant).to_dict(),
        "thresholds": {"light": 1, "medium": tenant.segment_medium, "heavy": tenant.segment_heavy},
        "items_read": len(items),
    }
    if employee is None:
        out["segments"] = {k: int(head.get(k, 0)) if head else 0 for k in ("light", "medium", "heavy")}
        out["reach"] = {
            "touched": int(head.get("people", 0)) if head else 0,
            "reachable": int(head.get("reachable", 0)) if head else 0,
        }
        out["employees"] = emp_rows[:limit]
    else:
        mine = emp_rows[0] if emp_rows else {"touched": 0, "reachable": 0, "light": 0, "medium": 0, "heavy": 0}
        out["employee"] = employee
        out["segments"] = {k: int(mine.get(k, 0)) for k in ("light", "medium", "heavy")}
        out["reach"] = {"touched": int(mine.get("touched", 0)), "reachable": int(mine.get("reachable", 0))}
    return out


# ------------------------------------------------------------------ job


def refresh_segments(svc: Services, tenants: Sequence[str] | None = None) -> dict[str, Any]:
    """Recompute every tenant's segments and reach from the visitor profiles (hourly job).
    Idempotent: a re-run over the same profiles writes the same snapshot."""
    if svc.analytics is None:
        return {"job": "segments", "tenants": 0}
    ids = list(tenants) if tenants is not None else svc.tenants.all_ids()
    people = 0
    pruned = 0
    for tenant_id in ids:
        tenant = svc.tenants.get(tenant_id)
        today = period_keys(svc.clock(), tenant.timezone).day
        snap = segment_snapshot(svc.analytics.profiles(tenant_id), _policy(tenant), today)
        pruned += svc.analytics.prune(tenant_id, snap.stale_days)
        svc.analytics.save_snapshot(tenant_id, snap, svc.clock())
        people += snap.people
    return {"job": "segments", "tenants": len(ids), "people": people, "profiles_pruned": pruned}

"""Share analytics as counters: what each stream event adds, and how counters answer queries.

The stream consumer turns every event (a visit, a hosted-page view, a lead, a conversion)
into one :class:`Fact` and adds it to a few *counter items* per day; queries then read
those items and never the raw visits. The layout is chosen so that a query reads at most
one item per day per dimension value asked:

* ``dimension items``: one per (tenant, scope, dimension, day); each holds a counter per
  (value, metric) as a flat attribute ``<value>|<metric>``. Scopes are ``t`` (the whole
  tenant) and ``c:<campaign>``; dimensions are small (channel, team, region, device, os,
  country, subdivision, city, campaign), so a breakdown by channel over 30 days reads 30 items.
* ``employee items``: one per (tenant, day, employee) holding that employee's totals and
  their own small breakdowns (``campaign|<id>|visits``, ``channel|wechat|visits``, ...):
  an employee's dashboard, and the breakdown by employee, read one item per day per employee.

Segments (light / medium / heavy) and reach are computed from per-visitor profiles by a
job (:func:`segment_snapshot`), because a rolling window decays without events.

Pure: no boto3. The adapter (``adapters.analytics``) stores what this module plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from ripple.domain.errors import ValidationError
from ripple.domain.model import Decision, Employee, LedgerEntry, Visit
from ripple.domain.points import pack_transactions
from ripple.domain.timeutil import FIRST_YEAR, parse_day, period_keys

__all__ = [
    "BREAKDOWNS",
    "DEPTH_BUCKETS",
    "DIMENSIONS",
    "EMPLOYEE_DIMENSIONS",
    "FUNNEL",
    "MAX_RANGE_DAYS",
    "METRICS",
    "CounterPlan",
    "DateRange",
    "EmployeeSegments",
    "Fact",
    "SegmentPolicy",
    "SegmentSnapshot",
    "attr_name",
    "depth_distribution",
    "dimension_values",
    "fact_for_event",
    "fact_keys",
    "funnel",
    "pack_facts",
    "parse_attr",
    "parse_range",
    "plan_counters",
    "segment_of",
    "segment_snapshot",
    "visible_totals",
]

# What every counter item counts, per value. ``d1``..``d4`` are unique visitors by their
# depth in the spread tree (1 = opened the employee's own link, 4 = three forwards or more).
METRICS: tuple[str, ...] = (
    "exposures",  # every recorded GET of a link or hosted page, link-preview fetchers included
    "visits",  # GETs by people (bots, previews, the owner and signed-in colleagues excluded)
    "page_views",  # human views of hosted pages (a subset of visits)
    "card_views",  # human views of business cards, /c/{code} (a subset of visits)
    "unique_visitors",  # first eligible visit of a person to a campaign (fraud-withheld excluded)
    "forwards",  # people who arrived through someone else's share (first time per campaign)
    "leads",  # new leads (first per customer and campaign)
    "conversions",
    "points",
    "d1",
    "d2",
    "d3",
    "d4",
)
DEPTH_BUCKETS: tuple[str, ...] = ("d1", "d2", "d3", "d4")
# (stage, metric, the stage its rate is taken against). Forwards and leads both come from
# visits (a lead needs no forward), so each names the step it really follows instead of
# the row above it: "Lead 2 (200%)" against forwards was a wrong figure.
FUNNEL: tuple[tuple[str, str, str | None], ...] = (
    ("exposure", "exposures", None),
    ("visit", "visits", "exposure"),
    ("forward", "forwards", "visit"),
    ("lead", "leads", "visit"),
    ("conversion", "conversions", "lead"),
)
# Dimensions of the tenant scope (``t``); the campaign scope drops ``campaign``. ``employee``
# is answered from employee items instead.
DIMENSIONS: tuple[str, ...] = (
    "channel",
    "team",
    "region",
    "device",
    "os",
    "country",
    "subdivision",
    "city",
    "campaign",
)
EMPLOYEE_DIMENSIONS: tuple[str, ...] = ("campaign", "channel", "device", "os", "country")
BREAKDOWNS: tuple[str, ...] = (*DIMENSIONS, "employee")
MAX_RANGE_DAYS = 366
# a default range never reaches before the first day timeutil.parse_day accepts
EARLIEST = date(FIRST_YEAR, 1, 1)
UNKNOWN = "unknown"
_SEP = "|"


def _escape(value: str) -> str:
    """Attribute names are ``<value>|<metric>``: a ``|`` or ``%`` in a value is escaped."""
    return value.replace("%", "%25").replace(_SEP, "%7C")


def _unescape(value: str) -> str:
    return value.replace("%7C", _SEP).replace("%25", "%")


def attr_name(value: str, metric: str, dim: str | None = None) -> str:
    """``<value>|<metric>`` in dimension items, ``<dim>|<value>|<metric>`` in employee items."""
    if dim is None:
        return f"{_escape(value)}{_SEP}{metric}"
    return f"{dim}{_SEP}{_escape(value)}{_SEP}{metric}"


def parse_attr(name: str) -> tuple[str, ...] | None:
    """Inverse of :func:`attr_name` (None for attributes that are not counters)."""
    parts = name.split(_SEP)
    if len(parts) not in (2, 3) or parts[-1] not in METRICS:
        return None
    return (*parts[:-2], _unescape(parts[-2]), parts[-1])


@dataclass(frozen=True, slots=True)
class Fact:
    """What one stream event adds to the counters (dimensions as of processing time)."""

    tenant_id: str
    event_id: str
    day: str  # in the tenant's time zone
    campaign_id: str
    employee_id: str
    team: str
    region: str
    channel: str
    device: str
    os: str
    country: str
    subdivision: str  # ISO 3166-2 code below the country (CloudFront-Viewer-Country-Region)
    city: str
    visitor: str  # "" when the event has no person (or is a bot)
    counts: Mapping[str, int]

    def dimension_values(self) -> dict[str, str]:
        return dimension_values(self)


def dimension_values(fact: Fact) -> dict[str, str]:
    return {
        "channel": fact.channel or UNKNOWN,
        "team": fact.team or UNKNOWN,
        "region": fact.region or UNKNOWN,
        "device": fact.device or UNKNOWN,
        "os": fact.os or UNKNOWN,
        "country": fact.country or UNKNOWN,
        "subdivision": f"{fact.country or UNKNOWN}-{fact.subdivision}" if fact.subdivision else UNKNOWN,
        "city": f"{fact.country or UNKNOWN}/{fact.city}" if fact.city else UNKNOWN,
        "campaign": fact.campaign_id or UNKNOWN,
    }


def fact_for_event(visit: Visit, entries: Sequence[LedgerEntry], employee: Employee | None, tz: str) -> Fact | None:
    """The counters one event moves. ``entries`` are the ledger entries this very event
    produced (inserted now, or by an earlier delivery of the same event): an outcome is
    counted with the event that earned it, so each is counted once."""
    counts: dict[str, int] = {}
    # people other than the company's own staff: owners' and signed-in colleagues' clicks
    # are exposures, not visits
    human = visit.decision not in (Decision.BOT, Decision.OWNER, Decision.COLLEAGUE)
    if visit.kind == "visit":
        counts["exposures"] = 1
        if human:
            counts["visits"] = 1
            if visit.surface == "page":
                counts["page_views"] = 1
            elif visit.surface == "card":
                counts["card_views"] = 1
    for e in entries:
        withheld = "withheld" in e.meta
        if e.kind == "unique_visit" and not withheld:
            counts["unique_visitors"] = counts.get("unique_visitors", 0) + 1
            bucket = DEPTH_BUCKETS[min(max(e.depth or 1, 1), 4) - 1]
            counts[bucket] = counts.get(bucket, 0) + 1
        elif e.kind == "forward" and not withheld:
            counts["forwards"] = counts.get("forwards", 0) + 1
        elif e.kind == "lead" and not withheld:  # like visits: a withheld lead is not one
            counts["leads"] = counts.get("leads", 0) + 1
        elif e.kind == "conversion":
            counts["conversions"] = counts.get("conversions", 0) + 1
        if e.points:
            counts["points"] = counts.get("points", 0) + e.points
    counts = {k: v for k, v in counts.items() if v}
    if not counts:  # e.g. a repeat lead: the event adds nothing
        return None
    return Fact(
        tenant_id=visit.tenant_id,
        event_id=visit.visit_id,
        day=period_keys(visit.ts, tz).day,
        campaign_id=visit.campaign_id,
        employee_id=visit.employee_id,
        team=employee.team if employee is not None else "",
        region=employee.region if employee is not None else "",
        channel=visit.channel,
        device=visit.device,
        os=visit.os,
        country=visit.country,
        subdivision=visit.subdivision,
        city=visit.city,
        visitor=visit.visitor if human else "",
        counts=counts,
    )


@dataclass(slots=True)
class CounterPlan:
    """Summed counter deltas for a set of facts, keyed by the item they land in."""

    dimension_items: dict[tuple[str, str, str, str], dict[str, int]] = field(default_factory=dict)
    employee_items: dict[tuple[str, str, str], dict[str, int]] = field(default_factory=dict)
    employee_labels: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    # (tenant, visitor) -> {"d|<day>": interactions, "e|<employee>": interactions}
    profiles: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    def item_count(self) -> int:
        return len(self.dimension_items) + len(self.employee_items) + len(self.profiles)

    def item_keys(self) -> set[tuple[str, ...]]:
        return (
            {("dim", *k) for k in self.dimension_items}
            | {("emp", *k) for k in self.employee_items}
            | {("profile", *k) for k in self.profiles}
        )


def _add(target: dict[str, int], name: str, n: int) -> None:
    target[name] = target.get(name, 0) + n


def fact_keys(fact: Fact) -> set[tuple[str, ...]]:
    """Every item one fact touches (for packing facts into bounded transactions)."""
    return plan_counters([fact]).item_keys()


def _interactions(fact: Fact) -> int:
    return fact.counts.get("visits", 0) + fact.counts.get("leads", 0) + fact.counts.get("conversions", 0)


def plan_counters(facts: Iterable[Fact]) -> CounterPlan:
    plan = CounterPlan()
    for f in facts:
        values = dimension_values(f)
        for scope in ("t", f"c:{f.campaign_id}"):
            totals = plan.dimension_items.setdefault((f.tenant_id, scope, "all", f.day), {})
            for metric, n in f.counts.items():
                _add(totals, attr_name("-", metric), n)
            for dim in DIMENSIONS:
                if scope != "t" and dim == "campaign":
                    continue
                row = plan.dimension_items.setdefault((f.tenant_id, scope, dim, f.day), {})
                for metric, n in f.counts.items():
                    _add(row, attr_name(values[dim], metric), n)
        emp_key = (f.tenant_id, f.day, f.employee_id)
        emp = plan.employee_items.setdefault(emp_key, {})
        plan.employee_labels[emp_key] = (f.team, f.region)
        for metric, n in f.counts.items():
            _add(emp, attr_name("-", metric, "all"), n)
            for dim in EMPLOYEE_DIMENSIONS:
                _add(emp, attr_name(values[dim], metric, dim), n)
        touches = _interactions(f)
        if f.visitor and touches:
            profile = plan.profiles.setdefault((f.tenant_id, f.visitor), {})
            _add(profile, f"d{_SEP}{f.day}", touches)
            _add(profile, f"e{_SEP}{_escape(f.employee_id)}", touches)
    return plan


def pack_facts(facts: Sequence[Fact], max_items: int) -> list[list[Fact]]:
    """Chunks whose markers plus distinct counter items fit one transaction. Facts of one
    employee, day and campaign share most items, so they are packed together."""
    ordered = sorted(facts, key=lambda f: (f.tenant_id, f.day, f.campaign_id, f.team, f.employee_id, f.event_id))
    return pack_transactions(ordered, fact_keys, max_items)


# ------------------------------------------------------------------ queries


@dataclass(frozen=True, slots=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> list[str]:
        n = (self.end - self.start).days + 1
        return [(self.start + timedelta(days=i)).isoformat() for i in range(n)]


def parse_range(query: Mapping[str, str], tz: str, now_ms: int, *, default_days: int = 30) -> DateRange:
    """``from`` and ``to`` (inclusive, ``YYYY-MM-DD`` in the tenant's zone); the last
    ``default_days`` days up to today when absent."""
    today = date.fromisoformat(period_keys(now_ms, tz).day)

    def one(name: str, default: date) -> date:
        raw = query.get(name)
        return default if raw is None or raw == "" else parse_day(raw, name)

    end = one("to", today)
    start = one("from", max(EARLIEST, end - timedelta(days=default_days - 1)))
    if start > end:
        raise ValidationError("from must not be after to", details={"field": "from"})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ValidationError(f"a range spans at most {MAX_RANGE_DAYS} days", details={"field": "from"})
    return DateRange(start, end)


def visible_totals(totals: Mapping[str, int]) -> dict[str, int]:
    """Every metric but the depth buckets (reported separately as a distribution)."""
    return {m: int(totals.get(m, 0)) for m in METRICS if m not in DEPTH_BUCKETS}


def depth_distribution(totals: Mapping[str, int]) -> dict[str, int]:
    return {
        "1": int(totals.get("d1", 0)),
        "2": int(totals.get("d2", 0)),
        "3": int(totals.get("d3", 0)),
        "4+": int(totals.get("d4", 0)),
    }


def funnel(totals: Mapping[str, int]) -> list[dict[str, object]]:
    """Exposure, visit, forward, lead, conversion; each rate is this stage over the step it
    follows, named in ``of`` (visits for forwards and for leads; None where that step is 0,
    and for the first stage), so the screen can say what the percentage is of."""
    counts = {stage: int(totals.get(metric, 0)) for stage, metric, _ in FUNNEL}
    out: list[dict[str, object]] = []
    for stage, _, of in FUNNEL:
        base = counts[of] if of is not None else 0
        rate = round(counts[stage] / base, 4) if base else None
        out.append({"stage": stage, "count": counts[stage], "rate": rate, "of": of})
    return out


# ------------------------------------------------------------------ segments and reach


@dataclass(frozen=True, slots=True)
class SegmentPolicy:
    """Per-tenant thresholds: interactions within ``window_days``; ``medium`` and ``heavy``
    are the lowest counts of those levels (1 interaction is at least light)."""

    window_days: int = 30
    medium: int = 3
    heavy: int = 10
    reach_days: int = 90  # touched people active within this many days are still reachable

    def __post_init__(self) -> None:
        if not 1 <= self.window_days <= 365 or not 1 <= self.reach_days <= 730:
            raise ValidationError("window_days must be 1..365 and reach_days 1..730", details={"field": "segments"})
        if not 2 <= self.medium < self.heavy <= 100_000:
            raise ValidationError("segments need 2 <= medium < heavy", details={"field": "segments"})

    def to_dict(self) -> dict[str, int]:
        return {
            "window_days": self.window_days,
            "medium": self.medium,
            "heavy": self.heavy,
            "reach_days": self.reach_days,
        }


def segment_of(interactions: int, policy: SegmentPolicy) -> str | None:
    if interactions <= 0:
        return None
    if interactions >= policy.heavy:
        return "heavy"
    if interactions >= policy.medium:
        return "medium"
    return "light"


@dataclass(slots=True)
class EmployeeSegments:
    touched: int = 0  # distinct people who ever opened this employee's links or forwards
    reachable: int = 0  # of those, active with the tenant within ``reach_days``
    light: int = 0
    medium: int = 0
    heavy: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "touched": self.touched,
            "reachable": self.reachable,
            "light": self.light,
            "medium": self.medium,
            "heavy": self.heavy,
        }


@dataclass(slots=True)
class SegmentSnapshot:
    as_of_day: str
    policy: SegmentPolicy
    segments: dict[str, int] = field(default_factory=lambda: {"light": 0, "medium": 0, "heavy": 0})
    people: int = 0
    reachable: int = 0
    employees: dict[str, EmployeeSegments] = field(default_factory=dict)
    stale_days: dict[str, list[str]] = field(default_factory=dict)  # visitor -> day attrs to prune


def segment_snapshot(
    profiles: Iterable[tuple[str, Mapping[str, int]]], policy: SegmentPolicy, today: str
) -> SegmentSnapshot:
    """Classify every person of a tenant by their interactions within the window ending
    ``today`` and tally reach per employee. A person's level is their engagement with the
    company (all employees' links), counted under every employee who ever reached them."""
    snap = SegmentSnapshot(today, policy)
    end = date.fromisoformat(today)
    window_start = (end - timedelta(days=policy.window_days - 1)).isoformat()
    reach_start = (end - timedelta(days=policy.reach_days - 1)).isoformat()
    keep_from = min(window_start, reach_start)
    for visitor, counters in profiles:
        in_window = 0
        last = ""
        stale: list[str] = []
        employees: list[str] = []
        for name, n in counters.items():
            kind, _, rest = name.partition(_SEP)
            if kind == "d":
                last = max(last, rest)
                if window_start <= rest <= today:
                    in_window += int(n)
                elif rest < keep_from:
                    stale.append(name)
            elif kind == "e" and n:
                employees.append(_unescape(rest))
        if stale:
            snap.stale_days[visitor] = stale
        level = segment_of(in_window, policy)
        reachable = bool(last) and last >= reach_start
        snap.people += 1
        if level is not None:
            snap.segments[level] += 1
        if reachable:
            snap.reachable += 1
        for employee_id in employees:
            es = snap.employees.setdefault(employee_id, EmployeeSegments())
            es.touched += 1
            if reachable:
                es.reachable += 1
            if level == "light":
                es.light += 1
            elif level == "medium":
                es.medium += 1
            elif level == "heavy":
                es.heavy += 1
    return snap

"""Period-end settlement rules: which periods are due, prizes, awards and late events.

Pure functions only (no I/O); ``ripple.service.settlement`` runs them against storage.

* A period settles once it has *ended in the tenant's time zone*: a day at the next local
  midnight, an ISO week when its Sunday ends, a month after its last day.
* The frozen ranking uses ``domain.ranking`` (competition ranking "1224", ties by id), so
  every employee or team tied at a prized rank gets that rank's prize.
* Award ledger entries have deterministic source keys, so re-running a settlement (or two
  runners racing) can insert each award at most once:
  ``st#<period>#<dimension>[@<campaign>]#<member>#<rank>``; a team prize is paid to the
  team's members, one entry each: ``st#<period>#team[@<campaign>]#<team>#<rank>#<employee>``.
* Team prizes are *split* equally among the team's active employees; the remainder of the
  integer division goes to the member who scored most on the same period's employee board
  (ties by id). The configured points are thus the prize's total cost, whatever the team size.
* Late events: an entry whose day, week or month is already settled counts in the next
  period that is still open (``shift_late``); its source key never changes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ripple.domain.errors import ValidationError
from ripple.domain.model import LedgerEntry
from ripple.domain.points import ALL_CAMPAIGNS
from ripple.domain.ranking import RankedEntry
from ripple.domain.timeutil import PERIOD_ALL, parse_period, period_keys
from ripple.domain.validation import check_id

__all__ = [
    "GRANULARITIES",
    "LOOKBACK",
    "Award",
    "PrizeRule",
    "award_key",
    "closed_key",
    "due_periods",
    "granularity",
    "next_period",
    "parse_settlement_period",
    "period_bounds",
    "plan_awards",
    "prev_period",
    "prizes_to_dict",
    "settlement_id",
    "shift_late",
    "successors",
    "validate_prizes",
]

GRANULARITIES: tuple[str, ...] = ("day", "week", "month")
PRIZE_DIMENSIONS: tuple[str, ...] = ("employee", "team")
# How far back the scheduled job looks for unsettled periods (a missed run catches up).
LOOKBACK: Mapping[str, int] = {"day": 3, "week": 2, "month": 2}
MAX_PRIZE_RANK = 100
MAX_PRIZE_POINTS = 1_000_000
MAX_PRIZES_PER_PERIOD = 50

_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_WEEK = re.compile(r"^[0-9]{4}-W[0-9]{2}\Z")
_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}\Z")


# ------------------------------------------------------------------ periods


def granularity(period: str) -> str:
    """``day`` | ``week`` | ``month`` of a canonical period key."""
    if _DAY.match(period):
        return "day"
    if _WEEK.match(period):
        return "week"
    if _MONTH.match(period):
        return "month"
    raise ValidationError("period must be YYYY-MM-DD, YYYY-Www or YYYY-MM", details={"field": "period"})


def parse_settlement_period(value: object) -> tuple[str, str]:
    """Validate a period to settle: (granularity, period). ``all`` never settles."""
    if not isinstance(value, str) or value == PERIOD_ALL:
        raise ValidationError("period must be YYYY-MM-DD, YYYY-Www or YYYY-MM", details={"field": "period"})
    period = parse_period(value)
    return granularity(period), period


def _first_day(period: str) -> date:
    gran = granularity(period)
    if gran == "day":
        return date.fromisoformat(period)
    if gran == "week":
        return date.fromisocalendar(int(period[:4]), int(period[6:]), 1)
    return date(int(period[:4]), int(period[5:7]), 1)


def _key_of(day: date, gran: str) -> str:
    if gran == "day":
        return day.isoformat()
    if gran == "week":
        iso = day.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    return f"{day.year:04d}-{day.month:02d}"


def next_period(period: str) -> str:
    gran = granularity(period)
    first = _first_day(period)
    if gran == "day":
        return _key_of(first + timedelta(days=1), gran)
    if gran == "week":
        return _key_of(first + timedelta(days=7), gran)
    return _key_of((first.replace(day=28) + timedelta(days=4)).replace(day=1), gran)


def prev_period(period: str) -> str:
    gran = granularity(period)
    first = _first_day(period)
    if gran == "day":
        return _key_of(first - timedelta(days=1), gran)
    if gran == "week":
        return _key_of(first - timedelta(days=7), gran)
    return _key_of((first - timedelta(days=1)).replace(day=1), gran)


def _local_midnight_ms(day: date, tz: str) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).timestamp() * 1000)


def period_bounds(period: str, tz: str) -> tuple[int, int]:
    """[start, end) of a period in epoch milliseconds: local midnights of the tenant's zone
    (so a day is 23 or 25 hours long across a DST change)."""
    return _local_midnight_ms(_first_day(period), tz), _local_midnight_ms(_first_day(next_period(period)), tz)


def due_periods(
    tz: str, now_ms: int, *, grace_ms: int = 0, lookback: Mapping[str, int] = LOOKBACK
) -> list[tuple[str, str]]:
    """(granularity, period) pairs that ended at least ``grace_ms`` before ``now_ms`` in
    ``tz``, within the lookback window per granularity, oldest first per granularity."""
    current = period_keys(now_ms, tz)
    out: list[tuple[str, str]] = []
    for gran, now_key in zip(GRANULARITIES, current, strict=True):
        keys: list[str] = []
        key = now_key
        for _ in range(lookback.get(gran, 0)):
            key = prev_period(key)
            keys.append(key)
        # A period is due once it has ended (plus the grace for in-flight stream batches).
        out.extend((gran, k) for k in reversed(keys) if period_bounds(k, tz)[1] + grace_ms <= now_ms)
    return out


def settlement_id(tenant_id: str, gran: str, period: str) -> str:
    return f"{tenant_id}#{gran}#{period}"


def closed_key(gran: str, period: str) -> str:
    return f"{gran}#{period}"


# ------------------------------------------------------------------ late events


def shift_late(entry: LedgerEntry, closed: Collection[str], tz: str, now_ms: int) -> tuple[LedgerEntry, dict[str, str]]:
    """Move an entry out of settled periods into the next open one, per granularity.

    ``closed`` holds ``closed_key(gran, period)`` of every settled (or settling) period.
    Returns the entry (same source key and time; only ``day``/``week``/``month`` change)
    and ``{granularity: original period}`` for each field moved. The current period of
    ``now_ms`` is never settled (settlement refuses periods that have not ended), so the
    search stops there at the latest.
    """
    current = dict(zip(GRANULARITIES, period_keys(now_ms, tz), strict=True))
    moved: dict[str, str] = {}
    changes: dict[str, str] = {}
    for gran in GRANULARITIES:
        period = getattr(entry, gran)
        if not period or closed_key(gran, period) not in closed:
            continue
        target = next_period(period)
        while closed_key(gran, target) in closed and target < current[gran]:
            target = next_period(target)
        moved[gran] = period
        changes[gran] = target
    if not changes:
        return entry, moved
    shifted = replace(
        entry,
        day=changes.get("day", entry.day),
        week=changes.get("week", entry.week),
        month=changes.get("month", entry.month),
    )
    return shifted, moved


def successors(period: str, until: str, limit: int = 64) -> list[str]:
    """Periods after ``period`` up to and including ``until`` (same granularity), at most ``limit``."""
    out: list[str] = []
    key = period
    while key < until and len(out) < limit:
        key = next_period(key)
        out.append(key)
    return out


# ------------------------------------------------------------------ prizes


@dataclass(frozen=True, slots=True)
class PrizeRule:
    dimension: str  # "employee" | "team"
    rank: int
    points: int
    campaign_id: str | None = None  # None: the all-campaigns board

    @property
    def scope(self) -> str:
        return self.campaign_id or ALL_CAMPAIGNS

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dimension": self.dimension, "rank": self.rank, "points": self.points}
        if self.campaign_id:
            out["campaign_id"] = self.campaign_id
        return out


def _int(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{field} must be an integer {low}..{high}", details={"field": field})
    return value


def validate_prizes(body: Mapping[str, Any]) -> dict[str, list[PrizeRule]]:
    """``{"day"?: [...], "week"?: [...], "month"?: [...]}``; each item
    ``{"dimension": "employee"|"team", "rank": 1..100, "points": 1..1e6, "campaign_id"?}``.
    A (dimension, rank, campaign) may appear once per granularity."""
    unknown = sorted(set(body) - set(GRANULARITIES))
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    out: dict[str, list[PrizeRule]] = {g: [] for g in GRANULARITIES}
    for gran in GRANULARITIES:
        items = body.get(gran, [])
        if not isinstance(items, list):
            raise ValidationError(f"{gran} must be a list of prizes", details={"field": gran})
        if len(items) > MAX_PRIZES_PER_PERIOD:
            raise ValidationError(f"{gran} holds at most {MAX_PRIZES_PER_PERIOD} prizes", details={"field": gran})
        seen: set[tuple[str, int, str | None]] = set()
        for i, item in enumerate(items):
            where = f"{gran}[{i}]"
            if not isinstance(item, dict):
                raise ValidationError(f"{where} must be an object", details={"field": where})
            extra = sorted(set(item) - {"dimension", "rank", "points", "campaign_id"})
            if extra:
                raise ValidationError(f"{where}: unknown field(s): {', '.join(extra)}", details={"field": where})
            dimension = item.get("dimension")
            if dimension not in PRIZE_DIMENSIONS:
                raise ValidationError(
                    f"{where}.dimension must be one of: {', '.join(PRIZE_DIMENSIONS)}",
                    details={"field": f"{where}.dimension"},
                )
            rank_ = _int(item.get("rank"), f"{where}.rank", 1, MAX_PRIZE_RANK)
            points = _int(item.get("points"), f"{where}.points", 1, MAX_PRIZE_POINTS)
            campaign = item.get("campaign_id")
            if campaign is not None:
                campaign = check_id(campaign, f"{where}.campaign_id")
            key = (str(dimension), rank_, campaign)
            if key in seen:
                raise ValidationError(f"{where} repeats a prize for the same rank", details={"field": where})
            seen.add(key)
            out[gran].append(PrizeRule(str(dimension), rank_, points, campaign))
    return out


def prizes_to_dict(prizes: Mapping[str, Sequence[PrizeRule]]) -> dict[str, list[dict[str, Any]]]:
    return {g: [p.to_dict() for p in prizes.get(g, [])] for g in GRANULARITIES}


@dataclass(frozen=True, slots=True)
class Award:
    """One prize ledger entry to insert (one per employee; a team prize yields several)."""

    employee_id: str
    points: int
    source_key: str
    dimension: str
    scope: str
    rank: int
    member: str  # the ranked employee or team
    score: int


def award_key(period: str, dimension: str, scope: str, member: str, rank: int, employee: str | None = None) -> str:
    dim = dimension if scope == ALL_CAMPAIGNS else f"{dimension}@{scope}"
    key = f"st#{period}#{dim}#{member}#{rank}"
    return f"{key}#{employee}" if employee is not None else key


def _split(points: int, members: Sequence[str], scores: Mapping[str, int]) -> list[tuple[str, int]]:
    """Equal shares; the remainder goes to the member who scored most (ties by id)."""
    if not members:
        return []
    ordered = sorted(members, key=lambda m: (-scores.get(m, 0), m))
    share, rest = divmod(points, len(ordered))
    out = [(m, share + (rest if i == 0 else 0)) for i, m in enumerate(ordered)]
    return [(m, p) for m, p in out if p > 0]


def plan_awards(
    period: str,
    boards: Mapping[tuple[str, str], Sequence[RankedEntry]],
    prizes: Iterable[PrizeRule],
    *,
    active_employees: Collection[str],
    team_members: Mapping[str, Sequence[str]],
) -> list[Award]:
    """Awards of one settled period.

    ``boards`` maps (dimension, scope) to its frozen ranking. Every entry whose rank equals
    a prize's rank wins it (ties share the rank, so all tied members win; the next rank is
    skipped, as in competition ranking). Inactive employees receive nothing and their prize
    is not passed on. ``team_members`` lists each team's active employees.
    """
    out: list[Award] = []
    for prize in prizes:
        ranking = boards.get((prize.dimension, prize.scope), ())
        winners = [e for e in ranking if e.rank == prize.rank]
        for winner in winners:
            if prize.dimension == "employee":
                if winner.id in active_employees:
                    key = award_key(period, "employee", prize.scope, winner.id, prize.rank)
                    out.append(
                        Award(
                            winner.id, prize.points, key, "employee", prize.scope, prize.rank, winner.id, winner.score
                        )
                    )
                continue
            scores = {e.id: e.score for e in boards.get(("employee", prize.scope), ())}
            for employee, points in _split(prize.points, list(team_members.get(winner.id, ())), scores):
                key = award_key(period, "team", prize.scope, winner.id, prize.rank, employee)
                out.append(Award(employee, points, key, "team", prize.scope, prize.rank, winner.id, winner.score))
    return out

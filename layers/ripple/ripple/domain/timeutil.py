"""Time helpers: ISO-8601 parsing and tenant-local period keys.

Leaderboard periods are computed in the tenant's time zone when a point is earned and
stored on the ledger entry, so a later time-zone change never rewrites history.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ripple.domain.errors import ValidationError

__all__ = [
    "PERIOD_ALL",
    "PeriodKeys",
    "day_bounds_ms",
    "ms_to_iso",
    "parse_day",
    "parse_iso_ms",
    "parse_period",
    "period_keys",
    "validate_timezone",
]

PERIOD_ALL = "all"
_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_WEEK = re.compile(r"^([0-9]{4})-W([0-9]{2})\Z")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})\Z")


class PeriodKeys(tuple[str, str, str]):
    """(day, iso week, month) of one instant in one time zone."""

    __slots__ = ()

    @property
    def day(self) -> str:
        return self[0]

    @property
    def week(self) -> str:
        return self[1]

    @property
    def month(self) -> str:
        return self[2]


def validate_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"unknown time zone {name!r}", details={"field": "timezone"}) from exc


def day_bounds_ms(day: str, tz: str) -> tuple[int, int]:
    """[start, end) in epoch ms of one local day (``YYYY-MM-DD``) in zone ``tz``: 23 or 25
    hours long on the days the clocks change."""
    first = date.fromisoformat(day)
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(first + timedelta(days=1), time(0), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def period_keys(ts_ms: int, tz: str) -> PeriodKeys:
    local = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(ZoneInfo(tz))
    iso = local.isocalendar()
    return PeriodKeys((local.strftime("%Y-%m-%d"), f"{iso.year:04d}-W{iso.week:02d}", local.strftime("%Y-%m")))


# Years a period or date a client names may fall in: outside, a clear 422 instead of a date
# overflow deep in a bounds computation (epoch milliseconds start in 1970).
FIRST_YEAR, LAST_YEAR = 1970, 2199


def parse_period(value: str) -> str:
    """Validate a leaderboard ``period`` parameter and return its canonical form."""
    if value == PERIOD_ALL:
        return value
    if value[:4].isdigit() and not FIRST_YEAR <= int(value[:4]) <= LAST_YEAR:
        raise ValidationError(f"period years run from {FIRST_YEAR} to {LAST_YEAR}", details={"field": "period"})
    if m := _DAY.match(value):
        try:
            date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError as exc:
            raise ValidationError(f"period {value!r} is not a real day") from exc
        return value
    if m := _WEEK.match(value):
        year, week = int(m[1]), int(m[2])
        # ISO years have 52 or 53 weeks; 28 December is always in the last one.
        if year < 1 or not 1 <= week <= date(year, 12, 28).isocalendar().week:
            raise ValidationError(f"period {value!r} is not a real ISO week")
        return value
    if m := _MONTH.match(value):
        if not 1 <= int(m[2]) <= 12:
            raise ValidationError(f"period {value!r} is not a real month")
        return value
    raise ValidationError("period must be 'all', YYYY-MM-DD, YYYY-Www or YYYY-MM", details={"field": "period"})


def parse_day(value: object, field: str) -> date:
    """A client's ``YYYY-MM-DD`` (exactly that form, a real day, a year we can hold)."""
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValidationError(f"{field} must be a date YYYY-MM-DD", details={"field": field})
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(f"{field} is not a real day", details={"field": field}) from exc
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValidationError(f"{field} must fall in {FIRST_YEAR}..{LAST_YEAR}", details={"field": field})
    return day


def parse_iso_ms(value: object, field: str) -> int:
    """Parse an ISO-8601 timestamp *with* an offset (or Z) to epoch milliseconds."""
    if not isinstance(value, str) or len(value) > 64:
        raise ValidationError(f"{field} must be an ISO-8601 timestamp string", details={"field": field})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"{field} is not a valid ISO-8601 timestamp", details={"field": field}) from exc
    if parsed.tzinfo is None:
        raise ValidationError(f"{field} must carry a UTC offset (e.g. 'Z')", details={"field": field})
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValidationError(f"{field} must fall in {FIRST_YEAR}..{LAST_YEAR}", details={"field": field})
    return int(parsed.timestamp() * 1000)


def ms_to_iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

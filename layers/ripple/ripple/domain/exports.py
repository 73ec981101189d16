"""CSV exports: what can be exported, the date range rule and safe cells (pure, no I/O).

A range is two calendar days in the tenant's time zone, both inclusive, at most 366 days;
it becomes ``[start_ms, end_ms)`` in epoch milliseconds. Cells are made safe against CSV
formula injection (a spreadsheet would evaluate ``=HYPERLINK(...)`` typed in a lead form):
text starting with ``= + - @`` (or a tab / carriage return) gets a leading apostrophe.
Numbers we write ourselves (points may be negative) are left as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ripple.domain.errors import ValidationError
from ripple.domain.timeutil import parse_day

__all__ = ["COLUMNS", "KINDS", "MAX_DAYS", "SUPPORTED", "ExportRange", "parse_export_request", "safe_cell"]

KINDS = ("visits", "leads", "customers", "ledger")
SUPPORTED = KINDS
MAX_DAYS = 366

COLUMNS: dict[str, tuple[str, ...]] = {
    "visits": (
        "visit_id",
        "at",
        "kind",
        "code",
        "campaign_id",
        "employee_id",
        "channel",
        "decision",
        "device",
        "country",
        "via",
        "depth",
    ),
    "customers": (
        "customer_id",
        "created_at",
        "name",
        "phone",
        "email",
        "status",
        "owner",
        "tags",
        "source_campaign",
        "source_channel",
        "first_touch_employee",
        "last_touch_employee",
        "depth",
        "leads",
        "consent_at",
    ),
    "leads": (
        "lead_id",
        "ts",
        "customer_id",
        "campaign_id",
        "channel",
        "code",
        "employee_id",
        "depth",
        "lang",
        "message",
    ),
    "ledger": (
        "ts",
        "employee_id",
        "kind",
        "points",
        "status",
        "campaign_id",
        "team",
        "region",
        "day",
        "source_key",
    ),
}

_DANGEROUS = frozenset("=+-@\t\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not evaluate as a formula."""
    if value.__class__ is str:  # the hot path: one check per text cell
        return "'" + value if value and value[0] in _DANGEROUS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text and text[0] in _DANGEROUS else text


@dataclass(frozen=True, slots=True)
class ExportRange:
    kind: str
    from_day: str
    to_day: str
    start_ms: int  # inclusive
    end_ms: int  # exclusive: midnight after ``to_day`` in the tenant's zone


def _midnight_ms(day: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp() * 1000)


def parse_export_request(body: dict[str, Any], timezone: str) -> ExportRange:
    unknown = sorted(set(body) - {"kind", "from", "to"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of: {', '.join(KINDS)}", details={"field": "kind"})
    if kind not in SUPPORTED:
        raise ValidationError(
            "visits cannot be exported yet: the visits table has no tenant/day index",
            details={"field": "kind", "supported": list(SUPPORTED)},
        )
    first, last = parse_day(body.get("from"), "from"), parse_day(body.get("to"), "to")
    if last < first:
        raise ValidationError("to must not be before from", details={"field": "to"})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError(f"a range covers at most {MAX_DAYS} days", details={"field": "to"})
    tz = ZoneInfo(timezone)
    return ExportRange(
        kind=str(kind),
        from_day=first.isoformat(),
        to_day=last.isoformat(),
        start_ms=_midnight_ms(first, tz),
        end_ms=_midnight_ms(last + timedelta(days=1), tz),
    )

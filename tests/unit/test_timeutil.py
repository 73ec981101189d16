"""timeutil.py: tenant-local day / ISO week / month keys, and the ``period`` parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ripple.domain.errors import ValidationError
from ripple.domain.timeutil import ms_to_iso, parse_iso_ms, parse_period, period_keys, validate_timezone

HYP = settings(deadline=None, derandomize=True, database=None, max_examples=100)
SH = "Asia/Shanghai"  # UTC+8, no DST


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("utc", "tz", "expected"),
    [
        # Shanghai has already crossed midnight into 2027; UTC has not.
        ((2026, 12, 31, 16, 30), SH, ("2027-01-01", "2026-W53", "2027-01")),
        ((2026, 12, 31, 16, 30), "UTC", ("2026-12-31", "2026-W53", "2026-12")),
        ((2026, 12, 31, 15, 59), SH, ("2026-12-31", "2026-W53", "2026-12")),
        # 2027-01-01..03 still belong to ISO week 2026-W53; 2027-01-04 opens 2027-W01.
        ((2027, 1, 3, 16, 0), SH, ("2027-01-04", "2027-W01", "2027-01")),
        ((2027, 1, 3, 16, 0), "UTC", ("2027-01-03", "2026-W53", "2027-01")),
        # Crossing midnight in Shanghai moves the ISO *year* forward: Mon 2024-12-30 is 2025-W01.
        ((2024, 12, 29, 16, 0), SH, ("2024-12-30", "2025-W01", "2024-12")),
        ((2024, 12, 29, 16, 0), "UTC", ("2024-12-29", "2024-W52", "2024-12")),
        # An ordinary month boundary.
        ((2026, 3, 31, 20, 0), SH, ("2026-04-01", "2026-W14", "2026-04")),
        ((2026, 3, 31, 20, 0), "UTC", ("2026-03-31", "2026-W14", "2026-03")),
    ],
)
def test_period_keys(utc: tuple[int, ...], tz: str, expected: tuple[str, str, str]) -> None:
    keys = period_keys(ms(*utc), tz)
    assert (keys.day, keys.week, keys.month) == expected
    assert tuple(keys) == expected


def test_period_keys_west_of_utc_lags() -> None:
    keys = period_keys(ms(2027, 1, 1, 3, 0), "America/New_York")
    assert (keys.day, keys.week, keys.month) == ("2026-12-31", "2026-W53", "2026-12")


@HYP
@given(
    st.integers(min_value=ms(1990, 1, 1), max_value=ms(2090, 1, 1)),
    st.sampled_from([SH, "UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]),
)
def test_period_keys_are_consistent_and_accepted_by_parse_period(ts: int, tz: str) -> None:
    keys = period_keys(ts, tz)
    day = date.fromisoformat(keys.day)
    iso = day.isocalendar()
    assert keys.week == f"{iso.year:04d}-W{iso.week:02d}"
    assert keys.month == keys.day[:7]
    # The local day is at most 14 hours away from the UTC day.
    utc_day = datetime.fromtimestamp(ts / 1000, tz=UTC).date()
    assert abs((day - utc_day).days) <= 1
    for key in keys:
        assert parse_period(key) == key


@pytest.mark.parametrize(
    "value", ["all", "2026-12-31", "2024-02-29", "2026-W01", "2026-W53", "2020-W53", "2027-W52", "2026-01", "2026-12"]
)
def test_parse_period_accepts(value: str) -> None:
    assert parse_period(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ALL",
        "2025-02-29",  # not a leap year
        "2026-04-31",
        "2026-00-10",
        "2026-13",
        "2026-00",
        "2026-W00",
        "2027-W53",  # 2027 has 52 ISO weeks
        "2026-W54",
        "2026-W1",
        "2026-1-01",
        "2026/01/01",
        "26-01",
        "2026-01-01T00:00",
        "2026-01-01\n",  # trailing newline (``$`` would have let it through)
        "\uff12\uff10\uff12\uff16-01",  # full-width digits
        "0000-W01",  # year 0 used to crash with ValueError (a 500)
        "0000-01-01",
    ],
)
def test_parse_period_rejects(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_period(value)
    assert exc.value.status == 422


def test_parse_iso_ms_round_trip_and_offsets() -> None:
    assert parse_iso_ms("2026-12-31T16:30:00Z", "starts_at") == ms(2026, 12, 31, 16, 30)
    assert parse_iso_ms("2027-01-01T00:30:00+08:00", "starts_at") == ms(2026, 12, 31, 16, 30)
    assert ms_to_iso(ms(2026, 12, 31, 16, 30)) == "2026-12-31T16:30:00.000Z"
    assert ms_to_iso(None) is None


@pytest.mark.parametrize("value", ["2026-12-31T16:30:00", "yesterday", 1767198600000, None, "2026-12-31T16:30Z" * 5])
def test_parse_iso_ms_rejects(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_iso_ms(value, "ends_at")
    assert exc.value.details == {"field": "ends_at"}


def test_validate_timezone() -> None:
    assert validate_timezone(SH).key == SH
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ValidationError):
            validate_timezone(bad)

"""Settlement rules: due periods per time zone, prizes and awards with ties, late events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ripple.domain.errors import ValidationError
from ripple.domain.model import LedgerEntry
from ripple.domain.ranking import rank
from ripple.domain.settlement import (
    PrizeRule,
    award_key,
    closed_key,
    due_periods,
    next_period,
    parse_settlement_period,
    period_bounds,
    plan_awards,
    prev_period,
    shift_late,
    successors,
    validate_prizes,
)
from ripple.domain.timeutil import period_keys

NO_LOOKBACK = {"day": 0, "week": 0, "month": 0}


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000)


# ------------------------------------------------------------------ periods


@pytest.mark.parametrize(
    ("period", "after", "before"),
    [
        ("2026-11-30", "2026-12-01", "2026-11-29"),
        ("2026-12-31", "2027-01-01", "2026-12-30"),
        ("2024-02-28", "2024-02-29", "2024-02-27"),
        ("2026-W53", "2027-W01", "2026-W52"),  # 2026 has 53 ISO weeks
        ("2027-W01", "2027-W02", "2026-W53"),
        ("2026-12", "2027-01", "2026-11"),
        ("2026-01", "2026-02", "2025-12"),
    ],
)
def test_next_and_previous_periods(period: str, after: str, before: str) -> None:
    assert next_period(period) == after
    assert prev_period(period) == before
    assert prev_period(next_period(period)) == period


def test_period_bounds_are_local_midnights() -> None:
    assert period_bounds("2026-11-30", "Asia/Shanghai") == (ms("2026-11-30T00:00+08:00"), ms("2026-12-01T00:00+08:00"))
    # ISO week 2026-W48: Monday 23 November .. Monday 30 November
    assert period_bounds("2026-W48", "UTC") == (ms("2026-11-23T00:00+00:00"), ms("2026-11-30T00:00+00:00"))
    assert period_bounds("2026-02", "UTC") == (ms("2026-02-01T00:00+00:00"), ms("2026-03-01T00:00+00:00"))


def test_dst_days_are_23_and_25_hours_in_new_york() -> None:
    start, end = period_bounds("2026-03-08", "America/New_York")  # spring forward
    assert end - start == 23 * 3_600_000
    start, end = period_bounds("2026-11-01", "America/New_York")  # fall back
    assert end - start == 25 * 3_600_000
    start, end = period_bounds("2026-03-08", "Asia/Shanghai")  # no DST
    assert end - start == 24 * 3_600_000


def test_a_day_is_due_only_after_it_ends_in_the_tenants_zone() -> None:
    # 2026-11-30 16:00 UTC is already 1 December 00:00 in Shanghai, 11:00 on 30 November in New York
    now = ms("2026-11-30T16:00+00:00")
    lookback = {"day": 1, "week": 0, "month": 0}
    assert due_periods("Asia/Shanghai", now, lookback=lookback) == [("day", "2026-11-30")]
    assert due_periods("America/New_York", now, lookback=lookback) == [("day", "2026-11-29")]
    # one minute earlier Shanghai's 30 November has not ended
    assert due_periods("Asia/Shanghai", now - 60_000, lookback=lookback) == [("day", "2026-11-29")]
    # a grace period delays it
    assert due_periods("Asia/Shanghai", now, lookback=lookback, grace_ms=600_000) == []


def test_week_and_month_settle_after_sunday_and_the_last_day_end() -> None:
    # Sunday 29 November 2026 ends (W48), and so does November, at 1 December 00:00 local
    # for the month; W48 ends at 30 November 00:00 local.
    sunday_night_ny = ms("2026-11-30T00:00-05:00")
    due = due_periods("America/New_York", sunday_night_ny, lookback={"day": 0, "week": 1, "month": 1})
    assert ("week", "2026-W48") in due and ("month", "2026-10") in due and ("month", "2026-11") not in due
    assert ("week", "2026-W48") not in due_periods(
        "America/New_York", sunday_night_ny - 1, lookback={"day": 0, "week": 1, "month": 0}
    )
    month_end_sh = ms("2026-12-01T00:00+08:00")
    due = due_periods("Asia/Shanghai", month_end_sh, lookback={"day": 0, "week": 0, "month": 1})
    assert due == [("month", "2026-11")]
    assert due_periods("Asia/Shanghai", month_end_sh - 1, lookback={"day": 0, "week": 0, "month": 1}) == [
        ("month", "2026-10")
    ]


def test_default_lookback_lists_oldest_first_and_never_the_current_period() -> None:
    now = ms("2026-12-02T09:00+08:00")
    due = due_periods("Asia/Shanghai", now)
    assert [p for g, p in due if g == "day"] == ["2026-11-29", "2026-11-30", "2026-12-01"]
    assert [p for g, p in due if g == "week"] == ["2026-W47", "2026-W48"]
    assert [p for g, p in due if g == "month"] == ["2026-10", "2026-11"]
    current = period_keys(now, "Asia/Shanghai")
    assert not {p for _, p in due} & set(current)
    assert due_periods("Asia/Shanghai", now, lookback=NO_LOOKBACK) == []


@pytest.mark.parametrize("bad", ["all", "2026-13", "2026-W54", "2026-02-30", "yesterday", "", "2026-1-1"])
def test_bad_settlement_periods_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        parse_settlement_period(bad)


def test_settlement_periods_parse_to_granularities() -> None:
    assert parse_settlement_period("2026-11-30") == ("day", "2026-11-30")
    assert parse_settlement_period("2026-W48") == ("week", "2026-W48")
    assert parse_settlement_period("2026-11") == ("month", "2026-11")


# ------------------------------------------------------------------ prizes


def test_validate_prizes_accepts_the_documented_shape() -> None:
    prizes = validate_prizes(
        {
            "day": [{"dimension": "employee", "rank": 1, "points": 100}],
            "month": [{"dimension": "team", "rank": 1, "points": 900, "campaign_id": "c1"}],
        }
    )
    assert prizes["day"] == [PrizeRule("employee", 1, 100)]
    assert prizes["week"] == []
    assert prizes["month"] == [PrizeRule("team", 1, 900, "c1")]


@pytest.mark.parametrize(
    "body",
    [
        {"year": []},
        {"day": {}},
        {"day": ["x"]},
        {"day": [{"dimension": "region", "rank": 1, "points": 1}]},
        {"day": [{"dimension": "employee", "rank": 0, "points": 1}]},
        {"day": [{"dimension": "employee", "rank": 101, "points": 1}]},
        {"day": [{"dimension": "employee", "rank": 1, "points": 0}]},
        {"day": [{"dimension": "employee", "rank": 1, "points": True}]},
        {"day": [{"dimension": "employee", "rank": 1, "points": 1.5}]},
        {"day": [{"dimension": "employee", "rank": 1, "points": 1, "extra": 1}]},
        {"day": [{"dimension": "employee", "rank": 1, "points": 1, "campaign_id": "bad id"}]},
        {"day": [{"dimension": "employee", "rank": 1, "points": 1}, {"dimension": "employee", "rank": 1, "points": 2}]},
        {"day": [{"dimension": "employee", "rank": r, "points": 1} for r in range(1, 52)] * 1},
    ],
)
def test_validate_prizes_rejects_bad_input(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        validate_prizes(body)


def _boards(**rows: list[tuple[str, int]]) -> dict[tuple[str, str], list[object]]:
    return {(dim, "*"): rank(r, len(r)) for dim, r in rows.items()}  # type: ignore[misc]


def test_tied_employees_at_a_prized_rank_all_win_and_the_next_rank_is_skipped() -> None:
    boards = _boards(employee=[("ann", 50), ("bob", 50), ("cat", 40), ("dan", 30), ("eve", 0)])
    prizes = [PrizeRule("employee", 1, 100), PrizeRule("employee", 2, 50), PrizeRule("employee", 3, 20)]
    awards = plan_awards(
        "2026-11-30", boards, prizes, active_employees={"ann", "bob", "cat", "dan", "eve"}, team_members={}
    )  # type: ignore[arg-type]
    got = sorted((a.employee_id, a.points, a.rank, a.source_key) for a in awards)
    assert got == [
        ("ann", 100, 1, "st#2026-11-30#employee#ann#1"),
        ("bob", 100, 1, "st#2026-11-30#employee#bob#1"),
        ("cat", 20, 3, "st#2026-11-30#employee#cat#3"),  # competition ranking: 1, 1, 3
    ]


def test_inactive_winners_get_nothing_and_their_prize_is_not_passed_on() -> None:
    boards = _boards(employee=[("ann", 50), ("bob", 40)])
    awards = plan_awards("2026-W48", boards, [PrizeRule("employee", 1, 100)], active_employees={"bob"}, team_members={})  # type: ignore[arg-type]
    assert awards == []


def test_team_prize_is_split_with_the_remainder_to_the_top_scorer() -> None:
    boards = _boards(
        team=[("red", 90), ("blue", 90), ("green", 10)],
        employee=[("r1", 10), ("r2", 50), ("r3", 30), ("b1", 90)],
    )
    members = {"red": ["r1", "r2", "r3"], "blue": ["b1", "b2"]}
    awards = plan_awards("2026-11", boards, [PrizeRule("team", 1, 100)], active_employees=set(), team_members=members)  # type: ignore[arg-type]
    got = {(a.member, a.employee_id): a.points for a in awards}
    assert got == {("red", "r2"): 34, ("red", "r1"): 33, ("red", "r3"): 33, ("blue", "b1"): 50, ("blue", "b2"): 50}
    assert sum(got.values()) == 200  # two tied teams, each the full prize
    assert {a.source_key for a in awards if a.member == "red"} == {
        "st#2026-11#team#red#1#r1",
        "st#2026-11#team#red#1#r2",
        "st#2026-11#team#red#1#r3",
    }


def test_campaign_scoped_prizes_have_their_own_keys() -> None:
    assert award_key("2026-11-30", "employee", "*", "ann", 1) == "st#2026-11-30#employee#ann#1"
    assert award_key("2026-11-30", "employee", "c1", "ann", 1) == "st#2026-11-30#employee@c1#ann#1"
    boards = {("employee", "c1"): rank([("ann", 5)], 10), ("employee", "*"): rank([("ann", 5)], 10)}
    awards = plan_awards(
        "2026-11-30",
        boards,
        [PrizeRule("employee", 1, 10), PrizeRule("employee", 1, 7, "c1")],
        active_employees={"ann"},
        team_members={},
    )
    assert sorted(a.points for a in awards) == [7, 10] and len({a.source_key for a in awards}) == 2


# ------------------------------------------------------------------ late events


def _entry(ts: int, tz: str = "Asia/Shanghai") -> LedgerEntry:
    p = period_keys(ts, tz)
    return LedgerEntry("acme", "uv#c1#v1", "ann", "unique_visit", 10, ts, "c1", "t", "r", p.day, p.week, p.month)


def test_nothing_settled_changes_nothing() -> None:
    e = _entry(ms("2026-11-30T23:00+08:00"))
    assert shift_late(e, set(), "Asia/Shanghai", ms("2026-12-01T01:00+08:00")) == (e, {})


def test_late_entry_moves_to_the_next_open_period_and_keeps_its_key() -> None:
    e = _entry(ms("2026-11-30T23:00+08:00"))  # day 2026-11-30, week 2026-W49, month 2026-11
    now = ms("2026-12-02T10:00+08:00")
    closed = {closed_key("day", "2026-11-30"), closed_key("day", "2026-12-01"), closed_key("month", "2026-11")}
    moved, report = shift_late(e, closed, "Asia/Shanghai", now)
    assert report == {"day": "2026-11-30", "month": "2026-11"}
    assert (moved.day, moved.week, moved.month) == ("2026-12-02", e.week, "2026-12")
    assert (moved.source_key, moved.ts, moved.points) == (e.source_key, e.ts, e.points)


def test_the_current_period_is_the_latest_target() -> None:
    e = _entry(ms("2026-11-30T23:00+08:00"))
    now = ms("2026-12-01T10:00+08:00")
    closed = {closed_key("day", "2026-11-30"), closed_key("day", "2026-12-01")}  # (cannot happen; defensive)
    moved, _ = shift_late(e, closed, "Asia/Shanghai", now)
    assert moved.day == "2026-12-01"


def test_successors_are_bounded() -> None:
    assert successors("2026-11-29", "2026-12-01") == ["2026-11-30", "2026-12-01"]
    assert successors("2026-12-01", "2026-12-01") == []
    assert len(successors("2020-01-01", "2026-12-01", limit=10)) == 10

"""The analytics core: facts per event, counter plans, packing, ranges, funnel, segments."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ripple.domain.analytics import (
    DIMENSIONS,
    SegmentPolicy,
    attr_name,
    fact_for_event,
    fact_keys,
    funnel,
    pack_facts,
    parse_attr,
    parse_range,
    plan_counters,
    segment_of,
    segment_snapshot,
)
from ripple.domain.errors import ValidationError
from ripple.domain.model import Decision, Employee, LedgerEntry, Visit
from ripple.domain.tracking import device_and_os

ALICE = Employee("acme", "alice", "Alice", "sales", "kanto")
DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def visit(n: int = 1, **kw: object) -> Visit:
    base = Visit(
        visit_id=f"v{n}",
        tenant_id="acme",
        code="abc",
        campaign_id="spring",
        employee_id="alice",
        channel="wechat",
        visitor=f"p{n}",
        ts=T0 + n,
        decision=Decision.ELIGIBLE,
        device="phone",
        os="ios",
        country="JP",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def entry(kind: str, points: int, *, depth: int = 1, withheld: bool = False, source: str = "v1") -> LedgerEntry:
    meta = {"withheld": "burst"} if withheld else {}
    return LedgerEntry("acme", f"{kind}#{source}", "alice", kind, points, T0, source_id=source, depth=depth, meta=meta)


def test_a_visit_with_its_outcomes() -> None:
    fact = fact_for_event(visit(), [entry("unique_visit", 10, depth=2), entry("forward", 3)], ALICE, "Asia/Tokyo")
    assert fact is not None
    assert dict(fact.counts) == {
        "exposures": 1,
        "visits": 1,
        "unique_visitors": 1,
        "d2": 1,
        "forwards": 1,
        "points": 13,
    }
    assert fact.day == "2026-01-01" and fact.team == "sales" and fact.region == "kanto"


@pytest.mark.parametrize("decision", [Decision.BOT, Decision.OWNER, Decision.COLLEAGUE])
def test_staff_and_bots_are_exposures_not_visits(decision: Decision) -> None:
    fact = fact_for_event(visit(decision=decision), [], ALICE, "UTC")
    assert fact is not None and dict(fact.counts) == {"exposures": 1}
    assert fact.visitor == ""  # no profile: not a person we reached


def test_hosted_page_views_and_withheld_outcomes() -> None:
    fact = fact_for_event(visit(surface="page"), [entry("unique_visit", 0, withheld=True)], ALICE, "UTC")
    assert fact is not None and dict(fact.counts) == {"exposures": 1, "visits": 1, "page_views": 1}


def test_leads_and_conversions_are_not_visits() -> None:
    lead = visit(kind="lead", customer_id="c1")
    fact = fact_for_event(lead, [entry("lead", 50)], ALICE, "UTC")
    assert fact is not None and dict(fact.counts) == {"leads": 1, "points": 50}
    assert fact_for_event(visit(kind="lead", customer_id="c1"), [], ALICE, "UTC") is None  # a repeat lead adds nothing
    conv = fact_for_event(visit(kind="conversion"), [entry("conversion", 100)], ALICE, "UTC")
    assert conv is not None and conv.counts["conversions"] == 1


def test_the_day_is_the_tenants() -> None:
    late = visit(ts=T0 - 3_600_000)  # 2025-12-31T23:00Z = 2026-01-01 08:00 in Tokyo
    assert fact_for_event(late, [], ALICE, "UTC").day == "2025-12-31"  # type: ignore[union-attr]
    assert fact_for_event(late, [], ALICE, "Asia/Tokyo").day == "2026-01-01"  # type: ignore[union-attr]


def test_attribute_names_round_trip_with_separators_in_values() -> None:
    for value in ("wechat", "a|b", "100%", "%7C", "东京/渋谷"):
        assert parse_attr(attr_name(value, "visits")) == (value, "visits")
        assert parse_attr(attr_name(value, "points", "team")) == ("team", value, "points")
    assert parse_attr("team") is None and parse_attr("x|nope") is None


def test_plan_sums_per_item_and_splits_scopes() -> None:
    facts = [
        fact_for_event(visit(n, channel=ch), [entry("unique_visit", 10, source=f"v{n}")], ALICE, "UTC")
        for n, ch in ((1, "wechat"), (2, "wechat"), (3, "line"))
    ]
    plan = plan_counters([f for f in facts if f is not None])
    tenant_channel = plan.dimension_items[("acme", "t", "channel", "2026-01-01")]
    assert tenant_channel == {
        "wechat|exposures": 2,
        "wechat|visits": 2,
        "wechat|unique_visitors": 2,
        "wechat|d1": 2,
        "wechat|points": 20,
        "line|exposures": 1,
        "line|visits": 1,
        "line|unique_visitors": 1,
        "line|d1": 1,
        "line|points": 10,
    }
    assert ("acme", "c:spring", "campaign", "2026-01-01") not in plan.dimension_items  # no campaign x campaign
    emp = plan.employee_items[("acme", "2026-01-01", "alice")]
    assert emp["all|-|visits"] == 3 and emp["channel|line|visits"] == 1 and emp["campaign|spring|points"] == 30
    assert plan.profiles[("acme", "p1")] == {"d|2026-01-01": 1, "e|alice": 1}
    assert plan.item_count() == len(set().union(*(fact_keys(f) for f in facts if f is not None)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=300))
def test_packing_respects_the_transaction_limit_and_keeps_every_fact(spec: list[tuple[int, int, int]]) -> None:
    facts = []
    for i, (emp, camp, day) in enumerate(spec):
        v = visit(i, employee_id=f"e{emp}", campaign_id=f"c{camp}", ts=T0 + day * DAY_MS + i)
        f = fact_for_event(v, [], replace(ALICE, employee_id=f"e{emp}"), "UTC")
        assert f is not None
        facts.append(f)
    chunks = pack_facts(facts, 100)
    assert sorted(f.event_id for c in chunks for f in c) == sorted(f.event_id for f in facts)
    for chunk in chunks:
        assert len(chunk) + len(set().union(*(fact_keys(f) for f in chunk))) <= 100
        assert len(chunk) + plan_counters(chunk).item_count() <= 100


def test_range_defaults_limits_and_errors() -> None:
    now = T0 + 12 * 3_600_000
    rng = parse_range({}, "UTC", now)
    assert rng.end.isoformat() == "2026-01-01" and len(rng.days) == 30
    rng = parse_range({"from": "2025-12-30", "to": "2026-01-02"}, "UTC", now)
    assert rng.days == ["2025-12-30", "2025-12-31", "2026-01-01", "2026-01-02"]
    for bad in ({"from": "2026-1-1"}, {"to": "2026-02-30"}, {"from": "2026-01-05", "to": "2026-01-01"}):
        with pytest.raises(ValidationError):
            parse_range(bad, "UTC", now)
    with pytest.raises(ValidationError):
        parse_range({"from": "2024-01-01", "to": "2026-01-01"}, "UTC", now)


def test_funnel_rates() -> None:
    stages = funnel({"exposures": 200, "visits": 100, "forwards": 10, "leads": 0, "conversions": 0})
    assert [s["rate"] for s in stages] == [None, 0.5, 0.1, 0.0, None]
    assert [s["of"] for s in stages] == [None, "exposure", "visit", "visit", "lead"]


def test_funnel_rate_is_against_the_step_it_names() -> None:
    """Two leads from ten visits with one forward: 20% of visits, not 200% of forwards."""
    stages = {s["stage"]: s for s in funnel({"exposures": 12, "visits": 10, "forwards": 1, "leads": 2})}
    assert stages["lead"] == {"stage": "lead", "count": 2, "rate": 0.2, "of": "visit"}
    assert stages["forward"]["rate"] == 0.1 and stages["conversion"]["rate"] == 0.0
    for stage in stages.values():
        rate, of = stage["rate"], stage["of"]
        if of is not None and rate is not None:
            assert rate == round(int(str(stage["count"])) / int(str(stages[str(of)]["count"])), 4)


def test_segment_levels_and_policy_validation() -> None:
    policy = SegmentPolicy(window_days=30, medium=3, heavy=10)
    assert [segment_of(n, policy) for n in (0, 1, 2, 3, 9, 10, 99)] == [
        None,
        "light",
        "light",
        "medium",
        "medium",
        "heavy",
        "heavy",
    ]
    for bad in ({"medium": 1}, {"medium": 5, "heavy": 5}, {"window_days": 0}, {"reach_days": 1000}):
        with pytest.raises(ValidationError):
            SegmentPolicy(**bad)  # type: ignore[arg-type]


def test_segment_snapshot_windows_reach_and_pruning() -> None:
    policy = SegmentPolicy(window_days=7, medium=2, heavy=4, reach_days=30)
    profiles = [
        ("heavy", {"d|2026-03-01": 3, "d|2026-03-05": 2, "e|alice": 5}),
        ("old-but-reachable", {"d|2026-02-10": 9, "e|alice": 8, "e|bob": 1}),
        ("gone", {"d|2025-12-01": 4, "e|bob": 4}),
        ("light", {"d|2026-03-07": 1, "e|bob": 1}),
    ]
    snap = segment_snapshot(profiles, policy, "2026-03-07")
    assert snap.people == 4
    assert snap.segments == {"light": 1, "medium": 0, "heavy": 1}
    assert snap.reachable == 3  # "gone" last interacted more than 30 days ago
    assert snap.employees["alice"].to_dict() == {"touched": 2, "reachable": 2, "light": 0, "medium": 0, "heavy": 1}
    assert snap.employees["bob"].to_dict() == {"touched": 3, "reachable": 2, "light": 1, "medium": 0, "heavy": 0}
    assert snap.stale_days == {"gone": ["d|2025-12-01"]}


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0", ("phone", "ios")),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36", ("phone", "android")),
        ("Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/120 Safari/537.36", ("tablet", "android")),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", ("tablet", "ios")),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120", ("desktop", "windows")),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605", ("desktop", "macos")),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Chrome/120", ("desktop", "chromeos")),
        ("Mozilla/5.0 (Linux; HarmonyOS 4.0; NOH-AN00) Mobile", ("phone", "harmonyos")),
        ("facebookexternalhit/1.1", ("bot", "other")),
        ("", ("bot", "other")),
    ],
)
def test_device_and_os(ua: str, expected: tuple[str, str]) -> None:
    assert device_and_os(ua) == expected


def test_every_dimension_has_a_value() -> None:
    fact = fact_for_event(visit(device="", os="", country="", channel=""), [], None, "UTC")
    assert fact is not None
    assert set(fact.dimension_values()) == set(DIMENSIONS)
    assert all(fact.dimension_values().values())

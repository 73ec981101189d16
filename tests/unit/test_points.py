"""points.py: which ledger entries a batch of visits may produce, and what they move."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ripple.domain.chains import ROOT
from ripple.domain.model import Campaign, Decision, Employee, LedgerEntry, PointsRules, Visit
from ripple.domain.points import (
    ALL_CAMPAIGNS,
    AggregateKey,
    aggregate,
    aggregate_keys,
    board_id,
    earnings_from_visits,
    node_deltas,
    root_node,
)

HYP = settings(deadline=None, derandomize=True, database=None, max_examples=60)

T = "t1"
# 2026-12-31T16:30Z: already 2027-01-01 in Shanghai, still ISO week 2026-W53.
TS = int(datetime(2026, 12, 31, 16, 30, tzinfo=UTC).timestamp() * 1000)
RULES = PointsRules(unique_visit=1, forward=3, lead=10)
CAMPAIGNS = {
    (T, "c1"): Campaign(T, "c1", "Spring", "https://example.com/", RULES),
    (T, "c2"): Campaign(T, "c2", "Summer", "https://example.com/", RULES),
    (T, "free"): Campaign(T, "free", "No points", "https://example.com/", PointsRules()),
    ("t2", "c1"): Campaign("t2", "c1", "Other tenant", "https://example.com/", RULES),
}
EMPLOYEES = {
    (T, "alice"): Employee(T, "alice", "Alice", "sales", "east"),
    (T, "bob"): Employee(T, "bob", "Bob", "sales", "west"),
    (T, "gone"): Employee(T, "gone", "Gone", "ops", "east", active=False),
    ("t2", "alice"): Employee("t2", "alice", "Alice (t2)", "sales", "east"),
}
TZ = {T: "Asia/Shanghai"}
V1 = "visitoraaaaaaaaaaaaaaaaaaa"
V2 = "visitorbbbbbbbbbbbbbbbbbbb"
VIA = "customerccccccc2"


def visit(n: int, visitor: str = V1, **kw: object) -> Visit:
    fields: dict[str, object] = {
        "visit_id": f"{TS + n:013d}v{n}",
        "tenant_id": T,
        "code": "code1",
        "campaign_id": "c1",
        "employee_id": "alice",
        "channel": "wechat",
        "visitor": visitor,
        "ts": TS + n,
        "decision": Decision.ELIGIBLE,
    }
    fields.update(kw)
    return Visit(**fields)  # type: ignore[arg-type]


def earn(*visits: Visit) -> list[LedgerEntry]:
    return earnings_from_visits(visits, CAMPAIGNS, EMPLOYEES, TZ)


# --- earnings_from_visits ---------------------------------------------------------------


def test_first_eligible_visit_earns_unique_visit_with_tenant_local_periods() -> None:
    [e] = earn(visit(0))
    assert (e.source_key, e.kind, e.points, e.employee_id) == (f"uv#c1#{V1}", "unique_visit", 1, "alice")
    assert (e.team, e.region, e.day, e.week, e.month) == ("sales", "east", "2027-01-01", "2026-W53", "2027-01")
    assert (e.node, e.via, e.depth, e.source_id) == (V1[:16], ROOT, 1, visit(0).visit_id)


def test_unknown_tenant_time_zone_defaults_to_utc() -> None:
    [e] = earnings_from_visits([visit(0)], CAMPAIGNS, EMPLOYEES, {})
    assert (e.day, e.month) == ("2026-12-31", "2026-12")


def test_unique_visit_once_per_visitor_per_campaign_earliest_wins() -> None:
    entries = earn(visit(30), visit(10), visit(20))
    assert len(entries) == 1
    assert entries[0].source_id == visit(10).visit_id and entries[0].ts == TS + 10


def test_other_visitors_campaigns_and_tenants_are_separate_slots() -> None:
    entries = earn(
        visit(0),
        visit(1, V2),
        visit(2, campaign_id="c2"),
        visit(3, tenant_id="t2"),
    )
    assert [(e.tenant_id, e.source_key) for e in entries] == [
        (T, f"uv#c1#{V1}"),
        (T, f"uv#c1#{V2}"),
        (T, f"uv#c2#{V1}"),
        ("t2", f"uv#c1#{V1}"),
    ]


def test_repeat_across_employees_links_pays_only_the_first() -> None:
    entries = earn(visit(5, employee_id="bob"), visit(9))
    assert [(e.employee_id, e.source_key) for e in entries] == [("bob", f"uv#c1#{V1}")]


@pytest.mark.parametrize("decision", [d for d in Decision if d is not Decision.ELIGIBLE])
def test_ineligible_visits_earn_nothing_and_do_not_take_the_slot(decision: Decision) -> None:
    assert earn(visit(0, decision=decision)) == []
    [e] = earn(visit(0, decision=decision), visit(1))
    assert e.source_id == visit(1).visit_id


@pytest.mark.parametrize(
    "kw", [{"campaign_id": "nope"}, {"employee_id": "nobody"}, {"employee_id": "gone"}, {"tenant_id": "t3"}]
)
def test_unknown_campaign_unknown_or_inactive_owner_earn_nothing(kw: dict[str, object]) -> None:
    assert earn(visit(0, **kw)) == []


def test_zero_point_rules_record_the_visit_but_create_no_board_rows() -> None:
    entries = earn(visit(0, campaign_id="free"), visit(1, V2, campaign_id="free", via=VIA))
    assert [(e.kind, e.points) for e in entries] == [("unique_visit", 0), ("unique_visit", 0), ("forward", 0)]
    assert all(aggregate_keys(e) == [] for e in entries)
    assert aggregate(entries) == {}


def test_forward_entry_only_when_via_is_not_the_root() -> None:
    assert [e.kind for e in earn(visit(0, via=ROOT))] == ["unique_visit"]
    assert [e.kind for e in earn(visit(0, via=""))] == ["unique_visit"]
    uv, fw = earn(visit(0, via=VIA, via_parent=ROOT, depth=2))
    assert (fw.kind, fw.source_key, fw.points, fw.employee_id) == ("forward", f"fw#c1#{V1}", 3, "alice")
    assert (uv.via, fw.via, uv.depth) == (VIA, VIA, 2)


def test_forward_is_paid_once_with_its_unique_visit() -> None:
    entries = earn(visit(0, via=VIA), visit(1, via=VIA), visit(2, via=ROOT))
    assert Counter(e.kind for e in entries) == {"unique_visit": 1, "forward": 1}
    # A visitor who first came directly and later through a token is not a forward.
    assert [e.kind for e in earn(visit(0), visit(1, via=VIA))] == ["unique_visit"]


def test_lead_entries() -> None:
    entries = earn(
        visit(0, kind="lead", customer_id="cust-1"),
        visit(1, kind="lead", customer_id="cust-1"),  # same customer again
        visit(2, V2, kind="lead", customer_id="cust-2"),
        visit(3, kind="lead", customer_id=""),  # no customer: ignored
    )
    assert [(e.kind, e.source_key, e.points) for e in entries] == [
        ("lead", "ld#c1#cust-1", 10),
        ("lead", "ld#c1#cust-2", 10),
    ]
    # A lead neither takes nor needs the visitor's unique-visit slot.
    assert [e.kind for e in earn(visit(0, kind="lead", customer_id="c"), visit(1))] == ["lead", "unique_visit"]


# --- aggregate keys ---------------------------------------------------------------------


def entry(points: int = 5, **kw: object) -> LedgerEntry:
    fields: dict[str, object] = {
        "tenant_id": T, "source_key": "uv#c1#v", "employee_id": "alice", "kind": "unique_visit", "points": points,
        "ts": TS, "campaign_id": "c1", "team": "sales", "region": "east",
        "day": "2027-01-01", "week": "2026-W53", "month": "2027-01",
    }  # fmt: skip
    fields.update(kw)
    return LedgerEntry(**fields)  # type: ignore[arg-type]


def test_board_keys_cover_every_dimension_scope_and_period() -> None:
    keys = aggregate_keys(entry())
    assert keys[0] == AggregateKey(T, "balance", "", "", "alice")
    boards = {(k.dim, k.scope, k.period, k.member) for k in keys[1:]}
    expected = {
        (dim, scope, period, member)
        for dim, member in (("employee", "alice"), ("team", "sales"), ("region", "east"))
        for scope in ("c1", ALL_CAMPAIGNS)
        for period in ("all", "2027-01-01", "2026-W53", "2027-01")
    }
    assert boards == expected and len(keys) == 1 + 24
    assert AggregateKey(T, "team", "c1", "2026-W53", "sales").board == "t1#team#c1#2026-W53"
    assert board_id(T, "region", ALL_CAMPAIGNS, "all") == "t1#region#*#all"


def test_board_keys_skip_missing_members_campaign_and_periods() -> None:
    assert len(aggregate_keys(entry(campaign_id=""))) == 1 + 12
    assert len(aggregate_keys(entry(team="", region=""))) == 1 + 8
    assert len(aggregate_keys(entry(day="", week="", month=""))) == 1 + 6
    assert aggregate_keys(entry(points=0)) == []


def test_aggregate_sums_per_key() -> None:
    totals = aggregate(
        [
            entry(5),
            entry(3, source_key="uv#c1#w", employee_id="bob", region="west"),
            entry(2, source_key="uv#c2#v", campaign_id="c2"),
            entry(-1, source_key="adj#1"),
        ]
    )
    assert totals[AggregateKey(T, "balance", "", "", "alice")] == 6
    assert totals[AggregateKey(T, "balance", "", "", "bob")] == 3
    assert totals[AggregateKey(T, "team", ALL_CAMPAIGNS, "all", "sales")] == 9
    assert totals[AggregateKey(T, "team", "c1", "2026-W53", "sales")] == 7
    assert totals[AggregateKey(T, "region", "c2", "2027-01", "east")] == 2
    assert totals[AggregateKey(T, "region", ALL_CAMPAIGNS, "2027-01-01", "west")] == 3
    assert AggregateKey(T, "employee", "c2", "all", "bob") not in totals


# --- chain-tree deltas ------------------------------------------------------------------


def test_node_deltas() -> None:
    entries = earn(visit(0), visit(1, V2, via=V1[:16], via_parent=ROOT, depth=2))
    entries += earn(visit(2, V2, kind="lead", customer_id="cust"))
    deltas = node_deltas(entries)
    root = deltas[next(k for k in deltas if k.node == root_node("alice"))]
    v1 = deltas[next(k for k in deltas if k.node == V1[:16])]
    v2 = deltas[next(k for k in deltas if k.node == V2[:16])]
    assert (root.visitors, root.forwards, root.parent) == (1, 0, None)
    assert (v1.parent, v1.depth, v1.visitors, v1.forwards) == (root_node("alice"), 1, 1, 1)
    assert (v2.parent, v2.depth, v2.visitors, v2.leads) == (V1[:16], 2, 0, 1)
    assert {d.root for d in deltas.values()} == {"alice"}


# --- properties -------------------------------------------------------------------------

entries_st = st.lists(
    st.builds(
        entry,
        points=st.integers(-5, 50),
        employee_id=st.sampled_from(["alice", "bob", "carol"]),
        campaign_id=st.sampled_from(["c1", "c2", ""]),
        team=st.sampled_from(["sales", "ops", ""]),
        region=st.sampled_from(["east", "west"]),
        day=st.sampled_from(["2026-12-31", "2027-01-01"]),
        week=st.sampled_from(["2026-W53", "2027-W01"]),
        month=st.sampled_from(["2026-12", "2027-01"]),
    ),
    max_size=20,
).map(lambda es: [replace(e, source_key=f"k{i}") for i, e in enumerate(es)])


@HYP
@given(entries_st, st.randoms(use_true_random=False), st.lists(st.integers(0, 20), max_size=5))
def test_aggregation_is_independent_of_order_and_batching(entries: list[LedgerEntry], rnd, cuts: list[int]) -> None:  # type: ignore[no-untyped-def]
    whole = aggregate(entries)
    shuffled = entries[:]
    rnd.shuffle(shuffled)
    assert aggregate(shuffled) == whole
    # Split the shuffled entries into consecutive batches and add up per-batch aggregates.
    bounds = sorted({0, len(shuffled), *(c for c in cuts if c <= len(shuffled))})
    summed: dict[AggregateKey, int] = defaultdict(int)
    for lo, hi in itertools.pairwise(bounds):
        for key, value in aggregate(shuffled[lo:hi]).items():
            summed[key] += value
    assert {k: v for k, v in summed.items()} == whole


@HYP
@given(entries_st)
def test_balance_equals_sum_of_ledger_points(entries: list[LedgerEntry]) -> None:
    totals = aggregate(entries)
    per_employee: dict[str, int] = defaultdict(int)
    for e in entries:
        per_employee[e.employee_id] += e.points
    balances = {k.member: v for k, v in totals.items() if k.dim == "balance"}
    assert {m: balances.get(m, 0) for m in per_employee} == dict(per_employee)
    assert sum(balances.values()) == sum(e.points for e in entries)
    # Every all-time, all-campaign employee board row equals that employee's balance.
    for k, v in totals.items():
        if k.dim == "employee" and k.scope == ALL_CAMPAIGNS and k.period == "all":
            assert v == balances[k.member]


@HYP
@given(
    st.lists(
        st.builds(
            visit,
            st.integers(0, 10_000),
            st.sampled_from([V1, V2, "visitorccccccccccccccccccc"]),
            campaign_id=st.sampled_from(["c1", "c2", "free"]),
            employee_id=st.sampled_from(["alice", "bob", "gone"]),
            via=st.sampled_from([ROOT, VIA]),
            decision=st.sampled_from(list(Decision)),
        ),
        max_size=25,
    ).map(lambda vs: [replace(v, visit_id=f"{v.ts:013d}-{i}") for i, v in enumerate(vs)]),  # ids are unique
    st.randoms(use_true_random=False),
)
def test_earnings_have_unique_keys_and_ignore_delivery_order(visits: list[Visit], rnd) -> None:  # type: ignore[no-untyped-def]
    entries = earn(*visits)
    keys = [(e.tenant_id, e.source_key) for e in entries]
    assert len(keys) == len(set(keys))
    eligible = {
        (v.campaign_id, v.visitor) for v in visits if v.decision is Decision.ELIGIBLE and v.employee_id != "gone"
    }
    assert {k for _, k in keys if k.startswith("uv#")} <= {f"uv#{c}#{v}" for c, v in eligible}
    shuffled = visits[:]
    rnd.shuffle(shuffled)
    assert earn(*shuffled) == entries

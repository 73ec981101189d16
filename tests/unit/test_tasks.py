"""Promotion tasks: validation, audience resolution, copy rotation, status, outcome planning."""

from __future__ import annotations

import sys
import types
from collections import Counter
from itertools import pairwise
from typing import Any

import pytest

from ripple.domain.errors import ValidationError
from ripple.domain.model import Employee, LedgerEntry
from ripple.domain.tasks import (
    MAX_COPY_CHARS,
    AssignmentState,
    Audience,
    copy_index,
    plan_outcomes,
    resolve_audience,
    status_of,
    validate_proof,
    validate_task,
)

NOW = 1_790_000_000_000  # 2026-09-21
LATER = "2026-10-01T00:00:00Z"


def body(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "campaign_id": "c1",
        "title": "Spring",
        "copies": [{"text": "a"}, {"lang": "zh-Hans", "text": "乙\n丙"}],
        "channels": ["wechat", "line"],
        "audience": {"all": True},
        "deadline": LATER,
    }
    out.update(over)
    return out


def staff(*rows: tuple[str, str, str, bool]) -> list[Employee]:
    return [Employee("t", e, e.title(), team, region, active) for e, team, region, active in rows]


# ------------------------------------------------------------------ validation


def test_a_valid_task_is_parsed() -> None:
    spec = validate_task(body(materials=["m1"], poster_template_id="tpl"), NOW)
    assert spec.channels == ("wechat", "line") and spec.materials == ("m1",)
    assert [c.lang for c in spec.copies] == [None, "zh-Hans"] and spec.copies[1].text == "乙\n丙"
    assert spec.audience == Audience("all") and spec.poster_template_id == "tpl"
    assert spec.deadline == 1_790_812_800_000


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"deadline": "2026-09-01T00:00:00Z"}, "deadline"),  # past
        ({"deadline": "2028-01-01T00:00:00Z"}, "deadline"),  # more than a year out
        ({"copies": []}, "copies"),
        ({"copies": [{"text": "x" * (MAX_COPY_CHARS + 1)}]}, "copies[0].text"),
        ({"copies": [{"text": "  "}]}, "copies[0].text"),
        ({"copies": [{"text": "a\x00b"}]}, "copies[0].text"),
        ({"copies": [{"text": "a"}] * 11}, "copies"),
        ({"channels": ["wechat", "fax"]}, "channels"),
        ({"audience": {"teams": []}}, "audience.teams"),
        ({"audience": {"teams": ["a"], "regions": ["b"]}}, "audience"),
        ({"audience": {"all": "yes"}}, "audience.all"),
        ({"audience": {"employees": ["a", "a"]}}, "audience.employees"),
        ({"title": "t\x07"}, "title"),
        ({"poster_template_id": "a/b"}, "poster_template_id"),
    ],
)
def test_invalid_tasks_name_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_task(body(**over), NOW)
    assert err.value.details.get("field") == field, err.value.message


def test_unknown_fields_are_rejected_everywhere() -> None:
    for bad in (body(extra=1), body(copies=[{"text": "a", "x": 1}]), body(audience={"everyone": True})):
        with pytest.raises(ValidationError) as err:
            validate_task(bad, NOW)
        assert "unknown field" in err.value.message


def test_proof_is_a_url_or_a_material() -> None:
    assert validate_proof({"url": "https://x.example/p/1"}) == ("https://x.example/p/1", None)
    assert validate_proof({"screenshot_material_id": "m1"}) == (None, "m1")
    for bad in ({}, {"url": "ftp://x"}, {"url": "https://a", "screenshot_material_id": "m"}, {"note": "x"}):
        with pytest.raises(ValidationError):
            validate_proof(bad)


# ------------------------------------------------------------------ audience and rotation


PEOPLE = staff(
    ("dan", "b", "west", True),
    ("amy", "a", "east", True),
    ("cat", "a", "west", True),
    ("bob", "a", "east", False),
    ("eve", "b", "east", True),
)


@pytest.mark.parametrize(
    ("audience", "expected", "skipped"),
    [
        (Audience("all"), ["amy", "cat", "eve", "dan"], []),
        (Audience("teams", ("a",)), ["amy", "cat"], []),
        (Audience("regions", ("east",)), ["amy", "eve"], []),
        (Audience("employees", ("dan", "bob", "zed")), ["dan"], ["bob", "zed"]),
        (Audience("teams", ("nobody",)), [], []),
    ],
)
def test_audience_targets_active_employees_in_team_order(
    audience: Audience, expected: list[str], skipped: list[str]
) -> None:
    chosen, left_out = resolve_audience(audience, PEOPLE)
    assert [e.employee_id for e in chosen] == expected
    assert left_out == skipped


@pytest.mark.parametrize(("people", "variants"), [(1, 3), (7, 3), (10, 4), (12, 1), (100, 7)])
def test_rotation_is_even_and_neighbours_differ(people: int, variants: int) -> None:
    picks = [copy_index(i, variants) for i in range(people)]
    counts = Counter(picks)
    assert set(picks) <= set(range(variants))
    assert max(counts.values()) - min(counts.values()) <= 1 or len(counts) < variants
    if variants > 1:
        assert all(a != b for a, b in pairwise(picks))
    assert picks == [copy_index(i, variants) for i in range(people)]  # deterministic


def test_status_moves_delivered_opened_shared() -> None:
    assert status_of(None, None) == "delivered"
    assert status_of(5, None) == "opened"
    assert status_of(5, 9) == "shared"
    assert status_of(None, 9) == "shared"  # shared straight from the inbox


# ------------------------------------------------------------------ outcome planning


def entry(key: str, kind: str, ts: int, **meta: str) -> LedgerEntry:
    return LedgerEntry("t", key, "amy", kind, 10, ts, campaign_id="c1", meta=meta)


PAIR = ("t", "task1", "amy")
STATE = AssignmentState("t", "task1", "amy", "a", "east", delivered_at=1000)


def test_outcomes_after_delivery_count_and_the_first_visit_shares() -> None:
    entries = [
        entry("uv#early", "unique_visit", 999),  # before delivery
        entry("uv#1", "unique_visit", 1500),
        entry("uv#2", "unique_visit", 1200),
        entry("fw#1", "forward", 1500),
        entry("ld#1", "lead", 1600),
        entry("uv#bot", "unique_visit", 1700, withheld="burst"),  # withheld as fraud
        entry("cv#1", "conversion", 1800),  # not a task outcome
    ]
    (delta,) = plan_outcomes({PAIR: STATE}, {PAIR: entries})
    assert (delta.unique_visits, delta.forwards, delta.leads) == (2, 1, 1)
    assert delta.shared_at == 1200  # the earliest counted visit
    assert sorted(delta.source_keys) == ["fw#1", "ld#1", "uv#1", "uv#2"]
    assert delta.counters() == {"shared": 1, "unique_visits": 2, "forwards": 1, "leads": 1}


def test_an_already_shared_assignment_only_counts() -> None:
    shared = AssignmentState("t", "task1", "amy", "a", "east", delivered_at=1000, shared_at=1100)
    (delta,) = plan_outcomes({PAIR: shared}, {PAIR: [entry("uv#3", "unique_visit", 2000)]})
    assert delta.shared_at is None and delta.counters()["shared"] == 0 and delta.unique_visits == 1


def test_forwards_alone_do_not_share_and_unknown_assignments_are_skipped() -> None:
    (delta,) = plan_outcomes({PAIR: STATE}, {PAIR: [entry("fw#1", "forward", 2000)]})
    assert delta.shared_at is None and delta.forwards == 1
    assert plan_outcomes({}, {PAIR: [entry("uv#1", "unique_visit", 2000)]}) == []


def test_large_groups_split_and_share_once() -> None:
    entries = [entry(f"uv#{i:03d}", "unique_visit", 1000 + i) for i in range(200)]
    deltas = plan_outcomes({PAIR: STATE}, {PAIR: entries}, max_keys=90)
    assert [len(d.source_keys) for d in deltas] == [90, 90, 20]
    assert [d.shared_at for d in deltas] == [1000, None, None]
    assert sum(d.unique_visits for d in deltas) == 200


def test_packing_never_puts_one_assignment_twice_in_a_transaction() -> None:
    from ripple.service.tasks import _pack

    states = {
        ("t", "task1", f"e{i}"): AssignmentState("t", "task1", f"e{i}", f"team{i % 3}", "r", 0) for i in range(40)
    }
    entries = {
        pair: [LedgerEntry("t", f"uv#{pair[2]}#{j}", pair[2], "unique_visit", 1, 5 + j, "c1") for j in range(3)]
        for pair in states
    }
    entries[("t", "task1", "e0")] = [
        LedgerEntry("t", f"uv#big#{j}", "e0", "unique_visit", 1, 5 + j, "c1") for j in range(150)
    ]
    deltas = plan_outcomes(states, entries)
    chunks = _pack(deltas)
    assert sum(len(d.source_keys) for c in chunks for d in c) == 150 + 39 * 3
    for chunk in chunks:
        pairs = [(d.state.task_id, d.state.employee_id) for d in chunk]
        assert len(pairs) == len(set(pairs))
        rows = {(d.state.task_id, dim, m) for d in chunk for dim, m in (("all", "-"), ("team", d.state.team))} | {
            (d.state.task_id, "region", d.state.region) for d in chunk
        }
        assert sum(len(d.source_keys) + 1 for d in chunk) + len(rows) <= 100


# ------------------------------------------------------------------ poster URL


def test_poster_url_falls_back_to_the_poster_route(monkeypatch: pytest.MonkeyPatch) -> None:
    from ripple.service.tasks import poster_url

    monkeypatch.setitem(sys.modules, "ripple.service.posters", None)  # import fails: module absent
    url = poster_url(None, "t", "amy", "c1", "wechat", "tpl", "jpeg")  # type: ignore[arg-type]
    assert url == "/campaigns/c1/poster?channel=wechat&template=tpl&format=jpeg"


def test_poster_url_uses_the_posters_module_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    from ripple.service.tasks import poster_url

    fake = types.ModuleType("ripple.service.posters")
    fake.poster_url = lambda svc, t, e, c, ch, tpl, fmt: f"https://cdn.example/{t}/{e}/{c}/{ch}/{tpl}.{fmt}"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ripple.service.posters", fake)
    assert poster_url(None, "t", "amy", "c1", "line", "tpl", "jpeg") == "https://cdn.example/t/amy/c1/line/tpl.jpeg"  # type: ignore[arg-type]

"""Who hears about what (ripple.domain.live): topics come from claims and never cross a
tenant; a batch's changes name each touched topic once; frames carry kinds, no figures."""

from __future__ import annotations

import json

import pytest

from ripple.domain.live import changes, employee_topic, message, parse_topic, tenant_topic, topic_for
from ripple.domain.model import Decision, LedgerEntry, Role, Visit


def _visit(tenant: str, employee: str, kind: str = "visit") -> Visit:
    return Visit(
        visit_id=f"v-{tenant}-{employee}-{kind}",
        tenant_id=tenant,
        code="abc",
        campaign_id="c1",
        employee_id=employee,
        channel="wechat",
        visitor="x",
        ts=1,
        decision=Decision.ELIGIBLE,
        kind=kind,
    )


def test_admins_hear_their_tenant_employees_only_themselves() -> None:
    assert topic_for("acme", "boss", Role.ADMIN) == "T#acme"
    assert topic_for("acme", "alice", Role.EMPLOYEE) == "E#acme#alice"
    assert parse_topic("E#acme#alice") == {"tenant": "acme", "employee": "alice"}


@pytest.mark.parametrize("bad", ["", "a#b"])
def test_ids_that_could_forge_another_topic_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        tenant_topic(bad)
    with pytest.raises(ValueError):
        employee_topic("acme", bad)


def test_a_batch_touches_each_topic_once_with_the_kinds_that_changed() -> None:
    entry = LedgerEntry(
        tenant_id="acme", source_key="uv#c1#x", employee_id="alice", kind="unique_visit", points=10, ts=1
    )
    out = changes(
        [_visit("acme", "alice"), _visit("acme", "alice"), _visit("acme", "bob", "lead"), _visit("globex", "gina")],
        [entry],
    )
    assert out == {
        "T#acme": {"visit", "task", "lead", "board"},
        "E#acme#alice": {"visit", "task", "balance", "board"},
        "E#acme#bob": {"lead", "task"},
        "T#globex": {"visit", "task"},
        "E#globex#gina": {"visit", "task"},
    }


def test_unaddressable_ids_are_skipped_not_raised() -> None:
    assert changes([_visit("acme", "a#b")], []) == {"T#acme": {"visit", "task"}}


def test_frames_name_kinds_only() -> None:
    frame = json.loads(message({"balance", "visit", "unknown"}, 42))
    assert frame == {"type": "changed", "kinds": ["balance", "visit"], "at": 42}

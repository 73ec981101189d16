"""Fraud review, the other way round: an outcome the anti-fraud rules withheld, found genuine,
is released (paid) by an admin with a reason. Exactly once, everywhere the original would
have counted (balance, boards), and the reconcile invariants hold; bad requests change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.test_rules import ADMIN, ALICE, call, campaign, no_drift, points, visit


@pytest.fixture
def env(env: Any) -> Any:
    client, poller = env
    call(client, "PUT", "/admin/employees/alice", ADMIN, {"name": "Alice", "team": "t", "region": "r"})
    return client, poller


def _withheld(client: Any, poller: Any) -> tuple[str, list[dict[str, Any]]]:
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"fraud": {"velocity_per_hour": 2}})[0] == 200
    cid, code = campaign(client, {"unique_visit": 10})
    for n in range(4):
        visit(client, code, n)
    poller.drain()
    assert points(client)["balance"] == 20  # two paid, two withheld
    return cid, call(client, "GET", "/admin/fraud?kind=velocity", ADMIN)[1]["signals"]


def _boards(client: Any, cid: str) -> dict[str, int]:
    out = {}
    for query in (f"campaign_id={cid}", "period=all", "dimension=team", "dimension=region"):
        entries = call(client, "GET", f"/leaderboards?{query}", ALICE)[1]["entries"]
        out[query] = entries[0]["score"] if entries else 0
    return out


def test_a_withheld_outcome_is_released_once_and_counts_everywhere(env: Any) -> None:
    client, poller = env
    cid, signals = _withheld(client, poller)
    assert len(signals) == 2
    assert all(s["withheld_points"] == 10 and s["released"] is False and s["source_key"] for s in signals)
    before = _boards(client, cid)
    assert set(before.values()) == {20}
    target = signals[0]["source_key"]
    body = {"source_key": target, "reason": "a real customer behind a shared office network"}

    assert call(client, "POST", "/admin/points/releases", ALICE, body)[0] == 403
    status, done = call(client, "POST", "/admin/points/releases", ADMIN, body)
    assert status == 201, done
    assert done["release"]["kind"] == "release" and done["release"]["points"] == 10
    assert done["points"] == {"balance": 30, "available": 30, "pending": 0}
    assert set(_boards(client, cid).values()) == {30}
    # exactly once: a second release changes nothing
    assert call(client, "POST", "/admin/points/releases", ADMIN, body)[0] == 409
    assert points(client)["balance"] == 30 and set(_boards(client, cid).values()) == {30}
    report = call(client, "GET", "/admin/fraud?kind=velocity", ADMIN)[1]["signals"]
    assert sorted(s["released"] for s in report) == [False, True]
    ledger = call(client, "GET", "/me/ledger", ALICE)[1]["items"]
    release = next(e for e in ledger if e["kind"] == "release")
    assert release["meta"] == {"reason": body["reason"], "by": "boss", "releases": target}
    # a redelivered stream batch neither withholds nor pays anything again
    poller.reset()
    poller.drain()
    assert points(client)["balance"] == 30
    no_drift()


def test_bad_releases_are_refused_and_change_nothing(env: Any) -> None:
    client, poller = env
    _, signals = _withheld(client, poller)
    paid = next(e for e in call(client, "GET", "/me/ledger", ALICE)[1]["items"] if e["points"] > 0)
    target = signals[0]["source_key"]
    for body, code in (
        ({"source_key": target}, 422),
        ({"source_key": target, "reason": "  "}, 422),
        ({"source_key": target, "reason": "x" * 501}, 422),
        ({"source_key": target, "reason": "ok", "points": 99}, 422),
        ({"source_key": "", "reason": "ok"}, 422),
        ({"source_key": "no-such-entry", "reason": "ok"}, 404),
        ({"source_key": paid["source_key"], "reason": "ok"}, 409),  # never withheld
    ):
        assert call(client, "POST", "/admin/points/releases", ADMIN, body)[0] == code, body
    assert call(client, "POST", "/admin/points/releases", ADMIN, "not an object")[0] in (400, 422)
    assert points(client)["balance"] == 20
    # another tenant's admin cannot see or release it
    other = auth("globex", "boss", "admin")
    assert call(client, "POST", "/admin/points/releases", other, {"source_key": target, "reason": "ok"})[0] == 404
    # an offboarded employee's withheld points are not paid
    assert call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})[0] == 200
    assert call(client, "POST", "/admin/points/releases", ADMIN, {"source_key": target, "reason": "ok"})[0] == 409
    no_drift()

"""The rules engine in-process: versioned rules, caps, held points with reversal and
release, thresholds, conversions, ledger endpoints, compliance; balances always equal the
ledger (the reconcile job reports zero drift)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import auth

UA = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126 Mobile Safari/537.36 r{n}"
ADMIN = auth("acme", "boss", "admin")
ALICE = auth("acme", "alice", "employee")
DAY = 86_400_000


@pytest.fixture
def env(env: Any) -> Any:
    client, poller = env
    call(client, "PUT", "/admin/employees/alice", ADMIN, {"name": "Alice", "team": "t", "region": "r"})
    return client, poller


def call(client: Any, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json", **(headers or {})}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = getattr(client.http, method.lower())(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def campaign(client: Any, points: dict[str, int], rules: dict[str, int] | None = None) -> tuple[str, str]:
    body: dict[str, Any] = {"name": "C", "destination_url": "https://example.com/", "points": points}
    if rules:
        body["rules"] = rules
    status, created = call(client, "POST", "/admin/campaigns", ADMIN, body)
    assert status == 201, created
    status, link = call(client, "POST", f"/campaigns/{created['campaign_id']}/links", ALICE, {"channel": "x"})
    assert status == 201
    return created["campaign_id"], link["code"]


def visit(client: Any, code: str, n: int) -> None:
    assert client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=n)}).status_code == 302


def points(client: Any) -> dict[str, int]:
    return dict(call(client, "GET", "/me", ALICE)[1]["points"])


def no_drift() -> None:
    from ripple import bootstrap
    from ripple.service.reconcile import reconcile_all

    report = reconcile_all(bootstrap.services())
    assert report["ok"], report


def test_rules_versions_never_rewrite_earned_points(env: Any) -> None:
    client, poller = env
    cid, code = campaign(client, {"unique_visit": 10})
    visit(client, code, 1)
    poller.drain()
    visit(client, code, 2)  # happens under version 1, processed after the change
    status, updated = call(client, "PUT", f"/admin/campaigns/{cid}/rules", ADMIN, {"points": {"unique_visit": 25}})
    assert status == 200 and updated["rules"]["version"] == 2 and updated["points"]["unique_visit"] == 25
    visit(client, code, 3)
    poller.drain()
    assert points(client)["balance"] == 10 + 10 + 25
    ledger = call(client, "GET", "/me/ledger", ALICE)[1]["items"]
    assert sorted((e["points"], e["rules_version"]) for e in ledger) == [(10, 1), (10, 1), (25, 2)]
    assert call(client, "PUT", f"/admin/campaigns/{cid}/rules", ADMIN, {"points": {"share": 5}})[0] == 422
    assert call(client, "PUT", f"/admin/campaigns/{cid}/rules", ALICE, {"points": {"unique_visit": 1}})[0] == 403
    assert call(client, "PUT", "/admin/campaigns/cnope/rules", ADMIN, {"points": {"unique_visit": 1}})[0] == 404
    no_drift()


def test_daily_and_campaign_caps(env: Any) -> None:
    client, poller = env
    _, code = campaign(client, {"unique_visit": 10}, {"daily_cap": 25, "campaign_cap": 40})
    for n in range(4):
        visit(client, code, n)
    poller.drain()
    entries = call(client, "GET", "/me/ledger", ALICE)[1]["items"]
    assert sorted(e["points"] for e in entries) == [0, 5, 10, 10]
    assert {e["meta"].get("capped") for e in entries if e["points"] < 10} == {"daily_cap"}
    assert points(client) == {"balance": 25, "available": 25, "pending": 0}
    # a replay of the whole stream changes nothing (and does not clamp anything further)
    poller.reset()
    poller.drain()
    assert points(client)["balance"] == 25
    board = call(client, "GET", "/leaderboards", ALICE)[1]["entries"]
    assert board == [{"rank": 1, "id": "alice", "score": 25}]
    # the next day the daily cap resets, the campaign cap (40) still binds
    from ripple import bootstrap

    svc = bootstrap.services()
    real = svc.clock
    svc.clock = lambda: real() + DAY
    for n in range(10, 13):
        visit(client, code, n)
    poller.drain()
    assert points(client)["balance"] == 40
    no_drift()


def test_held_points_reversal_and_release(env: Any) -> None:
    import scheduled

    from infra.lambda_context import LocalContext
    from ripple import bootstrap

    client, poller = env
    _, code = campaign(client, {"unique_visit": 10}, {"holding_days": 2})
    for n in range(3):
        visit(client, code, n)
    poller.drain()
    assert points(client) == {"balance": 30, "available": 0, "pending": 30}
    entries = call(client, "GET", "/me/ledger", ALICE)[1]["items"]
    assert all(e["status"] == "pending" and "release_at" in e for e in entries)
    target = entries[0]["source_key"]
    body = {"source_key": target, "reason": "same device as the employee"}
    assert call(client, "POST", "/admin/points/reversals", ALICE, body)[0] == 403
    status, reversed_ = call(client, "POST", "/admin/points/reversals", ADMIN, body)
    assert status == 201 and reversed_["reversal"]["points"] == -10
    assert reversed_["points"] == {"balance": 20, "available": 0, "pending": 20}
    assert call(client, "POST", "/admin/points/reversals", ADMIN, body)[0] == 409  # exactly once
    assert call(client, "GET", "/leaderboards", ALICE)[1]["entries"][0]["score"] == 20
    assert call(client, "POST", "/admin/points/reversals", ADMIN, {"source_key": "nope", "reason": "x"})[0] == 404
    assert call(client, "POST", "/admin/points/reversals", ADMIN, {"source_key": target})[0] == 422
    # before the holding period ends nothing is released
    assert scheduled.handler({"job": "release"}, LocalContext())["released"] == 0
    svc = bootstrap.services()
    real = svc.clock
    svc.clock = lambda: real() + 3 * DAY
    report = scheduled.handler({"job": "release"}, LocalContext())
    assert report["released"] == 2
    assert points(client) == {"balance": 20, "available": 20, "pending": 0}
    assert scheduled.handler({"job": "release"}, LocalContext())["released"] == 0
    other = next(e["source_key"] for e in entries if e["source_key"] != target)
    status, error = call(client, "POST", "/admin/points/reversals", ADMIN, {"source_key": other, "reason": "late"})
    assert status == 409 and "released" in error["error"]["message"]
    no_drift()


def test_threshold_keeps_points_pending_until_reached(env: Any) -> None:
    import scheduled

    from infra.lambda_context import LocalContext

    client, poller = env
    _, code = campaign(client, {"unique_visit": 10}, {"threshold": 30})
    for n in range(2):
        visit(client, code, n)
    poller.drain()
    assert scheduled.handler({"job": "release"}, LocalContext())["below_threshold"] == 2
    assert points(client) == {"balance": 20, "available": 0, "pending": 20}
    visit(client, code, 2)
    poller.drain()
    assert scheduled.handler({"job": "release"}, LocalContext())["released"] == 3
    assert points(client) == {"balance": 30, "available": 30, "pending": 0}
    no_drift()


def test_conversion_pays_first_touch_once(env: Any) -> None:
    import re

    client, poller = env
    body = {
        "name": "Landing",
        "points": {"unique_visit": 1, "lead": 5, "conversion": 100},
        "landing": {
            "default_lang": "en",
            "fields": ["name", "email"],
            "copy": {"en": {"title": "T", "body": "B", "cta": "Go", "consent": "OK"}},
        },
    }
    status, created = call(client, "POST", "/admin/campaigns", ADMIN, body)
    assert status == 201, created
    code = call(client, "POST", f"/campaigns/{created['campaign_id']}/links", ALICE, {"channel": "x"})[1]["code"]
    page = client.http.get(f"/p/{code}", headers={"User-Agent": UA.format(n=1)}).body.decode()
    token = re.search(r'"token":\s*"([^"]+)"', page)
    assert token
    lead = {"token": token.group(1), "name": "Deal", "email": "deal@example.com", "consent": True}
    assert call(client, "POST", "/leads", {"User-Agent": UA.format(n=1)}, lead)[0] == 201
    customer_id = call(client, "GET", "/customers", ADMIN)[1]["items"][0]["customer_id"]
    for amount in (1999, "2500.5"):
        status, deal = call(client, "POST", f"/admin/customers/{customer_id}/convert", ADMIN, {"amount": amount})
        assert status == 201 and deal["credited_to"] == "alice"
    for bad in ({"amount": -1}, {"amount": "lots"}, {"amount": 1, "currency": "yen!"}, {"amount": 1, "x": 1}):
        assert call(client, "POST", f"/admin/customers/{customer_id}/convert", ADMIN, bad)[0] == 422
    assert call(client, "POST", "/admin/customers/cunope/convert", ADMIN, {"amount": 1})[0] == 404
    poller.drain()
    assert points(client)["balance"] == 1 + 5 + 100  # the second conversion pays nothing more
    got = call(client, "GET", f"/customers/{customer_id}", ADMIN)[1]
    assert got["status"] == "won" and [h["kind"] for h in got["history"]].count("conversion") == 2
    no_drift()


def test_ledger_pages_and_admin_view(env: Any) -> None:
    client, poller = env
    _, code = campaign(client, {"unique_visit": 3})
    for n in range(7):
        visit(client, code, n)
    poller.drain()
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = call(client, "GET", f"/me/ledger?limit=3{cursor}", ALICE)
        assert status == 200 and len(page["items"]) <= 3
        seen += [e["source_key"] for e in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == 7
    admin_view = call(client, "GET", "/admin/employees/alice/ledger?limit=100", ADMIN)[1]
    assert [e["source_key"] for e in admin_view["items"]] == seen
    assert admin_view["points"]["balance"] == 21
    assert call(client, "GET", "/admin/employees/alice/ledger", ALICE)[0] == 403
    assert call(client, "GET", "/admin/employees/ghost/ledger", ADMIN)[0] == 404
    assert call(client, "GET", "/me/ledger?cursor=zzz", ALICE)[0] == 422
    assert call(client, "GET", "/me/ledger?limit=0", ALICE)[0] == 422


@pytest.mark.parametrize(
    "body",
    [
        {"name": "转发朋友圈有奖", "destination_url": "https://e.example/", "points": {"unique_visit": 1}},
        {"name": "Share this to win an iPad", "destination_url": "https://e.example/", "points": {"unique_visit": 1}},
        {"name": "ok", "destination_url": "https://e.example/", "points": {"share": 1}},
        {
            "name": "ok",
            "points": {"lead": 1},
            "landing": {"default_lang": "ja", "copy": {"ja": {"title": "シェアでプレゼントが当たる", "body": "b"}}},
        },
    ],
)
def test_compliance_rejects_paying_for_shares(env: Any, body: dict[str, Any]) -> None:
    client, _ = env
    status, error = call(client, "POST", "/admin/campaigns", ADMIN, body)
    assert status == 422, error
    assert error["error"]["details"]["rule"] in ("induced-sharing", "no-reward-for-sharing")


def _employees(client: Any, *names: str) -> None:
    for name in names:
        call(client, "PUT", f"/admin/employees/{name}", ADMIN, {"name": name, "team": "t", "region": "r"})


def test_colleague_clicks_earn_nothing_and_reveal_rings(env: Any) -> None:
    client, poller = env
    _employees(client, "bob")
    cid, alice_code = campaign(client, {"unique_visit": 10})
    bob = auth("acme", "bob", "employee")
    bob_code = call(client, "POST", f"/campaigns/{cid}/links", bob, {"channel": "x"})[1]["code"]
    for n in range(3):  # bob clicks alice's link from 3 devices, alice clicks bob's from 2
        client.http.get(f"/{alice_code}", headers={"User-Agent": UA.format(n=100 + n), **bob})
    for n in range(2):
        client.http.get(f"/{bob_code}", headers={"User-Agent": UA.format(n=200 + n), **ALICE})
    visit(client, alice_code, 1)  # a real customer
    poller.drain()
    assert points(client)["balance"] == 10
    status, report = call(client, "GET", "/admin/fraud", ADMIN)
    assert status == 200
    assert sum(1 for s in report["signals"] if s["kind"] == "employee_click") == 5
    assert report["rings"] == [
        {"employees": ["alice", "bob"], "clicks": {"alice->bob": 2, "bob->alice": 3}, "total": 5}
    ]
    assert call(client, "GET", "/admin/fraud", ALICE)[0] == 403
    assert call(client, "GET", "/admin/fraud?days=0", ADMIN)[0] == 422
    assert call(client, "GET", "/admin/fraud?kind=magic", ADMIN)[0] == 422


def test_burst_visitor_is_withheld_whatever_the_batching(env: Any) -> None:
    client, poller = env
    names = [f"e{i}" for i in range(4)]
    _employees(client, *names)
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"fraud": {"burst_links": 3}})[0] == 200
    codes: list[list[str]] = []
    for c in range(3):
        _, created = call(
            client,
            "POST",
            "/admin/campaigns",
            ADMIN,
            {"name": f"B{c}", "destination_url": "https://example.com/", "points": {"unique_visit": 10}},
        )
        codes.append(
            [
                call(
                    client,
                    "POST",
                    f"/campaigns/{created['campaign_id']}/links",
                    auth("acme", e, "employee"),
                    {"channel": "x"},
                )[1]["code"]
                for e in names
            ]
        )
    farm = {"User-Agent": UA.format(n=999)}
    client.http.get(f"/{codes[0][0]}", headers=farm)  # e0, campaign 0: fine
    client.http.get(f"/{codes[1][1]}", headers=farm)  # e1, campaign 1: fine
    client.http.get(f"/{codes[2][2]}", headers=farm)  # e2, campaign 2: third employee in 10 min -> burst
    client.http.get(f"/{codes[2][3]}", headers={"User-Agent": UA.format(n=5)})  # an ordinary visitor
    poller.batch_size = 1  # batching must not matter: the decision reads recorded visits
    poller.drain()
    from ripple import bootstrap

    svc = bootstrap.services()
    got = {e: svc.points.balance("acme", e) for e in names}
    assert got == {"e0": 10, "e1": 10, "e2": 0, "e3": 10}
    (withheld,) = svc.points.ledger("acme", "e2")
    assert withheld.points == 0 and withheld.meta["withheld"] == "burst"
    kinds = [s["kind"] for s in call(client, "GET", "/admin/fraud", ADMIN)[1]["signals"]]
    assert kinds == ["burst"]
    no_drift()


def test_velocity_limit_withholds_beyond_the_hourly_limit(env: Any) -> None:
    client, poller = env
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"fraud": {"velocity_per_hour": 3}})[0] == 200
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"fraud": {"velocity_per_hour": 0}})[0] == 422
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"fraud": {"speed": 1}})[0] == 422
    _, code = campaign(client, {"unique_visit": 10})
    for n in range(3):
        visit(client, code, n)
    poller.drain()
    for n in range(3, 5):
        visit(client, code, n)
    poller.drain()
    assert points(client)["balance"] == 30
    report = call(client, "GET", "/admin/fraud?kind=velocity", ADMIN)[1]
    assert len(report["signals"]) == 2 and report["signals"][0]["employee_id"] == "alice"
    poller.reset()
    poller.drain()
    assert points(client)["balance"] == 30
    no_drift()


def test_a_colleagues_phone_is_not_a_customer(env: Any) -> None:
    client, poller = env
    _employees(client, "bob")
    _, code = campaign(client, {"unique_visit": 10})
    bob = auth("acme", "bob", "employee")
    phone = {"User-Agent": UA.format(n=77)}
    first = client.http.get("/nosuch-but-sets-nothing", headers=phone)
    assert first.status_code == 404
    # bob's phone got its cookie from some earlier link visit, then used the app signed in
    resp = client.http.get(f"/{code}", headers=phone)
    cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    poller.drain()
    assert points(client)["balance"] == 10  # not known yet: a customer as far as anyone knew
    assert call(client, "GET", "/me", {**bob, "Cookie": cookie})[0] == 200
    _, code2 = campaign(client, {"unique_visit": 10})
    client.http.get(f"/{code2}", headers={**phone, "Cookie": cookie})  # the same phone, not signed in
    poller.drain()
    assert points(client)["balance"] == 10
    entries = [e for e in call(client, "GET", "/me/ledger", ALICE)[1]["items"] if e["points"] == 0]
    assert entries and entries[0]["meta"]["withheld"] == "employee_device"
    signal = call(client, "GET", "/admin/fraud?kind=employee_click", ADMIN)[1]["signals"][0]
    assert signal["clicker"] == "bob" and signal["employee_id"] == "alice"
    no_drift()

"""Lead integrity (issue 12): each attack on leads and customers, reproduced end to end
(chalice test client -> moto -> stream poller -> points consumer), now gaining nothing.

Before the fix: an owner's own previews minted fresh share tokens that paid every lead
(18 leads = +900 points, available at once), a known phone overwrote a customer's
contact data and consent, a pool customer's phone made the link's employee its owner,
and a last-touch lead handed over the customer with the previous owner's private notes.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import auth
from tests.functional.test_customers import ADMIN, ALICE, BOB, UA, call, lead, open_page, setup_campaign

CAROL = auth("acme", "carol", "employee")


def open_as(client: Any, path: str, n: int, headers: dict[str, str] | None = None) -> tuple[str, str | None]:
    """Person n (with ``headers``: signed in, a cookie) opens a link, follows to the hosted
    page; (their own share token, the visitor cookie the page set if any)."""
    base = {"User-Agent": UA.format(n=n), **(headers or {})}
    resp = client.http.get(path, headers=base)
    if resp.status_code == 302:
        location = urlsplit(resp.headers["Location"])
        path = location.path + (f"?{location.query}" if location.query else "")
        resp = client.http.get(path, headers=base)
    assert resp.status_code == 200, resp.body
    match = re.search(r'"token":\s*"([^"]+)"', resp.body.decode())
    assert match
    cookie = resp.headers.get("Set-Cookie")
    return match.group(1), cookie.split(";", 1)[0] if cookie else None


def balance(client: Any, who: dict[str, str]) -> dict[str, int]:
    return dict(call(client, "GET", "/me", who)[1]["points"])


def ledger_kinds(client: Any, employee: str) -> list[str]:
    entries = call(client, "GET", f"/admin/employees/{employee}/ledger", ADMIN)[1]["items"]
    return sorted(e["kind"] for e in entries if e["points"])


def no_drift() -> None:
    from ripple import bootstrap
    from ripple.service.reconcile import reconcile_all

    report = reconcile_all(bootstrap.services())
    assert report["ok"], report


def customer_by_phone(client: Any, phone: str) -> dict[str, Any]:
    (found,) = [c for c in call(client, "GET", "/customers?limit=100", ADMIN)[1]["items"] if c["phone"] == phone]
    return call(client, "GET", f"/customers/{found['customer_id']}", ADMIN)[1]  # type: ignore[no-any-return]


def test_self_minted_tokens_and_fake_leads_earn_nothing(env: Any) -> None:
    """Alice opens her own page without cookies, four browsers' worth: four fresh tokens.
    18 fake leads through them (within every rate limit) used to pay 18 x 50 = 900."""
    client, poller = env
    campaign_id, code = setup_campaign(client)
    tokens = [open_as(client, f"/{code}", 500 + i, ALICE)[0] for i in range(4)]
    assert len(set(tokens)) == 4  # a fresh token per cookie-less preview
    statuses = [
        lead(client, tokens[i // 5], 500 + i // 5, name=f"Fake {i}", email=f"fake{i}@example.com")[0] for i in range(18)
    ]
    assert statuses == [201] * 18  # accepted (the contacts are kept) ...
    # a real person opening a link Alice forwarded from her own preview: a plain visit, no forward
    open_page(client, f"/s/{tokens[0]}", 1)
    poller.drain()
    assert balance(client, ALICE) == {"balance": 10, "available": 10, "pending": 0}  # ... and pay nothing
    assert ledger_kinds(client, "alice") == ["unique_visit"]
    tree = call(client, "GET", f"/campaigns/{campaign_id}/chains?root=alice", ADMIN)[1]
    assert tree["totals"]["forwards"] == 0 and tree["totals"]["leads"] == 0
    no_drift()


def test_staff_leads_earn_nothing_signed_in_on_their_phone_or_through_a_colleague(env: Any) -> None:
    client, poller = env
    _, code = setup_campaign(client)
    # a real visitor's token, but Alice posts the lead from her signed-in session
    visitor_token = open_page(client, f"/{code}", 1)[1]
    assert lead(client, visitor_token, 1, name="Typed by Alice", phone="13800138001")[0] == 201
    resp = call(
        client,
        "POST",
        "/leads",
        {"User-Agent": UA.format(n=1), **ALICE},
        {"token": visitor_token, "consent": True, "name": "Also Alice", "phone": "13800138002"},
    )
    assert resp[0] == 201
    # Bob, signed in, previews Alice's page: his token pays Alice nothing either
    bob_token = open_as(client, f"/{code}", 2, BOB)[0]
    assert lead(client, bob_token, 2, name="Bob's friend", phone="13800138003")[0] == 201
    # Alice's own phone, not signed in: known from her signed-in calls with the same cookie
    phone_token, cookie = open_as(client, f"/{code}", 3)
    assert cookie is not None
    assert call(client, "GET", "/me", {**ALICE, "Cookie": cookie})[0] == 200
    status, _ = call(
        client,
        "POST",
        "/leads",
        {"User-Agent": UA.format(n=3), "Cookie": cookie},
        {"token": phone_token, "consent": True, "name": "From her phone", "phone": "13800138004"},
    )
    assert status == 201
    poller.drain()
    # the first lead came from a real visitor's browser (no session): it is the one that pays
    assert ledger_kinds(client, "alice") == ["lead", "unique_visit"]
    assert balance(client, ALICE)["balance"] == 10 + 50
    signals = call(client, "GET", "/admin/fraud", ADMIN)[1]["signals"]
    assert any(s["kind"] == "employee_click" and s["clicker"] == "bob" for s in signals)
    # Bob's signed-in lead through a visitor's token is his, and a signal like his clicks
    assert (
        call(
            client,
            "POST",
            "/leads",
            {"User-Agent": UA.format(n=1), **BOB},
            {"token": visitor_token, "consent": True, "name": "Bob typed", "phone": "13800138005"},
        )[0]
        == 201
    )
    poller.drain()
    assert balance(client, ALICE)["balance"] == 10 + 50
    clickers = [s["clicker"] for s in call(client, "GET", "/admin/fraud?kind=employee_click", ADMIN)[1]["signals"]]
    assert clickers.count("bob") == 2
    no_drift()


def test_leads_follow_velocity_and_holding_rules(env: Any) -> None:
    """Leads an attacker cannot be told apart from a visitor by still meet the visit rules:
    the hourly velocity limit and the campaign's holding period."""
    client, poller = env
    campaign_id, code = setup_campaign(client)
    rules = {"points": {"unique_visit": 0, "forward": 0, "lead": 50}, "rules": {"holding_days": 7}}
    assert call(client, "PUT", f"/admin/campaigns/{campaign_id}/rules", ADMIN, rules)[0] == 200
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"fraud": {"velocity_per_hour": 3}})[0] == 200
    for n in range(5):
        token = open_page(client, f"/{code}", 600 + n)[1]
        assert lead(client, token, 600 + n, name=f"P{n}", email=f"p{n}@example.com")[0] == 201
    poller.drain()
    assert balance(client, ALICE) == {"balance": 150, "available": 0, "pending": 150}  # held, not available
    velocity = call(client, "GET", "/admin/fraud?kind=velocity", ADMIN)[1]["signals"]
    assert len(velocity) == 2 and all("leads" in s["detail"] for s in velocity)
    poller.reset()
    poller.drain()  # replayed: nothing moves twice
    assert balance(client, ALICE) == {"balance": 150, "available": 0, "pending": 150}
    no_drift()


def test_a_known_phone_cannot_take_over_a_customer(env: Any) -> None:
    client, poller = env
    campaign_id, code = setup_campaign(client)
    token = open_page(client, f"/{code}", 1)[1]
    assert lead(client, token, 1, name="Bai", phone="13800138000", email="bai@example.com")[0] == 201
    before = customer_by_phone(client, "+8613800138000")
    # an unauthenticated stranger with Bai's phone, through Bob's link, in English
    bob_code = call(client, "POST", f"/campaigns/{campaign_id}/links", BOB, {"channel": "line"})[1]["code"]
    attacker = open_page(client, f"/{bob_code}", 2, lang="en-US")[1]
    status, _ = lead(
        client, attacker, 2, name="Mallory", phone="+86 138 0013 8000", email="mallory@example.com", lang="en"
    )
    assert status == 201
    poller.drain()
    after = customer_by_phone(client, "+8613800138000")
    for field in ("name", "phone", "email", "consent", "owner", "owner_since", "first_touch"):
        assert after[field] == before[field], field
    assert after["leads"] == 2 and after["last_touch"]["employee_id"] == "bob"  # a touch, recorded
    latest = after["history"][0]
    assert latest["kind"] == "lead" and latest["data"]["employee_id"] == "bob"
    assert latest["data"]["submitted"] == {"name": "Mallory", "phone": "+8613800138000", "email": "mallory@example.com"}
    assert latest["data"]["consent_text"] == "I agree to the policy"  # what the stranger agreed to, kept apart
    # the stranger's address was not attached to Bai: a lead with it alone is somebody new
    other = open_page(client, f"/{bob_code}", 3)[1]
    assert lead(client, other, 3, name="Mallory", email="mallory@example.com")[0] == 201
    customers = call(client, "GET", "/customers", ADMIN)[1]["items"]
    assert sorted(c["name"] for c in customers) == ["Bai", "Mallory"]
    poller.drain()
    assert ledger_kinds(client, "bob").count("lead") == 1  # the genuinely new customer only
    no_drift()


def test_a_pool_customer_is_taken_only_by_the_claim(env: Any) -> None:
    client, poller = env
    campaign_id, code = setup_campaign(client)
    token = open_page(client, f"/{code}", 1)[1]
    assert lead(client, token, 1, name="Pooled", phone="13800138000")[0] == 201
    assert call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})[0] == 200
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"name": "Acme", "pool_claim_price": 15})[0] == 200
    bob_code = call(client, "POST", f"/campaigns/{campaign_id}/links", BOB, {"channel": "line"})[1]["code"]
    for n in range(2):  # Bob earns 20 honest points
        open_page(client, f"/{bob_code}", 10 + n)
    # a lead with the pool customer's phone through Bob's link (from a browser, not signed in)
    bypass = open_page(client, f"/{bob_code}", 12)[1]
    assert lead(client, bypass, 12, name="Pooled", phone="13800138000")[0] == 201
    poller.drain()
    pooled = customer_by_phone(client, "+8613800138000")
    assert pooled["owner"] is None and pooled["in_pool"] is True
    assert [h["kind"] for h in pooled["history"]].count("handover") == 1  # the offboarding only
    assert ledger_kinds(client, "bob") == ["unique_visit"] * 3  # no lead points either
    assert call(client, "GET", f"/customers/{pooled['customer_id']}", BOB)[0] == 404
    # the claim is the way in, and it costs the price
    status, claimed = call(client, "POST", f"/lead-pool/{pooled['customer_id']}/claim", BOB)
    assert status == 200 and claimed["owner"] == "bob"
    assert balance(client, BOB)["balance"] == 30 - 15
    no_drift()


def test_last_touch_never_hands_over_private_notes(env: Any) -> None:
    client, poller = env
    campaign_id, code = setup_campaign(client)
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"attribution": {"mode": "last_touch"}})[0] == 200
    token = open_page(client, f"/{code}", 1)[1]
    assert lead(client, token, 1, name="Wang", phone="13800138000")[0] == 201
    cid = customer_by_phone(client, "+8613800138000")["customer_id"]
    secret = {"text": "private: budget 2M, call evenings"}
    assert call(client, "POST", f"/customers/{cid}/notes", ALICE, secret)[0] == 201
    bob_code = call(client, "POST", f"/campaigns/{campaign_id}/links", BOB, {"channel": "line"})[1]["code"]
    # Bob's self-submitted lead (his own preview's token) is no touch: Wang stays Alice's
    own = open_as(client, f"/{bob_code}", 2, BOB)[0]
    assert lead(client, own, 2, name="Wang", phone="13800138000")[0] == 201
    assert customer_by_phone(client, "+8613800138000")["owner"] == "alice"
    assert call(client, "GET", f"/customers/{cid}", BOB)[0] == 404
    # Wang himself answers Bob's link: last touch, the documented rule, moves him to Bob ...
    real = open_page(client, f"/{bob_code}", 3)[1]
    assert lead(client, real, 3, name="Wang", phone="13800138000")[0] == 201
    status, seen_by_bob = call(client, "GET", f"/customers/{cid}", BOB)
    assert status == 200 and seen_by_bob["owner"] == "bob"
    # ... without Alice's notes
    assert [h for h in seen_by_bob["history"] if h["kind"] == "note"] == []
    assert "budget" not in str(seen_by_bob)
    assert call(client, "POST", f"/customers/{cid}/notes", BOB, {"text": "met at the fair"})[0] == 201
    admin_view = call(client, "GET", f"/customers/{cid}", ADMIN)[1]
    assert sorted(h["data"]["text"] for h in admin_view["history"] if h["kind"] == "note") == [
        "met at the fair",
        "private: budget 2M, call evenings",
    ]
    # an admin's offboarding handover passes the work on: Carol reads Bob's note, not Alice's
    assert call(client, "POST", "/admin/employees/bob/offboard", ADMIN, {"to": "carol"})[0] == 200
    carol_view = call(client, "GET", f"/customers/{cid}", CAROL)[1]
    assert [h["data"]["text"] for h in carol_view["history"] if h["kind"] == "note"] == ["met at the fair"]
    poller.drain()
    no_drift()


def test_leads_are_clamped_by_the_campaign_caps(env: Any) -> None:
    client, poller = env
    campaign_id, code = setup_campaign(client)
    rules = {"points": {"unique_visit": 0, "forward": 0, "lead": 50}, "rules": {"daily_cap": 60}}
    assert call(client, "PUT", f"/admin/campaigns/{campaign_id}/rules", ADMIN, rules)[0] == 200
    for n in range(3):
        token = open_page(client, f"/{code}", 700 + n)[1]
        assert lead(client, token, 700 + n, name=f"C{n}", email=f"c{n}@example.com")[0] == 201
    poller.drain()
    assert balance(client, ALICE)["balance"] == 60
    entries = call(client, "GET", "/me/ledger", ALICE)[1]["items"]
    assert sorted(e["points"] for e in entries if e["kind"] == "lead") == [0, 10, 50]
    assert {e["meta"].get("capped") for e in entries if e["kind"] == "lead" and e["points"] < 50} == {"daily_cap"}
    no_drift()

"""Hosted landing page, leads, customers, offboarding and the lead pool, in-process:
chalice test client -> moto -> stream poller -> points consumer."""

from __future__ import annotations

import json
import re
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import auth

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.{n}"
ADMIN = auth("acme", "boss", "admin")
ALICE = auth("acme", "alice", "employee")
BOB = auth("acme", "bob", "employee")
LANDING = {
    "default_lang": "zh-Hans",
    "fields": ["name", "phone", "email", "message"],
    "required": ["name"],
    "copy": {
        "zh-Hans": {"title": "春季新品", "body": "欢迎了解", "cta": "立即预约", "consent": "我同意隐私政策"},
        "en": {"title": "Spring <launch>", "body": "Hello", "cta": "Book now", "consent": "I agree to the policy"},
    },
}


def call(client: Any, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json", **(headers or {})}}
    if body is not None:
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
    resp = getattr(client.http, method.lower())(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def setup_campaign(client: Any, landing: bool = True) -> tuple[str, str]:
    for emp, team in (("alice", "north"), ("bob", "south"), ("carol", "south")):
        assert (
            call(client, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp, "team": team, "region": "cn"})[0] == 200
        )
    body: dict[str, Any] = {"name": "Spring", "points": {"unique_visit": 10, "forward": 3, "lead": 50}}
    if landing:
        body["landing"] = LANDING
    else:
        body["destination_url"] = "https://shop.example.com/"
    status, campaign = call(client, "POST", "/admin/campaigns", ADMIN, body)
    assert status == 201, campaign
    status, link = call(client, "POST", f"/campaigns/{campaign['campaign_id']}/links", ALICE, {"channel": "wechat"})
    assert status == 201
    return campaign["campaign_id"], link["code"]


def open_page(client: Any, path: str, n: int, lang: str = "zh-CN") -> tuple[str, str]:
    """Person n opens a short link or share link; follow to the landing page; return (html, own token)."""
    headers = {"User-Agent": UA.format(n=n), "Accept-Language": lang}
    resp = client.http.get(path, headers=headers)
    if resp.status_code == 302:
        location = urlsplit(resp.headers["Location"])
        assert location.path.startswith("/p/")
        path = location.path + (f"?{location.query}" if location.query else "")
        resp = client.http.get(path, headers=headers)
    assert resp.status_code == 200, resp.body
    html = resp.body.decode()
    match = re.search(r'"token":\s*"([^"]+)"', html)
    assert match, "landing page carries the visitor's own share token"
    return html, match.group(1)


def lead(client: Any, token: str, n: int, **fields: Any) -> tuple[int, Any]:
    body = {"token": token, "consent": True, **fields}
    return call(client, "POST", "/leads", {"User-Agent": UA.format(n=n)}, body)


def test_landing_page_is_localised_escaped_and_strict(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    resp = client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=1)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/p/{code}")
    page = client.http.get(f"/p/{code}", headers={"User-Agent": UA.format(n=1), "Accept-Language": "en-US,en;q=0.9"})
    html = page.body.decode()
    assert page.status_code == 200 and '<html lang="en"' in html
    assert "Spring &lt;launch&gt;" in html and "<launch>" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and html.count("<script") == 1 and f'<script nonce="{nonce.group(1)}">' in html
    zh = client.http.get(f"/p/{code}", headers={"User-Agent": UA.format(n=1), "Accept-Language": "zh-TW"}).body.decode()
    assert "春季新品" in zh  # zh-Hant asked, only zh-Hans given: the other script beats English
    ja = client.http.get(f"/p/{code}?lang=ja", headers={"User-Agent": UA.format(n=1)}).body.decode()
    assert "春季新品" in ja  # no Japanese copy: the campaign's default
    missing = client.http.get("/p/nosuch", headers={"Accept-Language": "ja"})
    assert missing.status_code == 404 and "text/html" in missing.headers["Content-Type"]


def test_chain_of_leads_end_to_end(env: Any) -> None:
    """A's link opened by B; B's token opened by C and D; D's token by E; B and E submit
    leads; C submits twice. Then tree, customers, A's points and boards are exact."""
    client, poller = env
    campaign_id, code = setup_campaign(client)
    _, tok_b = open_page(client, f"/{code}", 1)
    _, tok_c = open_page(client, f"/s/{tok_b}", 2)
    _, tok_d = open_page(client, f"/{code}?rp={tok_b}", 3)
    _, tok_e = open_page(client, f"/s/{tok_d}", 4)
    assert lead(client, tok_b, 1, name="Bai", phone="138 0013 8000")[0] == 201
    assert lead(client, tok_e, 4, name="Eve", email="Eve@Example.COM", message="<b>call me</b>")[0] == 201
    assert lead(client, tok_c, 2, name="Chen", phone="+86 139 0013 9000")[0] == 201
    assert lead(client, tok_c, 2, name="Chen Li", phone="13900139000", email="chen@example.com")[0] == 201
    poller.drain()

    # A: 4 unique visitors x 10 + 3 forwards (C, D, E) x 3 + 3 customers' leads x 50
    status, me = call(client, "GET", "/me", ALICE)
    assert me["points"]["balance"] == 40 + 9 + 150
    board = call(client, "GET", "/leaderboards?dimension=team", ADMIN)[1]["entries"]
    assert board == [{"rank": 1, "id": "north", "score": 199}]

    tree = call(client, "GET", f"/campaigns/{campaign_id}/chains?root=alice", ADMIN)[1]
    assert tree["totals"] == {"nodes": 4, "max_depth": 3, "forwards": 3, "leads": 3}

    status, listing = call(client, "GET", "/customers", ALICE)
    assert status == 200
    customers = {c["name"]: c for c in listing["items"]}
    assert sorted(customers) == ["Bai", "Chen", "Eve"]  # C merged, not duplicated
    chen = customers["Chen"]
    # the repeat lead is public input: kept in the history for the owner, never written over the customer
    assert chen["phone"] == "+8613900139000" and chen["email"] is None and chen["leads"] == 2
    chen_history = call(client, "GET", f"/customers/{chen['customer_id']}", ALICE)[1]["history"]
    assert [h["data"]["submitted"] for h in chen_history if h["kind"] == "lead"] == [
        {"name": "Chen Li", "phone": "+8613900139000", "email": "chen@example.com"},
        {"name": "Chen", "phone": "+8613900139000"},
    ]
    assert customers["Eve"]["email"] == "eve@example.com"
    assert all(c["owner"] == "alice" and c["first_touch"]["employee_id"] == "alice" for c in customers.values())

    status, eve = call(client, "GET", f"/customers/{customers['Eve']['customer_id']}", ALICE)
    assert status == 200
    assert eve["chain"]["depth"] == 3 and len(eve["chain"]["path"]) == 4 and eve["chain"]["path"][0] == "-alice"
    assert eve["consent"]["text"] == "我同意隐私政策"
    assert eve["history"][0]["kind"] == "lead" and eve["history"][0]["data"]["message"] == "<b>call me</b>"
    bai = call(client, "GET", f"/customers/{customers['Bai']['customer_id']}", ALICE)[1]
    assert bai["chain"]["influence"] == {"visitors": 2, "forwards": 2}  # B brought C and D
    chen_full = call(client, "GET", f"/customers/{chen['customer_id']}", ADMIN)[1]
    assert chen_full["chain"]["influenced_by"]["customer_id"] == customers["Bai"]["customer_id"]

    # replaying every lead event awards nothing twice
    poller.reset()
    poller.drain()
    assert call(client, "GET", "/me", ALICE)[1]["points"]["balance"] == 199


def test_customer_work_and_visibility(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    _, tok = open_page(client, f"/{code}", 1)
    lead(client, tok, 1, name="Bai", phone="13800138000")
    cid = call(client, "GET", "/customers", ALICE)[1]["items"][0]["customer_id"]
    assert call(client, "GET", f"/customers/{cid}", BOB)[0] == 404  # not Bob's
    assert call(client, "PATCH", f"/customers/{cid}", BOB, {"status": "won"})[0] == 404
    status, patched = call(client, "PATCH", f"/customers/{cid}", ALICE, {"status": "contacted", "add_tags": ["vip"]})
    assert status == 200 and patched["status"] == "contacted" and patched["tags"] == ["vip"]
    assert call(client, "POST", f"/customers/{cid}/notes", ALICE, {"text": "called, wants a demo"})[0] == 201
    history = [h["kind"] for h in call(client, "GET", f"/customers/{cid}", ALICE)[1]["history"]]
    assert sorted(history) == ["lead", "note", "status", "tags"]
    assert call(client, "GET", "/customers?status=contacted&tag=vip", ADMIN)[1]["items"][0]["customer_id"] == cid
    assert call(client, "GET", "/customers?status=won", ADMIN)[1]["items"] == []
    assert call(client, "GET", "/customers?owner=bob", BOB)[0] == 200
    assert call(client, "GET", "/customers?owner=alice", BOB)[0] == 403


def test_pagination_walks_every_customer_once(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    for n in range(7):
        _, tok = open_page(client, f"/{code}", 100 + n)
        assert lead(client, tok, 100 + n, name=f"P{n}", email=f"p{n}@example.com")[0] == 201
    seen: list[str] = []
    cursor = ""
    while True:
        status, page = call(client, "GET", f"/customers?limit=3{cursor}", ADMIN)
        assert status == 200 and len(page["items"]) <= 3
        seen += [c["name"] for c in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert sorted(seen) == [f"P{n}" for n in range(7)]
    assert call(client, "GET", "/customers?cursor=garbage!!", ADMIN)[0] == 422


def test_offboarding_hands_over_and_locks_out(env: Any) -> None:
    client, poller = env
    _, code = setup_campaign(client)
    for n in range(3):
        _, tok = open_page(client, f"/{code}", 10 + n)
        lead(client, tok, 10 + n, name=f"C{n}", phone=f"1380013800{n}")
    poller.drain()
    before = call(client, "GET", "/me", ALICE)[1]["points"]["balance"]
    status, report = call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "bob"})
    assert status == 200 and report["customers_moved"] == 3
    assert call(client, "GET", "/me", ALICE)[0] == 401  # her token stops working
    bob_customers = call(client, "GET", "/customers", BOB)[1]["items"]
    assert len(bob_customers) == 3 and all(c["first_touch"]["employee_id"] == "alice" for c in bob_customers)
    history = call(client, "GET", f"/customers/{bob_customers[0]['customer_id']}", BOB)[1]["history"]
    assert history[0]["kind"] == "handover" and history[0]["data"] == {"from": "alice", "to": "bob"}
    # her link still redirects but credits nobody
    _, tok = open_page(client, f"/{code}", 50)
    poller.drain()
    from ripple import bootstrap

    assert bootstrap.services().points.balance("acme", "alice") == before
    # points history stays
    assert bootstrap.services().points.ledger("acme", "alice")
    # to the pool
    assert call(client, "POST", "/admin/employees/bob/offboard", ADMIN, {"to": "pool"})[1]["customers_moved"] == 3
    pool = call(client, "GET", "/lead-pool", auth("acme", "carol", "employee"))[1]["items"]
    assert len(pool) == 3 and all("****" in c["phone"] and c["owner"] is None for c in pool)


def test_twenty_concurrent_claims_one_winner(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    _, tok = open_page(client, f"/{code}", 1)
    lead(client, tok, 1, name="Pool Person", phone="13800138000")
    call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})
    (customer,) = call(client, "GET", "/lead-pool", BOB)[1]["items"]
    claimers = [f"e{i}" for i in range(20)]
    for emp in claimers:
        call(client, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp, "team": "t", "region": "r"})
    results: dict[str, int] = {}
    barrier = threading.Barrier(len(claimers))

    def claim(emp: str) -> None:
        barrier.wait()
        status, _ = call(client, "POST", f"/lead-pool/{customer['customer_id']}/claim", auth("acme", emp, "employee"))
        results[emp] = status

    threads = [threading.Thread(target=claim, args=(emp,)) for emp in claimers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [emp for emp, status in results.items() if status == 200]
    assert len(winners) == 1 and sorted(results.values()) == [200] + [409] * 19
    got = call(client, "GET", f"/customers/{customer['customer_id']}", ADMIN)[1]
    assert got["owner"] == winners[0]
    assert [h["kind"] for h in got["history"]].count("claim") == 1
    assert call(client, "GET", "/lead-pool", BOB)[1]["items"] == []


def test_recycle_job_returns_untouched_customers(env: Any) -> None:
    import scheduled

    from infra.lambda_context import LocalContext
    from ripple import bootstrap
    from ripple.domain.customers import DAY_MS

    client, _ = env
    _, code = setup_campaign(client)
    for n in range(2):
        _, tok = open_page(client, f"/{code}", 20 + n)
        lead(client, tok, 20 + n, name=f"R{n}", phone=f"1380013801{n}")
    by_name = {c["name"]: c["customer_id"] for c in call(client, "GET", "/customers", ALICE)[1]["items"]}
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"name": "Acme", "recycle_after_days": 3})[0] == 200
    svc = bootstrap.services()
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + 2 * DAY_MS
    call(client, "POST", f"/customers/{by_name['R0']}/notes", ALICE, {"text": "spoke today"})
    svc.clock = lambda: real_clock() + 4 * DAY_MS
    report = scheduled.handler({"job": "recycle"}, LocalContext())
    assert report == {"job": "recycle", "tenants": 1, "checked": 2, "recycled": 1}
    pool = call(client, "GET", "/lead-pool", BOB)[1]["items"]
    assert [c["customer_id"] for c in pool] == [by_name["R1"]]
    assert [c["name"] for c in call(client, "GET", "/customers", ALICE)[1]["items"]] == ["R0"]
    # running again changes nothing
    assert scheduled.handler({"job": "recycle"}, LocalContext())["recycled"] == 0


def test_lead_bad_input_changes_nothing(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    _, tok = open_page(client, f"/{code}", 1)
    cases = [
        ({"token": tok, "name": "X", "phone": "13800138000"}, 422),  # consent missing
        ({"token": tok, "name": "X", "phone": "13800138000", "consent": "yes"}, 422),
        ({"token": tok, "name": "X", "consent": True}, 422),  # no contact
        ({"token": tok, "name": "X", "phone": "12345", "consent": True}, 422),
        ({"token": tok, "name": "X", "phone": "abc", "consent": True}, 422),
        ({"token": tok, "name": "X", "email": "not-an-email", "consent": True}, 422),
        ({"token": tok, "name": "x" * 10_000, "phone": "13800138000", "consent": True}, 422),
        ({"token": tok, "phone": "13800138000", "consent": True}, 422),  # name required by the page
        ({"token": tok[:-3] + "aaa", "name": "X", "phone": "13800138000", "consent": True}, 422),
        ({"token": "garbage", "name": "X", "phone": "13800138000", "consent": True}, 422),
        ({"name": "X", "phone": "13800138000", "consent": True}, 422),
        ({"token": tok, "name": "X", "phone": "13800138000", "consent": True, "owner": "me"}, 422),
        ({"token": tok, "name": ["X"], "phone": "13800138000", "consent": True}, 422),
    ]
    for body, expected in cases:
        status, error = call(client, "POST", "/leads", {"User-Agent": UA.format(n=1)}, body)
        assert status == expected, (body, error)
        assert error["error"]["message"]
    assert call(client, "POST", "/leads", {}, "{not json")[0] == 400
    assert call(client, "POST", "/leads", {}, json.dumps({"token": tok, "name": "y" * 20_000}))[0] == 413
    assert call(client, "GET", "/customers", ADMIN)[1]["items"] == []


def test_lead_rate_limit(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    _, tok = open_page(client, f"/{code}", 1)
    statuses = [lead(client, tok, 1, name="Spam", email=f"s{i}@example.com")[0] for i in range(7)]
    assert statuses[:5] == [201] * 5 and statuses[5:] == [429, 429]
    resp = client.http.post(
        "/leads",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"token": tok, "consent": True, "name": "S", "email": "z@example.com"}),
    )
    assert resp.status_code == 429 and resp.headers["Retry-After"].isdigit()


def test_attribution_first_touch_then_last_touch(env: Any) -> None:
    client, _ = env
    campaign_id, code = setup_campaign(client)
    bob_code = call(client, "POST", f"/campaigns/{campaign_id}/links", BOB, {"channel": "line"})[1]["code"]
    _, tok_a = open_page(client, f"/{code}", 1)
    lead(client, tok_a, 1, name="Same", phone="13800138000")
    _, tok_b = open_page(client, f"/{bob_code}", 2)
    lead(client, tok_b, 2, name="Same", phone="13800138000")
    (customer,) = call(client, "GET", "/customers", ADMIN)[1]["items"]
    assert customer["owner"] == "alice" and customer["last_touch"]["employee_id"] == "bob"  # first touch keeps it
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"attribution": {"mode": "last_touch"}})[0] == 200
    _, tok_b2 = open_page(client, f"/{bob_code}", 3)
    lead(client, tok_b2, 3, name="Same", phone="+8613800138000")
    (customer,) = call(client, "GET", "/customers", ADMIN)[1]["items"]
    assert customer["owner"] == "bob" and customer["leads"] == 3


def test_external_destination_leads_need_consent_text(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client, landing=False)
    resp = client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=1)})
    tok = parse_qs(urlsplit(resp.headers["Location"]).query)["rp"][0]
    assert lead(client, tok, 1, name="Ext", email="ext@example.com")[0] == 422
    status, body = lead(client, tok, 1, name="Ext", email="ext@example.com", consent_text="I agree to be contacted")
    assert status == 201, body
    preflight = client.http.options("/leads", headers={"Origin": "https://shop.example.com"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_reassigned_links_credit_the_new_owner(env: Any) -> None:
    client, poller = env
    _, code = setup_campaign(client, landing=False)
    status, report = call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})
    assert status == 200 and report["links"] == [code] and report["links_reassigned"] is False
    client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=60)})
    poller.drain()
    assert call(client, "GET", "/me", BOB)[1]["points"]["balance"] == 0
    assert call(client, "POST", f"/admin/links/{code}/reassign", BOB, {"employee_id": "bob"})[0] == 403
    assert call(client, "POST", f"/admin/links/{code}/reassign", ADMIN, {"employee_id": "alice"})[0] == 409
    assert call(client, "POST", f"/admin/links/{code}/reassign", ADMIN, {"employee_id": "ghost"})[0] == 404
    assert call(client, "POST", "/admin/links/nosuch/reassign", ADMIN, {"employee_id": "bob"})[0] == 404
    other = auth("globex", "root", "admin")
    assert call(client, "POST", f"/admin/links/{code}/reassign", other, {"employee_id": "bob"})[0] == 404
    status, moved = call(client, "POST", f"/admin/links/{code}/reassign", ADMIN, {"employee_id": "bob"})
    assert status == 200 and moved["employee_id"] == "bob"
    resp = client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=61)})
    assert resp.status_code == 302
    poller.drain()
    assert call(client, "GET", "/me", BOB)[1]["points"]["balance"] == 10
    # offboarding bob with reassign_links hands his links (incl. this one) to carol
    status, report = call(
        client, "POST", "/admin/employees/bob/offboard", ADMIN, {"to": "carol", "reassign_links": True}
    )
    assert status == 200 and code in report["links"]
    assert (
        call(client, "POST", "/admin/employees/carol/offboard", ADMIN, {"to": "pool", "reassign_links": True})[0] == 422
    )

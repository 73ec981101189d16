"""The HTTP contract in-process (Chalice test client over moto): happy paths, then every
bad input a client can send, each answered with a clear JSON 4xx and leaving every table
byte-for-byte unchanged."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import ADMIN, ALICE, PHONE_UA, POINTS, body_of, call, seed, snapshot


@pytest.fixture
def api(aws: Any) -> Any:
    from chalice.test import Client

    from app import app

    return Client(app)


@pytest.fixture
def seeded(api: Any) -> dict[str, Any]:
    return seed(api)

    return seed(api)


# ------------------------------------------------------------------ happy paths


def test_employee_upsert_returns_employee_and_updates_in_place(api: Any) -> None:
    first = call(api, "PUT", "/admin/employees/e1", ADMIN, {"name": "Eve", "team": "t", "region": "r"})
    assert first.status_code == 200
    assert body_of(first)["employee_id"] == "e1" and body_of(first)["name"] == "Eve"
    second = call(api, "PUT", "/admin/employees/e1", ADMIN, {"name": "Eve Li", "team": "t2", "region": "r"})
    assert body_of(second)["team"] == "t2"
    me = body_of(call(api, "GET", "/me", auth("acme", "e1", "employee")))
    assert (
        me["employee_id"] == "e1"
        and me["team"] == "t2"
        and me["points"] == {"balance": 0, "available": 0, "pending": 0}
    )


def test_campaign_and_link_contract(api: Any, seeded: dict[str, Any]) -> None:
    campaign = body_of(call(api, "GET", f"/campaigns/{seeded['campaign_id']}", ALICE))
    assert campaign["campaign_id"] == seeded["campaign_id"] and campaign["points"] == POINTS
    again = call(api, "POST", f"/campaigns/{seeded['campaign_id']}/links", ALICE, {"channel": "wechat"})
    assert again.status_code == 200 and body_of(again)["code"] == seeded["code"]
    line = call(api, "POST", f"/campaigns/{seeded['campaign_id']}/links", ALICE, {"channel": "line"})
    assert line.status_code == 201
    created = body_of(line)
    assert created["code"] != seeded["code"] and created["channel"] == "line"
    assert created["campaign_id"] == seeded["campaign_id"]
    assert created["short_url"].endswith("/" + created["code"])


def test_redirect_merges_utm_and_sets_cookie(api: Any, seeded: dict[str, Any]) -> None:
    resp = api.http.get(f"/{seeded['code']}", headers={"User-Agent": PHONE_UA.format(n=1)})
    assert resp.status_code == 302
    assert resp.headers["Cache-Control"] == "no-store"
    location = urlsplit(resp.headers["Location"])
    assert (location.scheme, location.netloc, location.path, location.fragment) == (
        "https",
        "shop.example.com",
        "/spring",
        "top",
    )
    query = parse_qs(location.query)
    assert query["ref"] == ["x"]
    assert query["utm_source"] == ["wechat"]
    assert query["utm_medium"] == ["ripple"]
    assert query["utm_campaign"] == [seeded["campaign_id"]]
    assert "rp_vid=" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]


def test_head_redirects_but_records_nothing(api: Any, aws: Any, seeded: dict[str, Any]) -> None:
    before = snapshot(aws)
    resp = api.http.head(f"/{seeded['code']}", headers={"User-Agent": PHONE_UA.format(n=2)})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("https://shop.example.com/spring")
    assert snapshot(aws) == before


def test_unknown_code_is_404_json_and_html(api: Any) -> None:
    resp = api.http.get("/nosuchcode", headers={"User-Agent": PHONE_UA.format(n=3)})
    assert resp.status_code == 404 and body_of(resp)["error"]["code"]
    page = api.http.get("/nosuchcode", headers={"Accept": "text/html"})
    assert page.status_code == 404 and b"Link not found" in page.body


def test_ended_campaign_is_410(api: Any, aws: Any) -> None:
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    resp = call(
        api,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "Flash", "destination_url": "https://e.example/", "points": POINTS, "ends_at": ends},
    )
    assert resp.status_code == 201, resp.body
    call(api, "PUT", "/admin/employees/alice", ADMIN, {"name": "A", "team": "t", "region": "r"})
    link = body_of(call(api, "POST", f"/campaigns/{body_of(resp)['campaign_id']}/links", ALICE, {"channel": "x"}))
    from ripple.service.redirect import link_cache

    link_cache.clear()
    time.sleep(2.1)
    before = snapshot(aws)
    gone = api.http.get(f"/{link['code']}", headers={"User-Agent": PHONE_UA.format(n=4)})
    assert gone.status_code == 410 and body_of(gone)["error"]["code"]
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    "query", ["", "dimension=team&period=2026-W01&limit=100", "dimension=region&period=2026-11", "period=2026-11-23"]
)
def test_good_leaderboard_queries(api: Any, seeded: dict[str, Any], query: str) -> None:
    resp = call(api, "GET", f"/leaderboards?{query}", ALICE)
    assert resp.status_code == 200, resp.body
    assert body_of(resp) == {"entries": []}


def test_tampered_share_token_still_redirects(api: Any, seeded: dict[str, Any]) -> None:
    resp = api.http.get(f"/{seeded['code']}?rp=forged.token.value", headers={"User-Agent": PHONE_UA.format(n=10)})
    assert resp.status_code == 302


def test_garbage_cookies_are_ignored(api: Any, seeded: dict[str, Any]) -> None:
    for cookie in ("rp_vid=forged", 'rp_vid="\\x"; rp_session=not-a-jwt', "=;;;", "x" * 9000):
        resp = api.http.get(f"/{seeded['code']}", headers={"User-Agent": PHONE_UA.format(n=11), "Cookie": cookie})
        assert resp.status_code == 302, cookie


@pytest.mark.parametrize(
    ("accept_language", "heading", "button"),
    [
        ("zh-CN,zh;q=0.9", "活动已结束", "访问Acme 株式会社"),
        ("ja-JP", "このキャンペーンは終了しました", "Acme 株式会社 のサイトへ"),
        ("en-US", "This campaign has ended", "Visit Acme 株式会社"),
    ],
)
def test_an_ended_campaigns_link_shows_the_company_and_its_website_in_the_visitors_language(
    api: Any, aws: Any, accept_language: str, heading: str, button: str
) -> None:
    import html as html_lib

    tenant = {"name": "Acme 株式会社", "ended_url": "https://www.acme.example/campaigns?from=ripple"}
    saved = call(api, "PUT", "/admin/tenant", ADMIN, tenant)
    assert saved.status_code == 200 and body_of(saved)["ended_url"] == tenant["ended_url"], saved.body
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    body = {"name": "Flash", "destination_url": "https://e.example/", "points": POINTS, "ends_at": ends}
    campaign = body_of(call(api, "POST", "/admin/campaigns", ADMIN, body))
    call(api, "PUT", "/admin/employees/alice", ADMIN, {"name": "A", "team": "t", "region": "r"})
    link = body_of(call(api, "POST", f"/campaigns/{campaign['campaign_id']}/links", ALICE, {"channel": "wechat"}))
    from ripple.service.redirect import link_cache

    link_cache.clear()
    time.sleep(2.1)
    before = snapshot(aws)
    headers = {"Accept": "text/html", "Accept-Language": accept_language, "User-Agent": PHONE_UA.format(n=9)}
    page = api.http.get(f"/{link['code']}", headers=headers)
    text = html_lib.unescape(page.body.decode())
    assert page.status_code == 410 and page.headers["Cache-Control"] == "no-store"
    assert f"<h1>{heading}</h1>" in text and "Acme 株式会社" in text
    assert f'href="{tenant["ended_url"]}"' in text and button in text
    assert "<script" not in text
    assert snapshot(aws) == before  # nothing recorded for an ended campaign
    # API clients still get the JSON error, without the tenant
    plain = api.http.get(f"/{link['code']}", headers={"User-Agent": PHONE_UA.format(n=9)})
    assert plain.status_code == 410 and "acme" not in plain.body.decode()


@pytest.mark.parametrize("url", ["http://acme.example/", "javascript:alert(1)", "not a url", 5, "https://"])
def test_the_ended_url_must_be_https(api: Any, aws: Any, url: Any) -> None:
    before = snapshot(aws)
    resp = call(api, "PUT", "/admin/tenant", ADMIN, {"ended_url": url})
    assert resp.status_code == 422 and body_of(resp)["error"]["details"]["field"] == "ended_url", resp.body
    assert snapshot(aws) == before

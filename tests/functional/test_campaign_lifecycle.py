"""A campaign's lifecycle over HTTP (Chalice test client over moto): edit, end now,
duplicate, archive — and the copy of an edit onto every link, which must be complete,
resumable and never overwrite a newer edit with an older one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import ADMIN, ALICE, PHONE_UA, POINTS, body_of, call, snapshot

BOB = auth("acme", "bob", "employee")
CHANNELS = ("wechat", "line", "email", "linkedin", "x")


@pytest.fixture
def api(aws: Any) -> Any:
    from chalice.test import Client

    from app import app
    from ripple.service.redirect import link_cache

    link_cache.clear()
    return Client(app)


def _campaign(api: Any, **extra: Any) -> dict[str, Any]:
    for emp in ("alice", "bob"):
        resp = call(api, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp.title(), "team": "t", "region": "r"})
        assert resp.status_code == 200, resp.body
    body = {"name": "Spring", "destination_url": "https://shop.example/spring", "points": POINTS, **extra}
    resp = call(api, "POST", "/admin/campaigns", ADMIN, body)
    assert resp.status_code == 201, resp.body
    return body_of(resp)


def _links(api: Any, campaign_id: str, who: dict[str, str], channels: tuple[str, ...]) -> list[str]:
    codes = []
    for channel in channels:
        resp = call(api, "POST", f"/campaigns/{campaign_id}/links", who, {"channel": channel})
        assert resp.status_code == 201, resp.body
        codes.append(body_of(resp)["code"])
    return codes


def _follow(api: Any, code: str, html: bool = False) -> Any:
    headers = {"User-Agent": PHONE_UA.format(n=7)}
    if html:
        headers["Accept"] = "text/html"
    return api.http.get(f"/{code}", headers=headers)


def test_a_new_destination_reaches_every_link_and_the_rules_stay_versioned(api: Any) -> None:
    campaign = _campaign(api)
    cid = campaign["campaign_id"]
    codes = _links(api, cid, ALICE, CHANNELS) + _links(api, cid, BOB, CHANNELS[:2])
    assert _follow(api, codes[0]).headers["Location"].startswith("https://shop.example/spring")

    resp = call(api, "PATCH", f"/admin/campaigns/{cid}", ADMIN, {"destination_url": "https://shop.example/summer"})
    assert resp.status_code == 200, resp.body
    edited = body_of(resp)
    assert (edited["destination_url"], edited["links_updated"], edited["links_pending"]) == (
        "https://shop.example/summer",
        len(codes),
        False,
    )
    assert edited["status"] == "active" and edited["rules"]["version"] == 1
    for code in codes:
        assert _follow(api, code).headers["Location"].startswith("https://shop.example/summer"), code
    # a rename touches no link; rules still change only through their own (versioned) endpoint
    renamed = body_of(call(api, "PATCH", f"/admin/campaigns/{cid}", ADMIN, {"name": "Summer"}))
    assert (renamed["name"], renamed["links_updated"]) == ("Summer", 0)
    assert call(api, "PATCH", f"/admin/campaigns/{cid}", ADMIN, {"points": {"unique_visit": 99}}).status_code == 422
    rules = call(api, "PUT", f"/admin/campaigns/{cid}/rules", ADMIN, {"points": {"unique_visit": 7}})
    assert body_of(rules)["rules"]["version"] == 2
    assert body_of(call(api, "GET", f"/campaigns/{cid}", ALICE))["name"] == "Summer"


def test_end_now_shows_the_ended_page_on_every_link_and_issues_no_new_one(api: Any) -> None:
    call(api, "PUT", "/admin/tenant", ADMIN, {"name": "Acme", "ended_url": "https://www.acme.example/"})
    cid = _campaign(api)["campaign_id"]
    codes = _links(api, cid, ALICE, CHANNELS[:3])
    resp = call(api, "POST", f"/admin/campaigns/{cid}/end", ADMIN)
    assert resp.status_code == 200, resp.body
    ended = body_of(resp)
    assert (ended["status"], ended["links_updated"], ended["links_pending"]) == ("ended", 3, False)
    assert ended["ends_at"] is not None
    for code in codes:
        page = _follow(api, code, html=True)
        assert page.status_code == 410 and "https://www.acme.example/" in page.body.decode(), code
    assert call(api, "POST", f"/campaigns/{cid}/links", BOB, {"channel": "line"}).status_code == 410
    again = call(api, "POST", f"/admin/campaigns/{cid}/end", ADMIN)
    assert again.status_code == 409 and body_of(again)["error"]["code"]


def test_archive_needs_an_end_hides_the_campaign_and_freezes_it(api: Any) -> None:
    cid = _campaign(api)["campaign_id"]
    early = call(api, "POST", f"/admin/campaigns/{cid}/archive", ADMIN)
    assert early.status_code == 409
    call(api, "POST", f"/admin/campaigns/{cid}/end", ADMIN)
    archived = call(api, "POST", f"/admin/campaigns/{cid}/archive", ADMIN)
    assert archived.status_code == 200 and body_of(archived)["status"] == "archived"
    assert body_of(archived)["archived_at"] is not None

    def listed(who: dict[str, str], query: str = "") -> list[str]:
        return [c["campaign_id"] for c in body_of(call(api, "GET", "/campaigns" + query, who))["items"]]

    assert cid not in listed(ADMIN) and cid not in listed(ALICE)
    assert listed(ADMIN, "?archived=true") == [cid]
    assert call(api, "GET", "/campaigns?archived=true", ALICE).status_code == 403
    assert call(api, "GET", "/campaigns?archived=maybe", ADMIN).status_code == 422
    assert call(api, "PATCH", f"/admin/campaigns/{cid}", ADMIN, {"name": "X"}).status_code == 409
    back = call(api, "DELETE", f"/admin/campaigns/{cid}/archive", ADMIN)
    assert back.status_code == 200 and body_of(back)["status"] == "ended"
    assert cid in listed(ADMIN)
    assert call(api, "DELETE", f"/admin/campaigns/{cid}/archive", ADMIN).status_code == 409


def test_duplicate_copies_what_the_campaign_says_but_nothing_it_did(api: Any) -> None:
    landing = {
        "default_lang": "en",
        "fields": ["name", "email"],
        "copy": {"en": {"title": "Hi", "cta": "Go", "consent": "I agree"}},
    }
    original = _campaign(api, landing=landing, chain={"share_param": "via", "max_depth": 4})
    cid = original["campaign_id"]
    _links(api, cid, ALICE, CHANNELS[:2])
    call(api, "PUT", f"/admin/campaigns/{cid}/rules", ADMIN, {"points": {"unique_visit": 3, "lead": 9}})
    resp = call(api, "POST", f"/admin/campaigns/{cid}/duplicate", ADMIN)
    assert resp.status_code == 201, resp.body
    copy = body_of(resp)
    assert copy["campaign_id"] != cid and copy["name"] == "Spring (copy)"
    assert copy["points"] == {"unique_visit": 3, "forward": 0, "lead": 9} and copy["rules"]["version"] == 1
    assert (copy["landing"], copy["chain"]) == (original["landing"], {"share_param": "via", "max_depth": 4})
    assert (copy["starts_at"], copy["ends_at"], copy["status"]) == (None, None, "active")
    mine = body_of(call(api, "GET", f"/me/links?campaign_id={copy['campaign_id']}", ALICE))["items"]
    assert mine == []
    named = call(
        api, "POST", f"/admin/campaigns/{cid}/duplicate", ADMIN, {"name": "Autumn", "ends_at": "2099-01-01T00:00:00Z"}
    )
    assert (body_of(named)["name"], body_of(named)["ends_at"]) == ("Autumn", "2099-01-01T00:00:00.000Z")


def test_a_copy_cut_short_resumes_where_it_stopped(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ripple.service import campaigns

    cid = _campaign(api)["campaign_id"]
    codes = _links(api, cid, ALICE, CHANNELS) + _links(api, cid, BOB, CHANNELS)
    monkeypatch.setattr(campaigns, "_PAGE", 3)
    monkeypatch.setattr(campaigns, "SYNC_BUDGET_S", 0.0)  # one page per request
    first = body_of(call(api, "PATCH", f"/admin/campaigns/{cid}", ADMIN, {"destination_url": "https://b.example/"}))
    assert (first["links_updated"], first["links_pending"]) == (3, True)
    assert body_of(call(api, "GET", f"/campaigns/{cid}", ALICE))["links_pending"] is True
    total, rounds = first["links_updated"], 0
    while True:
        step = body_of(call(api, "POST", f"/admin/campaigns/{cid}/links/sync", ADMIN))
        total += step["links_updated"]
        rounds += 1
        if not step["links_pending"]:
            break
        assert rounds < 10
    assert total == len(codes) == 10
    assert all(_follow(api, c).headers["Location"].startswith("https://b.example/") for c in codes)
    idle = body_of(call(api, "POST", f"/admin/campaigns/{cid}/links/sync", ADMIN))
    assert (idle["links_updated"], idle["links_pending"]) == (0, False)


def test_an_older_edits_copy_never_overwrites_a_newer_one(api: Any) -> None:
    """By design, not by luck: the older edit's copy runs after the newer one finished."""
    from ripple import bootstrap
    from ripple.domain import campaigns as rules

    cid = _campaign(api)["campaign_id"]
    codes = _links(api, cid, ALICE, CHANNELS[:2])
    svc = bootstrap.services()
    stored = svc.campaigns.get("acme", cid)
    assert stored is not None
    older, _ = rules.edited(stored, {"destination_url": "https://old.example/"}, svc.clock())
    newer, _ = rules.edited(older, {"destination_url": "https://new.example/"}, svc.clock())
    assert newer.links_revision == older.links_revision + 1
    assert all(svc.links.copy_campaign(code, newer) for code in codes)
    assert not any(svc.links.copy_campaign(code, older) for code in codes)
    svc.campaigns.save_lifecycle(newer)
    assert svc.campaigns.save_links_cursor(older, None) is False  # the older copy stops
    for code in codes:
        link = svc.links.get(code)
        assert link is not None and link.destination_url == "https://new.example/"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "name"),
        ({"points": {"unique_visit": 1}}, 422, None),
        ({"name": ""}, 422, "name"),
        ({"destination_url": "javascript:alert(1)"}, 422, "destination_url"),
        ({"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, 422, "ends_at"),
        ({"ends_at": "yesterday"}, 422, "ends_at"),
        ({"landing": None}, 422, "landing"),  # no destination and no page left
        ({"name": "Share to win a prize 转发有礼"}, 422, None),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    api: Any, aws: Any, body: dict[str, Any], status: int, field: str | None
) -> None:
    landing = {
        "default_lang": "en",
        "fields": ["email"],
        "copy": {"en": {"title": "Hi", "cta": "Go", "consent": "I agree"}},
    }
    resp = call(api, "POST", "/admin/campaigns", ADMIN, {"name": "Page only", "landing": landing, "points": POINTS})
    cid = body_of(resp)["campaign_id"]
    before = snapshot(aws)
    bad = call(api, "PATCH", f"/admin/campaigns/{cid}", ADMIN, body)
    assert bad.status_code == status, bad.body
    error = body_of(bad)["error"]
    if field is not None:
        assert field in (error.get("details", {}).get("field"), *error.get("details", {}).get("fields", [])), error
    assert snapshot(aws) == before


def test_unknown_campaigns_are_404_for_every_lifecycle_route(api: Any, aws: Any) -> None:
    before = snapshot(aws)
    for method, suffix, body in [
        ("PATCH", "", {"name": "X"}),
        ("POST", "/end", None),
        ("POST", "/duplicate", None),
        ("POST", "/archive", None),
        ("DELETE", "/archive", None),
        ("POST", "/links/sync", None),
    ]:
        resp = call(api, method, f"/admin/campaigns/cNOPE{suffix}", ADMIN, body)
        assert resp.status_code == 404, (method, suffix, resp.body)
    assert snapshot(aws) == before

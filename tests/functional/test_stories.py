"""Employees' stories over the whole path, in-process: draft, the policy checked as one types,
images through the poster function, submit, the review queue, approve (points once, capped per
month), the public page through the author's link, a customer forwarding it (the author is still
credited), withdraw, and the bad-input matrix (4xx, nothing saved)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from tests.conftest import auth
from tests.functional.apihelpers import snapshot
from tests.functional.test_analytics import _conforms
from tests.functional.test_cards import _image
from tests.functional.test_customers import ADMIN, ALICE, BOB, UA, call, setup_campaign

POLICY = {"banned_words": ["最安値", "guaranteed"], "disclosure": "#PR", "approved_points": 30, "monthly_cap": 2}
STORY = {"title": "お客様の笑顔", "text": "先週、展示会でお会いしたお客様から\n嬉しいお便りが届きました。"}


def _ddb() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


def _policy(client: Any, body: dict[str, Any] = POLICY) -> None:
    status, saved = call(client, "PUT", "/admin/content-policy", ADMIN, body)
    assert status == 200, saved


def _draft(client: Any, body: dict[str, Any] = STORY, who: dict[str, str] = ALICE) -> dict[str, Any]:
    status, story = call(client, "POST", "/me/stories", who, body)
    assert status == 201, story
    return story  # type: ignore[no-any-return]


def _approved(client: Any, body: dict[str, Any] = STORY) -> dict[str, Any]:
    story = _draft(client, body)
    assert call(client, "POST", f"/me/stories/{story['story_id']}/submit", ALICE)[0] == 200
    status, done = call(client, "POST", f"/admin/stories/{story['story_id']}/approve", ADMIN, {})
    assert status == 200, done
    return done  # type: ignore[no-any-return]


def _balance(client: Any, who: dict[str, str] = ALICE) -> int:
    return int(call(client, "GET", "/me", who)[1]["points"]["balance"])


def test_a_story_is_checked_reviewed_published_and_credits_its_author(env: Any) -> None:
    client, poller = env
    campaign_id, _ = setup_campaign(client)
    _policy(client)

    # as one types: every finding at once, nothing saved
    before = snapshot(_ddb())
    status, check = call(
        client,
        "POST",
        "/me/stories/check",
        ALICE,
        {"title": "業界最安値!", "text": "シェアしてポイントがもらえる <b>今だけ</b>", "paid": True},
    )
    assert status == 200, check
    assert check["ok"] is False
    rules = [(f["field"], f["rule"]) for f in check["findings"]]
    assert ("title", "banned-word") in rules and ("text", "markup") in rules
    assert ("text", "induced-sharing") in rules and ("text", "disclosure") in rules
    assert snapshot(_ddb()) == before

    story = _draft(client, {**STORY, "campaign_id": campaign_id, "paid": True})
    sid = story["story_id"]
    assert story["status"] == "draft" and [f["rule"] for f in story["findings"]] == ["disclosure"]
    # submitting with a finding is a 422 listing them, and changes nothing
    status, err = call(client, "POST", f"/me/stories/{sid}/submit", ALICE)
    assert status == 422 and err["error"]["details"]["rule"] == "disclosure", err
    status, story = call(client, "PATCH", f"/me/stories/{sid}", ALICE, {"text": STORY["text"] + " #PR"})
    assert status == 200 and story["findings"] == [], story

    # two images, re-encoded by the poster function
    for _ in range(2):
        resp = client.http.post(
            f"/me/stories/{sid}/images", headers={**ALICE, "Content-Type": "image/png"}, body=_image()
        )
        assert resp.status_code == 201, resp.body
    story = json.loads(resp.body)
    assert len(story["images"]) == 2

    # nobody else sees or touches it
    assert call(client, "GET", f"/me/stories/{sid}", BOB)[0] == 404
    assert call(client, "PATCH", f"/me/stories/{sid}", BOB, {"title": "x"})[0] == 404
    assert call(client, "GET", f"/admin/stories/{sid}", ADMIN)[0] == 404  # a draft is the author's own

    status, story = call(client, "POST", f"/me/stories/{sid}/submit", ALICE)
    assert status == 200 and story["status"] == "pending", story
    assert call(client, "PATCH", f"/me/stories/{sid}", ALICE, {"title": "x"})[0] == 409  # in review: frozen
    status, queue = call(client, "GET", "/admin/stories", ADMIN)
    assert status == 200 and [s["story_id"] for s in queue["items"]] == [sid], queue
    assert queue["items"][0]["author_name"] == "alice"
    _conforms(client, "/admin/stories", queue)
    assert call(client, "GET", "/admin/stories", ALICE)[0] == 403
    assert call(client, "POST", f"/admin/stories/{sid}/approve", ALICE, {})[0] == 403

    # approve: published through Alice's link, 30 points once
    paid_before = _balance(client)
    status, done = call(client, "POST", f"/admin/stories/{sid}/approve", ADMIN, {"reason": "素敵な話です"})
    assert status == 200, done
    assert done["status"] == "approved" and done["points"] == 30 and done["short_url"], done
    assert _balance(client) == paid_before + 30
    assert call(client, "POST", f"/admin/stories/{sid}/approve", ADMIN, {})[0] == 409
    assert _balance(client) == paid_before + 30
    assert call(client, "GET", "/admin/stories?status=pending", ADMIN)[1]["items"] == []

    # the short link opens the story page; Bob may not take his own link to Alice's story
    code = urlsplit(done["short_url"]).path.strip("/")
    resp = client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=1)})
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == f"/story/{code}"
    assert call(client, "POST", f"/campaigns/{sid}/links", BOB, {"channel": "wechat"})[0] == 403
    assert call(client, "POST", f"/campaigns/{sid}/links", ALICE, {"channel": "line"})[0] in (200, 201)
    assert sid not in [c["campaign_id"] for c in call(client, "GET", "/campaigns", ADMIN)[1]["items"]]

    page = client.http.get(f"/story/{code}", headers={"User-Agent": UA.format(n=1), "Accept-Language": "ja"})
    html = page.body.decode()
    assert page.status_code == 200 and "alice" in html and "お客様の笑顔" in html and "さんのストーリー" in html
    assert "script-src 'nonce-" in page.headers["Content-Security-Policy"] and len(page.body) < 12_000
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) == 2
    served = client.http.get(urlsplit(images[0]).path)
    assert served.status_code == 302 and served.headers["Location"]
    campaign_link = re.search(r'id="campaign" href="([^"]+)"', html)
    assert campaign_link, "the story points at the campaign through Alice's own link"

    # customer 1 forwards it; customer 2 opens it through customer 1's share: Alice is credited
    token = re.search(r'"url":\s*"[^"]*/s/([^"]+)"', html)
    assert token, "the page shares the visitor's own token"
    forwarded = client.http.get(f"/s/{token.group(1)}", headers={"User-Agent": UA.format(n=2)})
    assert forwarded.status_code == 302
    location = urlsplit(forwarded.headers["Location"])
    assert location.path == f"/story/{code}"
    second = client.http.get(f"{location.path}?{location.query}", headers={"User-Agent": UA.format(n=2)})
    assert second.status_code == 200
    poller.drain()
    status, summary = call(client, "GET", f"/analytics/summary?campaign={sid}", ADMIN)
    assert status == 200 and summary["totals"]["visits"] == 2 and summary["totals"]["forwards"] == 1, summary

    # withdrawn: the page is gone and credits nobody
    status, gone = call(client, "POST", f"/me/stories/{sid}/withdraw", ALICE)
    assert status == 200 and gone["status"] == "withdrawn"
    assert client.http.get(f"/story/{code}", headers={"User-Agent": UA.format(n=3)}).status_code == 410
    assert _balance(client) == paid_before + 30  # paid for work done: kept
    assert call(client, "DELETE", f"/me/stories/{sid}", ALICE)[0] == 409  # it was public: on record


def test_the_monthly_cap_pays_so_many_stories_and_rejections_go_back_to_the_author(env: Any) -> None:
    client, _ = env
    setup_campaign(client)
    _policy(client)
    start = _balance(client)
    paid = [_approved(client, {**STORY, "title": f"話 {n}"})["points"] for n in range(3)]
    assert paid == [30, 30, 0]  # the third this month is published, not paid
    assert _balance(client) == start + 60

    story = _draft(client)
    sid = story["story_id"]
    call(client, "POST", f"/me/stories/{sid}/submit", ALICE)
    assert call(client, "POST", f"/admin/stories/{sid}/reject", ADMIN, {})[0] == 422  # a reason is required
    status, back = call(client, "POST", f"/admin/stories/{sid}/reject", ADMIN, {"reason": "写真の許可を確認して"})
    assert status == 200 and back["status"] == "rejected" and back["reason"] == "写真の許可を確認して"
    mine = call(client, "GET", "/me/stories", ALICE)[1]["items"]
    assert mine[0]["status"] == "rejected"  # newest first
    # the author edits and submits again; the reviewer fixes a word and approves
    assert call(client, "PATCH", f"/me/stories/{sid}", ALICE, {"text": "許可をいただきました。"})[0] == 200
    assert call(client, "POST", f"/me/stories/{sid}/submit", ALICE)[1]["status"] == "pending"
    status, edited = call(client, "PATCH", f"/admin/stories/{sid}", ADMIN, {"title": "お客様の笑顔(改)"})
    assert status == 200 and edited["edited_by_reviewer"] is True
    assert call(client, "POST", f"/admin/stories/{sid}/approve", ADMIN, {})[1]["points"] == 0  # still over the cap


def test_an_offboarded_author_is_not_published(env: Any) -> None:
    client, _ = env
    setup_campaign(client)
    story = _draft(client)
    call(client, "POST", f"/me/stories/{story['story_id']}/submit", ALICE)
    assert call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})[0] in (200, 202)
    assert call(client, "POST", f"/admin/stories/{story['story_id']}/approve", ADMIN, {})[0] == 409


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/me/stories", {"title": "a", "text": "b", "extra": 1}, 422),
        ("POST", "/me/stories", {"title": "a\nb", "text": "b"}, 422),
        ("POST", "/me/stories", {"title": 5, "text": "b"}, 422),
        ("POST", "/me/stories", {"title": "a", "text": "b", "paid": "yes"}, 422),
        ("POST", "/me/stories", {"title": "a", "text": "b", "campaign_id": "nope"}, 404),
        ("POST", "/me/stories", {"title": "a", "text": "b", "campaign_id": "card"}, 404),
        ("POST", "/me/stories", {"title": "a", "text": "x" * 5000}, 422),
        ("POST", "/me/stories", "[1]", 422),
        ("POST", "/me/stories/check", {"images": -1}, 422),
        ("POST", "/me/stories/check", {"images": True}, 422),
        ("GET", "/me/stories/st0000000000", None, 404),
        ("POST", "/me/stories/st0000000000/submit", None, 404),
        ("DELETE", "/me/stories/nope", None, 404),
        ("GET", "/me/stories?limit=zero", None, 422),
        ("GET", "/me/stories?cursor=bad", None, 422),
        ("GET", "/me/stories?sort=new", None, 422),
        ("GET", "/admin/stories?status=draft", None, 422),
        ("PUT", "/admin/content-policy", {"banned_words": "x"}, 422),
        ("PUT", "/admin/content-policy", {"banned_words": [""]}, 422),
        ("PUT", "/admin/content-policy", {"approved_points": -5}, 422),
        ("PUT", "/admin/content-policy", {"monthly_cap": 1.5}, 422),
        ("PUT", "/admin/content-policy", {"disclosure": "#P\nR"}, 422),
        ("PUT", "/admin/content-policy", {"rules": []}, 422),
        ("GET", "/story/nope", None, 404),
        ("GET", "/story/abc/images/0", None, 404),
    ],
)
def test_bad_story_requests_change_nothing(env: Any, method: str, path: str, body: Any, status: int) -> None:
    client, _ = env
    setup_campaign(client)
    before = snapshot(_ddb())
    if path.startswith("/story/"):  # a visitor's page: the answer is a small HTML page
        assert client.http.get(path, headers={"User-Agent": UA.format(n=1)}).status_code == status
    else:
        got, answer = call(client, method, path, ADMIN if path.startswith("/admin/") else ALICE, body)
        assert got == status, answer
        assert answer["error"], answer
    assert snapshot(_ddb()) == before


def test_story_images_are_checked(env: Any) -> None:
    client, _ = env
    setup_campaign(client)
    sid = _draft(client)["story_id"]

    def post(body: bytes, ctype: str) -> tuple[int, Any]:
        resp = client.http.post(f"/me/stories/{sid}/images", headers={**ALICE, "Content-Type": ctype}, body=body)
        return resp.status_code, json.loads(resp.body or b"null")

    assert post(b"not an image", "image/png")[0] == 422
    assert post(_image(), "image/gif")[0] in (415, 422)
    assert post(b"\0" * (5 * 1024 * 1024 + 1), "image/png")[0] == 413
    for _ in range(9):
        assert post(_image(), "image/jpeg")[0] == 201
    status, err = post(_image(), "image/jpeg")
    assert status == 422 and err["error"]["details"]["field"] == "images"
    status, story = call(client, "DELETE", f"/me/stories/{sid}/images/3", ALICE)
    assert status == 200 and len(story["images"]) == 8
    assert call(client, "DELETE", f"/me/stories/{sid}/images/8", ALICE)[0] == 404
    assert call(client, "DELETE", f"/me/stories/{sid}", ALICE) == (200, {"deleted": sid})
    assert call(client, "GET", f"/me/stories/{sid}", ALICE)[0] == 404


def test_other_tenants_never_see_a_story(env: Any) -> None:
    client, _ = env
    setup_campaign(client)
    sid = _draft(client)["story_id"]
    call(client, "POST", f"/me/stories/{sid}/submit", ALICE)
    other = auth("globex", "boss", "admin")
    assert call(client, "GET", f"/admin/stories/{sid}", other)[0] in (403, 404)
    assert call(client, "POST", f"/admin/stories/{sid}/approve", other, {})[0] in (403, 404)

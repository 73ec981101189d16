"""The web console's routes in-process: the pages and assets (public, strict headers, unknown
names 404 as JSON) and the list endpoints the pages need (campaigns, employees, tasks, my links,
my poster as JSON), including every bad input as a JSON 4xx that changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import body_of, call, snapshot

ADMIN = auth("acme", "boss", "admin")
ALICE = auth("acme", "alice", "employee")
BOB = auth("acme", "bob", "employee")
GLOBEX = auth("globex", "root", "admin")
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


def future(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def world(env: tuple[Any, Any], aws: Any) -> dict[str, Any]:
    client, poller = env
    for emp, team, region in (("alice", "north", "east"), ("bob", "south", "west"), ("carol", "north", "west")):
        resp = call(
            client, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp.title(), "team": team, "region": region}
        )
        assert resp.status_code == 200, resp.body
    call(client, "POST", "/admin/employees/carol/offboard", ADMIN, {"to": "pool"})
    campaigns = []
    for name in ("Spring", "Summer", "Autumn"):
        resp = call(
            client,
            "POST",
            "/admin/campaigns",
            ADMIN,
            {
                "name": name,
                "destination_url": f"https://shop.example.com/{name.lower()}",
                "points": {"unique_visit": 10},
            },
        )
        assert resp.status_code == 201, resp.body
        campaigns.append(body_of(resp)["campaign_id"])
    call(client, "PUT", "/admin/employees/gina", GLOBEX, {"name": "Gina", "team": "g", "region": "g"})
    other = body_of(
        call(
            client,
            "POST",
            "/admin/campaigns",
            GLOBEX,
            {"name": "G", "destination_url": "https://g.example/", "points": {}},
        )
    )
    return {"client": client, "poller": poller, "aws": aws, "campaigns": campaigns, "other": other["campaign_id"]}


# ------------------------------------------------------------------ pages and assets


@pytest.mark.parametrize(("path", "script"), [("/console", "console.js"), ("/m", "m.js")])
def test_pages_are_public_html_with_a_strict_csp(env: tuple[Any, Any], path: str, script: str) -> None:
    client, _ = env
    resp = client.http.get(path)
    assert resp.status_code == 200
    headers = {k.lower(): v for k, v in resp.headers.items()}
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-cache"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    body = resp.body.decode()
    assert body.startswith("<!doctype html>")
    versioned = re.search(rf'src="assets/{re.escape(script)}\?v=([0-9a-f]{{12}})"', body)
    assert versioned is not None
    asset = client.http.get(f"/assets/{script}?v={versioned.group(1)}")
    assert asset.status_code == 200
    assert asset.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.css", "text/css; charset=utf-8"),
        ("common.js", "text/javascript; charset=utf-8"),
        ("i18n.json", "application/json; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
        ("manifest.webmanifest", "application/manifest+json"),
    ],
)
def test_assets_have_their_content_type(env: tuple[Any, Any], name: str, content_type: str) -> None:
    client, _ = env
    resp = client.http.get(f"/assets/{name}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == content_type
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    if name == "i18n.json":
        assert set(json.loads(resp.body)) == {"en", "ja", "zh-Hans", "zh-Hant"}
    if name == "manifest.webmanifest":  # installable: a standalone app starting at /m, its icon served
        manifest = json.loads(resp.body)
        assert manifest["display"] == "standalone" and manifest["start_url"] == "../m"
        for icon in manifest["icons"]:
            assert client.http.get(f"/assets/{icon['src']}").status_code == 200


@pytest.mark.parametrize(
    "name", ["nope.js", "console.html", "..%2Fconsole.py", "__init__.py", "APP.CSS", "app.css.map"]
)
def test_unknown_assets_are_404_json(env: tuple[Any, Any], name: str) -> None:
    client, _ = env
    resp = client.http.get(f"/assets/{name}")
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/json")
    assert body_of(resp)["error"]["code"] == "not_found"


def test_page_words_are_not_short_links(env: tuple[Any, Any]) -> None:
    """/console and /m are the pages, not codes; a real unknown code is still the redirect's 404."""
    client, _ = env
    assert client.http.get("/console").headers["Content-Type"].startswith("text/html")
    assert client.http.get("/m").headers["Content-Type"].startswith("text/html")
    assert client.http.get("/zzzzzzz").status_code == 404


def test_issued_codes_skip_reserved_route_words(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from ripple import bootstrap

    svc = bootstrap.services()
    drawn = iter(["rewards", "console", "Abc2345"])
    monkeypatch.setattr(svc, "ids", lambda n: next(drawn))
    resp = call(world["client"], "POST", f"/campaigns/{world['campaigns'][0]}/links", ALICE, {"channel": "line"})
    assert resp.status_code == 201, resp.body
    assert body_of(resp)["code"] == "Abc2345"


# ------------------------------------------------------------------ list endpoints


def test_list_campaigns_pages_through_the_tenant_only(world: dict[str, Any]) -> None:
    client = world["client"]
    for who in (ADMIN, ALICE):
        data = body_of(call(client, "GET", "/campaigns", who))
        assert sorted(c["campaign_id"] for c in data["items"]) == sorted(world["campaigns"])
        assert data["next_cursor"] is None
        assert world["other"] not in {c["campaign_id"] for c in data["items"]}
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        path = "/campaigns?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = body_of(call(client, "GET", path, ADMIN))
        assert len(page["items"]) <= 2
        seen += [c["campaign_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(world["campaigns"])  # id order, each once
    names = {c["name"] for c in body_of(call(client, "GET", "/campaigns", ALICE))["items"]}
    assert names == {"Spring", "Summer", "Autumn"}


def test_list_employees_for_admins(world: dict[str, Any]) -> None:
    client = world["client"]
    data = body_of(call(client, "GET", "/admin/employees", ADMIN))
    assert [e["employee_id"] for e in data["items"]] == ["alice", "bob", "carol"]
    assert data["items"][0] == {
        "employee_id": "alice",
        "name": "Alice",
        "team": "north",
        "region": "east",
        "active": True,
        "email": None,  # no sign-in: added without an e-mail
        "role": "employee",
        "status": "no_sign_in",
    }
    inactive = body_of(call(client, "GET", "/admin/employees?active=false", ADMIN))["items"]
    assert [e["employee_id"] for e in inactive] == ["carol"]
    assert [e["employee_id"] for e in body_of(call(client, "GET", "/admin/employees", GLOBEX))["items"]] == ["gina"]


def test_list_tasks_newest_first_with_live_progress(world: dict[str, Any]) -> None:
    client, poller = world["client"], world["poller"]
    ids = []
    for title in ("First", "Second"):
        body = {
            "campaign_id": world["campaigns"][0],
            "title": title,
            "copies": [{"text": "Spring is here"}],
            "channels": ["wechat"],
            "audience": {"all": True},
            "deadline": future(),
        }
        resp = call(client, "POST", "/admin/tasks", ADMIN, body)
        assert resp.status_code == 201, resp.body
        ids.append(body_of(resp)["task_id"])
    data = body_of(call(client, "GET", "/admin/tasks", ADMIN))
    assert [t["task_id"] for t in data["items"]] == ids[::-1]
    assert data["items"][0]["progress"] == {
        "delivered": 2,
        "opened": 0,
        "shared": 0,
        "unique_visits": 0,
        "forwards": 0,
        "leads": 0,
    }
    assert data["items"][0]["audience_size"] == 2 and data["items"][0]["state"] == "open"
    # alice's link gets a visit: both tasks of the campaign count it once the consumer ran
    link = body_of(call(client, "GET", "/me/links", ALICE))["items"][0]
    assert client.http.get("/" + link["code"], headers={"User-Agent": UA}).status_code == 302
    poller.drain()
    progress = [t["progress"] for t in body_of(call(client, "GET", "/admin/tasks", ADMIN))["items"]]
    assert [(p["unique_visits"], p["shared"]) for p in progress] == [(1, 1), (1, 1)]
    first = body_of(call(client, "GET", "/admin/tasks?limit=1", ADMIN))
    assert [t["task_id"] for t in first["items"]] == [ids[1]] and first["next_cursor"]
    second = body_of(call(client, "GET", f"/admin/tasks?limit=1&cursor={first['next_cursor']}", ADMIN))
    assert [t["task_id"] for t in second["items"]] == [ids[0]] and second["next_cursor"] is None
    assert body_of(call(client, "GET", "/admin/tasks", GLOBEX))["items"] == []


def test_my_links_lists_only_mine_with_filters(world: dict[str, Any]) -> None:
    client = world["client"]
    c1, c2 = world["campaigns"][:2]
    made = {}
    for campaign, channel in ((c1, "wechat"), (c1, "line"), (c2, "wechat")):
        resp = call(client, "POST", f"/campaigns/{campaign}/links", ALICE, {"channel": channel})
        made[(campaign, channel)] = body_of(resp)["code"]
    call(client, "POST", f"/campaigns/{c1}/links", BOB, {"channel": "wechat"})
    links = body_of(call(client, "GET", "/me/links", ALICE))["items"]
    assert {(x["campaign_id"], x["channel"]): x["code"] for x in links} == made
    assert all(x["short_url"].endswith("/" + x["code"]) and x["employee_id"] == "alice" for x in links)
    assert all(x["created_at"] for x in links)
    only = body_of(call(client, "GET", f"/me/links?campaign_id={c1}&channel=line", ALICE))["items"]
    assert [x["code"] for x in only] == [made[(c1, "line")]]
    assert len(body_of(call(client, "GET", "/me/links", BOB))["items"]) == 1


# ------------------------------------------------------------------ bad input


BAD = [
    ("/campaigns?limit=0", ADMIN, 422),
    ("/campaigns?limit=abc", ALICE, 422),
    ("/campaigns?sort=name", ADMIN, 422),
    ("/campaigns?cursor=%%%", ADMIN, 422),
    ("/campaigns?cursor=", ADMIN, 422),
    ("/campaigns?cursor=" + "A" * 300, ADMIN, 422),
    ("/campaigns?cursor=L2V0Yy9wYXNzd2Q", ADMIN, 422),  # "/etc/passwd": not a campaign id
    ("/campaigns", {}, 401),
    ("/campaigns", {"Authorization": "Bearer nope"}, 401),
    ("/admin/employees", ALICE, 403),
    ("/admin/employees", {}, 401),
    ("/admin/employees?active=yes", ADMIN, 422),
    ("/admin/employees?limit=5", ADMIN, 422),
    ("/admin/tasks", ALICE, 403),
    ("/admin/tasks?limit=101", ADMIN, 422),
    ("/admin/tasks?cursor=Y2FtcDEyMw", ADMIN, 422),  # "camp123": not a task sort key
    ("/admin/tasks?state=open", ADMIN, 422),
    ("/me/links", ADMIN, 403),
    ("/me/links", {}, 401),
    ("/me/links?channel=myspace", ALICE, 422),
    ("/me/links?campaign_id=../x", ALICE, 422),
    ("/me/links?limit=5", ALICE, 422),
    ("/me/posters/CAMPAIGN", ADMIN, 403),
    ("/me/posters/CAMPAIGN", {}, 401),
    ("/me/posters/CAMPAIGN?channel=wechat", ALICE, 422),  # template is required
    ("/me/posters/CAMPAIGN?channel=wechat&template=t1&format=gif", ALICE, 422),
    ("/me/posters/CAMPAIGN?channel=wechat&template=nope", ALICE, 404),
    ("/me/posters/OTHER?channel=wechat&template=t1", ALICE, 404),
]


def test_bad_input_is_a_json_4xx_and_changes_nothing(world: dict[str, Any]) -> None:
    client = world["client"]
    before = snapshot(world["aws"])
    for path, headers, status in BAD:
        path = path.replace("CAMPAIGN", world["campaigns"][0]).replace("OTHER", world["other"])
        resp = call(client, "GET", path, headers)
        assert resp.status_code == status, (path, resp.status_code, resp.body)
        assert resp.headers["Content-Type"].startswith("application/json"), path
        error = body_of(resp)["error"]
        assert error["code"] and error["message"], path
    assert snapshot(world["aws"]) == before

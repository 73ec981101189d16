"""Promotion tasks end to end in-process: distribution -> each employee's inbox -> visits
through the stream consumer -> assignment status and live progress by team and region."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import body_of, call, snapshot

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.{n}"
ADMIN = auth("acme", "boss", "admin")
COPIES = [{"lang": "en", "text": "Spring is here"}, {"lang": "ja", "text": "春が来た"}, {"text": "春天来了 🌸"}]
# employee -> (team, region)
STAFF = {
    "alice": ("north", "east"),
    "bob": ("north", "east"),
    "carol": ("north", "west"),
    "dave": ("south", "west"),
    "erin": ("north", "east"),  # offboarded below: never targeted
}


def emp(name: str) -> dict[str, str]:
    return auth("acme", name, "employee")


def future(days: int = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def tenv(env: tuple[Any, Any], aws: Any) -> tuple[Any, Any, Any]:
    """(Chalice test client, stream poller, DynamoDB client for snapshots)."""
    return env[0], env[1], aws


def setup(client: Any) -> dict[str, str]:
    for name, (team, region) in STAFF.items():
        resp = call(
            client, "PUT", f"/admin/employees/{name}", ADMIN, {"name": name.title(), "team": team, "region": region}
        )
        assert resp.status_code == 200, resp.body
    resp = call(client, "POST", "/admin/employees/erin/offboard", ADMIN, {"to": "pool"})
    assert resp.status_code == 200, resp.body
    resp = call(
        client,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "Spring", "destination_url": "https://shop.example.com/spring", "points": {"unique_visit": 10}},
    )
    assert resp.status_code == 201, resp.body
    other_admin = auth("globex", "root", "admin")
    other = call(
        client,
        "POST",
        "/admin/campaigns",
        other_admin,
        {"name": "G", "destination_url": "https://globex.example/", "points": {"unique_visit": 1}},
    )
    return {"campaign_id": body_of(resp)["campaign_id"], "other_campaign_id": body_of(other)["campaign_id"]}


def task_body(campaign_id: str, **over: Any) -> dict[str, Any]:
    body = {
        "campaign_id": campaign_id,
        "title": "Share the spring sale",
        "materials": ["m1", "m2"],
        "copies": COPIES,
        "poster_template_id": "tpl1",
        "channels": ["wechat", "line"],
        "audience": {"teams": ["north"]},
        "deadline": future(),
    }
    body.update(over)
    return body


def create(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    resp = call(client, "POST", "/admin/tasks", ADMIN, body)
    assert resp.status_code == 201, resp.body
    return dict(body_of(resp))


def my_tasks(client: Any, name: str) -> list[dict[str, Any]]:
    resp = call(client, "GET", "/me/tasks", emp(name))
    assert resp.status_code == 200, resp.body
    return list(body_of(resp)["items"])


def progress(client: Any, task_id: str) -> dict[str, Any]:
    resp = call(client, "GET", f"/admin/tasks/{task_id}", ADMIN)
    assert resp.status_code == 200, resp.body
    return dict(body_of(resp))


def visit(client: Any, short_url: str, n: int, rp: str | None = None) -> str:
    path = urlsplit(short_url).path + (f"?rp={rp}" if rp else "")
    resp = client.http.get(path, headers={"User-Agent": UA.format(n=n)})
    assert resp.status_code == 302, resp.body
    return parse_qs(urlsplit(resp.headers["Location"]).query)["rp"][0]


def row(delivered: int, opened: int, shared: int, visits: int = 0, forwards: int = 0, leads: int = 0) -> dict[str, int]:
    return {
        "delivered": delivered,
        "opened": opened,
        "shared": shared,
        "unique_visits": visits,
        "forwards": forwards,
        "leads": leads,
    }


def test_task_for_a_team_from_inbox_to_shared(tenv: Any) -> None:
    from ripple import bootstrap
    from ripple.service.tasks import poster_url

    client, poller, _ = tenv
    ids = setup(client)
    cid = ids["campaign_id"]
    # bob's wechat link existed and was visited before the task: that visit must not count
    before = body_of(call(client, "POST", f"/campaigns/{cid}/links", emp("bob"), {"channel": "wechat"}))
    visit(client, before["short_url"], 90)
    poller.drain()

    created = create(client, task_body(cid))
    task_id = created["task_id"]
    assert created["audience_size"] == 3 and created["skipped"] == []
    assert created["state"] == "open" and created["channels"] == ["wechat", "line"]
    assert created["copies"] == [{"lang": c.get("lang"), "text": c["text"]} for c in COPIES]

    inbox = {name: my_tasks(client, name) for name in ("alice", "bob", "carol", "dave")}
    assert inbox["dave"] == []  # other team; erin (north, offboarded) is not in the audience of 3
    seen_copies = set()
    for name in ("alice", "bob", "carol"):
        (task,) = inbox[name]
        assert (task["task_id"], task["status"], task["title"]) == (task_id, "delivered", "Share the spring sale")
        assert task["materials"] == ["m1", "m2"] and task["outcomes"] == {"unique_visits": 0, "forwards": 0, "leads": 0}
        assert [link["channel"] for link in task["links"]] == ["wechat", "line"]
        for link in task["links"]:
            # the task's links are the employee's own personal links (asking again: same code)
            mine = call(client, "POST", f"/campaigns/{cid}/links", emp(name), {"channel": link["channel"]})
            assert mine.status_code == 200 and body_of(mine)["code"] == link["code"]
            assert link["short_url"].endswith("/" + link["code"])
        expected = [poster_url(bootstrap.services(), "acme", name, cid, c, "tpl1", "jpeg") for c in ("wechat", "line")]
        assert [p["channel"] for p in task["posters"]] == ["wechat", "line"]
        assert all(p["url"].endswith(e) for p, e in zip(task["posters"], expected, strict=True)), task["posters"]
        seen_copies.add(task["copy"]["text"])
    assert seen_copies == {c["text"] for c in COPIES}  # three neighbours, three different texts
    assert inbox["bob"][0]["links"][0]["code"] == before["code"]

    # opening marks "opened" once
    opened = body_of(call(client, "GET", f"/me/tasks/{task_id}", emp("alice")))
    assert opened["status"] == "opened" and opened["opened_at"]
    again = body_of(call(client, "GET", f"/me/tasks/{task_id}", emp("alice")))
    assert again["opened_at"] == opened["opened_at"]
    assert progress(client, task_id)["progress"]["total"] == row(3, 1, 0)

    # a visitor clicks alice's wechat link -> shared within one drain
    alice_link = inbox["alice"][0]["links"][0]["short_url"]
    token = visit(client, alice_link, 1)
    poller.drain()
    mine = {t["task_id"]: t for t in my_tasks(client, "alice")}[task_id]
    assert mine["status"] == "shared" and mine["shared_at"] and mine["outcomes"]["unique_visits"] == 1
    assert my_tasks(client, "bob")[0]["status"] == "delivered"
    assert my_tasks(client, "bob")[0]["outcomes"]["unique_visits"] == 0  # the pre-task visit

    # a second visitor and a forward through the first visitor's token; carol's line link too
    visit(client, alice_link, 2)
    visit(client, alice_link, 3, rp=token)
    visit(client, inbox["carol"][0]["links"][1]["short_url"], 4)
    poller.drain()
    report = progress(client, task_id)
    expected_progress = {
        "total": row(3, 1, 2, visits=4, forwards=1),
        "by_team": {"north": row(3, 1, 2, visits=4, forwards=1)},
        "by_region": {"east": row(2, 1, 1, visits=3, forwards=1), "west": row(1, 0, 1, visits=1)},
    }
    assert report["progress"] == expected_progress
    assert report["task"]["audience_size"] == 3 and report["proofs"] == []

    # redelivering the whole stream counts nothing twice
    poller.reset()
    poller.drain()
    assert progress(client, task_id)["progress"] == expected_progress
    alice = {t["task_id"]: t for t in my_tasks(client, "alice")}[task_id]
    assert alice["outcomes"] == {"unique_visits": 3, "forwards": 1, "leads": 0}

    # proof of posting, shown to admins
    resp = call(client, "POST", f"/me/tasks/{task_id}/proof", emp("carol"), {"url": "https://weibo.example/p/1"})
    assert resp.status_code == 201, resp.body
    (proof,) = progress(client, task_id)["proofs"]
    assert (proof["employee_id"], proof["url"]) == ("carol", "https://weibo.example/p/1")
    assert my_tasks(client, "carol")[0]["proof"]["url"] == "https://weibo.example/p/1"


def test_leads_count_and_each_task_of_a_campaign_counts_separately(tenv: Any) -> None:
    client, poller, _ = tenv
    cid = setup(client)["campaign_id"]
    first = create(client, task_body(cid, audience={"employees": ["dave"]}, channels=["x"]))
    second = create(client, task_body(cid, audience={"regions": ["west"]}, channels=["x"], copies=COPIES[:1]))
    assert (first["audience_size"], second["audience_size"]) == (1, 2)  # dave; carol and dave
    tasks = my_tasks(client, "dave")
    assert [t["task_id"] for t in tasks] == [second["task_id"], first["task_id"]]  # newest first
    token = visit(client, tasks[0]["links"][0]["short_url"], 7)
    resp = call(
        client,
        "POST",
        "/leads",
        {"User-Agent": UA.format(n=7)},
        {"token": token, "consent": True, "name": "Lin", "email": "lin@example.com", "consent_text": "I agree"},
    )
    assert resp.status_code == 201, resp.body
    poller.drain()
    for task in (first, second):
        total = progress(client, task["task_id"])["progress"]["total"]
        assert (total["shared"], total["unique_visits"], total["leads"]) == (1, 1, 1), task["task_id"]
    by_region = progress(client, second["task_id"])["progress"]["by_region"]
    assert by_region == {"west": row(2, 0, 1, visits=1, leads=1)}


def test_a_crash_after_the_ledger_write_heals_on_redelivery(tenv: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ripple import bootstrap

    client, poller, _ = tenv
    cid = setup(client)["campaign_id"]
    task = create(client, task_body(cid))
    link = my_tasks(client, "alice")[0]["links"][0]["short_url"]
    repo = bootstrap.services().tasks
    real_apply = repo.apply
    calls = {"n": 0}

    def crash_once(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated crash after the ledger transaction")
        return int(real_apply(*args, **kwargs))

    monkeypatch.setattr(repo, "apply", crash_once)
    visit(client, link, 1)
    poller.drain()  # first attempt: ledger written, task update crashes, batch retried
    assert calls["n"] >= 2
    assert progress(client, task["task_id"])["progress"]["total"] == row(3, 0, 1, visits=1)
    assert my_tasks(client, "alice")[0]["status"] == "shared"


def test_rotation_spreads_variants_evenly_over_a_larger_audience(tenv: Any) -> None:
    client, _, _ = tenv
    cid = setup(client)["campaign_id"]
    for i in range(9):
        call(client, "PUT", f"/admin/employees/s{i}", ADMIN, {"name": f"S{i}", "team": "sales", "region": "east"})
    task = create(client, task_body(cid, audience={"teams": ["sales"]}, channels=["wechat"]))
    assert task["audience_size"] == 9
    texts = [my_tasks(client, f"s{i}")[0]["copy"]["text"] for i in range(9)]
    assert sorted(texts.count(c["text"]) for c in COPIES) == [3, 3, 3]
    assert all(a != b for a, b in pairwise(texts))  # neighbours differ


def test_bad_input_is_rejected_and_writes_nothing(tenv: Any) -> None:
    client, _, aws = tenv
    ids = setup(client)
    cid = ids["campaign_id"]
    task = create(client, task_body(cid))
    task_id = task["task_id"]
    long_text = [{"text": "x" * 2001}]
    cases: list[tuple[dict[str, str], Any, int]] = [
        (ADMIN, task_body("cNOPE"), 404),
        (ADMIN, task_body(ids["other_campaign_id"]), 404),
        (ADMIN, task_body(cid, audience={"teams": ["nobody"]}), 422),
        (ADMIN, task_body(cid, audience={"employees": ["erin"]}), 422),  # offboarded: nobody left
        (ADMIN, task_body(cid, audience={"employees": ["ghost"]}), 422),
        (ADMIN, task_body(cid, audience={"teams": ["north"], "regions": ["east"]}), 422),
        (ADMIN, task_body(cid, audience={"all": False}), 422),
        (ADMIN, task_body(cid, audience={"everyone": True}), 422),
        (ADMIN, task_body(cid, deadline="2020-01-01T00:00:00Z"), 422),
        (ADMIN, task_body(cid, deadline="tomorrow"), 422),
        (ADMIN, task_body(cid, deadline="2030-01-01T00:00:00"), 422),  # no offset
        (ADMIN, task_body(cid, surprise=1), 422),
        (ADMIN, task_body(cid, copies=[]), 422),
        (ADMIN, task_body(cid, copies=long_text), 422),
        (ADMIN, task_body(cid, copies=[{"text": "hi", "tone": "fun"}]), 422),
        (ADMIN, task_body(cid, copies=[{"text": "hi", "lang": "not a tag"}]), 422),
        (ADMIN, task_body(cid, channels=["fax"]), 422),
        (ADMIN, task_body(cid, channels=[]), 422),
        (ADMIN, task_body(cid, channels=["x", "x"]), 422),
        (ADMIN, task_body(cid, materials=["../etc"]), 422),
        (ADMIN, task_body(cid, title=""), 422),
        (ADMIN, {k: v for k, v in task_body(cid).items() if k != "deadline"}, 422),
        (ADMIN, "{not json", 400),
        (emp("alice"), task_body(cid), 403),
        ({}, task_body(cid), 401),
    ]
    before = snapshot(aws)
    for headers, body, expected in cases:
        resp = call(client, "POST", "/admin/tasks", headers, body)
        assert resp.status_code == expected, (body, resp.body)
        assert body_of(resp)["error"]["message"]
    reads: list[tuple[str, str, dict[str, str], Any, int]] = [
        ("GET", f"/admin/tasks/{task_id}", emp("alice"), None, 403),
        ("GET", "/admin/tasks/tNOPE", ADMIN, None, 404),
        ("GET", f"/admin/tasks/{task_id}", auth("globex", "root", "admin"), None, 404),
        ("GET", "/me/tasks", ADMIN, None, 403),
        ("GET", "/me/tasks?page=2", emp("alice"), None, 422),
        ("GET", "/me/tasks?limit=0", emp("alice"), None, 422),
        ("GET", f"/me/tasks/{task_id}", emp("dave"), None, 404),  # not in the audience
        ("GET", f"/me/tasks/{task_id}", auth("globex", "alice", "employee"), None, 404),
        ("GET", f"/me/tasks/{task_id}", ADMIN, None, 403),
        ("POST", f"/me/tasks/{task_id}/proof", emp("alice"), {"url": "ftp://x.example/p"}, 422),
        (
            "POST",
            f"/me/tasks/{task_id}/proof",
            emp("alice"),
            {"url": "https://a.example", "screenshot_material_id": "m"},
            422,
        ),
        ("POST", f"/me/tasks/{task_id}/proof", emp("alice"), {}, 422),
        ("POST", f"/me/tasks/{task_id}/proof", emp("alice"), {"url": "https://a.example", "x": 1}, 422),
        ("POST", f"/me/tasks/{task_id}/proof", emp("alice"), {"screenshot_material_id": "../x"}, 422),
        ("POST", f"/me/tasks/{task_id}/proof", emp("dave"), {"url": "https://a.example"}, 404),
        ("POST", f"/me/tasks/{task_id}/proof", ADMIN, {"url": "https://a.example"}, 403),
        ("POST", "/me/tasks/tNOPE/proof", emp("alice"), {"screenshot_material_id": "m1"}, 404),
    ]
    for method, path, headers, body, expected in reads:
        resp = call(client, method, path, headers, body)
        assert resp.status_code == expected, (method, path, body, resp.body)
    assert snapshot(aws) == before
    # and a large copy payload (10 x 2000 CJK characters, > 16 KB) is accepted
    big = [{"lang": "zh-Hans", "text": "春" * 2000} for _ in range(10)]
    assert len(json.dumps(task_body(cid, copies=big), ensure_ascii=False).encode()) > 16 * 1024
    resp = call(client, "POST", "/admin/tasks", ADMIN, json.dumps(task_body(cid, copies=big), ensure_ascii=False))
    assert resp.status_code == 201, resp.body

"""Promotion tasks over real HTTP against the real local stack (`ripple dev --no-seed` in a
subprocess: moto server, Chalice's local server, the stream poller feeding the points
consumer). Admin distributes a task to a team; every member fetches it; a visit to one
member's link moves them to "shared" and shows in the admin's live progress."""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import auth
from tests.integration.conftest import RunningStack, wait_for

ROOT = Path(__file__).resolve().parents[2]
TENANT = "tasks-itest"
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36 v{n}"

pytestmark = pytest.mark.integration


class Stack:
    def __init__(self, base: str, proc: subprocess.Popen[str]) -> None:
        self.base = base
        self.proc = proc
        self.admin = auth(TENANT, "boss", "admin")

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
        resp = requests.request(method, self.base + path, headers=headers or self.admin, json=body, timeout=30)
        return resp.status_code, resp.json()


@pytest.fixture(scope="module")
def stack(local_stack: RunningStack) -> Stack:
    return Stack(local_stack.base, local_stack.proc)


def test_task_distribution_and_live_status_over_http(stack: Stack) -> None:
    people = {"amy": ("sales", "east"), "ben": ("sales", "west"), "cho": ("sales", "east"), "dev": ("ops", "east")}
    for emp, (team, region) in people.items():
        status, _ = stack.call("PUT", f"/admin/employees/{emp}", body={"name": emp, "team": team, "region": region})
        assert status == 200
    status, campaign = stack.call(
        "POST",
        "/admin/campaigns",
        body={"name": "Spring", "destination_url": "https://shop.example.com/p", "points": {"unique_visit": 10}},
    )
    assert status == 201
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    started = time.monotonic()
    status, task = stack.call(
        "POST",
        "/admin/tasks",
        body={
            "campaign_id": campaign["campaign_id"],
            "title": "Post the spring sale",
            "copies": [{"lang": "en", "text": "Spring sale!"}, {"lang": "zh-Hans", "text": "春季特卖"}],
            "poster_template_id": "tpl1",
            "channels": ["wechat", "weibo"],
            "audience": {"teams": ["sales"]},
            "deadline": deadline,
        },
    )
    distributed = time.monotonic() - started
    assert status == 201, task
    assert task["audience_size"] == 3
    task_id = task["task_id"]

    inbox: dict[str, dict[str, Any]] = {}
    for emp in people:
        status, body = stack.call("GET", "/me/tasks", auth(TENANT, emp, "employee"))
        assert status == 200, body
        if emp == "dev":
            assert body["items"] == []
            continue
        (mine,) = body["items"]
        assert mine["task_id"] == task_id and mine["status"] == "delivered"
        assert [link["channel"] for link in mine["links"]] == ["wechat", "weibo"]
        assert all(link["short_url"].startswith(stack.base + "/") for link in mine["links"])
        assert [p["channel"] for p in mine["posters"]] == ["wechat", "weibo"]
        assert all(f"/campaigns/{campaign['campaign_id']}/poster?" in p["url"] for p in mine["posters"])
        inbox[emp] = mine
    assert {m["copy"]["text"] for m in inbox.values()} == {"Spring sale!", "春季特卖"}

    # amy opens the task; a visitor opens amy's wechat link
    status, opened = stack.call("GET", f"/me/tasks/{task_id}", auth(TENANT, "amy", "employee"))
    assert status == 200 and opened["status"] == "opened"
    path = urlsplit(inbox["amy"]["links"][0]["short_url"]).path
    resp = requests.get(
        stack.base + path, headers={"User-Agent": BROWSER.format(n=1)}, allow_redirects=False, timeout=10
    )
    assert resp.status_code == 302

    def amy_status() -> str:
        return str(stack.call("GET", "/me/tasks", auth(TENANT, "amy", "employee"))[1]["items"][0]["status"])

    got, waited = wait_for(amy_status, "shared", timeout=20)
    assert got == "shared"

    status, report = stack.call("GET", f"/admin/tasks/{task_id}")
    assert status == 200
    zero = {"delivered": 0, "opened": 0, "shared": 0, "unique_visits": 0, "forwards": 0, "leads": 0}
    assert report["progress"]["total"] == {**zero, "delivered": 3, "opened": 1, "shared": 1, "unique_visits": 1}
    assert report["progress"]["by_team"] == {"sales": report["progress"]["total"]}
    assert report["progress"]["by_region"] == {
        "east": {**zero, "delivered": 2, "opened": 1, "shared": 1, "unique_visits": 1},
        "west": {**zero, "delivered": 1},
    }
    print(f"\ntask for 3 x 2 channels distributed in {distributed:.2f}s; visit -> 'shared' in {waited:.2f}s")

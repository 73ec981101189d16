"""Live pages by push over the real local stack (`ripple dev`: the WebSocket stand-in
infra/websocket.py invoking functions/live.py, the consumer pushing through boto3's
apigatewaymanagementapi client to its management port). Only sockets: a visit over HTTP
reaches the employee's and the admins' WebSockets, and no other tenant's."""

from __future__ import annotations

import json
import time

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import auth, token
from tests.integration.conftest import RunningStack

TENANT = "livetest"
OTHER = "liveother"
UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36 live{n}"


def _call(stack: RunningStack, method: str, path: str, headers: dict[str, str], body: object = None) -> object:
    resp = requests.request(method, stack.base + path, headers=headers, json=body, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp.json()


def test_a_visit_is_pushed_to_its_employee_and_admins_only(local_stack: RunningStack) -> None:
    admin = auth(TENANT, "boss", "admin")
    _call(local_stack, "PUT", "/admin/employees/alice", admin, {"name": "Alice", "team": "n", "region": "e"})
    campaign = _call(
        local_stack,
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Live", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 7}},
    )
    assert isinstance(campaign, dict)
    link = _call(
        local_stack,
        "POST",
        f"/campaigns/{campaign['campaign_id']}/links",
        auth(TENANT, "alice", "employee"),
        {"channel": "line"},
    )
    assert isinstance(link, dict)
    url = local_stack.live
    with (
        connect(f"{url}/?token={token(TENANT, 'alice', 'employee')}") as alice,
        connect(f"{url}/?token={token(TENANT, 'boss', 'admin')}") as boss,
        connect(f"{url}/?token={token(OTHER, 'root', 'admin')}") as other,
        connect(f"{url}/?token={token(OTHER, 'alice', 'employee')}") as namesake,  # same id, other tenant
    ):
        visited = time.monotonic()
        resp = requests.get(
            f"{local_stack.base}/{link['code']}",
            headers={"User-Agent": UA.format(n=1)},
            allow_redirects=False,
            timeout=10,
        )
        assert resp.status_code == 302
        frame = json.loads(alice.recv(timeout=15))
        latency = time.monotonic() - visited
        assert frame["type"] == "changed" and "balance" in frame["kinds"], frame
        assert "board" in json.loads(boss.recv(timeout=15))["kinds"]
        for sock in (other, namesake):
            with pytest.raises(TimeoutError):
                sock.recv(timeout=1)
        me = _call(local_stack, "GET", "/me", auth(TENANT, "alice", "employee"))
        assert isinstance(me, dict) and me["points"]["balance"] == 7
    print(f"visit -> employee socket: {latency:.3f} s")


def test_the_stand_in_refuses_bad_tokens_like_api_gateway(local_stack: RunningStack) -> None:
    for bad in ("", "garbage"):
        with pytest.raises(InvalidStatus) as info:
            connect(f"{local_stack.live}/?token={bad}")
        assert info.value.response.status_code == 401


def test_the_pages_are_allowed_to_reach_the_socket(local_stack: RunningStack) -> None:
    resp = requests.get(local_stack.base + "/m", timeout=10)
    assert f'<meta name="ripple-live" content="{local_stack.live}">' in resp.text
    assert local_stack.live in resp.headers["Content-Security-Policy"].split("connect-src", 1)[1].split(";")[0]

"""Live pages by push over moto in-process: the WebSocket connect handler (functions/live.py)
admits only valid tokens and subscribes each to the topic of its claims; the consumer's push
after commit reaches the right sockets through the local stand-in (infra/websocket.py, the
same boto3 management-API path as AWS) and never another tenant's; gone connections are
forgotten; the polled GET endpoints answer 304 to a matching If-None-Match."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from infra.lambda_context import LocalContext
from tests.conftest import token
from tests.functional.apihelpers import ADMIN, ALICE, PHONE_UA, body_of, call, seed


def _live() -> Any:
    import live

    return live


def _event(route: str, cid: str, **extra: Any) -> dict[str, Any]:
    return {"requestContext": {"routeKey": route, "connectionId": cid}, **extra}


def _connect(tok: str | None, cid: str = "c1", **query: str) -> dict[str, Any]:
    params = {**({"token": tok} if tok is not None else {}), **query}
    return dict(_live().handler(_event("$connect", cid, queryStringParameters=params or None), LocalContext()))


def _subscribers(topic: str) -> set[str]:
    from ripple.adapters.live import DynamoConnections

    return DynamoConnections().subscribers([topic]).get(topic, set())


def test_connect_subscribes_to_the_topic_of_the_verified_claims(env: Any) -> None:
    api, _ = env
    seed(api)
    # what the client asks for is ignored: the topic comes from the token only
    assert _connect(token("acme", "alice", "employee"), "c-alice", topic="T#globex")["statusCode"] == 200
    assert _connect(token("acme", "boss", "admin"), "c-boss")["statusCode"] == 200
    assert _subscribers("E#acme#alice") == {"c-alice"}
    assert _subscribers("T#acme") == {"c-boss"}
    assert _subscribers("T#globex") == set()
    # $disconnect forgets it (twice is harmless)
    for _ in range(2):
        assert _live().handler(_event("$disconnect", "c-alice"), LocalContext())["statusCode"] == 200
    assert _subscribers("E#acme#alice") == set()
    assert _subscribers("T#acme") == {"c-boss"}


@pytest.mark.parametrize(
    "tok",
    [
        None,
        "",
        "not-a-jwt",
        pytest.param("expired", id="expired"),
        pytest.param("other-client", id="another-app-client"),
        pytest.param("forged", id="forged-signature"),
    ],
)
def test_bad_tokens_are_refused_and_store_nothing(env: Any, tok: str | None) -> None:
    from infra.moto_tokens import id_token

    if tok == "expired":
        tok = id_token("acme", "alice", "employee", ttl=-60)
    elif tok == "other-client":
        tok = id_token("acme", "alice", "employee", client_id="someone-elses-app")
    elif tok == "forged":
        good = token("acme", "alice", "employee")
        head, payload, sig = good.split(".")
        tok = f"{head}.{payload}.{sig[:-4]}AAAA"
    answer = _connect(tok, "c-bad")
    assert answer["statusCode"] == 401, answer
    assert json.loads(answer["body"])["error"]["code"] == "unauthorized"
    assert _subscribers("E#acme#alice") == set()


def test_an_offboarded_employee_cannot_subscribe(env: Any) -> None:
    api, _ = env
    seed(api)
    resp = call(api, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})
    assert resp.status_code == 200, resp.body
    assert _connect(token("acme", "alice", "employee"), "c-gone")["statusCode"] == 401
    assert _subscribers("E#acme#alice") == set()


@pytest.fixture
def gateway(aws: Any) -> Iterator[Any]:
    """The WebSocket stand-in in this process, invoking functions/live.py; the consumer's
    publisher reaches its management API over HTTP (boto3's apigatewaymanagementapi)."""
    from infra.websocket import LiveGateway
    from ripple import bootstrap

    gw = LiveGateway(_live().handler)
    gw.start()
    os.environ["RIPPLE_LIVE_ENDPOINT"] = gw.endpoint
    bootstrap.reset()
    try:
        yield gw
    finally:
        os.environ.pop("RIPPLE_LIVE_ENDPOINT", None)
        bootstrap.reset()
        gw.stop()


def test_a_visit_is_pushed_to_its_employee_and_admins_and_no_other_tenant(env: Any, gateway: Any) -> None:
    api, poller = env
    ids = seed(api)
    with (
        ws_connect(f"{gateway.url}/?token={token('acme', 'alice', 'employee')}") as alice,
        ws_connect(f"{gateway.url}/?token={token('acme', 'bob', 'employee')}") as bob,
        ws_connect(f"{gateway.url}/?token={token('acme', 'boss', 'admin')}") as boss,
        ws_connect(f"{gateway.url}/?token={token('globex', 'root', 'admin')}") as globex,
    ):
        alice.send('{"action":"ping"}')
        assert json.loads(alice.recv(timeout=5)) == {"type": "pong"}
        resp = call(api, "GET", f"/{ids['code']}", {"User-Agent": PHONE_UA.format(n=1)})
        assert resp.status_code == 302
        poller.drain()
        mine = json.loads(alice.recv(timeout=5))
        assert mine["type"] == "changed"
        assert {"balance", "visit", "task"} <= set(mine["kinds"])
        admins = json.loads(boss.recv(timeout=5))
        assert {"board", "visit"} <= set(admins["kinds"])
        for other in (bob, globex):  # a colleague and another tenant hear nothing
            with pytest.raises(TimeoutError):
                other.recv(timeout=0.5)
        # the page then reads the real figures
        assert body_of(call(api, "GET", "/me", ALICE))["points"]["balance"] == 10


def test_gone_connections_are_forgotten(env: Any, gateway: Any) -> None:
    from ripple import bootstrap
    from ripple.service.live import publish_changes

    api, _ = env
    ids = seed(api)
    svc = bootstrap.services()
    # a connection the gateway no longer has (its $disconnect was lost)
    svc.live.connections.add("E#acme#alice", "stale=", svc.clock() // 1000 + 60)
    with ws_connect(f"{gateway.url}/?token={token('acme', 'alice', 'employee')}") as alice:
        assert len(_subscribers("E#acme#alice")) == 2
        from ripple.domain.model import Decision, Visit

        visit = Visit(
            visit_id="v1",
            tenant_id="acme",
            code=ids["code"],
            campaign_id=ids["campaign_id"],
            employee_id="alice",
            channel="wechat",
            visitor="x",
            ts=svc.clock(),
            decision=Decision.ELIGIBLE,
        )
        report = publish_changes(svc, [visit], [])
        # alice's open tab got it; the stale one is gone (the admins' topic has nobody)
        assert (report.topics, report.sent, report.gone) == (2, 1, {"stale="})
        assert json.loads(alice.recv(timeout=5))["type"] == "changed"
        assert len(_subscribers("E#acme#alice")) == 1
        assert "stale=" not in _subscribers("E#acme#alice")


def test_a_refused_handshake_is_a_401(aws: Any, gateway: Any) -> None:
    with pytest.raises(InvalidStatus) as info:
        ws_connect(f"{gateway.url}/?token=nonsense")
    assert info.value.response.status_code == 401


@pytest.mark.parametrize("path", ["/me", "/me/tasks?limit=50", "/leaderboards?dimension=employee&period=all"])
def test_polled_endpoints_answer_304_to_a_matching_etag(env: Any, path: str) -> None:
    api, poller = env
    ids = seed(api)
    first = call(api, "GET", path, ALICE)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    again = call(api, "GET", path, {**ALICE, "If-None-Match": tag})
    assert again.status_code == 304 and not again.body
    assert call(api, "GET", path, {**ALICE, "If-None-Match": '"other"'}).status_code == 200
    # a change makes a new ETag
    call(api, "GET", f"/{ids['code']}", {"User-Agent": PHONE_UA.format(n=2)})
    poller.drain()
    if path == "/me":
        changed = call(api, "GET", path, {**ALICE, "If-None-Match": tag})
        assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_a_push_that_fails_never_fails_the_batch(env: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A gateway that answers every push with a 500: the points are applied, the batch is
    neither failed nor retried, and the push was really tried."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ripple import bootstrap

    posts: list[str] = []

    class Broken(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(self.path)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api, poller = env
    ids = seed(api)
    os.environ["RIPPLE_LIVE_ENDPOINT"] = f"http://127.0.0.1:{server.server_address[1]}"
    bootstrap.reset()
    try:
        svc = bootstrap.services()
        svc.live.connections.add("E#acme#alice", "c1", svc.clock() // 1000 + 60)
        call(api, "GET", f"/{ids['code']}", {"User-Agent": PHONE_UA.format(n=3)})
        poller.drain()
        assert body_of(call(api, "GET", "/me", ALICE))["points"]["balance"] == 10
        assert posts and all(p.endswith("/c1") for p in posts)  # tried (and retried by botocore)
        assert poller.dead_lettered == 0
        assert not any("applying batch failed" in r.getMessage() for r in caplog.records)
        assert _subscribers("E#acme#alice") == {"c1"}  # a failure is not "gone"
    finally:
        os.environ.pop("RIPPLE_LIVE_ENDPOINT", None)
        bootstrap.reset()
        server.shutdown()
        server.server_close()

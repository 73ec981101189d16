"""Webhooks in-process: chalice test client -> moto -> outbox -> the dispatcher handler ->
a real HTTP receiver on 127.0.0.1 (http.server in a thread) that records what it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.test_customers import ADMIN, ALICE, call, lead, open_page, setup_campaign

MINUTE = 60_000


class Receiver:
    """Records every POST; answers 500 to the next ``fail`` requests, then 204."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(500)
                else:
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["headers"].get("Ripple-Event") == event_type]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def dispatch() -> dict[str, Any]:
    import webhooks

    from infra.lambda_context import LocalContext

    return webhooks.handler({"job": "deliver"}, LocalContext())  # type: ignore[no-any-return]


def shift_clock(ms: int) -> None:
    from ripple import bootstrap

    svc = bootstrap.services()
    real = svc.clock
    svc.clock = lambda: real() + ms


def configure(client: Any, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body = {"url": url, "events": events or ["lead.created", "customer.converted"], "active": True}
    status, endpoint = call(client, "PUT", "/admin/webhooks", ADMIN, body)
    assert status == 200, endpoint
    return endpoint  # type: ignore[no-any-return]


def submit_lead(client: Any) -> str:
    _, code = setup_campaign(client)
    _, token = open_page(client, f"/{code}", 1)
    status, receipt = lead(client, token, 1, name="Bai", phone="138 0013 8000")
    assert status == 201, receipt
    return receipt["lead_id"]  # type: ignore[no-any-return]


def test_lead_created_is_delivered_signed_once(env: Any, receiver: Receiver) -> None:
    from ripple.domain.webhooks import verify

    client, _ = env
    endpoint = configure(client, receiver.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    status, shown = call(client, "GET", "/admin/webhooks", ADMIN)
    assert status == 200 and shown["url"] == receiver.url and secret not in json.dumps(shown)

    lead_id = submit_lead(client)
    assert receiver.requests == []  # nothing is sent inline: the dispatcher delivers
    assert dispatch()["delivered"] == 1
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    headers, body = got["headers"], got["body"]
    assert got["path"] == "/hooks"
    assert headers["Ripple-Event"] == "lead.created" and headers["Ripple-Delivery"] == lead_id
    ts = int(headers["Ripple-Timestamp"])
    assert headers["Ripple-Signature"].startswith(f"t={ts},v1=")
    assert verify(secret, headers["Ripple-Signature"], body, now_s=ts)
    assert not verify("whsec_other", headers["Ripple-Signature"], body, now_s=ts)
    assert not verify(secret, headers["Ripple-Signature"], body + b" ", now_s=ts)
    event = json.loads(body)
    assert event["id"] == lead_id and event["type"] == "lead.created" and event["tenant_id"] == "acme"
    assert event["data"]["lead_id"] == lead_id and event["data"]["employee_id"] == "alice"

    # running the dispatcher again (and later) sends nothing twice
    assert dispatch()["due"] == 0
    shift_clock(24 * 60 * MINUTE)
    assert dispatch()["due"] == 0
    assert len(receiver.requests) == 1

    status, log = call(client, "GET", "/admin/webhooks/deliveries", ADMIN)
    assert status == 200
    assert [(d["event_id"], d["type"], d["attempt"], d["ok"], d["status_code"]) for d in log["items"]] == [
        (lead_id, "lead.created", 1, True, 204)
    ]
    assert log["items"][0]["next_retry_at"] is None and log["items"][0]["latency_ms"] >= 0


def test_a_500_is_retried_after_the_backoff_and_logged(env: Any, receiver: Receiver) -> None:
    from ripple.domain.webhooks import BACKOFF_MS

    client, _ = env
    configure(client, receiver.url)
    receiver.fail = 1
    lead_id = submit_lead(client)

    first = dispatch()
    assert (first["due"], first["retrying"], first["delivered"]) == (1, 1, 0)
    assert len(receiver.requests) == 1
    # not due yet: a minute less a second later nothing is sent
    shift_clock(BACKOFF_MS[0] - 1000)
    assert dispatch()["due"] == 0 and len(receiver.requests) == 1
    shift_clock(2000)
    assert dispatch()["delivered"] == 1
    assert len(receiver.requests) == 2
    assert {r["headers"]["Ripple-Delivery"] for r in receiver.requests} == {lead_id}  # receivers dedupe on it
    assert dispatch()["due"] == 0 and len(receiver.requests) == 2

    status, log = call(client, "GET", "/admin/webhooks/deliveries", ADMIN)
    assert status == 200
    rows = log["items"]  # newest first
    assert [(d["attempt"], d["ok"], d["status_code"]) for d in rows] == [(2, True, 204), (1, False, 500)]
    assert rows[1]["error"] == "HTTP 500"
    assert rows[1]["next_retry_at"] == rows[1]["at"] + BACKOFF_MS[0]
    # paging: one at a time, the cursor leads to the older attempt and then ends
    status, page1 = call(client, "GET", "/admin/webhooks/deliveries?limit=1", ADMIN)
    assert status == 200 and [d["attempt"] for d in page1["items"]] == [2] and page1["next_cursor"]
    status, page2 = call(client, "GET", f"/admin/webhooks/deliveries?limit=1&cursor={page1['next_cursor']}", ADMIN)
    assert status == 200 and [d["attempt"] for d in page2["items"]] == [1]


def test_retries_run_out_and_the_event_is_marked_failed(env: Any, receiver: Receiver) -> None:
    from ripple import bootstrap
    from ripple.adapters.webhooks import DynamoWebhooks
    from ripple.domain.webhooks import BACKOFF_MS, MAX_ATTEMPTS

    client, _ = env
    configure(client, receiver.url)
    receiver.fail = 100
    submit_lead(client)
    for wait in (0, *BACKOFF_MS):
        shift_clock(wait)
        dispatch()
    assert len(receiver.requests) == MAX_ATTEMPTS
    shift_clock(7 * 24 * 60 * MINUTE)
    assert dispatch()["due"] == 0 and len(receiver.requests) == MAX_ATTEMPTS
    [item] = DynamoWebhooks().outbox("acme")
    assert (item["state"], item["attempts"], item["queued"]) == ("failed", MAX_ATTEMPTS, False)
    assert bootstrap.services() is not None


def test_two_dispatchers_racing_send_each_attempt_once(env: Any, receiver: Receiver) -> None:
    import infra.moto_patches

    infra.moto_patches.apply()
    client, _ = env
    configure(client, receiver.url)
    submit_lead(client)
    barrier = threading.Barrier(4)
    results: list[dict[str, Any]] = []

    def run() -> None:
        barrier.wait()
        results.append(dispatch())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receiver.requests) == 1
    assert sum(r["delivered"] for r in results) == 1


def test_conversion_is_emitted_and_unsubscribed_events_are_not(env: Any, receiver: Receiver) -> None:
    from ripple.adapters.webhooks import DynamoWebhooks

    client, _ = env
    configure(client, receiver.url, events=["customer.converted"])
    submit_lead(client)  # not subscribed: no outbox item at all
    assert DynamoWebhooks().outbox("acme") == []
    status, customers = call(client, "GET", "/customers", ADMIN)
    assert status == 200
    customer_id = customers["items"][0]["customer_id"]
    status, won = call(client, "POST", f"/admin/customers/{customer_id}/convert", ADMIN, {"amount": 1200})
    assert status == 201, won
    assert dispatch()["delivered"] == 1
    [got] = receiver.requests
    assert got["headers"]["Ripple-Event"] == "customer.converted"
    data = json.loads(got["body"])["data"]
    assert data["customer_id"] == customer_id and data["deal"] == "1200.00 CNY" and data["credited_to"] == "alice"


def test_ping_is_sent_now_and_logged(env: Any, receiver: Receiver) -> None:
    client, _ = env
    assert call(client, "POST", "/admin/webhooks/test", ADMIN)[0] == 404  # nothing configured
    endpoint = configure(client, receiver.url)
    status, result = call(client, "POST", "/admin/webhooks/test", ADMIN)
    assert status == 200 and result["ok"] is True and result["type"] == "ping"
    [got] = receiver.requests
    assert got["headers"]["Ripple-Event"] == "ping"
    from ripple.domain.webhooks import verify

    assert verify(
        endpoint["secret"],
        got["headers"]["Ripple-Signature"],
        got["body"],
        now_s=int(got["headers"]["Ripple-Timestamp"]),
    )
    status, log = call(client, "GET", "/admin/webhooks/deliveries", ADMIN)
    assert [d["type"] for d in log["items"]] == ["ping"]


def test_secret_is_kept_on_update_and_rotated_on_request(env: Any, receiver: Receiver) -> None:
    client, _ = env
    first = configure(client, receiver.url)["secret"]
    status, again = call(
        client, "PUT", "/admin/webhooks", ADMIN, {"url": receiver.url, "events": ["lead.created"], "active": False}
    )
    assert status == 200 and first not in again["secret"] and again["secret"] == first[:10] + "…" + "*" * 8
    assert again["active"] is False and again["events"] == ["lead.created"]
    status, rotated = call(
        client,
        "PUT",
        "/admin/webhooks",
        ADMIN,
        {"url": receiver.url, "events": ["lead.created"], "rotate_secret": True},
    )
    assert status == 200 and rotated["secret"].startswith("whsec_") and rotated["secret"] != first
    # an inactive endpoint gets nothing; the receiver is only told with a fresh secret
    call(client, "PUT", "/admin/webhooks", ADMIN, {"url": receiver.url, "events": ["lead.created"], "active": False})
    submit_lead(client)
    assert dispatch()["due"] == 0 and receiver.requests == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": "http://hooks.example.com/x", "events": ["lead.created"]}, 422),
        ({"url": "ftp://hooks.example.com/x", "events": ["lead.created"]}, 422),
        ({"url": "https://hooks.example.com/x", "events": ["lead.deleted"]}, 422),
        ({"url": "https://hooks.example.com/x", "events": []}, 422),
        ({"url": "https://hooks.example.com/x", "events": ["lead.created"], "extra": 1}, 422),
        ({"url": "https://hooks.example.com/x", "events": ["lead.created"], "active": "yes"}, 422),
        ({"url": "https://user:pw@hooks.example.com/x", "events": ["lead.created"]}, 422),
        ({"events": ["lead.created"]}, 422),
        ("{not json", 400),
    ],
)
def test_bad_endpoint_config_is_refused_and_writes_nothing(env: Any, body: Any, status: int) -> None:
    client, _ = env
    got, error = call(client, "PUT", "/admin/webhooks", ADMIN, body)
    assert got == status, error
    assert "error" in error
    assert call(client, "GET", "/admin/webhooks", ADMIN)[0] == 404


def test_roles_and_tenants(env: Any, receiver: Receiver) -> None:
    client, _ = env
    body = {"url": receiver.url, "events": ["lead.created"]}
    assert call(client, "PUT", "/admin/webhooks", ALICE, body)[0] == 403
    assert call(client, "PUT", "/admin/webhooks", {}, body)[0] == 401
    assert call(client, "GET", "/admin/webhooks", ADMIN)[0] == 404  # nothing was written
    configure(client, receiver.url)
    for method, path in (
        ("GET", "/admin/webhooks"),
        ("POST", "/admin/webhooks/test"),
        ("GET", "/admin/webhooks/deliveries"),
    ):
        assert call(client, method, path, ALICE)[0] == 403, path
    other = auth("globex", "boss", "admin")
    assert call(client, "GET", "/admin/webhooks", other)[0] == 404  # another tenant sees nothing
    assert call(client, "GET", "/admin/webhooks/deliveries?limit=0", ADMIN)[0] == 422
    assert call(client, "GET", "/admin/webhooks/deliveries?cursor=garbage", ADMIN)[0] == 422
    assert call(client, "GET", "/admin/webhooks/deliveries?nope=1", ADMIN)[0] == 422
    assert receiver.requests == []


def test_redemption_and_settlement_are_delivered_by_the_same_dispatcher(env: Any, receiver: Receiver) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from ripple import bootstrap
    from ripple.service.settlement import settle
    from tests.functional.test_rewards import credit, employees, redeem, reward

    client, _ = env
    configure(client, receiver.url, events=["redemption.requested", "settlement.completed"])
    employees(client, "alice")
    credit("alice", 100)
    mug = reward(client, stock=5)
    dear = reward(client, stock=5, price=1_000)
    assert redeem(client, ALICE, dear["reward_id"], "k-0")[0] == 409  # cancelled transaction: no event either
    status, got = redeem(client, ALICE, mug["reward_id"], "k-1")
    assert status == 201, got
    assert redeem(client, ALICE, mug["reward_id"], "k-1")[0] == 200  # a replay emits nothing new
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"timezone": "Asia/Shanghai"})[0] == 200
    # Settle the tenant's yesterday, seen from a clock at least as late as the redemption's
    # enqueue time: a fixed date would leave the redemption "not yet due" once that date passes.
    after = bootstrap.services().clock()
    yesterday = (datetime.fromtimestamp(after / 1000, ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)).isoformat()
    bootstrap.services().clock = lambda: after
    summary = settle(bootstrap.services(), "acme", yesterday)
    counts = dispatch()
    assert (counts["delivered"], counts["due"]) == (2, 2)
    by_type = {r["headers"]["Ripple-Event"]: json.loads(r["body"]) for r in receiver.requests}
    assert set(by_type) == {"redemption.requested", "settlement.completed"}
    assert by_type["redemption.requested"]["id"] == got["redemption_id"]
    assert by_type["redemption.requested"]["data"]["reward_id"] == mug["reward_id"]
    assert by_type["settlement.completed"]["data"]["summary"] == summary
    assert dispatch()["due"] == 0 and len(receiver.requests) == 2


def test_outside_local_a_host_resolving_to_a_private_address_is_never_contacted(receiver: Receiver) -> None:
    from ripple.adapters.webhooks import http_post

    result = http_post(receiver.url, b"{}", {}, timeout=5, allow_private=False)
    assert (result.ok, result.status_code) == (False, None) and "refused" in (result.error or "")
    assert receiver.requests == []
    assert http_post(receiver.url, b"{}", {}, timeout=5, allow_private=True).status_code == 204


class _Resolver:
    """A DNS that answers ``rebind.test`` with ``first`` once and ``then`` afterwards: what
    a DNS-rebinding attacker's name server does. Everything else resolves as usual."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, first: str, then: str) -> None:
        import socket

        self.calls = 0
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host != "rebind.test":
                return real(host, port, *args, **kwargs)
            self.calls += 1
            address = first if self.calls == 1 else then
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_delivery_connects_to_the_address_it_resolved_once(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    """DNS rebinding: the second answer (127.0.0.2, where nothing listens) is never asked for;
    the request reaches the first answer, with the URL's own Host header."""
    from ripple.adapters.webhooks import http_post

    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    dns = _Resolver(monkeypatch, first="127.0.0.1", then="127.0.0.2")
    result = http_post(f"http://rebind.test:{port}/hooks", b"{}", {"X": "1"}, timeout=5, allow_private=True)
    assert result.status_code == 204, result.error
    assert dns.calls == 1
    assert receiver.requests[0]["headers"]["Host"] == f"rebind.test:{port}"


def test_outside_local_the_checked_public_address_is_the_one_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check passes on a public answer, then the name rebinds to loopback: the connection
    still goes to the public address (recorded here, never made: no traffic leaves the host)."""
    import socket

    from ripple.adapters.webhooks import http_post

    dns = _Resolver(monkeypatch, first="93.184.216.34", then="127.0.0.1")
    dialled: list[Any] = []

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        dialled.append(address)
        raise OSError("test: not dialling out")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    result = http_post("https://rebind.test/hooks", b"{}", {}, timeout=5, allow_private=False)
    assert dialled == [("93.184.216.34", 443)] and dns.calls == 1
    assert result.ok is False and "not dialling out" in (result.error or "")


LOOPBACK_SPELLINGS = [
    "https://127.1/hooks",
    "https://0x7f.0.0.1/hooks",
    "https://0177.0.0.1/hooks",
    "https://2130706433/hooks",
    "https://localhost./hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://[::ffff:7f00:1]/hooks",
    "https://[64:ff9b::a9fe:a9fe]/hooks",  # NAT64 form of the metadata address
]


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
def test_literal_spellings_of_loopback_are_refused_outside_local(url: str) -> None:
    from ripple.domain.errors import ValidationError
    from ripple.domain.webhooks import validate_endpoint

    with pytest.raises(ValidationError) as err:
        validate_endpoint({"url": url, "events": ["lead.created"]}, allow_private=False)
    assert err.value.details == {"field": "url"}


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS[:4])
def test_legacy_numeric_hosts_are_refused_everywhere_and_write_nothing(env: Any, url: str) -> None:
    """One address, many spellings: even the local stack (which may post to loopback) takes
    an IPv4 address only as four decimal numbers, so no check can be fooled by the form."""
    client, _ = env
    status, error = call(client, "PUT", "/admin/webhooks", ADMIN, {"url": url, "events": ["lead.created"]})
    assert status == 422, error
    assert "four decimal numbers" in error["error"]["message"]
    assert call(client, "GET", "/admin/webhooks", ADMIN)[0] == 404


def test_a_public_ipv6_literal_is_accepted() -> None:
    from ripple.domain.webhooks import validate_endpoint

    url = "https://[2606:4700:4700::1111]/hooks"
    assert validate_endpoint({"url": url, "events": ["lead.created"]}, allow_private=False)["url"] == url


def test_an_admin_retries_a_delivery_that_gave_up_once_and_it_is_delivered(env: Any, receiver: Receiver) -> None:
    """POST /admin/webhooks/redeliveries: only an event whose attempts ran out goes back in
    the outbox (due now, one more signed attempt, logged); a second retry meanwhile is a 409,
    a delivered event is a 409, a ping or an unknown event a clear error, and nothing changes."""
    from ripple.adapters.webhooks import DynamoWebhooks
    from ripple.domain.webhooks import BACKOFF_MS, MAX_ATTEMPTS

    client, _ = env
    configure(client, receiver.url)
    receiver.fail = MAX_ATTEMPTS
    lead_id = submit_lead(client)
    body = {"type": "lead.created", "event_id": lead_id}
    dispatch()
    # still retrying by itself: not the admin's to retry
    status, refused = call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, body)
    assert status == 409 and "pending" in refused["error"]["message"]
    for wait in BACKOFF_MS:
        shift_clock(wait)
        dispatch()
    [item] = DynamoWebhooks().outbox("acme")
    assert (item["state"], item["attempts"]) == ("failed", MAX_ATTEMPTS)
    log = call(client, "GET", "/admin/webhooks/deliveries", ADMIN)[1]
    assert log["items"][0]["next_retry_at"] is None and log["endpoint"]["url"] == receiver.url

    for bad, code in (
        ({"type": "lead.created"}, 422),
        ({"type": "lead.created", "event_id": "nope", "x": 1}, 422),
        ({"type": "ping", "event_id": lead_id}, 422),
        ({"type": "lead.nothing", "event_id": lead_id}, 422),
        ({"type": "lead.created", "event_id": "a b"}, 422),
        ({"type": "lead.created", "event_id": "no-such-event"}, 404),
        ({"type": "customer.converted", "event_id": lead_id}, 404),
    ):
        assert call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, bad)[0] == code, bad
    assert call(client, "POST", "/admin/webhooks/redeliveries", auth("acme", "alice", "employee"), body)[0] == 403
    assert DynamoWebhooks().outbox("acme")[0]["state"] == "failed"  # nothing changed

    status, queued = call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, body)
    assert status == 202 and queued["state"] == "pending"
    assert call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, body)[0] == 409  # once
    dispatch()
    deliveries = receiver.of_type("lead.created")
    assert len(deliveries) == MAX_ATTEMPTS + 1  # the receiver works again: one more attempt
    assert deliveries[-1]["headers"]["Ripple-Delivery"] == lead_id and deliveries[-1]["headers"]["Ripple-Signature"]
    [item] = DynamoWebhooks().outbox("acme")
    assert (item["state"], item["attempts"]) == ("delivered", MAX_ATTEMPTS + 1)
    newest = call(client, "GET", "/admin/webhooks/deliveries", ADMIN)[1]["items"][0]
    assert (newest["attempt"], newest["ok"]) == (MAX_ATTEMPTS + 1, True)
    status, refused = call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, body)
    assert status == 409 and "delivered" in refused["error"]["message"]

    # a paused endpoint: nothing would be delivered, so no retry is queued
    call(client, "PUT", "/admin/webhooks", ADMIN, {"url": receiver.url, "events": ["lead.created"], "active": False})
    assert call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, body)[0] == 409


def test_a_retry_that_fails_again_gives_up_at_once(env: Any, receiver: Receiver) -> None:
    from ripple.adapters.webhooks import DynamoWebhooks
    from ripple.domain.webhooks import BACKOFF_MS, MAX_ATTEMPTS

    client, _ = env
    configure(client, receiver.url)
    receiver.fail = 100
    lead_id = submit_lead(client)
    for wait in (0, *BACKOFF_MS):
        shift_clock(wait)
        dispatch()
    body = {"type": "lead.created", "event_id": lead_id}
    assert call(client, "POST", "/admin/webhooks/redeliveries", ADMIN, body)[0] == 202
    dispatch()
    [item] = DynamoWebhooks().outbox("acme")
    assert (item["state"], item["attempts"], item["queued"]) == ("failed", MAX_ATTEMPTS + 1, False)
    shift_clock(7 * 24 * 60 * MINUTE)
    assert dispatch()["due"] == 0 and len(receiver.requests) == MAX_ATTEMPTS + 1

"""The local server frames and answers HTTP like API Gateway, proven over raw sockets.

Each test writes bytes to the real ``ripple dev`` (tests/stack.py) and parses what comes
back by hand, so nothing (no client library) smooths over a framing bug: a body left on the
connection shows up as an extra response, a body on HEAD as bytes before the next status
line, a short backlog as a reset connection.
"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.conftest import RunningStack

SMUGGLED = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
CLOSE_PROBE = b"GET /no/such/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
SECRET = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLWZvci10ZXN0cw.s3cr3t-s1gnature"


def _addr(stack: RunningStack) -> tuple[str, int]:
    parts = urlsplit(stack.base)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def _exchange(stack: RunningStack, raw: bytes, timeout: float = 5.0) -> bytes:
    """Send ``raw`` on one connection and read until the server closes it."""
    with socket.create_connection(_addr(stack), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def _responses(data: bytes, heads: list[bool]) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a connection's bytes into responses; ``heads[i]``: response i answers a HEAD
    (headers only, whatever Content-Length says). Trailing bytes are a framing error."""
    out = []
    rest = data
    for is_head in heads:
        if not rest:
            break
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"incomplete response head: {head!r}"
        status_line, *lines = head.decode("latin-1").split("\r\n")
        assert status_line.startswith("HTTP/1.1 "), f"not a status line: {status_line!r} (after {out})"
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = 0 if is_head else int(headers.get("content-length", "0"))
        out.append((int(status_line.split()[1]), headers, rest[:length]))
        rest = rest[length:]
    assert rest == b"", f"bytes after the last expected response: {rest[:200]!r}"
    return out


def _request(method: str, path: str, body: bytes = b"", *, chunked: bool = False, extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}"
    if chunked:
        framed = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + framed
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("TRACE", "/admin/tenant", 405),
        ("PROPFIND", "/openapi.json", 405),
        ("DELETE", "/admin/tenant", 405),
        ("GET", "/no/such/path", 404),
        ("OPTIONS", "/no/such/path", 404),
        ("POST", "/leads", 400),
    ],
)
def test_a_body_on_any_method_is_consumed_never_parsed_as_the_next_request(
    local_stack: RunningStack, method: str, path: str, status: int, chunked: bool
) -> None:
    data = _exchange(local_stack, _request(method, path, SMUGGLED, chunked=chunked) + CLOSE_PROBE)
    (first, _, body), (second, _, _) = _responses(data, [False, False])
    assert first // 100 == 4 and (first == status or status == 400), body
    assert json.loads(body)["error"]
    assert second == 404  # the probe, answered in its turn: the connection stayed in sync
    assert b"openapi" not in data


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: 5\r\nTransfer-Encoding: chunked",
        "Content-Length: abc",
        "Content-Length: -1",
        "Content-Length: +5",
        "Content-Length: 5\r\nContent-Length: 6",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: identity",
    ],
)
def test_a_body_that_cannot_be_framed_is_a_400_and_closes_the_connection(
    local_stack: RunningStack, framing: str
) -> None:
    raw = f"TRACE /admin/tenant HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n".encode() + b"5\r\nhello\r\n0\r\n\r\n"
    data = _exchange(local_stack, raw + SMUGGLED)
    [(status, headers, body)] = _responses(data, [False])
    assert status == 400, body
    assert headers["connection"] == "close"
    assert json.loads(body)["error"]["code"] == "bad_request"


def test_a_body_above_the_api_gateway_limit_is_a_413_without_being_read(local_stack: RunningStack) -> None:
    raw = b"POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485761\r\n\r\n"
    data = _exchange(local_stack, raw + SMUGGLED)
    [(status, headers, body)] = _responses(data, [False])
    assert status == 413
    assert headers["connection"] == "close"
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_a_chunked_body_reaches_the_function_whole(local_stack: RunningStack) -> None:
    """Chunked framing is decoded, not refused: the function sees the JSON it was sent."""
    body = b'{"token": "not-a-token", "name": "X", "consent": true}'
    raw = (
        b"POST /leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:]))
        + b"0\r\n\r\n"
    )
    data = _exchange(local_stack, raw + CLOSE_PROBE)
    (status, _, answer), (probe, _, _) = _responses(data, [False, False])
    error = json.loads(answer)["error"]
    assert status in (400, 401, 403, 404, 422) and "json" not in error["message"].lower(), answer
    assert probe == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [("/no/such/path", 404), ("/admin/tenant", 405), ("/openapi.json", 405), ("/zzzzzzzz", 404), ("/console", 405)],
)
def test_head_responses_carry_no_body_errors_included(local_stack: RunningStack, path: str, status: int) -> None:
    raw = f"HEAD {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {SECRET}\r\n\r\n".encode() + CLOSE_PROBE
    data = _exchange(local_stack, raw)
    (head_status, headers, head_body), (probe, _, _) = _responses(data, [True, False])
    assert head_status == status
    assert head_body == b""
    assert headers["content-type"].startswith("application/json")
    assert probe == 404  # parsed right after HEAD's headers: not one body byte in between


def test_thirty_and_more_simultaneous_connections_are_all_served(local_stack: RunningStack) -> None:
    """All connect at once (before any is read), then all send: a backlog of 5 reset a
    third of them."""
    count = 64
    barrier = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def one(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with socket.create_connection(_addr(local_stack), timeout=30) as sock:
                barrier_all.wait(timeout=30)
                sock.sendall(CLOSE_PROBE)
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            answers[i] = _responses(data, [False])[0][0]
        except Exception as err:
            answers[i] = repr(err)

    barrier_all = threading.Barrier(count)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [404] * count


def _routes() -> dict[str, list[str]]:
    import app

    return {path: sorted(methods) for path, methods in app.app.routes.items()}


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "PROPFIND", "FROB"]


def test_every_path_and_method_no_route_has_is_a_json_error_echoing_nothing(local_stack: RunningStack) -> None:
    paths = {
        route.replace("{", "x").replace("}", ""): methods for route, methods in _routes().items()
    }  # /{code} -> /xcode
    paths.update({"/no/such/path": [], "/admin/nothing/here": [], "/a/b/c/d/e": []})
    seen = 0
    with requests.Session() as session:
        for path, methods in paths.items():
            for method in METHODS:
                if method in methods:
                    continue
                resp = session.request(method, local_stack.base + path, headers={"Authorization": SECRET}, timeout=10)
                seen += 1
                where = f"{method} {path}"
                assert resp.status_code in (404, 405), f"{where}: {resp.status_code} {resp.text[:200]}"
                assert resp.headers["Content-Type"].startswith("application/json"), where
                assert SECRET.split()[1][:20] not in resp.text and "Authorization" not in resp.text, where
                if method != "HEAD":
                    assert set(resp.json()["error"]) >= {"code", "message"}, where
                if resp.status_code == 405:
                    allow = set(resp.headers["Allow"].split(", "))
                    assert method not in allow and set(methods) <= allow, where
    assert seen > 400


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /x HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400),
        (b"GET /x HTTP/9.9\r\nHost: x\r\n\r\n", 505),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /x HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ],
    ids=["no-request-line", "extra-words", "http-9.9", "uri-too-long", "header-too-long"],
)
def test_malformed_requests_get_a_json_error_and_a_closed_connection(
    local_stack: RunningStack, raw: bytes, status: int
) -> None:
    data = _exchange(local_stack, raw + SMUGGLED)
    [(got, headers, body)] = _responses(data, [False])
    assert got == status, body
    assert headers["content-type"].startswith("application/json") and headers["connection"] == "close"
    assert json.loads(body)["error"]["code"]

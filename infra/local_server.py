"""Chalice's local server, made to frame and answer HTTP like API Gateway.

``chalice local`` (``chalice.local.LocalDevServer``) is a ``BaseHTTPRequestHandler`` that
reads a body only from ``Content-Length`` and only for the methods Chalice routes. A body on
any other method (``TRACE`` with a body), or a chunked body anywhere, stayed on the
keep-alive connection and was parsed as the next request: request smuggling (a ``TRACE``
whose body was ``GET /openapi.json`` served the document). It also wrote bodies on ``HEAD``
error responses, listened with the socketserver default backlog of 5 (10 of 30 simultaneous
connections were reset), answered paths no route has with API Gateway's SigV4 error text
echoing the caller's bearer token, and Python's HTML error pages for malformed requests.

Here, as on API Gateway:

* every request's body is framed before anything is routed: ``Content-Length`` (digits only,
  one value) or ``Transfer-Encoding: chunked`` (decoded), never both; a body is read whatever
  the method, so the next request starts where this one ends; whatever cannot be framed is
  a 400 (411, 413) and the connection is closed;
* bodies above API Gateway's 10 MB payload limit are refused with 413 without being read;
* ``HEAD`` responses carry headers only, errors included;
* a path no route has is a 404 and a method its route lacks a 405 (with ``Allow``), in the
  API's own JSON error shape; nothing the client sent is echoed;
* a threading server with a listen backlog of 128.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    ThreadedHTTPServer,
)

__all__ = ["MAX_BODY", "create_server"]

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
_DIGITS = re.compile(r"[0-9]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;[^\r\n]*)?\r?\n")
_NO_ROUTE = object()


class _Framing(Exception):
    """The request's body cannot be framed: answer ``status`` and close the connection."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _HeadAwareWriter:
    """The connection's writer: after the headers of a response to ``HEAD``, drops the body
    (whoever writes it: Chalice's handler, our errors, http.server's)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.drop = False

    def write(self, data: bytes) -> int:
        if self.drop:
            return len(data)
        return int(self._raw.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class Server(ThreadedHTTPServer):
    """One thread per connection (keep-alive browsers hold theirs) and a real backlog."""

    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True


class Handler(ChaliceRequestHandler):
    # API Gateway speaks no HTTP/0.9: a malformed request line is answered with a status line
    # and headers (http.server would send a bare body)
    default_request_version = "HTTP/1.1"
    _body: bytes | None = None
    _headers_sent = False
    wfile: Any

    # ------------------------------------------------------------ plumbing

    def setup(self) -> None:
        super().setup()
        self.wfile = _HeadAwareWriter(self.wfile)

    def end_headers(self) -> None:
        super().end_headers()
        self._headers_sent = True
        if self.command == "HEAD":
            self.wfile.drop = True

    def _send_json(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (malformed request line, header too long, ...) as JSON;
        the connection is closed, as after any request that could not be parsed."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        reason = self.responses.get(code, ("error", ""))[0]
        self._send_json(code, re.sub(r"[^a-z]+", "_", reason.lower()).strip("_"), reason, {"Connection": "close"})

    # ------------------------------------------------------------ framing

    def parse_request(self) -> bool:
        self.wfile.drop = False
        self._headers_sent = False
        self._body = None
        if not super().parse_request():
            return False
        try:
            self._body = self._read_body()
        except _Framing as err:
            self.close_connection = True
            self._send_json(err.status, err.code, err.message, {"Connection": "close"})
            return False
        return True

    def _read_body(self) -> bytes | None:
        lengths = self.headers.get_all("Content-Length") or []
        encodings = self.headers.get_all("Transfer-Encoding") or []
        if lengths and encodings:
            raise _Framing(400, "bad_request", "Content-Length and Transfer-Encoding together")
        if encodings:
            if [e.strip().lower() for e in ",".join(encodings).split(",")] != ["chunked"]:
                raise _Framing(400, "bad_request", "only Transfer-Encoding: chunked is supported")
            return self._read_chunked()
        if not lengths:
            return None
        if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0].strip()):
            raise _Framing(400, "bad_request", "invalid Content-Length")
        length = int(lengths[0])
        if length > MAX_BODY:
            raise _Framing(413, "payload_too_large", f"request body above {MAX_BODY} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _Framing(400, "bad_request", "request body shorter than its Content-Length")
        return body or None

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            match = _CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise _Framing(400, "bad_request", "malformed chunked body")
            size = int(match.group(1), 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise _Framing(413, "payload_too_large", f"request body above {MAX_BODY} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _Framing(400, "bad_request", "malformed chunked body")
            parts.append(chunk)
        for _ in range(100):  # trailer fields, up to the empty line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise _Framing(400, "bad_request", "malformed chunked body")
        else:
            raise _Framing(400, "bad_request", "too many trailer fields")
        # the function sees a body of known length, as behind API Gateway
        del self.headers["Transfer-Encoding"]
        self.headers["Content-Length"] = str(total)
        return b"".join(parts)

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        return dict(self.headers), self._body

    # ------------------------------------------------------------ routing

    def _route_methods(self) -> Any:
        """The methods of the route this path matches, or ``_NO_ROUTE``."""
        try:
            match = self.local_gateway.event_converter._route_matcher.match_route(self.path)
        except ValueError:
            return _NO_ROUTE
        return self.local_gateway._app_object.routes[match.route]

    def _generic_handle(self) -> None:
        methods = self._route_methods()
        if methods is _NO_ROUTE:
            self._send_json(404, "not_found", "no such resource")
            return
        if self.command not in methods and self.command != "OPTIONS":  # OPTIONS: CORS preflight
            allow = ", ".join(sorted({*methods, "OPTIONS"}))
            self._send_json(405, "method_not_allowed", f"method {self.command} is not allowed here", {"Allow": allow})
            return
        try:
            super()._generic_handle()
        except ConnectionError:  # the client hung up: nobody to answer
            self.close_connection = True
        except Exception:
            self.log_error("unhandled error serving %s %s", self.command, self.path)
            self.close_connection = True
            if not self._headers_sent:
                self._send_json(500, "internal", "internal error", {"Connection": "close"})

    def _send_error_response(self, error: LocalGatewayException) -> None:
        """Errors of Chalice's gateway emulation (authorizers), in the API's JSON shape; never
        the caller's Authorization header echoed back."""
        status = int(error.CODE)
        self._send_json(status, "forbidden" if status == 403 else "unauthorized", "not authorized")

    # the base class bound these names to its own _generic_handle
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        # http.server dispatches on ``do_<METHOD>``: any other method (TRACE, CONNECT,
        # PROPFIND, anything) is routed like the rest, to a 405 or 404, never a 501 page
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


def create_server(app: Any, config: Any, host: str, port: int) -> LocalDevServer:
    """What ``chalice.local.create_local_server`` builds, with the handler and server above."""
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=Handler, server_cls=Server)

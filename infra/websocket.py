"""Local stand-in for the live pages' API Gateway WebSocket API (``LiveApi`` in template.yaml).

Two listeners, like the real thing:

* the WebSocket endpoint pages connect to (``ws://127.0.0.1:<port>/?token=…``): each
  connect, message and close is handed to the *same* handler as on AWS
  (``functions/live.py``, named by ``LiveFunction`` in the template) as an API-Gateway-shaped
  event; a ``$connect`` answer other than 200 refuses the handshake with that status, and a
  route's answer body is sent back (API Gateway's route responses);
* the management API (``POST|GET|DELETE /@connections/{id}``, HTTP) that boto3's
  ``apigatewaymanagementapi`` client reaches through ``RIPPLE_LIVE_ENDPOINT``: an unknown
  connection is a 410 ``GoneException``, exactly what API Gateway answers.

So the consumer's publisher and the connect handler run unchanged here and on AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from infra.lambda_context import LocalContext

__all__ = ["LiveGateway"]

log = logging.getLogger("ripple.websocket")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
ROUTES = ("ping",)  # the template's routes besides $connect, $disconnect and $default


def _new_connection_id() -> str:
    """API Gateway's ids look like ``LjLeNcXboAMCJ1Q=``: 10 random bytes, base64."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


class LiveGateway:
    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0, management_port: int = 0) -> None:
        self.handler = handler
        self.host = host
        self._port = port
        self._management_port = management_port
        self._sockets: dict[str, ServerConnection] = {}
        self._ids: dict[int, str] = {}  # id(ServerConnection) -> connection id
        self._connected_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._ws: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self.frames_pushed = 0  # what the management API delivered (bench and tests read it)

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """Where pages connect (``RIPPLE_LIVE_URL``)."""
        assert self._ws is not None
        return f"ws://{self.host}:{self._ws.socket.getsockname()[1]}"

    @property
    def endpoint(self) -> str:
        """The management API (``RIPPLE_LIVE_ENDPOINT``)."""
        assert self._http is not None
        return f"http://{self.host}:{self._http.server_address[1]}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._ws = serve(
            self._session,
            self.host,
            self._port,
            process_request=self._connect,
            server_header=None,
            compression=None,
            ping_interval=None,  # API Gateway sends no pings either; its idle timeout is 10 min
        )
        threading.Thread(target=self._ws.serve_forever, name="live-ws", daemon=True).start()
        gateway = self

        class _Management(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet, like the API's own log level
                pass

            def _answer(self, status: int, body: dict[str, Any] | None = None, error: str = "") -> None:
                data = json.dumps(body or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _connection(self) -> str | None:
                path = unquote(urlsplit(self.path).path)
                prefix = "/@connections/"
                return path[len(prefix) :] if path.startswith(prefix) else None

            def do_POST(self) -> None:
                cid = self._connection()
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if cid is None:
                    return self._answer(404, {"message": "Not Found"}, "NotFoundException")
                if not gateway.push(cid, data):
                    return self._answer(410, {"message": ""}, "GoneException")
                self._answer(200)

            def do_GET(self) -> None:
                cid = self._connection()
                at = gateway._connected_at.get(cid or "")
                if at is None:
                    return self._answer(410, {"message": ""}, "GoneException")
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(at))
                self._answer(200, {"connectedAt": stamp, "lastActiveAt": stamp, "identity": {"sourceIp": "127.0.0.1"}})

            def do_DELETE(self) -> None:
                cid = self._connection()
                sock = gateway._sockets.get(cid or "")
                if sock is None:
                    return self._answer(410, {"message": ""}, "GoneException")
                sock.close()
                self._answer(204)

        self._http = ThreadingHTTPServer((self.host, self._management_port), _Management)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, name="live-management", daemon=True).start()

    def stop(self) -> None:
        if self._ws is not None:
            self._ws.shutdown()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    # ------------------------------------------------------------------ the WebSocket side

    def _event(self, route: str, event_type: str, cid: str, **extra: Any) -> dict[str, Any]:
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "connectionId": cid,
                "domainName": self.host,
                "stage": "local",
                "apiId": "local",
                "requestTimeEpoch": int(time.time() * 1000),
            },
            "isBase64Encoded": False,
            **extra,
        }

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.handler(event, LocalContext(function_name="LiveFunction", timeout_s=30))
        except Exception:  # what API Gateway does when the integration fails: a 500
            log.exception("live handler failed")
            return {"statusCode": 500, "body": '{"message":"Internal server error"}'}

    def _connect(self, connection: ServerConnection, request: Request) -> Response | None:
        cid = _new_connection_id()
        query = parse_qs(urlsplit(request.path).query)
        params = {k: v[-1] for k, v in query.items()} or None
        answer = self._invoke(
            self._event(
                "$connect", "CONNECT", cid, queryStringParameters=params, headers=dict(request.headers.raw_items())
            )
        )
        status = int(answer.get("statusCode") or 200)
        if status != 200:
            return connection.respond(HTTPStatus(status), str(answer.get("body") or ""))
        with self._lock:
            self._ids[id(connection)] = cid
            self._sockets[cid] = connection
            self._connected_at[cid] = time.time()
        return None

    def _session(self, connection: ServerConnection) -> None:
        cid = self._ids[id(connection)]
        try:
            for frame in connection:
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                try:
                    action = json.loads(text).get("action")
                except (ValueError, AttributeError):
                    action = None
                route = action if action in ROUTES else "$default"
                answer = self._invoke(self._event(route, "MESSAGE", cid, body=text))
                if answer.get("body"):
                    connection.send(str(answer["body"]))
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._sockets.pop(cid, None)
                self._ids.pop(id(connection), None)
                self._connected_at.pop(cid, None)
            self._invoke(self._event("$disconnect", "DISCONNECT", cid))

    def push(self, cid: str, data: bytes) -> bool:
        """Deliver one frame (a text frame when it is UTF-8, as API Gateway does)."""
        sock = self._sockets.get(cid)
        if sock is None:
            return False
        try:
            sock.send(data.decode("utf-8"))
        except UnicodeDecodeError:
            sock.send(data)
        except ConnectionClosed:
            return False
        with self._lock:
            self.frames_pushed += 1
        return True

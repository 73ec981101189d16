"""The dev mailbox page: every message the local stack "sent" (SES notifications and
Cognito's invitations and codes), newest first, with clickable links and the HTML part in a
sandboxed frame. ``ripple dev`` prints its URL; ``/messages.json`` is the same list for
scripts and tests. Reads the stack's ``mailbox.jsonl`` on every request (no state here).
"""

from __future__ import annotations

import html
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["MailboxPage", "read_mailbox"]

_URL = re.compile(r"https?://[^\s<>\"']+")


def read_mailbox(path: Path) -> list[dict[str, Any]]:
    """Every message of the file, oldest first (a torn last line is skipped)."""
    out: list[dict[str, Any]] = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _linked(text: str) -> str:
    """Escaped text with its URLs as links (what a mail client does)."""
    parts: list[str] = []
    last = 0
    for m in _URL.finditer(text):
        parts.append(html.escape(text[last : m.start()]))
        url = html.escape(m.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        last = m.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _page(messages: list[dict[str, Any]], to: str) -> str:
    rows = []
    for i, msg in reversed(list(enumerate(messages))):
        if to and msg.get("to") != to:
            continue
        when = datetime.fromtimestamp(int(msg.get("ts", 0)) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        body = msg.get("text") or msg.get("body") or ""
        frame = ""
        if msg.get("html"):
            frame = (
                f'<details><summary>HTML</summary><iframe title="HTML part of message {i}" sandbox '
                f'srcdoc="{html.escape(str(msg["html"]))}"></iframe></details>'
            )
        headers = msg.get("headers") or {}
        unsubscribe = headers.get("List-Unsubscribe", "")
        to, kind = html.escape(str(msg.get("to", ""))), html.escape(str(msg.get("kind", "")))
        rows.append(
            f'<article class="msg" data-kind="{kind}" data-to="{to}">'
            f"<h2>{html.escape(str(msg.get('subject', '')))}</h2>"
            f'<p class="meta">To {to} · {when} · {kind}'
            + (f" · List-Unsubscribe: {_linked(unsubscribe.strip('<>'))}" if unsubscribe else "")
            + f'</p><pre class="text">{_linked(str(body))}</pre>{frame}</article>'
        )
    listing = "".join(rows) or "<p>No messages yet.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ripple dev mailbox</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><style>'
        "body{font-family:system-ui,sans-serif;color:#111827;max-width:52rem;margin:1rem auto;padding:0 1rem}"
        ".msg{border:1px solid #d1d5db;border-radius:8px;padding:0 1rem;margin:1rem 0}"
        ".meta{color:#4b5563;font-size:.9rem}pre{white-space:pre-wrap;word-break:break-word}"
        "iframe{width:100%;height:24rem;border:1px solid #d1d5db}a{color:#1d4ed8}"
        f"</style></head><body><main><h1>Dev mailbox</h1><p>{len(messages)} message(s). "
        '<a href="?">All</a></p>' + listing + "</main></body></html>"
    )


class MailboxPage:
    def __init__(self, path: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.path = path
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                messages = read_mailbox(page.path)
                if parts.path == "/messages.json":
                    self._send(200, "application/json", json.dumps(messages, ensure_ascii=False).encode())
                elif parts.path == "/":
                    body = _page(messages, (query.get("to") or [""])[0]).encode()
                    self._send(200, "text/html; charset=utf-8", body)
                else:
                    self._send(404, "application/json", b'{"error":"not_found"}')

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self._host = host
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mailbox-page", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

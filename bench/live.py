"""Benchmark 15: live pages by push (issue 13), over the real local stack.

One ``ripple dev --no-seed`` in a subprocess (moto server, the Chalice API, the stream
poller feeding the points consumer, the WebSocket stand-in ``infra/websocket.py``), nothing
in-process:

* **push latency**: an employee's WebSocket is open; a visit to their link over HTTP; the
  time until the consumer's push arrives on the socket (p50 and worst of N visits);
* **API requests per open page per minute at idle**: ``/m`` and ``/console`` in headless
  Chromium (Debian's, as tests/e2e), signed in, WebSocket up, then 10 minutes on the page's
  clock (Playwright's fake timers, so the bench takes seconds): every request the API's
  request log shows counted. The same with the socket unavailable (the fallback poll, 60 s,
  conditional GETs, their 304s counted too) is INFO, as is
  what 2-second polling cost before (the old pages, from their intervals).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Row
from bench.world import Sizes

__all__ = ["run"]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
TENANT = "livebench"
UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36 lb{n}"
IDLE_MINUTES = 10


class _Stack:
    def __init__(self) -> None:
        from infra.moto_server import free_port

        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ripple-live-bench-"))
        self.state = self.dir / "stack.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
        env["RIPPLE_STACK_STATE"] = str(self.state)
        env["PYTHONUNBUFFERED"] = "1"  # the request log is read back (304s, see not_modified)
        self.log = (self.dir / "stack.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ripple.cli", "dev", "--no-seed", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        import requests

        deadline = time.monotonic() + 120
        while not self.state.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("ripple dev did not start: " + (self.dir / "stack.log").read_text()[-2000:])
            time.sleep(0.2)
        requests.get(self.base + "/", timeout=10)
        info = json.loads(self.state.read_text())
        self.live: str = info["live"]
        self.pool: dict[str, str] = info["pool"]

    def token(self, sub: str, role: str) -> str:
        from infra.moto_tokens import id_token

        return id_token(
            TENANT, sub, role, pool_id=self.pool["user_pool_id"], client_id=self.pool["client_id"], ttl=12 * 3600
        )

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        import requests

        resp = requests.request(
            method, self.base + path, headers={"Authorization": f"Bearer {token}"}, json=body, timeout=10
        )
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {path} -> {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def served(self) -> tuple[int, int]:
        """(requests, 304s) the API has answered so far, from its request log (Chromium hands a
        revalidated answer to the page, and to Playwright, as the cached 200)."""
        lines = [
            line
            for line in (self.dir / "stack.log").read_text(errors="replace").splitlines()
            if 'HTTP/1.1" ' in line and "/assets/" not in line
        ]
        return len(lines), sum('" 304 ' in line for line in lines)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _latencies(stack: _Stack, code: str, visits: int) -> list[float]:
    import requests
    from websockets.sync.client import connect

    out = []
    with connect(f"{stack.live}/?token={stack.token('alice', 'employee')}") as sock:
        for n in range(-1, visits):  # n = -1: a warm-up visit (the stack's first batch imports the consumer's modules)
            t0 = time.perf_counter()
            resp = requests.get(
                f"{stack.base}/{code}", headers={"User-Agent": UA.format(n=n)}, allow_redirects=False, timeout=10
            )
            assert resp.status_code == 302, resp.status_code
            frame = json.loads(sock.recv(timeout=30))
            if n >= 0:
                out.append(time.perf_counter() - t0)
            assert frame["type"] == "changed", frame
            time.sleep(0.3)  # one visit per consumer batch, as a page sees them
            while True:  # the admins' topic is another socket; nothing else is queued here
                try:
                    sock.recv(timeout=0.05)
                except TimeoutError:
                    break
    return out


def _idle_requests(stack: _Stack, page_name: str, role: str, *, live: bool) -> tuple[float, float]:
    """API requests per minute of one signed-in, idle page (fake timers, 10 minutes)."""
    from playwright.sync_api import sync_playwright

    sub = "boss" if role == "admin" else "alice"
    token = stack.token(sub, role)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            ctx = browser.new_context()
            ctx.add_init_script(f"sessionStorage.setItem('ripple.token.{page_name}', {json.dumps(token)})")
            page = ctx.new_page()
            if not live:
                # the WebSocket API unreachable: every connect fails at once (the page keeps
                # retrying with backoff). Not page.route: routing disables Chromium's HTTP
                # cache, and with it the revalidation (304s) being measured.
                ctx.add_init_script(
                    "window.WebSocket = class { constructor() { setTimeout(() => this.onclose && this.onclose(), 0); }"
                    " send() {} close() {} };"
                )
            page.clock.install()
            page.goto(f"{stack.base}/{page_name}")
            page.locator("#app").wait_for(state="visible")
            if live:
                page.wait_for_function("() => document.body.dataset.live === 'up'", timeout=15_000)
            page.wait_for_load_state("networkidle")
            page.clock.run_for(5_000)  # whatever the first render chains
            time.sleep(2.0)  # real time for the answers (the fake clock only drives timers)
            before, before_304 = stack.served()
            for _ in range(IDLE_MINUTES):
                page.clock.run_for(60_000)
                time.sleep(0.5)
            time.sleep(1.5)
            after, after_304 = stack.served()
            return (after - before) / IDLE_MINUTES, (after_304 - before_304) / IDLE_MINUTES
        finally:
            browser.close()


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    visits = 5 if sizes.visits < 1000 else 20
    stack = _Stack()
    rows: list[Row] = []
    notes: list[str] = []
    try:
        admin = stack.token("boss", "admin")
        stack.call("PUT", "/admin/employees/alice", admin, {"name": "Alice", "team": "t", "region": "r"})
        campaign = stack.call(
            "POST",
            "/admin/campaigns",
            admin,
            {"name": "Live bench", "destination_url": "https://example.com/", "points": {"unique_visit": 1}},
        )
        link = stack.call(
            "POST", f"/campaigns/{campaign['campaign_id']}/links", stack.token("alice", "employee"), {"channel": "line"}
        )
        lat = _latencies(stack, link["code"], visits)
        p50, worst = statistics.median(lat), max(lat)
        rows.append(Row("15. push latency visit -> page socket, p50", f"{p50:.2f} s", "<= 2 s", p50 <= 2.0))
        rows.append(Row(f"15. push latency, worst of {visits}", f"{worst:.2f} s", "<= 2 s", worst <= 2.0))
        if not CHROMIUM.exists():
            notes.append("15: no Chromium at /usr/bin/chromium (`make browser`): idle requests not measured")
            return rows, notes
        for page_name, role in (("m", "employee"), ("console", "admin")):
            idle, _ = _idle_requests(stack, page_name, role, live=True)
            rows.append(Row(f"15. API requests/min, idle /{page_name}, socket up", f"{idle:.2f}", "<= 1", idle <= 1.0))
            fallback, unchanged = _idle_requests(stack, page_name, role, live=False)
            rows.append(
                Row(
                    f"15. API requests/min, idle /{page_name}, polling fallback",
                    f"{fallback:.2f} ({unchanged:.2f} 304)",
                )
            )
        notes.append(
            "15: before push, an idle /m polled /me every 2 s and its tasks every 5 s (42 requests/min), "
            "the console's dashboard its 4 analytics calls every 5 s (48/min); the fallback polls every "
            "60 s with conditional GETs (ETag -> 304, no body)"
        )
    finally:
        stack.stop()
    return rows, notes

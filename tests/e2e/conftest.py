"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the local stack.

`make test` installs Chromium (`make browser`); Playwright's own browser download is never
used. Screenshots go to test-artifacts/e2e/."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.stack import ROOT, RunningStack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (make test does it first)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """Console errors and failed requests of the pages it watches."""

    problems: list[str] = field(default_factory=list)
    pages: dict[str, Any] = field(default_factory=dict)
    leaving: list[Any] = field(default_factory=list)

    def page(self, page: Any, name: str) -> Any:
        self.pages[name] = page
        page.on(
            "console",
            lambda m: self.problems.append(f"{name} console.{m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.problems.append(f"{name} page error: {e}"))
        page.on("requestfailed", lambda r: self._failed(page, name, r))
        page.on(
            "response",
            lambda r: (
                self.problems.append(f"{name} HTTP {r.status}: {r.request.method} {r.url}") if r.status >= 400 else None
            ),
        )
        return page

    def _failed(self, page: Any, name: str, request: Any) -> None:
        # Requests in flight when the test itself reloads or closes a page are cancelled
        # (ERR_ABORTED); that is the test's doing, every other failure is a problem.
        if not (page in self.leaving and "ERR_ABORTED" in str(request.failure)):
            self.problems.append(f"{name} request failed: {request.method} {request.url} {request.failure}")

    def reload(self, page: Any) -> None:
        self.leaving.append(page)
        page.reload()
        page.wait_for_load_state("networkidle")
        self.leaving.remove(page)

    def close(self, *contexts: Any) -> None:
        for ctx in contexts:
            self.leaving.extend(ctx.pages)
            ctx.close()

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


@dataclass(frozen=True)
class Tenant:
    """A fresh tenant on the running stack, with tokens and a small API client for setup."""

    stack: RunningStack
    tenant_id: str

    @property
    def base(self) -> str:
        return self.stack.base

    def email(self, sub: str) -> str:
        return f"{sub}@{self.tenant_id}.example.test"

    def invite(self, sub: str, role: str) -> str:
        """Give ``sub`` a Cognito sign-in (as an admin adding their e-mail would) and return the
        temporary password Cognito's invitation carried (the stack's mailbox)."""
        from infra.moto_tokens import id_token

        pool = self.stack.pool
        ids = {"pool_id": pool["user_pool_id"], "client_id": pool["client_id"]}
        before = int(time.time() * 1000)
        if role == "admin":
            # the tests' admins manage the tenant without being one of its staff (no employee
            # record, so audiences and boards stay as the tests count them): their Cognito user
            # is made as an operator would, with the immutable attributes and the admin group
            self._operator_admin(sub)
        else:
            setup = id_token(self.tenant_id, "e2e-setup", "admin", **ids)
            listed = {e["employee_id"]: e for e in self.call("GET", "/admin/employees", setup)["items"]}
            current = listed.get(sub) or {"name": sub, "team": "team", "region": "region"}
            body = {k: current[k] for k in ("name", "team", "region")} | {"email": self.email(sub), "role": role}
            self.call("PUT", f"/admin/employees/{sub}", setup, body)
        for line in reversed(self.stack.mailbox.read_text(encoding="utf-8").splitlines()):
            msg = json.loads(line)
            if msg["to"] == self.email(sub) and msg["kind"] == "invitation" and msg["ts"] >= before:
                return str(msg["code"])
        raise AssertionError(f"no invitation for {self.email(sub)}")

    def _operator_admin(self, sub: str) -> None:
        import boto3

        moto = json.loads(self.stack.state_file.read_text())["moto"]
        cognito = boto3.client(
            "cognito-idp", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        pool_id = self.stack.pool["user_pool_id"]
        user = cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=self.email(sub),
            UserAttributes=[
                {"Name": "email", "Value": self.email(sub)},
                {"Name": "custom:tenant", "Value": self.tenant_id},
                {"Name": "custom:employee_id", "Value": sub},
            ],
        )["User"]
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user["Username"], GroupName="admin")

    def account(self, sub: str, role: str) -> dict[str, str]:
        """E-mail and password of a real sign-in (first sign-in and new password done over HTTP)."""
        key = (self.tenant_id, sub)
        if key not in _ACCOUNTS:
            temporary = self.invite(sub, role)
            first = self.auth("sign-in", {"email": self.email(sub), "password": temporary})
            password = "e2e-" + secrets.token_hex(8) + "a1"
            body = {"email": self.email(sub), "session": first["session"], "new_password": password}
            self.auth("new-password", body)
            _ACCOUNTS[key] = {"email": self.email(sub), "password": password}
        return _ACCOUNTS[key]

    def token(self, sub: str, role: str) -> str:
        """A Cognito ID token of a real sign-in (moto's Cognito), for setting things up over the
        API; the pages are signed into through their own form (``sign_in``)."""
        account = self.account(sub, role)
        return str(self.auth("sign-in", account)["id_token"])

    def auth(self, path: str, body: Any) -> Any:
        resp = requests.post(f"{self.base}/auth/{path}", json=body, timeout=10)
        assert resp.status_code == 200, (path, resp.status_code, resp.text)
        return resp.json()

    def call(self, method: str, path: str, token: str, body: Any = None) -> Any:
        resp = requests.request(
            method, self.base + path, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert resp.status_code < 300, (method, path, resp.status_code, resp.text)
        return resp.json()


class _ShopHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Shop</title>"
        body += b"<link rel='icon' href='data:,'></head><body><h1>Welcome to the shop</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Shop:
    """A campaign's destination site on the loopback (the network reaches nothing else)."""

    base: str
    hits: list[str]


@pytest.fixture(scope="session")
def shop() -> Iterator[Shop]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopHandler)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield Shop(f"http://127.0.0.1:{server.server_address[1]}", server.hits)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tenant(local_stack: RunningStack) -> Tenant:
    return Tenant(local_stack, "e2e" + secrets.token_hex(4))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def watch(request: pytest.FixtureRequest) -> Iterator[Watch]:
    """The test's pages; on failure each is screenshotted (FAILED-<test>-<page>.png) and its
    console problems are printed, so a red run shows what the browser showed."""
    w = Watch()
    yield w
    if request.node.stash.get(_FAILED, False):
        for name, page in w.pages.items():
            try:
                shot(page, f"FAILED-{request.node.name}-{name}")
            except Exception as exc:  # a closed page
                print(f"no screenshot of {name}: {exc}")
        print("\n".join(w.problems))


def shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# (tenant, employee id) -> {"email", "password"} of the sign-ins Tenant.account made
_ACCOUNTS: dict[tuple[str, str], dict[str, str]] = {}


def sign_in(page: Any, token: str) -> None:
    """Sign in on the page's own form with the e-mail and password of whoever ``token``
    belongs to (a sign-in ``Tenant.account`` made), as a person would type them."""
    import jwt

    claims = jwt.decode(token, options={"verify_signature": False})
    account = _ACCOUNTS[(claims["custom:tenant"], claims["custom:employee_id"])]
    page.locator("#email").fill(account["email"])
    page.locator("#password").press_sequentially(account["password"])
    page.locator("#signin").click()
    page.locator("#app").wait_for(state="visible")

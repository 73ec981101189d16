"""The points mall's concurrency guarantee over real HTTP against the real local stack
(`ripple dev --no-seed` in a subprocess): points are earned by real visits through the
stream consumer, then 50 clients redeem a reward with stock 10 at the same moment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.moto_server import free_port
from tests.conftest import auth

ROOT = Path(__file__).resolve().parents[2]
TENANT = "mall"
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36 m{n}"
CLIENTS = 50
STOCK = 10
PRICE = 10


class Stack:
    def __init__(self, base: str, proc: subprocess.Popen[str]) -> None:
        self.base = base
        self.proc = proc
        self.admin = auth(TENANT, "boss", "admin")

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> tuple[int, Any]:
        resp = requests.request(method, self.base + path, headers=headers or self.admin, json=body, timeout=30)
        return resp.status_code, resp.json()

    def visit(self, code: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.base}/{code}", allow_redirects=False, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ripple.cli", "dev", "--no-seed", "--port", str(port), "--poll-interval", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            pytest.fail(f"ripple dev exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            if requests.get(base + "/", timeout=1).status_code == 404:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("local stack did not come up in 60 s")
        time.sleep(0.2)
    try:
        yield Stack(base, proc)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("ripple dev did not stop cleanly on SIGINT")


def wait_for(fetch: Any, expected: Any, timeout: float) -> Any:
    """Poll until ``fetch()`` equals ``expected`` (or the time is up); returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_fifty_concurrent_redemptions_over_http(stack: Stack) -> None:
    people = [f"m{i:02d}" for i in range(CLIENTS)]
    headers = {emp: auth(TENANT, emp, "employee") for emp in people}
    status, campaign = stack.call(
        "POST",
        "/admin/campaigns",
        body={
            "name": "Mall",
            "destination_url": "https://shop.example.com/mall",
            "points": {"unique_visit": PRICE, "forward": 0, "lead": 0},
        },
    )
    assert status == 201, campaign
    with ThreadPoolExecutor(max_workers=10) as pool:

        def earn(i: int) -> int:
            emp = people[i]
            status, _ = stack.call("PUT", f"/admin/employees/{emp}", body={"name": emp, "team": "t", "region": "r"})
            assert status == 200
            status, link = stack.call(
                "POST", f"/campaigns/{campaign['campaign_id']}/links", headers[emp], {"channel": "wechat"}
            )
            assert status == 201, link
            return stack.visit(link["code"], headers={"User-Agent": BROWSER.format(n=i)}).status_code

        assert list(pool.map(earn, range(CLIENTS))) == [302] * CLIENTS

    def available(emp: str) -> int:
        return int(stack.call("GET", "/me", headers[emp])[1]["points"]["available"])

    for emp in people:  # every visit is through the stream consumer before anyone shops
        assert wait_for(lambda e=emp: available(e), PRICE, timeout=30) == PRICE, emp

    status, prize = stack.call(
        "POST", "/admin/rewards", body={"name": "Headphones", "price": PRICE, "kind": "physical", "stock": STOCK}
    )
    assert status == 201, prize
    barrier = threading.Barrier(CLIENTS)

    def buy(i: int) -> tuple[int, Any]:
        h = {**headers[people[i]], "Idempotency-Key": f"buy-{i}"}
        barrier.wait()
        resp = requests.post(f"{stack.base}/rewards/{prize['reward_id']}/redeem", headers=h, timeout=60)
        return resp.status_code, resp.json()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(buy, range(CLIENTS)))
    statuses = [s for s, _ in results]
    assert statuses.count(201) == STOCK and statuses.count(409) == CLIENTS - STOCK, statuses
    assert {b["error"]["code"] for s, b in results if s == 409} == {"out_of_stock"}
    winners = {b["employee_id"] for s, b in results if s == 201}
    assert len(winners) == STOCK and all(b["available"] == 0 for s, b in results if s == 201)

    _, catalog = stack.call("GET", "/rewards")
    (listed,) = [r for r in catalog["rewards"] if r["reward_id"] == prize["reward_id"]]
    assert listed["stock"] == 0
    _, listing = stack.call("GET", "/admin/redemptions?limit=100")
    assert sorted(r["employee_id"] for r in listing["redemptions"]) == sorted(winners)
    for emp in people:  # charged iff a redemption exists
        assert available(emp) == (0 if emp in winners else PRICE), emp

    # balance == sum of the ledger for everyone, checked by the reconcile command on this stack
    proc = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "reconcile"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["drift"] == {} and report["owners"] >= CLIENTS

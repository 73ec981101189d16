"""The points mall's concurrency guarantee over real HTTP against the real local stack
(`ripple dev --no-seed` in a subprocess): points are earned by real visits through the
stream consumer, then 50 clients redeem a reward with stock 10 at the same moment."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import auth
from tests.integration.conftest import RunningStack, wait_for


def wait_for_value(fetch: Any, expected: Any, timeout: float) -> Any:
    return wait_for(fetch, expected, timeout)[0]


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
        self.cli_env: dict[str, str] = {}

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> tuple[int, Any]:
        resp = requests.request(method, self.base + path, headers=headers or self.admin, json=body, timeout=30)
        return resp.status_code, resp.json()

    def visit(self, code: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.base}/{code}", allow_redirects=False, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def stack(local_stack: RunningStack) -> Stack:
    stack = Stack(local_stack.base, local_stack.proc)
    stack.cli_env = local_stack.cli_env()
    return stack


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
        assert wait_for_value(lambda e=emp: available(e), PRICE, timeout=30) == PRICE, emp

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
    (listed,) = [r for r in catalog["items"] if r["reward_id"] == prize["reward_id"]]
    assert listed["stock"] == 0
    _, listing = stack.call("GET", "/admin/redemptions?limit=100")
    assert sorted(r["employee_id"] for r in listing["items"]) == sorted(winners)
    for emp in people:  # charged iff a redemption exists
        assert available(emp) == (0 if emp in winners else PRICE), emp

    # balance == sum of the ledger for everyone, checked by the reconcile command on this stack
    proc = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "reconcile"],
        cwd=ROOT,
        env=stack.cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True and report["drift"] == {} and report["owners"] >= CLIENTS

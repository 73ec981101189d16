"""Benchmark 7: the points mall under 50 concurrent clients.

Through the HTTP API (Chalice's in-process test client) against the moto server:

a. throughput: 50 clients each redeem an unlimited reward ``rounds`` times in a row, all
   hitting the same reward item (the hot item of a real sale): redemptions/s, and the
   TransactWriteItems conflicts retried and transactions cancelled per successful
   redemption (moto serialises transactions, so conflicts are 0 here; DynamoDB reports
   TransactionConflict for concurrent transactions on one item and the adapter retries);
b. contention: 50 clients at once on a reward with stock 10: exactly 10 succeed, the rest
   are refused by the stock condition (cancellations per success), nothing oversold.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.report import Row
from bench.world import Sizes, api_client, auth

__all__ = ["run"]

TENANT = "mallbench"
CLIENTS = 50
STOCK = 10


def _post(client: Any, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    resp = client.http.post(
        path,
        headers={**headers, "Content-Type": "application/json"},
        body=json.dumps(body) if body is not None else b"",
    )
    return resp.status_code, json.loads(resp.body or b"null")


def _credit(employees: list[str], points: int) -> None:
    from pynamodb.transactions import TransactWrite

    from ripple.adapters.repositories import _connection, add_spend
    from ripple.domain.model import LedgerEntry

    for emp in employees:
        with TransactWrite(connection=_connection()) as tx:
            add_spend(tx, LedgerEntry(TENANT, f"grant#bench#{emp}", emp, "grant", points, 1))


def _stats() -> tuple[int, int, int]:
    from ripple import bootstrap

    s = bootstrap.services().rewards.stats
    return s.committed, s.conflicts, s.cancelled


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    from ripple import bootstrap

    client = api_client()
    admin = auth(TENANT, "boss", "admin")
    rounds = max(1, sizes.employees // 10)  # 5 per client in a full run, 1 in --quick
    people = [f"b{i:02d}" for i in range(CLIENTS)]
    for emp in people:
        resp = client.http.put(
            f"/admin/employees/{emp}",
            headers={**admin, "Content-Type": "application/json"},
            body=json.dumps({"name": emp, "team": "t", "region": "r"}),
        )
        assert resp.status_code == 200, resp.body
    _credit(people, 10_000)
    headers = {emp: auth(TENANT, emp, "employee") for emp in people}
    status, coffee = _post(client, "/admin/rewards", admin, {"name": "Coffee", "price": 1, "kind": "perk"})
    assert status == 201, coffee
    status, prize = _post(
        client, "/admin/rewards", admin, {"name": "Headphones", "price": 100, "kind": "physical", "stock": STOCK}
    )
    assert status == 201, prize

    # a. throughput on one hot, unlimited reward
    barrier = threading.Barrier(CLIENTS)

    def shopper(i: int) -> list[int]:
        h = headers[people[i]]
        barrier.wait()
        return [
            _post(client, f"/rewards/{coffee['reward_id']}/redeem", {**h, "Idempotency-Key": f"a-{i}-{n}"})[0]
            for n in range(rounds)
        ]

    for emp in people[:1]:  # warm up: first connection, first Lambda-style lazy imports
        _post(client, f"/rewards/{coffee['reward_id']}/redeem", {**headers[emp], "Idempotency-Key": "warm"})
    committed0, conflicts0, cancelled0 = _stats()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = [s for batch in pool.map(shopper, range(CLIENTS)) for s in batch]
    elapsed = time.perf_counter() - t0
    _, conflicts1, cancelled1 = _stats()
    ok = statuses.count(201)
    if ok != CLIENTS * rounds:
        raise RuntimeError(f"throughput run: {ok} of {CLIENTS * rounds} redemptions succeeded: {set(statuses)}")
    conflicts_a, cancelled_a = conflicts1 - conflicts0, cancelled1 - cancelled0

    # b. 50 clients at once on stock 10
    barrier_b = threading.Barrier(CLIENTS)

    def rush(i: int) -> int:
        h = {**headers[people[i]], "Idempotency-Key": f"b-{i}"}
        barrier_b.wait()
        return _post(client, f"/rewards/{prize['reward_id']}/redeem", h)[0]

    t1 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        rush_statuses = list(pool.map(rush, range(CLIENTS)))
    rush_elapsed = time.perf_counter() - t1
    committed2, conflicts2, cancelled2 = _stats()
    won, refused = rush_statuses.count(201), rush_statuses.count(409)
    after = bootstrap.services().rewards.get_reward(TENANT, prize["reward_id"])
    left = after.stock if after is not None else None
    balances, sums = bootstrap.services().points.snapshot()
    drift = sum(1 for k in set(balances) | set(sums) if balances.get(k, 0) != sums.get(k, 0))

    rows = [
        Row(
            f"7. redemptions/s, {CLIENTS} clients x {rounds}",
            f"{ok / elapsed:.0f}/s ({ok} in {elapsed:.2f}s)",
        ),
        Row(
            "7. conflicts per redemption",
            f"{conflicts_a / ok:.2f} retried, {cancelled_a / ok:.2f} cancelled",
        ),
        Row(
            f"7. stock {STOCK}, {CLIENTS} clients at once",
            f"{won} ok, {refused} x 409, stock left {left}, drift {drift}",
            f"{STOCK} ok, 0 left",
            won == STOCK and refused == CLIENTS - STOCK and left == 0 and drift == 0,
        ),
        Row(
            "7. cancellations per successful redemption",
            f"{(cancelled2 - cancelled1) / max(won, 1):.1f} (+{conflicts2 - conflicts1} conflicts retried)",
        ),
    ]
    notes = [
        f"7: one TransactWriteItems per redemption (idempotency, stock, redemption, ledger, balance); "
        f"{committed2 - committed0} committed; the stock-10 rush took {rush_elapsed:.2f}s; moto serialises "
        "transactions, so conflicts retried are 0 locally."
    ]
    return rows, notes

"""The points mall in-process (chalice test client -> moto): catalog, redeeming, limits,
idempotency, fulfilment, cancellation with refund, the lead-pool claim price, and the
concurrency guarantees (stock never oversold, nobody charged without a redemption)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import snapshot

TENANT = "acme"
ADMIN = auth(TENANT, "boss", "admin")
ALICE = auth(TENANT, "alice", "employee")
BOB = auth(TENANT, "bob", "employee")
OTHER_ADMIN = auth("globex", "root", "admin")
DAY_MS = 86_400_000


@pytest.fixture
def api(aws: Any) -> Any:
    from chalice.test import Client

    from app import app
    from infra.moto_patches import apply

    apply()  # item-scoped, lock-serialised transactions: moto stays consistent under threads
    return Client(app)


def call(
    api: Any, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        hdrs["Idempotency-Key"] = key
    kwargs: dict[str, Any] = {"headers": hdrs}
    if body is not None:
        kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
    resp = getattr(api.http, method.lower())(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def employees(api: Any, *names: str) -> None:
    for name in names:
        status, _ = call(api, "PUT", f"/admin/employees/{name}", ADMIN, {"name": name, "team": "t", "region": "r"})
        assert status == 200


def credit(employee: str, points: int, tenant: str = TENANT, tag: str = "seed") -> None:
    """Give points as a ledger entry + balance change in one transaction (as the consumer would)."""
    from pynamodb.transactions import TransactWrite

    from ripple.adapters.repositories import _connection, add_spend
    from ripple.domain.model import LedgerEntry

    with TransactWrite(connection=_connection()) as tx:
        add_spend(tx, LedgerEntry(tenant, f"grant#{tag}#{employee}", employee, "grant", points, 1))


def reward(api: Any, **fields: Any) -> dict[str, Any]:
    body = {"name": "Mug", "price": 30, "kind": "physical", **fields}
    status, created = call(api, "POST", "/admin/rewards", ADMIN, body)
    assert status == 201, created
    return dict(created)


def redeem(api: Any, who: dict[str, str], reward_id: str, key: str, body: Any = None) -> tuple[int, Any]:
    return call(api, "POST", f"/rewards/{reward_id}/redeem", who, body, key=key)


def points(employee: str, tenant: str = TENANT) -> dict[str, int]:
    from ripple import bootstrap

    return bootstrap.services().points.balances(tenant, employee)


def ledger(employee: str, tenant: str = TENANT) -> dict[str, int]:
    from ripple import bootstrap

    return {e.source_key: e.points for e in bootstrap.services().points.ledger(tenant, employee)}


def assert_balances_equal_ledger() -> None:
    from ripple import bootstrap

    balances, sums = bootstrap.services().points.snapshot()
    assert balances == sums
    assert all(v >= 0 for v in balances.values())


def stock_of(api: Any, reward_id: str) -> Any:
    _, listing = call(api, "GET", "/rewards?include_inactive=true", ADMIN)
    (found,) = [r for r in listing["items"] if r["reward_id"] == reward_id]
    return found["stock"]


def run_concurrently(n: int, fn: Callable[[int], tuple[int, Any]]) -> list[tuple[int, Any]]:
    results: list[tuple[int, Any] | None] = [None] * n
    barrier = threading.Barrier(n)

    def worker(i: int) -> None:
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


# ------------------------------------------------------------------ catalog


def test_catalog_create_update_and_list(api: Any) -> None:
    employees(api, "alice")
    mug = reward(api, stock=5, description="A mug", image_url="https://cdn.example.com/mug.png")
    assert mug["stock"] == 5 and mug["active"] is True and mug["unlimited"] is False
    assert mug["image_url"] == "https://cdn.example.com/mug.png" and mug["per_employee_limit"] is None
    leave = reward(api, name="Day off", price=500, kind="perk", per_employee_limit=1, limit_period="month")
    assert leave["stock"] is None and leave["unlimited"] is True
    assert leave["per_employee_limit"] == {"count": 1, "period": "month"}

    status, listing = call(api, "GET", "/rewards", ALICE)
    assert status == 200 and {r["reward_id"] for r in listing["items"]} == {mug["reward_id"], leave["reward_id"]}

    status, updated = call(api, "PUT", f"/admin/rewards/{mug['reward_id']}", ADMIN, {"price": 40, "stock": 2})
    assert status == 200 and updated["price"] == 40 and updated["stock"] == 2 and updated["name"] == "Mug"
    status, updated = call(api, "PUT", f"/admin/rewards/{mug['reward_id']}", ADMIN, {"active": False})
    assert status == 200 and updated["active"] is False
    assert [r["reward_id"] for r in call(api, "GET", "/rewards", ALICE)[1]["items"]] == [leave["reward_id"]]
    assert len(call(api, "GET", "/rewards?include_inactive=true", ADMIN)[1]["items"]) == 2
    assert call(api, "GET", "/rewards?include_inactive=true", ALICE)[0] == 403
    status, updated = call(api, "PUT", f"/admin/rewards/{mug['reward_id']}", ADMIN, {"stock": None, "active": True})
    assert status == 200 and updated["stock"] is None and updated["unlimited"] is True

    # another tenant sees nothing of acme's catalog
    assert call(api, "GET", "/rewards", OTHER_ADMIN)[1]["items"] == []
    assert call(api, "PUT", f"/admin/rewards/{mug['reward_id']}", OTHER_ADMIN, {"price": 1})[0] == 404
    assert call(api, "POST", "/admin/rewards", ALICE, {"name": "x", "price": 1, "kind": "perk"})[0] == 403


# ------------------------------------------------------------------ redeeming


def test_redeem_charges_takes_stock_and_records_the_redemption(api: Any) -> None:
    employees(api, "alice")
    credit("alice", 100)
    mug = reward(api, stock=2)
    status, got = redeem(api, ALICE, mug["reward_id"], "k-1")
    assert status == 201, got
    assert got["status"] == "requested" and got["price"] == 30 and got["available"] == 70
    assert got["reward_id"] == mug["reward_id"] and got["employee_id"] == "alice" and got["reward_name"] == "Mug"
    assert points("alice") == {"balance": 70, "available": 70, "pending": 0}
    assert ledger("alice")[f"rd#{got['redemption_id']}"] == -30
    assert stock_of(api, mug["reward_id"]) == 1
    status, me = call(api, "GET", "/me", ALICE)
    assert status == 200 and me["points"]["available"] == 70
    status, mine = call(api, "GET", "/me/redemptions", ALICE)
    assert status == 200 and [r["redemption_id"] for r in mine["items"]] == [got["redemption_id"]]
    status, all_ = call(api, "GET", "/admin/redemptions?status=requested", ADMIN)
    assert status == 200 and [r["redemption_id"] for r in all_["items"]] == [got["redemption_id"]]
    assert call(api, "GET", "/admin/redemptions?status=fulfilled", ADMIN)[1]["items"] == []
    assert_balances_equal_ledger()


def test_insufficient_points_is_409_with_the_shortfall_and_writes_nothing(api: Any, aws: Any) -> None:
    employees(api, "alice", "bob")
    credit("alice", 20)
    mug = reward(api, stock=3)
    before = snapshot(aws)
    status, err = redeem(api, ALICE, mug["reward_id"], "k-1")
    assert status == 409 and err["error"]["code"] == "insufficient_points"
    assert err["error"]["details"]["shortfall"] == 10
    status, err = redeem(api, BOB, mug["reward_id"], "k-1")  # never earned anything
    assert status == 409 and err["error"]["details"]["shortfall"] == 30
    assert snapshot(aws) == before
    credit("alice", 10, tag="more")
    assert redeem(api, ALICE, mug["reward_id"], "k-1")[0] == 201  # the failed key was not burnt
    assert points("alice")["available"] == 0


def test_out_of_stock_is_409(api: Any, aws: Any) -> None:
    employees(api, "alice", "bob")
    credit("alice", 100)
    credit("bob", 100)
    mug = reward(api, stock=1)
    assert redeem(api, ALICE, mug["reward_id"], "a")[0] == 201
    before = snapshot(aws)
    status, err = redeem(api, BOB, mug["reward_id"], "b")
    assert status == 409 and err["error"]["code"] == "out_of_stock"
    assert snapshot(aws) == before and points("bob")["available"] == 100
    call(api, "PUT", f"/admin/rewards/{mug['reward_id']}", ADMIN, {"stock": 1})
    assert redeem(api, BOB, mug["reward_id"], "b")[0] == 201
    call(api, "PUT", f"/admin/rewards/{mug['reward_id']}", ADMIN, {"active": False, "stock": 5})
    status, err = redeem(api, BOB, mug["reward_id"], "c")
    assert status == 409 and err["error"]["code"] == "reward_unavailable"


def test_per_employee_limit_per_period(api: Any, aws: Any) -> None:
    from ripple import bootstrap

    employees(api, "alice", "bob")
    credit("alice", 1000)
    credit("bob", 1000)
    coffee = reward(api, name="Coffee", price=10, kind="perk", per_employee_limit=2, limit_period="day")
    assert redeem(api, ALICE, coffee["reward_id"], "1")[0] == 201
    second = redeem(api, ALICE, coffee["reward_id"], "2")
    assert second[0] == 201
    before = snapshot(aws)
    status, err = redeem(api, ALICE, coffee["reward_id"], "3")
    assert status == 409 and err["error"]["code"] == "limit_reached"
    assert err["error"]["details"] == {"limit": 2, "period": "day"}
    assert snapshot(aws) == before
    assert redeem(api, BOB, coffee["reward_id"], "1")[0] == 201  # the limit is per employee
    # cancelling gives the slot back
    assert (
        call(api, "POST", f"/admin/redemptions/{second[1]['redemption_id']}/cancel", ADMIN, {"reason": "x"})[0] == 200
    )
    assert redeem(api, ALICE, coffee["reward_id"], "4")[0] == 201
    assert redeem(api, ALICE, coffee["reward_id"], "5")[0] == 409
    # the next day is a new period
    svc = bootstrap.services()
    real_clock = svc.clock
    svc.clock = lambda: real_clock() + DAY_MS
    assert redeem(api, ALICE, coffee["reward_id"], "6")[0] == 201
    assert_balances_equal_ledger()


def test_same_idempotency_key_returns_the_first_result(api: Any, aws: Any) -> None:
    employees(api, "alice", "bob")
    credit("alice", 100)
    credit("bob", 100)
    mug = reward(api, stock=5)
    pen = reward(api, name="Pen", price=5)
    status, first = redeem(api, ALICE, mug["reward_id"], "order-42")
    assert status == 201
    before = snapshot(aws)
    status, again = redeem(api, ALICE, mug["reward_id"], "order-42", body={})
    assert status == 200 and again == first
    assert snapshot(aws) == before and points("alice")["available"] == 70
    status, err = redeem(api, ALICE, pen["reward_id"], "order-42")  # same key, different request
    assert status == 422 and err["error"]["code"] == "idempotency_key_reused"
    assert snapshot(aws) == before
    assert redeem(api, BOB, mug["reward_id"], "order-42")[0] == 201  # keys are per employee

    # concurrent replays of one new key: one redemption, every caller sees its body
    results = run_concurrently(8, lambda i: redeem(api, ALICE, mug["reward_id"], "order-43"))
    statuses = sorted(s for s, _ in results)
    assert statuses == [200] * 7 + [201]
    assert len({b["redemption_id"] for _, b in results}) == 1
    assert points("alice")["available"] == 40 and stock_of(api, mug["reward_id"]) == 2
    assert_balances_equal_ledger()


def test_fulfil_and_cancel_with_refund_exactly_once(api: Any, aws: Any) -> None:
    employees(api, "alice")
    credit("alice", 200)
    mug = reward(api, stock=3)
    card = reward(api, name="Gift card", price=50, kind="virtual_code", stock=10)
    _, r1 = redeem(api, ALICE, mug["reward_id"], "1")
    _, r2 = redeem(api, ALICE, mug["reward_id"], "2")
    _, r3 = redeem(api, ALICE, card["reward_id"], "3")
    assert points("alice")["available"] == 90 and stock_of(api, mug["reward_id"]) == 1

    before = snapshot(aws)
    status, err = call(api, "POST", f"/admin/redemptions/{r1['redemption_id']}/fulfil", ADMIN, {"code": "X"})
    assert status == 422 and snapshot(aws) == before  # codes are for virtual_code rewards
    status, done = call(api, "POST", f"/admin/redemptions/{r1['redemption_id']}/fulfil", ADMIN)
    assert status == 200 and done["status"] == "fulfilled"
    status, done = call(api, "POST", f"/admin/redemptions/{r3['redemption_id']}/fulfil", ADMIN, {"code": "GC-123"})
    assert status == 200 and done["code"] == "GC-123"
    mine = {r["redemption_id"]: r for r in call(api, "GET", "/me/redemptions", ALICE)[1]["items"]}
    assert mine[r3["redemption_id"]]["code"] == "GC-123" and mine[r3["redemption_id"]]["status"] == "fulfilled"
    assert call(api, "GET", "/admin/redemptions?status=fulfilled", ADMIN)[1]["items"][0]["status"] == "fulfilled"

    before = snapshot(aws)
    status, err = call(api, "POST", f"/admin/redemptions/{r1['redemption_id']}/cancel", ADMIN, {"reason": "late"})
    assert status == 409 and err["error"]["details"] == {"status": "fulfilled"}
    assert snapshot(aws) == before  # fulfilled is final
    assert call(api, "POST", f"/admin/redemptions/{r1['redemption_id']}/fulfil", ADMIN)[0] == 409

    # ten concurrent cancels of one redemption: one refund
    results = run_concurrently(
        10,
        lambda i: call(api, "POST", f"/admin/redemptions/{r2['redemption_id']}/cancel", ADMIN, {"reason": "broken"}),
    )
    assert sorted(s for s, _ in results) == [200] + [409] * 9
    (ok,) = [b for s, b in results if s == 200]
    assert ok["status"] == "cancelled" and ok["refunded"] == 30 and ok["reason"] == "broken"
    entries = ledger("alice")
    assert entries[f"rf#{r2['redemption_id']}"] == 30 and entries[f"rd#{r2['redemption_id']}"] == -30
    assert sum(1 for k in entries if k.startswith("rf#")) == 1
    assert points("alice")["available"] == 120 and stock_of(api, mug["reward_id"]) == 2
    assert call(api, "POST", f"/admin/redemptions/{r2['redemption_id']}/fulfil", ADMIN)[0] == 409
    assert call(api, "GET", "/admin/redemptions?status=cancelled", ADMIN)[1]["items"][0]["reason"] == "broken"
    assert_balances_equal_ledger()


# ------------------------------------------------------------------ the concurrency guarantee


def test_fifty_concurrent_redemptions_of_stock_ten(api: Any) -> None:
    from ripple import bootstrap

    people = [f"e{i:02d}" for i in range(50)]
    employees(api, *people)
    for emp in people:
        credit(emp, 100)
    prize = reward(api, name="Headphones", price=60, stock=10)
    headers = {emp: auth(TENANT, emp, "employee") for emp in people}

    results = run_concurrently(50, lambda i: redeem(api, headers[people[i]], prize["reward_id"], f"buy-{i}"))
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 10 and statuses.count(409) == 40, statuses
    assert {b["error"]["code"] for s, b in results if s == 409} == {"out_of_stock"}
    assert stock_of(api, prize["reward_id"]) == 0
    winners = {b["employee_id"] for s, b in results if s == 201}
    redemptions = call(api, "GET", "/admin/redemptions?limit=100", ADMIN)[1]["items"]
    assert {r["employee_id"] for r in redemptions} == winners and len(redemptions) == 10
    for emp in people:  # charged iff redeemed, exactly once
        charges = {k: v for k, v in ledger(emp).items() if k.startswith("rd#")}
        assert list(charges.values()) == ([-60] if emp in winners else [])
        assert points(emp)["available"] == (40 if emp in winners else 100)
    balances, sums = bootstrap.services().points.snapshot()
    assert balances == sums and len(balances) == 50


# ------------------------------------------------------------------ the lead pool's price


def _pool_customer(customer_id: str = "cust1") -> str:
    from ripple import bootstrap
    from ripple.domain.customers import Customer
    from ripple.service.ports import CustomerEvent

    svc = bootstrap.services()
    svc.customers.create(
        Customer(TENANT, customer_id, name="Pool Person", phone="+8613800138000", created_at=1, updated_at=1),
        [],
        CustomerEvent("ev1", "lead", 1),
    )
    return customer_id


def test_pool_claim_price_setting_is_validated(api: Any, aws: Any) -> None:
    status, tenant = call(api, "GET", "/admin/tenant", ADMIN)
    assert status == 200 and tenant["pool_claim_price"] == 0
    before = snapshot(aws)
    for bad in (-1, "5", 1.5, True, 10_000_001):
        status, err = call(api, "PUT", "/admin/tenant", ADMIN, {"pool_claim_price": bad})
        assert status == 422 and err["error"]["details"]["field"] == "pool_claim_price", bad
    assert snapshot(aws) == before
    status, tenant = call(api, "PUT", "/admin/tenant", ADMIN, {"pool_claim_price": 25})
    assert status == 200 and tenant["pool_claim_price"] == 25
    assert call(api, "GET", "/admin/tenant", ADMIN)[1]["pool_claim_price"] == 25


def test_pool_claim_costs_points_atomically(api: Any, aws: Any) -> None:
    employees(api, "alice", "bob")
    customer = _pool_customer()
    assert call(api, "PUT", "/admin/tenant", ADMIN, {"pool_claim_price": 40})[0] == 200
    credit("alice", 30)
    before = snapshot(aws)
    status, err = call(api, "POST", f"/lead-pool/{customer}/claim", ALICE)
    assert status == 409 and err["error"]["code"] == "insufficient_points"
    assert err["error"]["details"]["shortfall"] == 10
    assert snapshot(aws) == before  # not claimed, not charged
    credit("bob", 45)
    status, got = call(api, "POST", f"/lead-pool/{customer}/claim", BOB)
    assert status == 200 and got["owner"] == "bob"
    assert points("bob")["available"] == 5
    assert [v for k, v in ledger("bob").items() if k.startswith("pc#")] == [-40]
    assert_balances_equal_ledger()


def test_twenty_concurrent_paid_claims_charge_only_the_winner(api: Any) -> None:
    people = [f"c{i:02d}" for i in range(20)]
    employees(api, *people)
    for emp in people:
        credit(emp, 50)
    customer = _pool_customer()
    assert call(api, "PUT", "/admin/tenant", ADMIN, {"pool_claim_price": 40})[0] == 200
    headers = [auth(TENANT, emp, "employee") for emp in people]
    results = run_concurrently(20, lambda i: call(api, "POST", f"/lead-pool/{customer}/claim", headers[i]))
    assert sorted(s for s, _ in results) == [200] + [409] * 19
    (winner,) = [b["owner"] for s, b in results if s == 200]
    for emp in people:
        assert points(emp)["available"] == (10 if emp == winner else 50)
        assert len([k for k in ledger(emp) if k.startswith("pc#")]) == (1 if emp == winner else 0)
    assert_balances_equal_ledger()


def test_free_pool_claim_writes_no_ledger_entry(api: Any) -> None:
    employees(api, "alice")
    customer = _pool_customer()
    assert call(api, "POST", f"/lead-pool/{customer}/claim", ALICE)[0] == 200
    assert ledger("alice") == {} and points("alice")["balance"] == 0


# ------------------------------------------------------------------ bad input: 4xx and no writes


def test_bad_input_on_every_mall_endpoint_writes_nothing(api: Any, aws: Any) -> None:
    employees(api, "alice")
    credit("alice", 100)
    mug = reward(api, stock=5)
    code = reward(api, name="Code", price=10, kind="virtual_code")
    _, redeemed = redeem(api, ALICE, mug["reward_id"], "k")
    rid, wid = redeemed["redemption_id"], mug["reward_id"]
    good = {"name": "Cap", "price": 5, "kind": "physical"}
    cases: list[tuple[str, str, dict[str, str], Any, str | None, int]] = [
        # create
        ("POST", "/admin/rewards", ADMIN, "{not json", None, 400),
        ("POST", "/admin/rewards", ADMIN, [good], None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "colour": "red"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "price": 0}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "price": "5"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "price": True}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "stock": -1}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "kind": "cash"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "name": ""}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "image_url": "http://cdn.example.com/a.png"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "image_url": "javascript:alert(1)"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "per_employee_limit": 0}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "per_employee_limit": 1, "limit_period": "year"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "limit_period": "day"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {**good, "active": "yes"}, None, 422),
        ("POST", "/admin/rewards", ADMIN, {"name": "x" * 20_000}, None, 413),
        ("POST", "/admin/rewards", {}, good, None, 401),
        ("POST", "/admin/rewards", ALICE, good, None, 403),
        # update
        ("PUT", f"/admin/rewards/{wid}", ADMIN, {}, None, 422),
        ("PUT", f"/admin/rewards/{wid}", ADMIN, {"kind": "perk"}, None, 422),
        ("PUT", f"/admin/rewards/{wid}", ADMIN, {"price": -3}, None, 422),
        ("PUT", f"/admin/rewards/{wid}", ADMIN, {"stock": 1.5}, None, 422),
        ("PUT", "/admin/rewards/nope", ADMIN, {"price": 3}, None, 404),
        ("PUT", "/admin/rewards/bad%20id", ADMIN, {"price": 3}, None, 422),
        ("PUT", f"/admin/rewards/{wid}", ALICE, {"price": 3}, None, 403),
        # list
        ("GET", "/rewards?colour=red", ALICE, None, None, 422),
        ("GET", "/rewards?include_inactive=maybe", ADMIN, None, None, 422),
        ("GET", "/rewards", {}, None, None, 401),
        # redeem
        ("POST", f"/rewards/{wid}/redeem", ALICE, None, None, 422),
        ("POST", f"/rewards/{wid}/redeem", ALICE, None, "", 422),
        ("POST", f"/rewards/{wid}/redeem", ALICE, None, "x" * 65, 422),
        ("POST", f"/rewards/{wid}/redeem", ALICE, None, "bad key!", 422),
        ("POST", f"/rewards/{wid}/redeem", ALICE, {"qty": 2}, "new", 422),
        ("POST", f"/rewards/{wid}/redeem", ALICE, "{oops", "new", 400),
        ("POST", f"/rewards/{wid}/redeem", ALICE, "[]", "new", 422),
        ("POST", "/rewards/nope/redeem", ALICE, None, "new", 404),
        ("POST", f"/rewards/{wid}/redeem", ADMIN, None, "new", 403),
        ("POST", f"/rewards/{wid}/redeem", auth(TENANT, "ghost", "employee"), None, "new", 403),
        ("POST", f"/rewards/{wid}/redeem", auth("globex", "alice", "employee"), None, "new", 403),
        ("POST", f"/rewards/{wid}/redeem", {}, None, "new", 401),
        # listings
        ("GET", "/me/redemptions?status=lost", ALICE, None, None, 422),
        ("GET", "/me/redemptions?limit=0", ALICE, None, None, 422),
        ("GET", "/me/redemptions?cursor=zzz", ALICE, None, None, 422),
        ("GET", "/me/redemptions?employee_id=bob", ALICE, None, None, 422),
        ("GET", "/me/redemptions", ADMIN, None, None, 403),
        ("GET", "/admin/redemptions?status=x", ADMIN, None, None, 422),
        ("GET", "/admin/redemptions?page=2", ADMIN, None, None, 422),
        ("GET", "/admin/redemptions", ALICE, None, None, 403),
        # fulfil and cancel
        ("POST", f"/admin/redemptions/{rid}/fulfil", ADMIN, {"code": "A", "x": 1}, None, 422),
        ("POST", f"/admin/redemptions/{rid}/fulfil", ADMIN, {"code": 5}, None, 422),
        ("POST", f"/admin/redemptions/{rid}/fulfil", ADMIN, "{", None, 400),
        ("POST", "/admin/redemptions/nope/fulfil", ADMIN, None, None, 404),
        ("POST", f"/admin/redemptions/{rid}/fulfil", ALICE, None, None, 403),
        ("POST", f"/admin/redemptions/{rid}/fulfil", OTHER_ADMIN, None, None, 404),
        ("POST", f"/admin/redemptions/{rid}/cancel", ADMIN, {}, None, 422),
        ("POST", f"/admin/redemptions/{rid}/cancel", ADMIN, None, None, 400),
        ("POST", f"/admin/redemptions/{rid}/cancel", ADMIN, {"reason": ""}, None, 422),
        ("POST", f"/admin/redemptions/{rid}/cancel", ADMIN, {"reason": "x", "refund": 0}, None, 422),
        ("POST", f"/admin/redemptions/{rid}/cancel", ADMIN, {"reason": "x" * 501}, None, 422),
        ("POST", "/admin/redemptions/nope/cancel", ADMIN, {"reason": "x"}, None, 404),
        ("POST", f"/admin/redemptions/{rid}/cancel", OTHER_ADMIN, {"reason": "x"}, None, 404),
        ("POST", f"/admin/redemptions/{rid}/cancel", ALICE, {"reason": "x"}, None, 403),
    ]
    assert code["kind"] == "virtual_code"
    before = snapshot(aws)
    for method, path, headers, body, key, expected in cases:
        status, err = call(api, method, path, headers, body, key=key)
        assert status == expected, (method, path, body, key, status, err)
        assert set(err) == {"error"} and err["error"]["code"], err
    assert snapshot(aws) == before

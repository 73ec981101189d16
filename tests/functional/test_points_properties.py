"""Property: whatever happens, in whatever order — earning (immediate and held), stream
redelivery, reversals, releases, redemptions, refunds, settlements — every balance equals
the sum of its ledger entries, available + pending = balance, pending equals what is still
held, and nothing is ever negative. Checked after every step of random sequences."""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from tests.conftest import STACK, auth

ADMIN = auth("acme", "boss", "admin")
EMPLOYEES = ("ann", "ben", "cy")
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 p{n}"
DAY = 86_400_000
OPS = ("earn", "earn", "earn", "redeliver", "reverse", "release", "redeem", "refund", "settle")


def _call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json", **headers}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = getattr(client.http, method.lower())(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


class World:
    def __init__(self, seed: int) -> None:
        import points_consumer
        from chalice.test import Client

        from app import app
        from infra.poller import StreamPoller
        from ripple import bootstrap

        self.rng = random.Random(seed)
        self.client = Client(app)
        self.svc = bootstrap.services()
        real = self.svc.clock
        self.offset = 0
        self.svc.clock = lambda: real() + self.offset
        self.poller = StreamPoller(
            streams=boto3.client("dynamodbstreams", region_name="us-east-1"),
            dynamodb=boto3.client("dynamodb", region_name="us-east-1"),
            table_name=f"{STACK}-visits",
            handler=points_consumer.handler,
            interval=0,
        )
        self.visitors = 0
        self.codes: list[tuple[str, str]] = []
        self.redemptions: list[str] = []
        for i, emp in enumerate(EMPLOYEES):
            _call(
                self.client, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp, "team": f"t{i % 2}", "region": "r"}
            )
        campaigns = [
            {"name": "now", "destination_url": "https://e.example/", "points": {"unique_visit": 7, "forward": 2}},
            {
                "name": "held",
                "destination_url": "https://e.example/",
                "points": {"unique_visit": 5},
                "rules": {"holding_days": 1, "daily_cap": 40},
            },
        ]
        for body in campaigns:
            status, created = _call(self.client, "POST", "/admin/campaigns", ADMIN, body)
            assert status == 201, created
            for emp in EMPLOYEES:
                link = _call(
                    self.client,
                    "POST",
                    f"/campaigns/{created['campaign_id']}/links",
                    auth("acme", emp, "employee"),
                    {"channel": "x"},
                )[1]
                self.codes.append((emp, link["code"]))
        status, self.reward = _call(
            self.client, "POST", "/admin/rewards", ADMIN, {"name": "Mug", "price": 9, "kind": "physical"}
        )
        assert status == 201, self.reward
        _call(self.client, "PUT", "/admin/prizes", ADMIN, {"day": [{"dimension": "employee", "rank": 1, "points": 4}]})

    def step(self, op: str) -> None:
        getattr(self, op)()

    def earn(self) -> None:
        for _ in range(self.rng.randint(1, 4)):
            self.visitors += 1
            _, code = self.rng.choice(self.codes)
            self.client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=self.visitors)})
        if self.rng.random() < 0.7:
            self.poller.drain()

    def redeliver(self) -> None:
        self.poller.reset()
        self.poller.drain()

    def _ledger(self, emp: str) -> list[dict[str, Any]]:
        return list(_call(self.client, "GET", f"/admin/employees/{emp}/ledger?limit=100", ADMIN)[1]["items"])

    def reverse(self) -> None:
        emp = self.rng.choice(EMPLOYEES)
        held = [e for e in self._ledger(emp) if e["status"] == "pending" and e["points"] > 0]
        if held:
            body = {"source_key": self.rng.choice(held)["source_key"], "reason": "review"}
            assert _call(self.client, "POST", "/admin/points/reversals", ADMIN, body)[0] in (201, 409)

    def release(self) -> None:
        import scheduled

        from infra.lambda_context import LocalContext

        self.offset += DAY // 2
        scheduled.handler({"job": "release"}, LocalContext())

    def redeem(self) -> None:
        emp = self.rng.choice(EMPLOYEES)
        key = f"k{self.rng.randint(1, 6)}"  # keys repeat: replays must not charge twice
        resp = self.client.http.post(
            f"/rewards/{self.reward['reward_id']}/redeem",
            headers={"Content-Type": "application/json", "Idempotency-Key": key, **auth("acme", emp, "employee")},
            body="{}",
        )
        assert resp.status_code in (200, 201, 409, 422), resp.body
        if resp.status_code == 201:
            self.redemptions.append(json.loads(resp.body)["redemption_id"])

    def refund(self) -> None:
        if self.redemptions:
            rid = self.rng.choice(self.redemptions)
            status, _ = _call(self.client, "POST", f"/admin/redemptions/{rid}/cancel", ADMIN, {"reason": "x"})
            assert status in (200, 409)

    def settle(self) -> None:
        from ripple.domain.timeutil import period_keys
        from ripple.service.settlement import settle

        day = period_keys(self.svc.clock(), self.svc.tenants.get("acme").timezone).day
        self.offset += DAY
        settle(self.svc, "acme", day)
        settle(self.svc, "acme", day)  # twice: awards nothing twice

    def check(self) -> None:
        from ripple.service.reconcile import reconcile_all

        report = reconcile_all(self.svc)
        assert report["ok"], report


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(st.sampled_from(OPS), min_size=4, max_size=14), seed=st.integers(0, 10_000))
def test_balances_always_equal_the_ledger(ops: list[str], seed: int) -> None:
    from infra.moto_patches import apply
    from infra.tables import create_tables
    from ripple import bootstrap

    apply()
    with mock_aws():
        create_tables(boto3.client("dynamodb", region_name="us-east-1"), STACK)
        bootstrap.reset()
        try:
            world = World(seed)
            for op in [*ops, "redeliver"]:
                world.step(op)
                world.check()
        finally:
            bootstrap.reset()

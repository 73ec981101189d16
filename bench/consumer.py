"""Benchmark 3: what the stream consumer writes for 1,000 visits.

Visits (distinct visitors, owners spread over ~50 employees in a few teams and regions,
one campaign) are recorded through the visits repository, exactly as the redirect records
them; then ``functions/points_consumer.handler`` is driven by ``infra.poller.StreamPoller``
with batch size 100. Every DynamoDB call the consumer makes is recorded and each item of
each TransactWriteItems is classified by its key: ledger entry (``L#``), balance
(``BAL#``), leaderboard row (``B#``) or chain-tree node (``NODE#``).
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections import Counter

from bench.calls import CallLog, recording
from bench.report import Row
from bench.world import Sizes, bench_campaign, import_consumer

__all__ = ["run"]

TENANT = "fleet"
CAMPAIGN = "spring"
TEAMS = ("sales", "support", "eng", "ops", "marketing")
REGIONS = ("north", "south", "east")
UNIQUE_VISIT_POINTS = 10


def _visitor_key(i: int) -> str:
    digest = hashlib.sha256(f"bench-visitor-{i}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return "".join(alphabet[b % 32] for b in digest[:26])


def _seed(sizes: Sizes) -> None:
    from ripple import bootstrap
    from ripple.domain.model import Decision, Employee, Tenant, Visit

    svc = bootstrap.services()
    svc.tenants.put(Tenant(TENANT, "Fleet", "Asia/Shanghai"))
    for e in range(sizes.employees):
        svc.employees.put(Employee(TENANT, f"emp{e:03d}", f"Employee {e}", TEAMS[e % len(TEAMS)], REGIONS[e % 3]))
    bench_campaign(TENANT, CAMPAIGN, unique_visit=UNIQUE_VISIT_POINTS)
    rng = random.Random(3)
    now = int(time.time() * 1000)
    for i in range(sizes.visits):
        employee = f"emp{rng.randrange(sizes.employees):03d}"
        ts = now - rng.randrange(600_000)  # the last ten minutes
        svc.visits.record(
            Visit(
                visit_id=f"{ts:013d}{i:012d}",
                tenant_id=TENANT,
                code=f"c{employee}",
                campaign_id=CAMPAIGN,
                employee_id=employee,
                channel="wechat",
                visitor=_visitor_key(i),
                ts=ts,
                decision=Decision.ELIGIBLE,
            )
        )


def _classify(log: CallLog) -> tuple[Counter[str], int, int, Counter[str]]:
    """Items per kind in successful points transactions; points transaction calls made /
    succeeded; and the analytics transactions' items and calls (table ``analytics``)."""
    kinds: Counter[str] = Counter()
    analytics: Counter[str] = Counter()
    made = ok = 0
    for call in log.dynamodb():
        if call.operation != "TransactWriteItems":
            continue
        keys = []
        for item in call.params["TransactItems"]:
            (op, body), *_ = item.items()
            keys.append((op, (body.get("Item") or body.get("Key") or {}).get("pk", {}).get("S", "")))
        if any(pk.startswith("AM#") for _, pk in keys):
            analytics["made"] += 1
            if call.response is not None:
                analytics["ok"] += 1
                for _, pk in keys:
                    analytics[pk.split("#", 1)[0]] += 1
            continue
        made += 1
        if call.response is None:
            continue
        ok += 1
        for op, pk in keys:
            kind = pk.split("#", 1)[0]
            kinds[{"L": "ledger", "BAL": "balance", "B": "board", "NODE": "chain"}.get(kind, f"{op}:{kind}")] += 1
    return kinds, made, ok, analytics


def _balances(sizes: Sizes) -> int:
    from ripple import bootstrap

    svc = bootstrap.services()
    return sum(svc.points.balance(TENANT, f"emp{e:03d}") for e in range(sizes.employees))


def raw_put_rate(n: int = 300) -> float:
    """What the same moto sustains for the cheapest write a visit could cost: one
    conditional PutItem of a visit-sized item, one after another (a scratch table)."""
    import boto3

    ddb = boto3.client("dynamodb")
    table = "bench-raw-puts"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        t0 = time.perf_counter()
        for i in range(n):
            ddb.put_item(
                TableName=table,
                Item={"pk": {"S": f"L#raw#{i}"}, "visitor": {"S": _visitor_key(i)}, "points": {"N": "10"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        return n / (time.perf_counter() - t0)
    finally:
        ddb.delete_table(TableName=table)


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    import boto3

    from infra.poller import StreamPoller
    from infra.template import stream_mappings

    (mapping,) = [m for m in stream_mappings() if m.function == "PointsConsumerFunction"]
    raw = raw_put_rate()
    _seed(sizes)
    poller = StreamPoller(
        streams=boto3.client("dynamodbstreams"),
        dynamodb=boto3.client("dynamodb"),
        table_name=os.environ["RIPPLE_VISITS_TABLE"],
        handler=import_consumer(),
        function_name="PointsConsumerFunction",
        batch_size=100,
        parallelization_factor=mapping.parallelization_factor,  # as deployed (template.yaml)
        interval=0,
    )
    poller._arn()  # describe the table outside the measurement
    t0 = time.perf_counter()
    with recording() as log:
        delivered = poller.drain()
    elapsed = time.perf_counter() - t0
    if delivered != sizes.visits or poller.dead_lettered:
        raise RuntimeError(f"consumer delivered {delivered}/{sizes.visits}, dead-lettered {poller.dead_lettered}")
    expected = sizes.visits * UNIQUE_VISIT_POINTS
    total = _balances(sizes)
    if total != expected:
        raise RuntimeError(f"balances sum to {total}, expected {expected}")

    kinds, made, ok, analytics = _classify(log)
    per_k = 1000 / sizes.visits
    ops = log.ops()
    reads = sum(n for op, n in ops.items() if op in ("GetItem", "BatchGetItem", "Query", "Scan"))
    points_boards = kinds["balance"] + kinds["board"]
    beyond = points_boards + kinds["chain"]
    scale = "" if sizes.visits == 1000 else f" (x{per_k:g} from N={sizes.visits})"
    rate = sizes.visits / elapsed
    rows = [
        Row(
            "3. consumer throughput vs raw conditional PutItem",
            f"{rate / raw:.2f}x ({rate:.1f} first visits/s over {sizes.visits} visits to {sizes.employees} "
            f"employees, ParallelizationFactor {mapping.parallelization_factor}; raw {raw:.1f} puts/s)",
            ">= 0.5x",
            rate / raw >= 0.5,
        ),
        Row("3. ledger items written / 1,000 visits", f"{kinds['ledger'] * per_k:.0f}{scale}", "", None),
        Row(
            "3. balance+board items beyond ledger / 1,000",
            f"{points_boards * per_k:.0f} ({kinds['balance'] * per_k:.0f} balances + {kinds['board'] * per_k:.0f} "
            f"board rows){scale}",
            "<= 100",
            points_boards * per_k <= 100,
        ),
        Row("3. chain-node items beyond ledger / 1,000", f"{kinds['chain'] * per_k:.0f}{scale}", "", None),
        Row(
            "3. write requests (TransactWriteItems) / 1,000",
            f"{ok * per_k:.0f} ok of {made * per_k:.0f} made, ledger included; {reads * per_k:.0f} reads; "
            f"{poller.invocations} invocation(s), {elapsed:.1f}s",
            "<= 100",
            made * per_k <= 100,
        ),
        Row(
            "3. analytics items / 1,000 visits",
            f"{(analytics['ok'] and sum(v for k, v in analytics.items() if k not in ('made', 'ok'))) * per_k:.0f} "
            f"({analytics['AM'] * per_k:.0f} event markers, {analytics['A'] * per_k:.0f} dimension-day, "
            f"{analytics['AE'] * per_k:.0f} employee-day, {analytics['AV'] * per_k:.0f} profile items) in "
            f"{analytics['ok'] * per_k:.0f} ok of {analytics['made'] * per_k:.0f} TransactWriteItems{scale}",
            "",
            None,
        ),
    ]
    notes = [
        f"3: {sizes.visits} eligible first visits by distinct visitors to {sizes.employees} employees "
        f"({len(TEAMS)} teams, {len(REGIONS)} regions, one campaign, last 10 min); items counted per "
        "TransactWriteItems entry by key prefix (each = 1 write request, 2 WCU transactional); the "
        "analytics transactions (one marker per event + summed counters) are counted apart from the points ones; "
        f"beyond-ledger total incl. chain nodes {beyond * per_k:.0f}; balances verified = sum of ledger."
    ]
    return rows, notes

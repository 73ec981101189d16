"""Stream faults: every delivery accident converges to the state of one clean delivery.

Real traffic goes through the Chalice app (``chalice.test.Client``) into the visits table
of an in-process moto; its stream records are read from ``TRIM_HORIZON`` and turned into
Lambda-shaped events exactly as ``infra.poller`` does, then handed to
``functions/points_consumer.handler`` directly, under the faults a DynamoDB stream event
source mapping really produces: duplicate batches, full replays, other batch sizes,
reordering across items, a crash mid-batch, a poison record, bisection and the on-failure
destination. The state compared is everything the consumer owns, read three ways: the HTTP
read models (``GET /me`` for every employee, ``GET /leaderboards`` for every dimension x
period x campaign scope), the raw points table (every item, every attribute) and the chain
nodes it keeps in the main table. After every run the ledger invariant is checked too.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import STACK, auth

# Powertools warns when a batch adds no metric (metrics are disabled in tests anyway)
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TENANT = "acme"
VISITS = f"{STACK}-visits"
POINTS = f"{STACK}-points"
MAIN = f"{STACK}-main"
ANALYTICS = f"{STACK}-analytics"
# employee -> (team, region): three teams and three regions, crossed so neither nests in the other
EMPLOYEES = {
    "alice": ("sales", "kanto"),
    "bob": ("sales", "kansai"),
    "carol": ("eng", "kanto"),
    "dave": ("eng", "tohoku"),
    "erin": ("ops", "kansai"),
    "frank": ("ops", "tohoku"),
}
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.{n}"
BOTS = ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.4.0", "facebookexternalhit/1.1")


# ---------------------------------------------------------------- the world


@dataclass
class World:
    client: Any  # chalice.test.Client
    ddb: Any  # boto3 dynamodb client
    campaigns: list[str]
    records: list[dict[str, Any]]  # every Lambda-shaped stream record, in stream order
    poison_seq: str  # the one malformed record, in the middle of the stream
    handler: Callable[[dict[str, Any], Any], Any]
    admin: dict[str, str] = field(default_factory=lambda: auth(TENANT, "boss", "admin"))

    @property
    def good(self) -> list[dict[str, Any]]:
        return [r for r in self.records if seq(r) != self.poison_seq]


def seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {**headers, "Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = getattr(client.http, method)(path, **kwargs)
    assert resp.status_code in (200, 201), (method, path, resp.status_code, resp.body)
    return json.loads(resp.body)


def _stream_records(ddb: Any, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream from TRIM_HORIZON, shaped as Lambda receives them
    (``StreamPoller._lambda_record``) and round-tripped through JSON like a real invocation."""
    from infra.poller import StreamPoller

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shaper = StreamPoller(streams=streams, dynamodb=ddb, table_name=table, handler=lambda e, c: None)
    out: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            resp = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not resp.get("Records"):
                break
            out.extend(json.loads(json.dumps(shaper._lambda_record(r, arn))) for r in resp["Records"])
            iterator = resp.get("NextShardIterator")
    return out


def _traffic(client: Any, ddb: Any, campaigns: list[str]) -> None:
    """Public clicks: distinct visitors, repeats, one visitor on several links of a campaign
    (several owners, several channels), forwards through share tokens two hops deep, bots,
    HEAD requests, owner clicks; and one poison item half-way through the stream."""
    a, b = campaigns
    links: dict[tuple[str, str, str], str] = {}
    for i, emp in enumerate(EMPLOYEES):
        me = auth(TENANT, emp, "employee")
        for cid in campaigns[: 1 + i % 2]:
            for channel in ("wechat", "line"):
                body = {"channel": channel}
                links[(cid, emp, channel)] = _call(client, "post", f"/campaigns/{cid}/links", me, body)["code"]

    def get(code: str, n: int, *, rp: str | None = None, headers: dict[str, str] | None = None) -> str:
        path = f"/{code}" + (f"?rp={rp}" if rp else "")
        resp = client.http.get(path, headers={"User-Agent": BROWSER.format(n=n), **(headers or {})})
        assert resp.status_code == 302, resp.body
        return parse_qs(urlsplit(resp.headers["Location"]).query).get("rp", [""])[0]

    visitor = 0
    share: dict[str, str] = {}
    for i, emp in enumerate(EMPLOYEES):
        for _ in range(1 + i % 3):  # distinct visitors, 1 to 3 per employee
            visitor += 1
            share[emp] = get(links[(a, emp, "wechat")], visitor)
            get(links[(a, emp, "wechat")], visitor)  # the same visitor again: nothing new
            if visitor % 3 == 0:
                get(links[(a, emp, "line")], visitor)  # same campaign, other channel: nothing new
        if (b, emp, "wechat") in links:
            for n in (500, 501):  # the same two people open every campaign-B link: the first owner earns
                get(links[(b, emp, "wechat" if n % 2 else "line")], n)
        if i == 2:  # a writer bug, not a visit: the consumer must isolate it
            ddb.put_item(
                TableName=VISITS,
                Item={
                    "td": {"S": f"{TENANT}#1970-01-01#0"},
                    "pk": {"S": "0000000000000POISON"},
                    "tenant": {"S": TENANT},
                    "ts": {"S": "not a number"},
                },
            )
    for emp in list(EMPLOYEES)[:3]:  # forwards: new people through a customer's token, two hops
        visitor += 1
        child = get(links[(a, emp, "wechat")], visitor, rp=share[emp])
        get(links[(a, emp, "wechat")], visitor + 1000, rp=child)
    # what earns nothing (but is recorded, and delivered)
    for n in range(45):
        ua = BOTS[n % len(BOTS)]
        code = list(links.values())[n % len(links)]
        assert client.http.get(f"/{code}", headers={"User-Agent": ua}).status_code == 302
    for (_, emp, _), code in links.items():
        get(code, 77, headers=auth(TENANT, emp, "employee"))  # the owner's own click
        assert client.http.head(f"/{code}", headers={"User-Agent": BROWSER.format(n=1)}).status_code == 302


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """The ``aws`` fixture of tests/conftest.py, once per module: every test starts from a
    wiped points table (``fresh``) over the same recorded traffic, instead of paying for
    the traffic again."""
    import points_consumer
    from chalice.test import Client
    from moto import mock_aws

    import infra.moto_patches
    from app import app
    from infra.tables import create_tables
    from ripple import bootstrap

    infra.moto_patches.apply()  # item-scoped transactions: the points table grows large
    with mock_aws():
        aws = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(aws, STACK)
        bootstrap.reset()
        yield _build(aws, Client(app), points_consumer.handler)
        bootstrap.reset()


def _build(aws: Any, client: Any, handler: Callable[[dict[str, Any], Any], Any]) -> World:
    admin = auth(TENANT, "boss", "admin")
    _call(client, "put", "/admin/tenant", admin, {"name": "Acme", "timezone": "Asia/Tokyo"})
    for emp, (team, region) in EMPLOYEES.items():
        _call(client, "put", f"/admin/employees/{emp}", admin, {"name": emp.title(), "team": team, "region": region})
    campaigns = [
        _call(
            client,
            "post",
            "/admin/campaigns",
            admin,
            {"name": name, "destination_url": "https://example.com/p", "points": pts},
        )["campaign_id"]
        for name, pts in (("A", {"unique_visit": 10, "forward": 3, "lead": 0}), ("B", {"unique_visit": 7}))
    ]
    _traffic(client, aws, campaigns)
    records = _stream_records(aws, VISITS)
    poison = [seq(r) for r in records if r["dynamodb"]["Keys"]["pk"]["S"].endswith("POISON")]
    assert len(poison) == 1
    return World(client, aws, campaigns, records, poison[0], handler)


# ---------------------------------------------------------------- delivering and observing


def invoke(world: World, records: list[dict[str, Any]]) -> list[str]:
    """One Lambda invocation; returns the sequence numbers reported as failed."""
    from infra.lambda_context import LocalContext

    response = world.handler({"Records": records}, LocalContext(function_name="PointsConsumerFunction"))
    return [str(f["itemIdentifier"]) for f in response["batchItemFailures"]]


def deliver(world: World, records: list[dict[str, Any]], batch_size: int = 100) -> None:
    for start in range(0, len(records), batch_size):
        assert invoke(world, records[start : start + batch_size]) == []


def _scan(ddb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: item["pk"]["S"])
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _nodes(ddb: Any) -> list[dict[str, Any]]:
    return [item for item in _scan(ddb, MAIN) if item["pk"]["S"].startswith("NODE#")]


def wipe(world: World) -> None:
    """Forget everything the consumer wrote (points table, chain nodes): a clean slate."""
    from infra.template import table_definitions

    for table in (POINTS, ANALYTICS):
        definition = next(d for d in table_definitions(STACK).values() if d["TableName"] == table)
        world.ddb.delete_table(TableName=table)
        world.ddb.create_table(**{k: v for k, v in definition.items() if not k.startswith("_")})
    nodes = [{"DeleteRequest": {"Key": {"pk": item["pk"]}}} for item in _nodes(world.ddb)]
    for start in range(0, len(nodes), 25):
        assert not world.ddb.batch_write_item(RequestItems={MAIN: nodes[start : start + 25]}).get("UnprocessedItems")
    assert _scan(world.ddb, POINTS) == [] and _nodes(world.ddb) == [] and _scan(world.ddb, ANALYTICS) == []


@dataclass(frozen=True)
class State:
    points: list[dict[str, Any]]  # the raw points table: ledger, balances, board rows
    nodes: list[dict[str, Any]]  # the chain-tree nodes the consumer keeps in the main table
    balances: dict[str, Any]  # GET /me per employee
    boards: dict[str, Any]  # GET /leaderboards per dimension x period x scope
    analytics: list[dict[str, Any]]  # every counter, marker and profile item (marker TTLs aside)


def periods_of(points: list[dict[str, Any]]) -> list[str]:
    found = {item[p]["S"] for item in points if item["pk"]["S"].startswith("L#") for p in ("day", "week", "month")}
    return ["all", *sorted(found)]


def observe(world: World, periods: list[str], *, http: bool = True) -> State:
    points = _scan(world.ddb, POINTS)
    balances: dict[str, Any] = {}
    boards: dict[str, Any] = {}
    if http:
        for emp in EMPLOYEES:
            balances[emp] = _call(world.client, "get", "/me", auth(TENANT, emp, "employee"))["points"]
        for dim in ("employee", "team", "region"):
            for period in periods:
                for scope in ("", *world.campaigns):
                    query = f"dimension={dim}&period={period}&limit=100" + (f"&campaign_id={scope}" if scope else "")
                    boards[query] = _call(world.client, "get", f"/leaderboards?{query}", world.admin)["entries"]
    analytics = sorted(
        ({k: v for k, v in item.items() if k != "expires_at"} for item in _scan(world.ddb, ANALYTICS)),
        key=lambda item: (item["pk"]["S"], item["sk"]["S"]),
    )
    return State(points, _nodes(world.ddb), balances, boards, analytics)


def check_invariants(world: World) -> None:
    """Balance == sum of the ledger for every employee (through the adapters), every counter
    == the aggregate of the ledger entries it sums, and team/region rows == the sum of
    their employees' rows."""
    from ripple.adapters.repositories import DynamoPoints
    from ripple.domain.points import ALL_CAMPAIGNS, aggregate

    repo = DynamoPoints()
    balances, sums = repo.snapshot()
    assert balances == sums
    entries = []
    for emp in EMPLOYEES:
        ledger = repo.ledger(TENANT, emp)
        assert repo.balance(TENANT, emp) == sum(e.points for e in ledger) == sums.get((TENANT, emp), 0)
        entries.extend(ledger)
    assert len({e.source_key for e in entries}) == len(entries)  # one entry per outcome

    counters: dict[tuple[str, str], int] = {}
    for item in _scan(world.ddb, POINTS):
        pk = item["pk"]["S"]
        if pk.startswith("B#"):
            counters[(item["board"]["S"], item["member"]["S"])] = int(item["score"]["N"])
        elif pk.startswith("BAL#"):
            counters[("balance", pk.rsplit("#", 1)[1])] = int(item["balance"]["N"])
    expected = {
        (("balance", k.member) if k.dim == "balance" else (k.board, k.member)): v for k, v in aggregate(entries).items()
    }
    assert {k: v for k, v in counters.items() if v} == {k: v for k, v in expected.items() if v}

    rollup: dict[tuple[str, str], int] = defaultdict(int)
    for (board, member), score in counters.items():
        if board == "balance":
            continue
        tenant, dim, scope, period = board.split("#")
        if dim == "employee":
            team, region = EMPLOYEES[member]
            rollup[(f"{tenant}#team#{scope}#{period}", team)] += score
            rollup[(f"{tenant}#region#{scope}#{period}", region)] += score
    groups = {k: v for k, v in counters.items() if k[0] != "balance" and k[0].split("#")[1] in ("team", "region")}
    assert groups == dict(rollup)
    assert any(k[0].endswith(f"#{ALL_CAMPAIGNS}#all") for k in groups)  # the check saw real rows


@pytest.fixture(scope="module")
def clean(world: World) -> tuple[State, list[str]]:
    """The expected state: one clean delivery in stream order, batches of 100."""
    wipe(world)
    deliver(world, world.good)
    check_invariants(world)
    periods = periods_of(_scan(world.ddb, POINTS))
    return observe(world, periods), periods


@pytest.fixture
def baseline(world: World, clean: tuple[State, list[str]]) -> tuple[State, list[str]]:
    """The expected state, and a clean slate to reach it again."""
    wipe(world)
    return clean


def test_clean_delivery_pays_each_outcome_once(world: World, baseline: tuple[State, list[str]]) -> None:
    """The reference state is the right one, and not a trivial one: exactly one unique-visit
    entry per (campaign, visitor) with an eligible visit, paid to the owner of the visitor's
    first one in stream order; a forward entry when that first visit came through a token;
    nothing for repeats, bots, owner clicks or HEAD; everyone ranked by their balance."""
    expected, periods = baseline
    assert len(world.good) > 100  # more than one batch of 100
    assert len(periods) >= 4  # all + day + ISO week + month (more when run across midnight)
    first: dict[tuple[str, str], dict[str, Any]] = {}
    eligible = 0
    decisions: set[str] = set()
    for r in world.good:
        image = r["dynamodb"]["NewImage"]
        decisions.add(image["decision"]["S"])
        if image["decision"]["S"] == "eligible":
            eligible += 1
            first.setdefault((image["campaign_id"]["S"], image["visitor"]["S"]), image)
    assert {"eligible", "bot", "owner_click"} <= decisions
    assert eligible > len(first) + 5  # repeats exist, and earned nothing
    ledger = {i["source_key"]["S"]: i for i in expected.points if i["pk"]["S"].startswith("L#")}
    assert sorted(k for k in ledger if k.startswith("uv#")) == sorted(f"uv#{c}#{v}" for c, v in first)
    forwards = [f"fw#{c}#{v}" for (c, v), image in first.items() if image["via"]["S"] != "-"]
    assert len(forwards) == 6 and sorted(k for k in ledger if k.startswith("fw#")) == sorted(forwards)
    for (c, v), image in first.items():
        entry = ledger[f"uv#{c}#{v}"]
        assert (entry["employee_id"], entry["source_id"]) == (image["employee_id"], image["pk"])
    top = expected.boards["dimension=employee&period=all&limit=100"]
    assert {e["id"]: e["score"] for e in top} == {e: b["balance"] for e, b in expected.balances.items()}
    assert len({e["score"] for e in top}) > 3 and min(e["score"] for e in top) > 0  # a real ranking


# ---------------------------------------------------------------- (a) (b) (c) redelivery


def test_every_batch_delivered_twice(world: World, baseline: tuple[State, list[str]]) -> None:
    expected, periods = baseline
    for start in range(0, len(world.good), 100):
        batch = world.good[start : start + 100]
        assert invoke(world, batch) == []
        assert invoke(world, batch) == []
    assert observe(world, periods) == expected


def test_full_replay_from_trim_horizon_after_clean_run(world: World, baseline: tuple[State, list[str]]) -> None:
    expected, periods = baseline
    deliver(world, world.good)  # the clean run
    replay = _stream_records(world.ddb, VISITS)  # a fresh TRIM_HORIZON read, poison filtered as before
    deliver(world, [r for r in replay if seq(r) != world.poison_seq])
    assert observe(world, periods) == expected


def _visitor_of(record: dict[str, Any]) -> tuple[str, str]:
    image = record["dynamodb"].get("NewImage", {})
    return image.get("campaign_id", {}).get("S", ""), image.get("visitor", {}).get("S", "")


def reorder_across_items(records: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Shuffle records across items (visits are distinct items, so a stream may deliver them
    in any order across shards) while each (campaign, visitor)'s own visits keep their order."""
    queues: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        queues[_visitor_of(r)].append(r)
    slots = [key for key, queue in queues.items() for _ in queue]
    rng.shuffle(slots)
    return [queues[key].pop(0) for key in slots]


@pytest.mark.parametrize("batch_size", [1, 7, 100, 0], ids=["1", "7", "100", "one-batch-any-order"])
def test_records_reordered_across_items_and_batches(
    world: World, baseline: tuple[State, list[str]], batch_size: int
) -> None:
    """Shuffled across items and batches, each visitor's own visits in order. In one batch
    any order at all works: the consumer orders a batch by (ts, visit id) itself."""
    expected, periods = baseline
    rng = random.Random(batch_size)
    if batch_size:
        shuffled = reorder_across_items(world.good, rng)
    else:
        shuffled = rng.sample(world.good, len(world.good))
        batch_size = len(shuffled)
    assert shuffled != world.good and sorted(map(seq, shuffled)) == sorted(map(seq, world.good))
    deliver(world, shuffled, batch_size)
    assert observe(world, periods) == expected


def _ledger(points: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["pk"]["S"]: item for item in points if item["pk"]["S"].startswith("L#")}


def test_any_reorder_across_batches_still_pays_each_outcome_exactly_once(
    world: World, baseline: tuple[State, list[str]]
) -> None:
    """Even when one visitor's visits arrive in any order across batches, every outcome is
    paid exactly once: same ledger keys, same points, same total, invariants intact."""
    expected, periods = baseline
    deliver(world, random.Random(3).sample(world.good, len(world.good)), 25)
    check_invariants(world)
    got, want = _ledger(_scan(world.ddb, POINTS)), _ledger(expected.points)
    assert sorted(got) == sorted(want)
    assert {k: v["points"] for k, v in got.items()} == {k: v["points"] for k, v in want.items()}
    assert sum(b["balance"] for b in observe(world, periods).balances.values()) == sum(
        b["balance"] for b in expected.balances.values()
    )


def test_cross_batch_reorder_of_one_visitors_visits_keeps_attribution(world: World, baseline: Any) -> None:
    """One visitor's visits to several owners' links of a campaign, delivered latest first
    in separate batches: the earliest eligible visit still wins the unique-visit slot."""
    expected, periods = baseline
    b = world.campaigns[1]
    shared = [r for r in world.good if r["dynamodb"]["NewImage"].get("campaign_id", {}).get("S") == b]
    owners = {r["dynamodb"]["NewImage"]["employee_id"]["S"] for r in shared}
    assert len(owners) > 1  # the same people opened several owners' campaign-B links
    deliver(world, [r for r in world.good if r not in shared])
    deliver(world, list(reversed(shared)), 1)  # the later visits first, one batch each
    assert observe(world, periods).balances == expected.balances


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_redelivery_after_a_clean_run_changes_nothing(
    world: World, baseline: tuple[State, list[str]], data: st.DataObject
) -> None:
    """Property: once the stream has been applied, redelivering any slices of it, in any
    order, in any batch sizes, any number of times, leaves the raw state exactly as it is."""
    expected, _ = baseline
    records = world.good
    plan: list[tuple[list[dict[str, Any]], int]] = []
    for _ in range(data.draw(st.integers(1, 3), label="slices")):
        lo = data.draw(st.integers(0, len(records) - 1), label="from")
        order = data.draw(st.permutations(range(lo, min(len(records), lo + 25))), label="order")
        size = data.draw(st.sampled_from([1, 5, 20, 100]), label="batch size")
        plan.append(([records[i] for i in order[: data.draw(st.integers(1, 25), label="length")]], size))

    def run() -> State:
        if not world.ddb.scan(TableName=POINTS, Limit=1)["Items"]:
            deliver(world, records)  # the first example starts from the clean run
        for chunk, size in plan:
            deliver(world, chunk, size)
        return observe(world, [], http=False)

    # In a fresh thread: at the stack depth Hypothesis runs tests at, CPython 3.11 maps and
    # unmaps a frame-stack chunk on every call crossing it (~1.5 s of page faults per scan).
    with ThreadPoolExecutor(1) as pool:
        state = pool.submit(run).result()
    assert (state.points, state.nodes) == (expected.points, expected.nodes)


# ---------------------------------------------------------------- (d) crash mid-batch


@pytest.mark.parametrize("when", ["before_commit", "after_commit"])
def test_crash_mid_batch_then_lambda_retry(
    world: World, baseline: tuple[State, list[str]], monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The second transaction of the first batch fails (before it commits, or after it
    committed but before the handler could answer): the handler reports the whole batch,
    the batch is partly applied, and Lambda's retry of the same batch converges."""
    from ripple.adapters.repositories import DynamoPoints

    expected, periods = baseline
    original = DynamoPoints._transact
    calls: list[int] = []

    def flaky(self: DynamoPoints, entries: Any) -> int:
        calls.append(len(entries))
        if len(calls) == 2:
            if when == "after_commit":
                original(self, entries)
            raise RuntimeError("Lambda crashed mid-batch")
        return original(self, entries)

    monkeypatch.setattr(DynamoPoints, "_transact", flaky)
    first = world.good[:100]
    assert sorted(invoke(world, first)) == sorted(map(seq, first))  # every record reported for retry
    assert len(calls) == 2  # it stopped at the crash
    partial = _scan(world.ddb, POINTS)
    ledger_now = sum(1 for item in partial if item["pk"]["S"].startswith("L#"))
    assert 0 < ledger_now < sum(1 for item in expected.points if item["pk"]["S"].startswith("L#"))
    check_invariants(world)  # a partial batch is still a consistent state
    monkeypatch.setattr(DynamoPoints, "_transact", original)

    assert invoke(world, first) == []  # Lambda's retry of the same batch
    deliver(world, world.good[100:])
    assert observe(world, periods) == expected


# ---------------------------------------------------------------- (e) poison record


def test_poison_record_is_reported_alone_and_retry_from_it_converges(
    world: World, baseline: tuple[State, list[str]]
) -> None:
    expected, periods = baseline
    records = world.records
    at = [seq(r) for r in records].index(world.poison_seq)
    assert 10 < at < len(records) - 10  # in the middle
    start = at - 10
    assert invoke(world, records[:start]) == []
    batch = records[start : start + 100]
    assert invoke(world, batch) == [world.poison_seq]  # exactly that record, the rest applied
    applied = _scan(world.ddb, POINTS)
    assert applied  # good records of the batch, before and after the poison, landed
    check_invariants(world)
    # ESM: checkpoint before the first failure, retry from it (same batch size), until retries run out
    assert invoke(world, records[at : at + 100]) == [world.poison_seq]  # the retry: same answer
    assert _scan(world.ddb, POINTS) == applied  # retries changed nothing
    deliver(world, records[start + 100 :])
    assert observe(world, periods) == expected


@pytest.mark.parametrize("raising", [False, True], ids=["reported_failure", "function_error_bisect"])
def test_poller_sends_poison_to_dlq_and_continues(
    world: World, baseline: tuple[State, list[str]], tmp_path: Path, raising: bool
) -> None:
    """``infra.poller.StreamPoller`` with bisect on error and 2 retries: the poison ends up in
    the on-failure file, every good record is applied, and the poller moves on.

    ``reported_failure``: the real handler reports the poison in ``batchItemFailures``.
    ``function_error_bisect``: a handler that raises on any batch holding the poison, so the
    poller must bisect down to it."""
    from infra.poller import StreamPoller

    expected, periods = baseline
    handler = world.handler
    if raising:

        def handler(event: dict[str, Any], context: Any) -> Any:
            if any(seq(r) == world.poison_seq for r in event["Records"]):
                raise RuntimeError("poison")
            return world.handler(event, context)

    dlq = tmp_path / "dlq.jsonl"
    poller = StreamPoller(
        streams=boto3.client("dynamodbstreams", region_name="us-east-1"),
        dynamodb=world.ddb,
        table_name=VISITS,
        handler=handler,
        maximum_retry_attempts=1,
        dead_letter_path=dlq,
        interval=0,
    )
    poller.drain()
    lines = [json.loads(line) for line in dlq.read_text().splitlines()]
    assert len(lines) == 1 and poller.dead_lettered >= 1
    info = lines[0]["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == world.poison_seq
    assert lines[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert observe(world, periods) == expected  # nothing good was lost or doubled
    assert poller.poll_once() == 0  # it moved on: nothing left, no retry pending


# ---------------------------------------------------------------- analytics (issue 6)


def test_analytics_counters_agree_with_raw_visits_and_ledger(world: World, baseline: tuple[State, list[str]]) -> None:
    """The counters the consumer keeps answer what a full scan of the raw visits and the
    ledger would: totals, breakdowns by channel and employee, an employee's own view, the
    day series; and each answer reads at most one item per day (per value) asked."""
    expected, periods = baseline
    deliver(world, world.good)
    assert observe(world, periods, http=False).analytics == expected.analytics  # the reference state
    staff = ("bot", "owner_click", "employee_click")
    visits = [v for v in _scan(world.ddb, VISITS) if "tenant" in v and "kind" not in v and "ua" in v]
    people = [v for v in visits if v["decision"]["S"] not in staff]
    ledger = [e for e in _scan(world.ddb, POINTS) if e["pk"]["S"].startswith("L#")]
    uniques = [e for e in ledger if e["kind"]["S"] == "unique_visit" and "withheld" not in e["meta"]["M"]]
    forwards = [e for e in ledger if e["kind"]["S"] == "forward"]
    assert len(people) > 20 and len(uniques) > 10 and forwards  # a real workload

    days = sorted({e["day"]["S"] for e in ledger})
    window = f"from={days[0]}&to={days[-1]}"
    summary = _call(world.client, "get", f"/analytics/summary?{window}", world.admin)
    totals = summary["totals"]
    assert totals["exposures"] == len(visits)
    assert totals["visits"] == len(people)
    assert totals["unique_visitors"] == len(uniques)
    assert totals["forwards"] == len(forwards)
    assert totals["points"] == sum(int(e["points"]["N"]) for e in ledger)
    assert sum(summary["depth"].values()) == len(uniques)
    assert summary["depth"]["1"] == sum(1 for e in uniques if int(e["depth"]["N"]) == 1)
    assert [s["stage"] for s in summary["funnel"]] == ["exposure", "visit", "forward", "lead", "conversion"]
    assert summary["funnel"][1]["rate"] == round(len(people) / len(visits), 4)
    assert summary["items_read"] <= len(days)

    by_channel = _call(world.client, "get", f"/analytics/breakdown?by=channel&{window}", world.admin)
    want: dict[str, int] = defaultdict(int)
    for v in people:
        want[v["channel"]["S"]] += 1
    assert {r["key"]: r["visits"] for r in by_channel["rows"] if r["visits"]} == dict(want)
    assert by_channel["items_read"] <= len(days)

    by_employee = _call(world.client, "get", f"/analytics/breakdown?by=employee&{window}", world.admin)
    per_emp: dict[str, int] = defaultdict(int)
    for e in uniques:
        per_emp[e["employee_id"]["S"]] += 1
    assert {r["key"]: r["unique_visitors"] for r in by_employee["rows"] if r["unique_visitors"]} == dict(per_emp)
    assert by_employee["items_read"] <= len(days) * len(EMPLOYEES)
    assert {r["key"]: r["team"] for r in by_employee["rows"]} == {
        k: EMPLOYEES[k][0] for k in (r["key"] for r in by_employee["rows"])
    }

    alice = auth(TENANT, "alice", "employee")
    mine = _call(world.client, "get", f"/analytics/summary?{window}", alice)
    assert mine["employee"] == "alice" and mine["totals"]["unique_visitors"] == per_emp["alice"]
    series = _call(world.client, "get", f"/analytics/timeseries?{window}", world.admin)
    assert sum(d["visits"] for d in series["days"]) == len(people)
    assert [d["day"] for d in series["days"]] == days if len(days) > 1 else series["days"][0]["day"] == days[0]

    from ripple import bootstrap
    from ripple.service.analytics import refresh_segments

    report = refresh_segments(bootstrap.services(), [TENANT])
    distinct_people = {v["visitor"]["S"] for v in people}
    assert report["people"] == len(distinct_people)
    seg = _call(world.client, "get", "/analytics/segments", world.admin)
    assert sum(seg["segments"].values()) == len(distinct_people) == seg["reach"]["touched"]
    touched: dict[str, set[str]] = defaultdict(set)
    for v in people:
        touched[v["employee_id"]["S"]].add(v["visitor"]["S"])
    assert {r["employee_id"]: r["touched"] for r in seg["employees"]} == {k: len(v) for k, v in touched.items()}

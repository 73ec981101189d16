"""``infra.poller.StreamPoller`` honours ParallelizationFactor and the batching window.

The local stand-in must behave like Lambda's event source mapping, or the local stack
proves nothing about the deployed consumer: with ParallelizationFactor N, up to N batches
of one shard run at once, one item's records always in one batch and in stream order; a
failure in one lane holds the shard's checkpoint before it and every record is delivered
at least once; a short batch waits out MaximumBatchingWindowInSeconds unless drained.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3

from tests.conftest import STACK

TABLE = f"{STACK}-visits"


def _write(ddb: Any, n: int, *, versions: int = 1) -> list[str]:
    """``n`` items, each written ``versions`` times (an INSERT then MODIFYs): stream order per item."""
    keys = [f"item-{i:03d}" for i in range(n)]
    for version in range(versions):
        for key in keys:
            ddb.put_item(
                TableName=TABLE, Item={"td": {"S": "lanes#0"}, "pk": {"S": key}, "version": {"N": str(version)}}
            )
    return keys


def _poller(ddb: Any, handler: Any, **kwargs: Any) -> Any:
    from infra.poller import StreamPoller

    return StreamPoller(
        streams=boto3.client("dynamodbstreams", region_name="us-east-1"),
        dynamodb=ddb,
        table_name=TABLE,
        handler=handler,
        interval=0,
        **kwargs,
    )


class Recorder:
    """A handler that records its batches and how many of its calls overlapped."""

    def __init__(self, fail: set[tuple[str, int]] | None = None, delay: float = 0.05) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.fail = set(fail or ())
        self.delay = delay
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.delay)  # long enough for the other lanes to start
            seen = [
                (r["dynamodb"]["Keys"]["pk"]["S"], int(r["dynamodb"]["NewImage"]["version"]["N"]))
                for r in event["Records"]
            ]
            with self.lock:
                self.batches.append(seen)
            failures = [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r, s in zip(event["Records"], seen, strict=True)
                if s in self.fail
            ]
            return {"batchItemFailures": failures[:1]}
        finally:
            with self.lock:
                self.running -= 1


def test_lanes_run_at_once_and_keep_each_items_order(aws: Any) -> None:
    keys = _write(aws, 30, versions=3)
    handler = Recorder()
    poller = _poller(aws, handler, batch_size=10, parallelization_factor=3)
    assert poller.drain() == 90
    assert handler.most_at_once > 1  # lanes really ran concurrently
    assert max(len(b) for b in handler.batches) <= 10  # BatchSize holds per lane
    for key in keys:
        # batches are recorded as they finish, in any order across lanes: an item's records
        # come out in stream order only because one poll never splits an item over lanes
        versions = [v for batch in handler.batches for k, v in batch if k == key]
        assert versions == [0, 1, 2]


def test_factor_one_is_the_old_single_batch(aws: Any) -> None:
    _write(aws, 25)
    handler = Recorder(delay=0)
    poller = _poller(aws, handler, batch_size=10)
    assert poller.drain() == 25
    assert [len(b) for b in handler.batches] == [10, 10, 5]
    assert handler.most_at_once == 1


def test_a_failing_lane_holds_the_checkpoint_and_everything_is_delivered(aws: Any) -> None:
    keys = _write(aws, 30)
    poison = (keys[17], 0)
    handler = Recorder(fail={poison}, delay=0.01)
    poller = _poller(aws, handler, batch_size=10, parallelization_factor=3, maximum_retry_attempts=2)
    poller.drain()
    delivered = {s for batch in handler.batches for s in batch}
    assert delivered == {(k, 0) for k in keys}  # nothing skipped
    assert poller.dead_lettered == 1  # only the poison went on failure, once its retries ran out
    attempts = sum(batch.count(poison) for batch in handler.batches)
    assert attempts == 3  # the first try and two retries
    assert poller.poll_once() == 0  # and the shard moved on


def test_a_short_batch_waits_for_the_batching_window(aws: Any) -> None:
    _write(aws, 3)
    handler = Recorder(delay=0)
    poller = _poller(aws, handler, batch_size=100, batching_window_s=0.3)
    assert poller.poll_once() == 0  # three records: less than a batch, the window has just begun
    assert handler.batches == []
    time.sleep(0.35)
    assert poller.poll_once() == 3  # the window passed
    _write(aws, 2, versions=2)  # item-000 and item-001 again: four more records
    assert poller.drain() == 4  # drain (tests, benchmarks) never waits


def test_the_local_stack_reads_both_settings_from_the_template() -> None:
    """``ripple dev`` builds its pollers from ``stream_mappings``: the visits mapping's
    parameters (defaults) reach the poller, so the local stack runs lanes as deployed."""
    from infra.template import load_template, stream_mappings

    template = load_template()
    params = template["Parameters"]
    (mapping,) = [m for m in stream_mappings(template) if m.function == "PointsConsumerFunction"]
    assert mapping.parallelization_factor == int(params["PointsParallelizationFactor"]["Default"]) > 1
    assert mapping.batching_window_s == float(params["PointsBatchingWindowSeconds"]["Default"])

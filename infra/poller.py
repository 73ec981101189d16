"""DynamoDB Streams -> Lambda handler, with event-source-mapping semantics.

What AWS Lambda's event source mapping does, reproduced for the local stack:

* polls each shard and invokes the handler with up to ``BatchSize`` Lambda-shaped records;
* at-least-once: a batch is retried until it succeeds or retries run out;
* ``ReportBatchItemFailures``: the handler's ``batchItemFailures`` checkpoint the shard just
  before the lowest failed sequence number, and the next batch starts there;
* ``BisectBatchOnFunctionError``: a batch whose invocation raises is split in two;
* ``MaximumRetryAttempts``: when exhausted, a Lambda-style on-failure record goes to the
  destination (a JSON-lines file here, SQS on AWS) and the shard moves on;
* ``MaximumBatchingWindowInSeconds``: a batch smaller than ``BatchSize`` waits until the
  window has passed since the shard first had it waiting (``drain`` does not wait);
* ``ParallelizationFactor``: up to that many batches of one shard run at once, records
  spread over them by a hash of their item key, so one item's records stay in order in
  one batch. The shard's checkpoint moves past a record only when every earlier record of
  every lane succeeded; records after the first failure are delivered again (at least
  once: AWS keeps a checkpoint per lane and redelivers less, never fewer).

Each poll takes a fresh ``AFTER_SEQUENCE_NUMBER`` iterator: moto orphans older iterators
when a cancelled transaction rewinds a shard.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.lambda_context import LocalContext

__all__ = ["Handler", "StreamPoller"]

log = logging.getLogger("ripple.poller")
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class _ShardState:
    checkpoint: str | None = None  # last sequence number fully processed
    attempts: int = 0
    waiting_since: float | None = None  # monotonic time a short batch began waiting (batching window)


@dataclass
class StreamPoller:
    streams: Any  # boto3 dynamodbstreams client
    dynamodb: Any  # boto3 dynamodb client
    table_name: str
    handler: Handler
    function_name: str = "local"
    batch_size: int = 100
    report_batch_item_failures: bool = True
    bisect_on_error: bool = True
    maximum_retry_attempts: int = 10
    starting_position: str = "TRIM_HORIZON"
    dead_letter_path: Path | None = None
    interval: float = 0.1
    region: str = "us-east-1"
    batching_window_s: float = 0.0
    parallelization_factor: int = 1
    invocations: int = 0
    records_delivered: int = 0
    dead_lettered: int = 0
    _isolated: bool = False  # only the last failed record goes on failure (bisected down to it, or lanes ran on)
    _shards: dict[str, _ShardState] = field(default_factory=dict)
    _stream_arn: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ---------------------------------------------------------------- plumbing

    def _arn(self) -> str:
        if self._stream_arn is None:
            table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = table["LatestStreamArn"]
        return self._stream_arn

    def _lambda_record(self, record: dict[str, Any], arn: str) -> dict[str, Any]:
        out = dict(record)
        ddb = dict(out["dynamodb"])
        created = ddb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            ddb["ApproximateCreationDateTime"] = created.timestamp()
        out["dynamodb"] = ddb
        out["eventSourceARN"] = arn
        out.setdefault("eventSource", "aws:dynamodb")
        out.setdefault("awsRegion", self.region)
        return out

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """Deliver ``records``; return the index of the first failed one, or None."""
        failed_at, isolated = self._invoke_lane(records)
        if failed_at is not None:
            self._isolated = isolated
        return failed_at

    def _invoke_lane(self, records: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """Deliver ``records``: (index of the first failed one or None, whether that failure
        is a function error bisected down to that one record)."""
        with self._lock:
            self.invocations += 1
        try:
            response = self.handler({"Records": records}, LocalContext(function_name=self.function_name))
        except Exception:
            log.exception("%s raised on a batch of %d", self.function_name, len(records))
            if self.bisect_on_error and len(records) > 1:
                mid = len(records) // 2
                first = self._invoke_lane(records[:mid])
                if first[0] is not None:
                    return first
                second = self._invoke_lane(records[mid:])
                return (None, False) if second[0] is None else (mid + second[0], second[1])
            return 0, len(records) == 1
        if not self.report_batch_item_failures:
            return None, False
        failures = (response or {}).get("batchItemFailures") or []
        if not failures:
            return None, False
        failed = {str(f.get("itemIdentifier")) for f in failures}
        for index, record in enumerate(records):
            if record["dynamodb"]["SequenceNumber"] in failed:
                return index, False
        return 0, False  # an identifier we do not know: Lambda treats the whole batch as failed

    def _lanes(self, records: list[dict[str, Any]]) -> list[list[int]]:
        """Indices of ``records`` per concurrent batch: by a hash of the item key, so one
        item's records keep their order; a prefix of the records in stream order, so no
        lane holds more than ``batch_size`` (the rest wait for the next poll)."""
        n = max(1, self.parallelization_factor)
        lanes: list[list[int]] = [[] for _ in range(n)]
        for index, record in enumerate(records):
            key = json.dumps(record["dynamodb"].get("Keys", {}), sort_keys=True, default=str)
            lane = lanes[zlib.crc32(key.encode()) % n] if n > 1 else lanes[0]
            if len(lane) >= self.batch_size:
                break
            lane.append(index)
        return [lane for lane in lanes if lane]

    def _deliver(self, records: list[dict[str, Any]]) -> tuple[int, int | None]:
        """Deliver one shard's records, in up to ``parallelization_factor`` concurrent
        batches: (how many records of ``records`` were taken, the stream index of the first
        failed record or None). ``_isolated`` says whether only that record may go on failure."""
        lanes = self._lanes(records)
        taken = sum(len(lane) for lane in lanes)
        if len(lanes) == 1:
            return taken, self._invoke([records[i] for i in lanes[0]])
        with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix=self.function_name) as pool:
            results = list(pool.map(lambda lane: self._invoke_lane([records[i] for i in lane]), lanes))
        failures = [(lane[at], isolated) for lane, (at, isolated) in zip(lanes, results, strict=True) if at is not None]
        if not failures:
            return taken, None
        first, _ = min(failures)
        # Other lanes ran past ``first``: when retries run out only that record goes to the
        # on-failure destination, and everything after it is delivered again.
        self._isolated = True
        return first + 1, first

    def _dead_letter(self, shard_id: str, records: list[dict[str, Any]], arn: str) -> None:
        self.dead_lettered += len(records)
        info = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function_name},
            "timestamp": datetime.now().astimezone().isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": arn,
            },
        }
        log.error("retries exhausted, batch sent to on-failure destination: %s", info["DDBStreamBatchInfo"])
        if self.dead_letter_path is not None:
            self.dead_letter_path.parent.mkdir(parents=True, exist_ok=True)
            with self.dead_letter_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(info) + "\n")

    # ---------------------------------------------------------------- polling

    def poll_once(self, *, flush: bool = False) -> int:
        """One pass over every shard; returns how many records were delivered. ``flush``
        delivers short batches without waiting out the batching window."""
        arn = self._arn()
        delivered = 0
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        limit = self.batch_size * max(1, self.parallelization_factor)
        for shard in shards:
            shard_id = shard["ShardId"]
            state = self._shards.setdefault(shard_id, _ShardState())
            if state.checkpoint is not None:
                kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": state.checkpoint}
            else:
                kwargs = {"ShardIteratorType": self.starting_position}
            iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, **kwargs)["ShardIterator"]
            raw = self.streams.get_records(ShardIterator=iterator, Limit=limit).get("Records", [])
            if not raw:
                continue
            if self._waits(state, len(raw), limit, flush):
                continue
            records = [self._lambda_record(r, arn) for r in raw]
            taken, failed_at = self._deliver(records)
            delivered += taken if failed_at is None else failed_at
            if failed_at is None:
                state.checkpoint = records[taken - 1]["dynamodb"]["SequenceNumber"]
                state.attempts = 0
                continue
            if failed_at > 0:
                state.checkpoint = records[failed_at - 1]["dynamodb"]["SequenceNumber"]
                state.attempts = 0
            state.attempts += 1
            if 0 <= self.maximum_retry_attempts < state.attempts:
                # Bisected to one record: only it goes; the ones after it were never delivered.
                end = failed_at + 1 if self._isolated else taken
                self._dead_letter(shard_id, records[failed_at:end], arn)
                state.checkpoint = records[end - 1]["dynamodb"]["SequenceNumber"]
                state.attempts = 0
            else:
                time.sleep(min(2.0, self.interval * 2**state.attempts))
        self.records_delivered += delivered
        return delivered

    def _waits(self, state: _ShardState, n: int, limit: int, flush: bool) -> bool:
        """Whether a short batch still waits for its batching window (retries never wait)."""
        if flush or n >= limit or self.batching_window_s <= 0 or state.attempts:
            state.waiting_since = None
            return False
        now = time.monotonic()
        if state.waiting_since is None:
            state.waiting_since = now
        if now - state.waiting_since < self.batching_window_s:
            return True
        state.waiting_since = None
        return False

    def drain(self, max_polls: int = 10_000) -> int:
        """Poll until a pass delivers nothing (tests and benchmarks)."""
        total = 0
        for _ in range(max_polls):
            dead_lettered = self.dead_lettered
            n = self.poll_once(flush=True)
            total += n
            # a pass that only dead-lettered a batch delivered nothing but moved the shard on
            if n == 0 and self.dead_lettered == dead_lettered and all(s.attempts == 0 for s in self._shards.values()):
                return total
        return total

    def reset(self, *, from_trim_horizon: bool = True) -> None:
        """Forget checkpoints: the next poll replays the stream (fault tests)."""
        if from_trim_horizon:
            self._shards.clear()

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if self.poll_once() == 0:
                    stop.wait(self.interval)
            except Exception:
                log.exception("poller error on %s; retrying", self.table_name)
                self._stream_arn = None
                stop.wait(1.0)

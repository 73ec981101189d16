"""Make moto's DynamoDB transactions behave like DynamoDB's under load.

moto 5.2's ``transact_write_items`` deep-copies a whole table once *per item* of the
transaction to be able to roll back, and rolls back by swapping the table object. On a
points table with thousands of rows a 100-item transaction then takes seconds, and the
swap discards writes other threads made meanwhile and orphans open stream iterators.

This patch keeps moto's semantics (conditions, cancellation reasons, stream records) but
snapshots only the items the transaction touches, restores exactly those on cancellation,
drops the stream records the cancelled transaction emitted, and serialises writes with one
lock so a transaction is atomic with respect to concurrent requests, as on AWS.

Readers take the same lock, for the whole request: moto applies a transaction's items one by
one, in place, and restores them when it cancels, so a GetItem, Query, Scan or GetRecords
running meanwhile would see half a transaction, or one that is then rolled back (a reward's
stock at 99 during a refused redemption; a board with the new score and a balance without it;
stream records that are then withdrawn). The lock is held around each DynamoDB and DynamoDB
Streams request from parsing to the serialised response, because moto's responses serialise
the very item objects a later transaction mutates in place. Real DynamoDB never shows either.

Applied only by the local stack (``infra.moto_server``) and the in-process test fixtures;
the product code never sees it.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["apply"]

_LOCK = threading.RLock()
_applied = False


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto.dynamodb.models: tables are not
    deep-copied (we snapshot items instead), everything else is."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(obj: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(obj, Table):
            return obj
        return copy.deepcopy(obj, memo)


def _key_of(table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    source = op["Item"] if op_type == "Put" else op["Key"]
    hash_value = DynamoType(source[table.hash_key_attr])
    range_value = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Any, hash_value: Any, range_value: Any, old: Any) -> None:
    if range_value is not None:
        bucket = table.items[hash_value]
        if old is None:
            bucket.pop(range_value, None)
        else:
            bucket[range_value] = old
    elif old is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = old


def _wrap_transact(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            snapshots: list[tuple[Any, Any, Any, Any]] = []
            shards: dict[int, tuple[Any, int]] = {}
            for entry in transact_items[:100]:
                try:
                    op_type, op = next(iter(entry.items()))
                    table = self.get_table(op["TableName"])
                    hash_value, range_value = _key_of(table, op_type, op)
                    current = table.get_item(hash_value, range_value)
                except Exception:  # malformed request: moto's own validation reports it
                    continue
                snapshots.append((table, hash_value, range_value, copy.deepcopy(current)))
                shard = getattr(table, "stream_shard", None)
                if shard is not None and id(shard) not in shards:
                    shards[id(shard)] = (shard, len(shard.items))
            try:
                original(self, transact_items)
            except Exception:
                for table, hash_value, range_value, old in reversed(snapshots):
                    _restore(table, hash_value, range_value, old)
                for shard, length in shards.values():
                    del shard.items[length:]
                raise

    return transact_write_items


def _wrap_locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(*args, **kwargs)

    return locked


_FAST_JSON = ("Query", "Scan", "BatchGetItem", "GetItem")


def _fast_item_json(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto 5.2 serialises every response through its generic shape-driven serializer,
    ~13 ms per DynamoDB item (a 1,500-item Query takes 20 s and times out at 5 s). Results of
    the item-returning reads are already DynamoDB's wire JSON once ``dynamo_to_dict`` ran,
    so they are dumped as they are (absent keys dropped, as the serializer does)."""

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in _FAST_JSON and isinstance(self.result, dict):
            body = {k: v for k, v in self.result.items() if v is not None}
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)
        return original(self, context)

    return execute_result


def apply() -> None:
    """Idempotently patch moto's DynamoDB backend (call before serving requests)."""
    global _applied
    if _applied:
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    # every request, reads included, sees the tables between two writes, never during one
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _wrap_locked(handler.call_action)  # type: ignore[method-assign]

    from infra import cognito_patches, ses

    cognito_patches.apply()
    ses.apply()

    models.copy = _NoTableCopy()  # type: ignore[assignment,attr-defined]
    backend = models.DynamoDBBackend
    backend.transact_write_items = _wrap_transact(backend.transact_write_items)  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item", "batch_write_item"):
        if hasattr(backend, name):
            setattr(backend, name, _wrap_locked(getattr(backend, name)))
    from moto.dynamodb import responses

    responses.DynamoResult.execute_result = _fast_item_json(responses.DynamoResult.execute_result)  # type: ignore[method-assign]
    _applied = True

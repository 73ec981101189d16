"""Count DynamoDB API calls, whoever makes them (boto3 clients and PynamoDB alike).

Every botocore client (PynamoDB creates its own session and client) funnels operations
through ``BaseClient._make_api_call``; wrapping it once records each operation with its
parameters and response, so items written or read can be counted exactly.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "CallLog", "install", "recording"]

READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass(frozen=True, slots=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None  # None when the call raised


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)

    def dynamodb(self) -> list[Call]:
        return [c for c in self.calls if c.service == "dynamodb"]

    def ops(self) -> Counter[str]:
        return Counter(c.operation for c in self.dynamodb())

    def reads(self) -> int:
        return sum(1 for c in self.dynamodb() if c.operation in READS)

    def writes(self) -> int:
        return sum(1 for c in self.dynamodb() if c.operation in WRITES)

    def items_read(self) -> int:
        """Items the service read for Query/Scan (ScannedCount: what capacity is charged on)."""
        total = 0
        for c in self.dynamodb():
            if c.operation in ("Query", "Scan") and c.response is not None:
                total += int(c.response.get("ScannedCount", c.response.get("Count", 0)))
            elif c.operation == "GetItem" and c.response is not None and "Item" in c.response:
                total += 1
        return total

    def pages(self, operation: str = "Query") -> int:
        return sum(1 for c in self.dynamodb() if c.operation == operation)


_lock = threading.Lock()
_active: list[CallLog] = []
_installed = False


def install() -> None:
    """Wrap ``botocore.client.BaseClient._make_api_call`` (idempotent)."""
    global _installed
    if _installed:
        return
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        response: dict[str, Any] | None = None
        try:
            response = original(self, operation_name, api_params)
            return response
        finally:
            if _active:
                call = Call(self.meta.service_model.service_name, operation_name, dict(api_params), response)
                with _lock:
                    for log in _active:
                        log.calls.append(call)

    BaseClient._make_api_call = _make_api_call
    _installed = True


@contextlib.contextmanager
def recording() -> Iterator[CallLog]:
    install()
    log = CallLog()
    with _lock:
        _active.append(log)
    try:
        yield log
    finally:
        with _lock:
            _active.remove(log)

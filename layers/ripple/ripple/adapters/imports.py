"""Employee import jobs in the main table, and starting the ImportFunction.

* ``IMP#tenant#id`` — the job: status, counts, the cursor ``next_chunk`` and a lease.
* ``IMPC#tenant#id#<n:05d>`` — chunk *n* of the plan: up to ``CHUNK`` rows as JSON with the
  action decided at upload (``create`` | ``update`` | ``unchanged``). The plan is written
  in full before the job item, so a job that exists always has all its rows.
* ``IMPD#tenant#<sha256>`` — the file's digest → the job that imports it, so the same file
  sent again while its job is still queued or running returns that job instead of a second.

Progress moves by a conditional update (``next_chunk`` still the value the worker read), so
two workers (a Lambda retry racing a resume) never count a chunk twice.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from ripple.adapters.models import MainItem
from ripple.domain.timeutil import ms_to_iso

__all__ = [
    "CHUNK",
    "DynamoImports",
    "ImportChunkItem",
    "ImportFunctionError",
    "ImportJobItem",
    "invoke_import_function",
]

CHUNK = 200  # rows per chunk item (~20 KB) and per progress step
_local_lock = threading.Lock()


class ImportFunctionError(RuntimeError):
    pass


class ImportJobItem(MainItem):
    tenant = UnicodeAttribute()
    import_id = UnicodeAttribute()
    status = UnicodeAttribute(default="queued")  # queued | running | done | failed
    requested_by = UnicodeAttribute(default="")
    encoding = UnicodeAttribute(default="")
    digest = UnicodeAttribute(default="")
    rows = NumberAttribute(default=0)  # data rows in the file
    total = NumberAttribute(default=0)  # rows the job applies (create + update + unchanged)
    planned_create = NumberAttribute(default=0)
    planned_update = NumberAttribute(default=0)
    planned_unchanged = NumberAttribute(default=0)
    chunks = NumberAttribute(default=0)
    next_chunk = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    failures = UnicodeAttribute(null=True)  # JSON list of the first row failures
    lease_until = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    error = UnicodeAttribute(null=True)
    created_at = NumberAttribute(default=0)
    started_at = NumberAttribute(null=True)
    finished_at = NumberAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, import_id: str) -> str:
        return f"IMP#{tenant_id}#{import_id}"

    def to_public(self) -> dict[str, Any]:
        total = int(self.total or 0)
        processed = int(self.processed or 0)
        return {
            "import_id": self.import_id,
            "status": self.status,
            "encoding": self.encoding,
            "rows": int(self.rows or 0),
            "total": total,
            "processed": processed,
            "progress": 1.0 if total == 0 else round(processed / total, 4),
            "planned": {
                "create": int(self.planned_create or 0),
                "update": int(self.planned_update or 0),
                "unchanged": int(self.planned_unchanged or 0),
            },
            "created": int(self.created or 0),
            "updated": int(self.updated or 0),
            "unchanged": int(self.unchanged or 0),
            "failed": int(self.failed or 0),
            "failures": json.loads(self.failures) if self.failures else [],
            "error": self.error,
            "created_at": ms_to_iso(int(self.created_at or 0)),
            "finished_at": ms_to_iso(int(self.finished_at)) if self.finished_at else None,
        }


class ImportChunkItem(MainItem):
    rows = UnicodeAttribute()  # JSON: [[action, row dict], ...]

    @staticmethod
    def key(tenant_id: str, import_id: str, n: int) -> str:
        return f"IMPC#{tenant_id}#{import_id}#{n:05d}"


class ImportDigestItem(MainItem):
    import_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, digest: str) -> str:
        return f"IMPD#{tenant_id}#{digest}"


class DynamoImports:
    def job_for_digest(self, tenant_id: str, digest: str) -> str | None:
        try:
            return str(ImportDigestItem.get(ImportDigestItem.key(tenant_id, digest)).import_id)
        except DoesNotExist:
            return None

    def create(self, job: ImportJobItem, chunks: Sequence[list[Any]]) -> None:
        """Chunks first, then the digest record, then the job: a crash in between leaves
        unreferenced chunks (harmless), never a job with missing rows."""
        with ImportChunkItem.batch_write() as batch:
            for n, rows in enumerate(chunks):
                batch.save(ImportChunkItem(ImportChunkItem.key(job.tenant, job.import_id, n), rows=json.dumps(rows)))
        ImportDigestItem(ImportDigestItem.key(job.tenant, job.digest), import_id=job.import_id).save()
        job.pk = ImportJobItem.key(job.tenant, job.import_id)
        job.gsi1pk = f"{job.tenant}#IMP"
        job.gsi1sk = f"{int(job.created_at):013d}#{job.import_id}"
        job.save(condition=ImportJobItem.pk.does_not_exist())

    def get(self, tenant_id: str, import_id: str) -> ImportJobItem | None:
        try:
            item = ImportJobItem.get(ImportJobItem.key(tenant_id, import_id), consistent_read=True)
        except DoesNotExist:
            return None
        return item if item.tenant == tenant_id else None

    def chunk(self, tenant_id: str, import_id: str, n: int) -> list[Any]:
        item = ImportChunkItem.get(ImportChunkItem.key(tenant_id, import_id, n), consistent_read=True)
        rows: list[Any] = json.loads(item.rows)
        return rows

    def claim(self, job: ImportJobItem, now: int, lease_ms: int) -> bool:
        """Take the job (queued, or running with an expired lease): one worker at a time."""
        try:
            job.update(
                actions=[
                    ImportJobItem.status.set("running"),
                    ImportJobItem.lease_until.set(now + lease_ms),
                    ImportJobItem.attempts.add(1),
                    ImportJobItem.started_at.set(job.started_at or now),
                ],
                condition=ImportJobItem.status.is_in("queued", "running") & (ImportJobItem.lease_until < now),
            )
        except UpdateError:
            return False
        return True

    def advance(
        self, job: ImportJobItem, n: int, counts: dict[str, int], failures: list[dict[str, Any]], lease_until: int
    ) -> bool:
        """Record chunk *n* done, conditional on the cursor still being *n*."""
        actions: list[Action] = [
            ImportJobItem.next_chunk.set(n + 1),
            ImportJobItem.lease_until.set(lease_until),
            ImportJobItem.processed.add(sum(counts.values())),
            ImportJobItem.created.add(counts.get("create", 0)),
            ImportJobItem.updated.add(counts.get("update", 0)),
            ImportJobItem.unchanged.add(counts.get("unchanged", 0)),
            ImportJobItem.failed.add(counts.get("failed", 0)),
        ]
        if failures:
            kept = (json.loads(job.failures) if job.failures else []) + failures
            actions.append(ImportJobItem.failures.set(json.dumps(kept[:200])))
        try:
            job.update(actions=actions, condition=ImportJobItem.next_chunk == n)
        except UpdateError:
            job.refresh(consistent_read=True)
            return False
        return True

    def release(self, job: ImportJobItem) -> None:
        job.update(actions=[ImportJobItem.lease_until.set(0)])

    def finish(self, job: ImportJobItem, status: str, now: int, error: str | None = None) -> None:
        actions: list[Action] = [
            ImportJobItem.status.set(status),
            ImportJobItem.finished_at.set(now),
            ImportJobItem.lease_until.set(0),
        ]
        if error:
            actions.append(ImportJobItem.error.set(error))
        job.update(actions=actions)


def _invoke_mode() -> str:
    """``lambda`` on AWS; locally the same handler in a background thread (``thread``, the
    local stack: the request returns at once and progress is visible) or in the request
    (``local``, the functional tests: the 202 already reports the finished job)."""
    env = os.environ.get("RIPPLE_ENV", "local")
    default = {"local": "thread", "test": "local"}.get(env, "lambda")
    return os.environ.get("RIPPLE_IMPORT_INVOKE", default)


def _local_handler() -> Any:
    """``functions/imports.py`` imported in-process (local stack and tests only)."""
    with _local_lock:
        functions_dir = str(Path(__file__).resolve().parents[4] / "functions")
        if functions_dir not in sys.path:
            sys.path.append(functions_dir)
        import importlib

        return importlib.import_module("imports").handler


def invoke_import_function(payload: dict[str, Any]) -> None:
    """Start (or resume) an import: an asynchronous ``Invoke`` of ``RIPPLE_IMPORT_FUNCTION``
    on AWS (Lambda retries a crashed run twice; the lease lets the retry resume)."""
    mode = _invoke_mode()
    if mode == "local":
        _local_handler()(payload, None)
        return
    if mode == "thread":
        threading.Thread(target=_local_handler(), args=(payload, None), daemon=True, name="import").start()
        return
    import boto3

    name = os.environ.get("RIPPLE_IMPORT_FUNCTION", "")
    if not name:
        raise ImportFunctionError("RIPPLE_IMPORT_FUNCTION is not set")
    resp = boto3.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    if int(resp.get("StatusCode", 0)) != 202:
        raise ImportFunctionError(f"import function invoke returned {resp.get('StatusCode')}")

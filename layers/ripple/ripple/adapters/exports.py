"""CSV exports: the job record, the row sources and the streaming S3 writer.

* ``EXP#tenant#id`` in the main table records a job (kind, range, status, S3 key, counts).
* Row sources iterate DynamoDB query pages lazily (PynamoDB fetches the next page only when
  the previous one is consumed), never a whole result set:
  - customers: GSI ``by-tenant`` ``<tenant>#CUSTOMERS``, sort key ``created_at`` in range;
  - ledger: for every employee of the tenant (``<tenant>#EMP``), GSI ``ledger-by-owner``
    with the sort key ``<ts:013d>#…`` in range;
  - leads: the ``lead`` events of customer histories (``<tenant>#CEV#<customer>``) in range,
    for every customer created before the range's end: one Query per customer (the visits
    table also carries lead events but has no tenant index).
* ``write_csv_to_s3`` streams rows into an S3 multipart upload, ~8 MB per part: memory is
  bounded by one part whatever the row count. UTF-8 with a BOM, so Excel reads CJK.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from ripple.adapters.models import CustomerEventItem, CustomerItem, EmployeeItem, LedgerItem, MainItem
from ripple.domain.exports import COLUMNS, safe_cell
from ripple.domain.timeutil import ms_to_iso

__all__ = [
    "PART_SIZE",
    "DynamoExports",
    "ExportFunctionError",
    "ExportItem",
    "WriteResult",
    "invoke_export_function",
    "rows_for",
    "write_csv_to_s3",
]

PART_SIZE = 8 * 1024 * 1024  # S3 parts must be >= 5 MiB except the last one
BOM = "\ufeff".encode()
_FLUSH_ROWS = 512  # rows encoded from the text buffer into the part buffer at a time
PAGE = 500


class ExportItem(MainItem):
    tenant = UnicodeAttribute()
    export_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    from_day = UnicodeAttribute()
    to_day = UnicodeAttribute()
    start_ms = NumberAttribute()
    end_ms = NumberAttribute()
    status = UnicodeAttribute(default="queued")  # queued | running | done | failed
    requested_by = UnicodeAttribute(default="")
    s3_key = UnicodeAttribute(default="")
    rows = NumberAttribute(null=True)
    size = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = NumberAttribute(default=0)
    finished_at = NumberAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, export_id: str) -> str:
        return f"EXP#{tenant_id}#{export_id}"

    def to_public(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "status": self.status,
            "kind": self.kind,
            "from": self.from_day,
            "to": self.to_day,
            "rows": None if self.rows is None else int(self.rows),
            "bytes": None if self.size is None else int(self.size),
            "error": self.error,
            "created_at": ms_to_iso(int(self.created_at or 0)),
            "finished_at": ms_to_iso(int(self.finished_at)) if self.finished_at else None,
        }


class DynamoExports:
    def create(self, item: ExportItem) -> None:
        item.pk = ExportItem.key(item.tenant, item.export_id)
        item.gsi1pk = f"{item.tenant}#EXP"
        item.gsi1sk = f"{int(item.created_at):013d}#{item.export_id}"
        item.save(condition=ExportItem.pk.does_not_exist())

    def get(self, tenant_id: str, export_id: str) -> ExportItem | None:
        try:
            item = ExportItem.get(ExportItem.key(tenant_id, export_id))
        except DoesNotExist:
            return None
        return item if item.tenant == tenant_id else None

    def update(self, item: ExportItem, **fields: Any) -> None:
        actions = []
        for name, value in fields.items():
            attr = getattr(ExportItem, name)
            actions.append(attr.remove() if value is None else attr.set(value))
            setattr(item, name, value)
        item.update(actions=actions)


# ------------------------------------------------------------------ row sources


def _customers(tenant_id: str, start_ms: int, end_ms: int) -> Iterator[CustomerItem]:
    items: Iterable[CustomerItem] = CustomerItem.by_tenant.query(  # type: ignore[assignment]
        CustomerItem.listing(tenant_id),
        MainItem.gsi1sk.between(f"{start_ms:013d}", f"{end_ms:013d}"),
        page_size=PAGE,
    )
    yield from items


def customer_rows(tenant_id: str, start_ms: int, end_ms: int) -> Iterator[Sequence[Any]]:
    for c in _customers(tenant_id, start_ms, end_ms):
        yield (
            c.customer_id,
            ms_to_iso(int(c.created_at or 0)),
            c.name,
            c.phone,
            c.email,
            c.status,
            c.owner,
            " ".join(c.tags or []),
            c.source_campaign,
            c.source_channel,
            c.first_touch_employee,
            c.last_touch_employee,
            int(c.depth or 0),
            int(c.leads or 0),
            ms_to_iso(int(c.consent_at)) if c.consent_at else "",
        )


def lead_rows(tenant_id: str, start_ms: int, end_ms: int) -> Iterator[Sequence[Any]]:
    for customer in _customers(tenant_id, 0, end_ms):
        events: Iterable[CustomerEventItem] = CustomerEventItem.by_tenant.query(  # type: ignore[assignment]
            CustomerEventItem.history(tenant_id, customer.customer_id),
            MainItem.gsi1sk.between(f"{start_ms:013d}", f"{end_ms:013d}"),
            filter_condition=CustomerEventItem.kind == "lead",
            page_size=PAGE,
        )
        for e in events:
            data: dict[str, Any] = e.data.as_dict() if e.data is not None else {}
            yield (
                str(e.attribute_values.get("gsi1sk", "")).split("#", 1)[-1],
                ms_to_iso(int(e.ts)),
                e.customer_id,
                data.get("campaign_id", ""),
                data.get("channel", ""),
                data.get("code", ""),
                data.get("employee_id", ""),
                data.get("depth", ""),
                data.get("lang", ""),
                data.get("message", ""),
            )


def ledger_rows(tenant_id: str, start_ms: int, end_ms: int) -> Iterator[Sequence[Any]]:
    employees: Iterable[EmployeeItem] = EmployeeItem.by_tenant.query(f"{tenant_id}#EMP")  # type: ignore[assignment]
    for employee in employees:
        entries: Iterable[LedgerItem] = LedgerItem.by_owner.query(
            f"{tenant_id}#{employee.employee_id}",
            LedgerItem.sort.between(f"{start_ms:013d}", f"{end_ms:013d}"),
            page_size=PAGE,
        )
        for e in entries:
            yield (
                ms_to_iso(int(e.ts)),
                e.employee_id,
                e.kind,
                int(e.points),
                e.status or "final",
                e.campaign_id,
                e.team,
                e.region,
                e.day,
                e.source_key,
            )


def visit_rows(tenant_id: str, start_ms: int, end_ms: int) -> Iterator[Sequence[Any]]:
    """Every recorded visit (and lead/conversion event) of the range: one Query per UTC day
    and shard of the visits table itself (its key is the tenant's day and shard, its sort key
    the time-prefixed id), one page at a time (never a Scan)."""
    import time as _time

    from ripple.adapters.models import TENANT_DAY_SHARDS, VisitItem

    day_ms = 86_400_000
    first = start_ms - start_ms % day_ms
    for day_start in range(first, end_ms, day_ms):
        day = _time.strftime("%Y-%m-%d", _time.gmtime(day_start // 1000))
        for shard in range(TENANT_DAY_SHARDS):
            items: Iterable[VisitItem] = VisitItem.query(
                f"{tenant_id}#{day}#{shard}",
                # the partition is one UTC day; a range cut inside it (the tenant's own day
                # boundaries) filters on the stored time, not on the id's format
                filter_condition=VisitItem.ts.between(start_ms, end_ms - 1),
                page_size=PAGE,
            )
            for v in items:
                yield (
                    v.pk,
                    ms_to_iso(int(v.ts)),
                    v.kind or "visit",
                    v.code,
                    v.campaign_id,
                    v.employee_id,
                    v.channel,
                    v.decision,
                    v.ua,
                    v.country or "",
                    v.via,
                    int(v.depth or 1),
                )


_SOURCES = {"customers": customer_rows, "leads": lead_rows, "ledger": ledger_rows, "visits": visit_rows}


def rows_for(kind: str, tenant_id: str, start_ms: int, end_ms: int) -> Iterator[Sequence[Any]]:
    return _SOURCES[kind](tenant_id, start_ms, end_ms)


# ------------------------------------------------------------------ the streaming writer


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: int
    size: int
    parts: int


def write_csv_to_s3(
    client: Any,
    bucket: str,
    key: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    part_size: int = PART_SIZE,
    filename: str = "export.csv",
) -> WriteResult:
    """Stream ``rows`` as CSV into ``s3://bucket/key`` by multipart upload; memory stays
    around one part (the rows are consumed lazily). The upload is aborted on any error."""
    upload = client.create_multipart_upload(
        Bucket=bucket,
        Key=key,
        ContentType="text/csv; charset=utf-8",
        ContentDisposition=f'attachment; filename="{filename}"',
    )
    upload_id = upload["UploadId"]
    parts: list[dict[str, Any]] = []
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    buffer = bytearray(BOM)
    count = size = 0

    def send(data: bytes) -> None:
        resp = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=len(parts) + 1, Body=data)
        parts.append({"ETag": resp["ETag"], "PartNumber": len(parts) + 1})

    def drain() -> None:
        buffer.extend(text.getvalue().encode("utf-8"))
        text.seek(0)
        text.truncate()

    try:
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            count += 1
            if count % _FLUSH_ROWS == 0:
                drain()
                if len(buffer) >= part_size:
                    size += len(buffer)
                    send(bytes(buffer))
                    buffer.clear()
        drain()
        if buffer or not parts:
            size += len(buffer)
            send(bytes(buffer))
            buffer.clear()
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        raise
    return WriteResult(rows=count, size=size, parts=len(parts))


def header_for(kind: str) -> tuple[str, ...]:
    return COLUMNS[kind]


# ------------------------------------------------------------------ the export function


class ExportFunctionError(RuntimeError):
    """The export function could not be invoked (not the client's fault)."""


_local_lock = threading.Lock()


def _invoke_mode() -> str:
    default = "local" if os.environ.get("RIPPLE_ENV", "local") in ("local", "test") else "lambda"
    return os.environ.get("RIPPLE_EXPORT_INVOKE", default)


def _local_handler() -> Any:
    """``functions/exports.py`` imported in-process (local stack and tests only)."""
    with _local_lock:
        functions_dir = str(Path(__file__).resolve().parents[4] / "functions")
        if functions_dir not in sys.path:
            sys.path.append(functions_dir)
        import importlib

        return importlib.import_module("exports").handler


def invoke_export_function(payload: dict[str, Any]) -> None:
    """Start the export: an asynchronous ``Invoke`` (``InvocationType=Event``) of
    ``RIPPLE_EXPORT_FUNCTION`` on AWS, so the API answers at once; a synchronous in-process
    call locally (``RIPPLE_EXPORT_INVOKE=local``, the default for local/test)."""
    if _invoke_mode() == "local":
        _local_handler()(payload, None)
        return
    import boto3

    name = os.environ.get("RIPPLE_EXPORT_FUNCTION", "")
    if not name:
        raise ExportFunctionError("RIPPLE_EXPORT_FUNCTION is not set")
    resp = boto3.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
    if int(resp.get("StatusCode", 0)) != 202:
        raise ExportFunctionError(f"export function invoke returned {resp.get('StatusCode')}")

"""CSV export use cases: start one (admin), read its status and download URL, run it.

``start_export`` validates, records the job and invokes the ExportFunction (asynchronously on
AWS); ``run_export`` is that function's body: it streams the rows into S3 and marks the job
done (or failed). ``get_export`` hands back a presigned URL once the file exists. Jobs are
tenant-scoped: another tenant's id is a 404, like a missing one.
"""

from __future__ import annotations

import logging
from typing import Any

from ripple.domain.errors import NotFoundError
from ripple.domain.model import Role
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["URL_TTL", "get_export", "run_export", "start_export"]

URL_TTL = 900  # seconds a download URL stays valid
log = logging.getLogger("ripple.exports")


def start_export(svc: Services, principal: Principal, body: dict[str, Any], invoke: Any = None) -> dict[str, Any]:
    from ripple.adapters.exports import DynamoExports, ExportItem, invoke_export_function
    from ripple.domain.exports import parse_export_request

    require_role(principal, Role.ADMIN)
    tenant = svc.tenants.get(principal.tenant_id)
    rng = parse_export_request(body, tenant.timezone)
    export_id = f"{svc.clock():013d}{svc.ids(8)}"
    item = ExportItem(
        tenant=principal.tenant_id,
        export_id=export_id,
        kind=rng.kind,
        from_day=rng.from_day,
        to_day=rng.to_day,
        start_ms=rng.start_ms,
        end_ms=rng.end_ms,
        requested_by=principal.sub,
        s3_key=f"exports/{principal.tenant_id}/{export_id}/{rng.kind}-{rng.from_day}-{rng.to_day}.csv",
        created_at=svc.clock(),
    )
    store = DynamoExports()
    store.create(item)
    (invoke or invoke_export_function)({"op": "export", "tenant": principal.tenant_id, "export_id": export_id})
    # Locally (and for a tiny range) the job may already be done: answer exactly what GET would,
    # download link included, so a client never sees "done" without somewhere to download it.
    return _public(store.get(principal.tenant_id, export_id) or item)


def get_export(svc: Services, principal: Principal, export_id: str, blobs: Any = None) -> dict[str, Any]:
    from ripple.adapters.exports import DynamoExports
    from ripple.domain.validation import check_id

    require_role(principal, Role.ADMIN)
    check_id(export_id, "export_id")
    item = DynamoExports().get(principal.tenant_id, export_id)
    if item is None:
        raise NotFoundError("no such export")
    return _public(item, blobs)


def _public(item: Any, blobs: Any = None) -> dict[str, Any]:
    """A job as clients see it; a done one carries a fresh short-lived download URL."""
    out: dict[str, Any] = item.to_public()
    if item.status == "done":
        if blobs is None:
            from ripple.adapters.posters import S3Blobs

            blobs = S3Blobs()
        out["url"] = blobs.presign(item.s3_key, expires=URL_TTL)
        out["expires_in"] = URL_TTL
    return out


def run_export(
    tenant_id: str, export_id: str, *, client: Any = None, bucket: str | None = None, clock: Any = None
) -> dict[str, Any]:
    """The ExportFunction's work: idempotent for a redelivered event (a done job is left alone)."""
    import os
    import time

    from ripple.adapters.exports import DynamoExports, header_for, rows_for, write_csv_to_s3

    now = clock or (lambda: time.time_ns() // 1_000_000)
    store = DynamoExports()
    item = store.get(tenant_id, export_id)
    if item is None:
        return {"ok": False, "reason": "no such export"}
    if item.status == "done":
        return {"ok": True, "rows": int(item.rows or 0)}
    if client is None:
        from ripple.adapters.posters import _s3_client

        client = _s3_client()
    store.update(item, status="running")
    try:
        result = write_csv_to_s3(
            client,
            bucket or os.environ.get("RIPPLE_BUCKET", ""),
            item.s3_key,
            header_for(item.kind),
            rows_for(item.kind, tenant_id, int(item.start_ms), int(item.end_ms)),
            filename=item.s3_key.rsplit("/", 1)[-1],
        )
    except Exception as exc:
        log.exception("export %s/%s failed", tenant_id, export_id)
        store.update(item, status="failed", error=type(exc).__name__, finished_at=now())
        return {"ok": False, "reason": type(exc).__name__}
    store.update(item, status="done", rows=result.rows, size=result.size, finished_at=now())
    return {"ok": True, "rows": result.rows, "bytes": result.size, "parts": result.parts}

"""Employee CSV import use cases: dry run, start a job, read its progress, resume it, run it.

``start_import`` checks the whole file first (``domain.imports``: encoding, header, every
row, duplicates in the file and against stored employees); any error and nothing is
written — the dry run returns the same report with ``dry_run: true``. A clean file becomes a
job (its plan in chunk items) that the ImportFunction applies: every row goes through the
``upsert_employee`` use case, the same as ``PUT /admin/employees/{id}``, so whatever that use
case does for an employee (e.g. its identity-provider user) happens for imported ones too.

Idempotent: applying a row is an upsert of the same values, rows that already match are
skipped, and the cursor moves chunk by chunk with a conditional update, so a crashed run
resumed (Lambda's retry, or ``resume_import``) finishes with every row applied once in the
counts; the same file sent while its job still runs returns that job.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ripple.domain.errors import ConflictError, NotFoundError, RippleError, ValidationError
from ripple.domain.model import Role
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["LEASE_MS", "get_import", "resume_import", "run_import", "start_import"]

LEASE_MS = 120_000  # a worker silent this long is presumed dead; its job may be taken over
WORKERS = 8  # rows applied in flight
log = logging.getLogger("ripple.imports")


def _flag(query: dict[str, str]) -> bool:
    from ripple.domain.validation import reject_unknown_params

    reject_unknown_params(query, {"dry_run"})
    raw = query.get("dry_run", "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise ValidationError("dry_run must be true or false", details={"field": "dry_run"})
    return raw in ("true", "1")


def _report(plan: dict[str, Any], encoding: str, *, dry_run: bool) -> dict[str, Any]:
    from ripple.domain.imports import MAX_LISTED_ERRORS

    errors = plan["errors"]
    return {
        "dry_run": dry_run,
        "encoding": encoding,
        "rows": plan["rows"],
        "valid": plan["valid"],
        "planned": plan["counts"],
        "error_count": len(errors),
        "errors": [e.to_dict() for e in errors[:MAX_LISTED_ERRORS]],
    }


def start_import(
    svc: Services, principal: Principal, raw: bytes | None, query: dict[str, str], invoke: Any = None
) -> tuple[int, dict[str, Any]]:
    """``(status, body)``: 200 dry-run report, 202 job (200 when the same file's job runs),
    422 report when any row is wrong (nothing written)."""
    from ripple.adapters.imports import CHUNK, DynamoImports, ImportJobItem, invoke_import_function
    from ripple.domain.imports import Existing, parse_employee_csv, plan_import

    require_role(principal, Role.ADMIN)
    dry_run = _flag(query)
    parsed = parse_employee_csv(raw or b"")
    # only the employees and addresses the file names: two BatchGets per 100 rows, never
    # the whole tenant (90,000 people) per upload
    tenant_id = principal.tenant_id
    stored = svc.employees.batch_get((tenant_id, row.employee_id) for row in parsed.rows)
    existing = [Existing(e.employee_id, e.name, e.team, e.region, e.email, e.role, e.active) for e in stored.values()]
    owners = svc.employees.owners_of_emails(tenant_id, [row.email for row in parsed.rows if row.email])
    plan = plan_import(parsed, existing, owners)
    report = _report(plan, parsed.encoding, dry_run=dry_run)
    if plan["errors"]:
        if dry_run:
            return 200, report
        raise ValidationError(
            f"{len(plan['errors'])} row(s) have errors; nothing was imported",
            details={"code": "rows", **report},
        )
    if dry_run:
        return 200, report
    store = DynamoImports()
    digest = hashlib.sha256(raw or b"").hexdigest()
    previous_id = store.job_for_digest(principal.tenant_id, digest)
    if previous_id:
        previous = store.get(principal.tenant_id, previous_id)
        if previous is not None and previous.status in ("queued", "running"):
            return 200, {**previous.to_public(), "duplicate": True}
    rows = [[action, row.to_dict()] for action, row in plan["apply"]]
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    import_id = f"{svc.clock():013d}{svc.ids(8)}"
    job = ImportJobItem(
        tenant=principal.tenant_id,
        import_id=import_id,
        requested_by=principal.sub,
        encoding=parsed.encoding,
        digest=digest,
        rows=plan["rows"],
        total=len(rows),
        planned_create=plan["counts"]["create"],
        planned_update=plan["counts"]["update"],
        planned_unchanged=plan["counts"]["unchanged"],
        chunks=len(chunks),
        created_at=svc.clock(),
    )
    store.create(job, chunks)
    (invoke or invoke_import_function)({"op": "import", "tenant": principal.tenant_id, "import_id": import_id})
    saved = store.get(principal.tenant_id, import_id)
    return 202, (saved or job).to_public()


def _job(principal: Principal, import_id: str) -> Any:
    from ripple.adapters.imports import DynamoImports
    from ripple.domain.validation import check_id

    require_role(principal, Role.ADMIN)
    check_id(import_id, "import_id")
    job = DynamoImports().get(principal.tenant_id, import_id)
    if job is None:
        raise NotFoundError("no such import")
    return job


def get_import(svc: Services, principal: Principal, import_id: str) -> dict[str, Any]:
    out: dict[str, Any] = _job(principal, import_id).to_public()
    return out


def resume_import(svc: Services, principal: Principal, import_id: str, invoke: Any = None) -> dict[str, Any]:
    """Start a worker again for a job whose worker died (its lease expired); 409 while a
    worker holds the lease, 409 for a finished job."""
    from ripple.adapters.imports import invoke_import_function

    job = _job(principal, import_id)
    if job.status in ("done", "failed"):
        raise ConflictError(f"import {import_id} is {job.status}")
    if int(job.lease_until or 0) >= svc.clock():
        raise ConflictError(f"import {import_id} is running", details={"lease_until": int(job.lease_until)})
    (invoke or invoke_import_function)({"op": "import", "tenant": principal.tenant_id, "import_id": import_id})
    out: dict[str, Any] = _job(principal, import_id).to_public()
    return out


def run_import(
    svc: Services,
    tenant_id: str,
    import_id: str,
    *,
    clock: Callable[[], int] | None = None,
    apply_row: Callable[[Principal, Any], None] | None = None,
) -> dict[str, Any]:
    """The ImportFunction's work. Claims the job (one worker at a time), applies chunk after
    chunk from the cursor, and finishes it. ``apply_row`` defaults to ``upsert_employee``."""
    from ripple.adapters.imports import DynamoImports
    from ripple.domain.imports import ImportRow
    from ripple.service.admin import upsert_employee

    now = clock or (lambda: time.time_ns() // 1_000_000)
    store = DynamoImports()
    job = store.get(tenant_id, import_id)
    if job is None:
        return {"ok": False, "reason": "no such import"}
    if job.status in ("done", "failed"):
        return {"ok": True, "status": job.status, "processed": int(job.processed or 0)}
    if not store.claim(job, now(), LEASE_MS):
        return {"ok": False, "reason": "another worker holds the lease"}
    job.refresh(consistent_read=True)
    admin = Principal(tenant_id=tenant_id, sub=job.requested_by or "import", role=Role.ADMIN)

    def default_apply(principal: Principal, row: ImportRow) -> None:
        upsert_employee(svc, principal, row.employee_id, row.body())

    apply = apply_row or default_apply

    def one(entry: list[Any]) -> tuple[str, dict[str, Any] | None]:
        action, raw = entry
        row = ImportRow.from_dict(raw)
        if action == "unchanged":
            return "unchanged", None
        try:
            apply(admin, row)
        except RippleError as exc:  # e.g. the identity provider refusing the e-mail
            return "failed", {"line": row.line, "id": row.employee_id, "message": exc.message}
        return action, None

    try:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            while int(job.next_chunk) < int(job.chunks):
                n = int(job.next_chunk)
                results = list(pool.map(one, store.chunk(tenant_id, import_id, n)))
                counts: dict[str, int] = {}
                failures = []
                for outcome, failure in results:
                    counts[outcome] = counts.get(outcome, 0) + 1
                    if failure:
                        failures.append(failure)
                if not store.advance(job, n, counts, failures, now() + LEASE_MS):
                    log.warning("import %s/%s: chunk %d was recorded by another worker", tenant_id, import_id, n)
                    if job.status in ("done", "failed"):
                        break
    except Exception:
        # a crash (throttling, a timeout, a bug): give the lease back so Lambda's retry or a
        # resume continues from the cursor at once instead of waiting for it to expire
        log.exception("import %s/%s stopped at chunk %s", tenant_id, import_id, job.next_chunk)
        store.release(job)
        raise
    if job.status not in ("done", "failed"):
        store.finish(job, "done", now())
    job.refresh(consistent_read=True)
    return {"ok": True, "status": job.status, "processed": int(job.processed or 0), "failed": int(job.failed or 0)}

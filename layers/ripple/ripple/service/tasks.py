"""Promotion tasks (issue 5): distribute in one call, employees' task inbox, live progress.

Distribution is synchronous: ``create_task`` validates everything first (nothing is
written on a 4xx), then issues each targeted employee's links with ``issue_link`` (the same
rules as ``POST /campaigns/{id}/links``; existing links are reused) and writes one
assignment per employee with batch writes. Audience x channels is capped at
``MAX_SYNC_LINKS`` so the call stays well inside API Gateway's 29 s.

Status and outcomes are moved by the points stream consumer: ``record_outcomes`` gets the
ledger entries a batch inserted (and those it found already there, so a crash between the
ledger write and this update heals on redelivery). Each counted entry leaves a marker
``(task, employee, source key)`` in the same transaction as the counters it moves, so
counting is exactly once however often a batch is applied.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast
from urllib.parse import urlencode

from ripple.domain.errors import NotFoundError, ValidationError
from ripple.domain.model import Campaign, Employee, LedgerEntry, Role
from ripple.domain.tasks import (
    MAX_SYNC_LINKS,
    MAX_TASK_BODY_BYTES,
    OutcomeConflict,
    OutcomeDelta,
    copy_index,
    counts_for_task,
    plan_outcomes,
    resolve_audience,
    status_of,
    validate_proof,
    validate_task,
)
from ripple.domain.timeutil import ms_to_iso
from ripple.domain.validation import check_id, parse_json_body, validate_limit
from ripple.service import notifications, webhooks
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.links import issue_link

__all__ = [
    "admin_task",
    "create_task",
    "list_my_tasks",
    "open_my_task",
    "poster_url",
    "record_outcomes",
    "submit_proof",
]

POSTER_FORMAT = "jpeg"
LINK_WORKERS = 8  # concurrent link issuance during distribution


class _Known:
    """A repository stand-in that answers ``get`` from rows already read, so issuing
    hundreds of links does not re-read the campaign and each employee per link."""

    def __init__(self, rows: dict[tuple[str, str], Any]) -> None:
        self._rows = rows

    def get(self, tenant_id: str, item_id: str) -> Any:
        return self._rows.get((tenant_id, item_id))


def _tasks(svc: Services) -> Any:
    if svc.tasks is None:  # pragma: no cover - wired by bootstrap
        raise RuntimeError("promotion tasks are not configured")
    return svc.tasks


def _campaign(svc: Services, tenant_id: str, campaign_id: str) -> Campaign:
    campaign = svc.campaigns.get(tenant_id, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    return campaign


def _audience_pool(svc: Services, principal: Principal, kind: str, ids: Sequence[str]) -> list[Employee]:
    if kind == "employees":
        found = svc.employees.batch_get((principal.tenant_id, i) for i in ids)
        unknown = sorted(i for i in ids if (principal.tenant_id, i) not in found)
        if unknown:
            raise ValidationError(
                f"unknown employee(s): {', '.join(unknown)}", details={"field": "audience.employees", "ids": unknown}
            )
        return list(found.values())
    return svc.employees.in_tenant(principal.tenant_id)


def create_task(svc: Services, principal: Principal, raw_body: bytes | str | None) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    body = parse_json_body(raw_body, max_bytes=MAX_TASK_BODY_BYTES)
    now = svc.clock()
    spec = validate_task(body, now)
    campaign = _campaign(svc, principal.tenant_id, spec.campaign_id)
    if campaign.ends_at is not None and now >= campaign.ends_at:
        raise ValidationError(f"campaign {spec.campaign_id} has ended", details={"field": "campaign_id"})
    pool = _audience_pool(svc, principal, spec.audience.kind, spec.audience.ids)
    audience, skipped = resolve_audience(spec.audience, pool)
    if not audience:
        raise ValidationError("the audience has no active employees", details={"field": "audience"})
    if len(audience) * len(spec.channels) > MAX_SYNC_LINKS:
        raise ValidationError(
            f"audience x channels is {len(audience) * len(spec.channels)}; one task distributes at most "
            f"{MAX_SYNC_LINKS} links synchronously: split the audience",
            details={"field": "audience", "limit": MAX_SYNC_LINKS},
        )
    # Everything is valid: from here on, write.
    known = dataclasses.replace(
        svc,
        campaigns=cast(Any, _Known({(principal.tenant_id, campaign.campaign_id): campaign})),
        employees=cast(Any, _Known({(e.tenant_id, e.employee_id): e for e in audience})),
    )

    def link(employee: Employee, channel: str) -> str:
        as_employee = Principal(principal.tenant_id, employee.employee_id, Role.EMPLOYEE)
        return issue_link(known, as_employee, campaign.campaign_id, {"channel": channel})[0].code

    # Issuing a link is 1-2 round trips of I/O: overlap them (botocore clients are thread-safe).
    # The first one runs alone so the lazily created clients exist before the threads start.
    wanted = [(e, c) for e in audience for c in spec.channels]
    codes = [link(*wanted[0])]
    with ThreadPoolExecutor(max_workers=LINK_WORKERS) as executor:
        codes.extend(executor.map(lambda pair: link(*pair), wanted[1:]))
    width = len(spec.channels)
    assignments = [
        {
            "employee_id": employee.employee_id,
            "team": employee.team,
            "region": employee.region,
            "copy_index": copy_index(position, len(spec.copies)),
            "links": dict(zip(spec.channels, codes[position * width : (position + 1) * width], strict=True)),
        }
        for position, employee in enumerate(audience)
    ]
    task_id = "t" + svc.ids(11)
    spec_json = {
        "campaign_id": spec.campaign_id,
        "title": spec.title,
        "copies": [c.to_dict() for c in spec.copies],
        "channels": list(spec.channels),
        "materials": list(spec.materials),
        "poster_template_id": spec.poster_template_id,
        "deadline": spec.deadline,
    }
    _tasks(svc).create(
        tenant_id=principal.tenant_id,
        task_id=task_id,
        spec_json=spec_json,
        audience=spec.audience,
        assignments=assignments,
        now=now,
        created_by=principal.sub,
    )
    task = _tasks(svc).get(principal.tenant_id, task_id)
    recipients = [employee.employee_id for employee in audience]
    notifications.task_distributed(svc, principal.tenant_id, task_id, spec.title, spec.deadline, recipients)
    webhooks.safe_emit(
        svc,
        principal.tenant_id,
        "task.created",
        {**spec_json, "task_id": task_id, "audience_size": len(assignments), "created_at": now},
        task_id,
    )
    closing = {"task_id": task_id, "campaign_id": spec.campaign_id, "title": spec.title, "deadline": spec.deadline}
    webhooks.safe_emit(svc, principal.tenant_id, "task.completed", closing, task_id, due_at=spec.deadline)
    out = _task_view(task, now)
    out["audience_size"] = len(assignments)
    out["skipped"] = skipped
    return out


# ------------------------------------------------------------------ views


def _task_view(task: Any, now: int) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "campaign_id": task.campaign_id,
        "title": task.title,
        "materials": list(task.materials),
        "copies": [c.to_dict() for c in task.copies],
        "poster_template_id": task.poster_template_id,
        "channels": list(task.channels),
        "audience": task.audience,
        "audience_size": task.audience_size,
        "deadline": ms_to_iso(task.deadline),
        "state": "open" if now < task.deadline else "closed",
        "created_at": ms_to_iso(task.created_at),
        "created_by": task.created_by,
    }


def poster_url(
    svc: Services, tenant_id: str, employee_id: str, campaign_id: str, channel: str, template_id: str, fmt: str
) -> str:
    """The employee's poster for one channel: the posters module's URL when it is deployed,
    else the API route that renders it (``GET /campaigns/{id}/poster``)."""
    try:
        posters = importlib.import_module("ripple.service.posters")
    except ImportError:
        posters = None
    impl = getattr(posters, "poster_url", None)
    if impl is not None:
        return str(impl(svc, tenant_id, employee_id, campaign_id, channel, template_id, fmt))
    query = urlencode({"channel": channel, "template": template_id, "format": fmt})
    return f"/campaigns/{campaign_id}/poster?{query}"


def _absolute(url: str, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{url}" if url.startswith("/") else url


def _my_view(svc: Services, task: Any, a: Any, base_url: str, now: int) -> dict[str, Any]:
    copy = task.copies[a.copy_index % len(task.copies)]
    posters = []
    if task.poster_template_id:
        for channel in task.channels:
            url = poster_url(
                svc, a.tenant_id, a.employee_id, task.campaign_id, channel, task.poster_template_id, POSTER_FORMAT
            )
            posters.append({"channel": channel, "url": _absolute(url, base_url)})
    proof = None
    if a.proof_at is not None:
        proof = {"url": a.proof_url, "screenshot_material_id": a.proof_material_id, "at": ms_to_iso(a.proof_at)}
    return {
        "task_id": task.task_id,
        "campaign_id": task.campaign_id,
        "title": task.title,
        "deadline": ms_to_iso(task.deadline),
        "state": "open" if now < task.deadline else "closed",
        "status": status_of(a.opened_at, a.shared_at),
        "delivered_at": ms_to_iso(a.delivered_at),
        "opened_at": ms_to_iso(a.opened_at),
        "shared_at": ms_to_iso(a.shared_at),
        "copy": {**copy.to_dict(), "variant": a.copy_index % len(task.copies)},
        "materials": list(task.materials),
        "links": [
            {"channel": c, "code": a.links[c], "short_url": f"{base_url.rstrip('/')}/{a.links[c]}"}
            for c in task.channels
            if c in a.links
        ],
        "posters": posters,
        "outcomes": {"unique_visits": a.unique_visits, "forwards": a.forwards, "leads": a.leads},
        "proof": proof,
    }


def list_my_tasks(svc: Services, principal: Principal, base_url: str, query: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.EMPLOYEE)
    unknown = sorted(set(query) - {"limit"})
    if unknown:
        raise ValidationError(f"unknown parameter(s): {', '.join(unknown)}", details={"fields": unknown})
    limit = validate_limit(query.get("limit"), default=50, maximum=100)
    repo = _tasks(svc)
    mine = repo.mine(principal.tenant_id, principal.sub, limit)
    tasks = repo.tasks(principal.tenant_id, {a.task_id for a in mine})
    now = svc.clock()
    return {
        "items": [_my_view(svc, tasks[a.task_id], a, base_url, now) for a in mine if a.task_id in tasks],
        "next_cursor": None,
    }


def _mine(svc: Services, principal: Principal, task_id: str) -> tuple[Any, Any]:
    require_role(principal, Role.EMPLOYEE)
    check_id(task_id, "task_id")
    repo = _tasks(svc)
    a = repo.assignment(principal.tenant_id, task_id, principal.sub)
    task = repo.get(principal.tenant_id, task_id) if a is not None else None
    if a is None or task is None:
        raise NotFoundError(f"task {task_id} not found")
    return task, a


def open_my_task(svc: Services, principal: Principal, task_id: str, base_url: str) -> dict[str, Any]:
    """The task as the employee sees it; the first call marks it opened."""
    task, a = _mine(svc, principal, task_id)
    now = svc.clock()
    if a.opened_at is None and _tasks(svc).mark_opened(a, now):
        a.opened_at = now
    elif a.opened_at is None:  # opened concurrently: show what was stored
        a = _tasks(svc).assignment(principal.tenant_id, task_id, principal.sub)
    return _my_view(svc, task, a, base_url, now)


def submit_proof(svc: Services, principal: Principal, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    url, material = validate_proof(body)
    task, a = _mine(svc, principal, task_id)
    now = svc.clock()
    _tasks(svc).save_proof(a, url, material, now)
    return {
        "task_id": task.task_id,
        "employee_id": principal.sub,
        "url": url,
        "screenshot_material_id": material,
        "at": ms_to_iso(now),
    }


def admin_task(svc: Services, principal: Principal, task_id: str) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    check_id(task_id, "task_id")
    repo = _tasks(svc)
    task = repo.get(principal.tenant_id, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    rows = repo.progress(principal.tenant_id, task)
    proofs = [{**p, "at": ms_to_iso(p["at"])} for p in repo.proofs(principal.tenant_id, task_id)]
    return {
        "task": _task_view(task, svc.clock()),
        "progress": {
            "total": rows[("all", "-")],
            "by_team": {m: r for (d, m), r in sorted(rows.items()) if d == "team"},
            "by_region": {m: r for (d, m), r in sorted(rows.items()) if d == "region"},
        },
        "proofs": proofs,
    }


# ------------------------------------------------------------------ stream consumer


def _pack(deltas: Sequence[OutcomeDelta], max_items: int = 100) -> list[list[OutcomeDelta]]:
    """Transactions of at most ``max_items`` items, never touching one assignment twice."""
    chunks: list[list[OutcomeDelta]] = []
    current: list[OutcomeDelta] = []
    size = 0
    rows: set[tuple[str, str, str, str]] = set()
    pairs: set[tuple[str, str, str]] = set()
    for d in deltas:
        s = d.state
        pair = (s.tenant_id, s.task_id, s.employee_id)
        mine = {(s.tenant_id, s.task_id, dim, m) for dim, m in (("all", "-"), ("team", s.team), ("region", s.region))}
        cost = len(d.source_keys) + 1 + len(mine - rows)
        if current and (size + cost > max_items or pair in pairs):
            chunks.append(current)
            current, size, rows, pairs = [], 0, set(), set()
            cost = len(d.source_keys) + 1 + len(mine)
        current.append(d)
        size += cost
        rows |= mine
        pairs.add(pair)
    if current:
        chunks.append(current)
    return chunks


def record_outcomes(svc: Services, entries: Iterable[LedgerEntry], *, max_rounds: int = 10) -> int:
    """Move task assignments and progress rows for ledger entries (idempotent). Returns the
    number of transaction items written (0 for batches that touch no task)."""
    if svc.tasks is None:
        return 0
    relevant = [e for e in entries if counts_for_task(e)]
    if not relevant:
        return 0
    index = svc.tasks.campaign_tasks({(e.tenant_id, e.campaign_id) for e in relevant})
    pending: dict[tuple[str, str, str], dict[str, LedgerEntry]] = {}
    for e in relevant:
        for created, task_id in index.get((e.tenant_id, e.campaign_id), ()):
            if created <= e.ts:
                pending.setdefault((e.tenant_id, task_id, e.employee_id), {})[e.source_key] = e
    written = 0
    for _ in range(max_rounds):
        if not pending:
            return written
        states = svc.tasks.states(pending)
        deltas = plan_outcomes(states, {p: list(v.values()) for p, v in pending.items()})
        try:
            for chunk in _pack(deltas):
                written += svc.tasks.apply(chunk, svc.clock())
                for d in chunk:
                    s = d.state
                    left = pending.get((s.tenant_id, s.task_id, s.employee_id), {})
                    for key in d.source_keys:
                        left.pop(key, None)
        except OutcomeConflict as exc:
            for tenant_id, task_id, employee_id, key in exc.applied:  # counted before: skip
                pending.get((tenant_id, task_id, employee_id), {}).pop(key, None)
            pending = {p: v for p, v in pending.items() if v}
            continue  # stale shared state: re-read and re-plan
        return written
    raise RuntimeError(f"task outcomes did not converge in {max_rounds} rounds")

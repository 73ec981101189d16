"""List use cases the web console and the employee page need: campaigns, employees, tasks
and the caller's own links. Each is one Query of a GSI (never a Scan), paged by an opaque
cursor (base64url of the last sort key), with unknown or malformed parameters refused as
422 before anything is read.
"""

from __future__ import annotations

import re
from typing import Any

from ripple.domain.errors import ValidationError
from ripple.domain.model import CHANNELS, Role
from ripple.domain.validation import check_id, decode_cursor, encode_cursor, reject_unknown_params, validate_limit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["employee_links", "list_campaigns", "list_employees", "list_tasks", "my_links"]

_TASK_SORT = re.compile(r"^\d{13}#[A-Za-z0-9._-]{1,64}\Z")


def _is_id(value: str) -> bool:
    try:
        check_id(value, "cursor")
    except ValidationError:
        return False
    return True


def list_campaigns(svc: Services, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
    """``GET /campaigns``: the tenant's campaigns (admins and employees), in id order, each
    with its lifecycle ``status``. Archived campaigns are left out; admins list them alone
    with ``?archived=true`` (a page may then hold fewer than ``limit``; follow the cursor)."""
    from ripple.service.campaigns import campaign_view

    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    reject_unknown_params(query, {"limit", "cursor", "archived"})
    archived = query.get("archived", "false")
    if archived not in ("true", "false"):
        raise ValidationError("archived must be true or false", details={"field": "archived"})
    if archived == "true":
        require_role(principal, Role.ADMIN)
    limit = validate_limit(query.get("limit"), default=50, maximum=100)
    after = decode_cursor(query.get("cursor"), _is_id)
    campaigns, last = svc.campaigns.in_tenant(principal.tenant_id, limit, after)
    now = svc.clock()
    from ripple.domain.stories import is_story_campaign

    # an approved story is a campaign of its author's alone: listed under /admin/stories
    wanted = [
        c
        for c in campaigns
        if (c.archived_at is not None) == (archived == "true") and not is_story_campaign(c.campaign_id)
    ]
    return {"items": [campaign_view(c, now) for c in wanted], "next_cursor": encode_cursor(last)}


def list_employees(svc: Services, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
    """``GET /admin/employees``: every employee of the tenant, active or not, by id."""
    require_role(principal, Role.ADMIN)
    reject_unknown_params(query, {"active"})
    active = query.get("active")
    if active not in (None, "true", "false"):
        raise ValidationError("active must be true or false", details={"field": "active"})
    employees = sorted(svc.employees.in_tenant(principal.tenant_id), key=lambda e: e.employee_id)
    if active is not None:
        employees = [e for e in employees if e.active == (active == "true")]
    return {"items": [e.to_public() for e in employees], "next_cursor": None}


def list_tasks(svc: Services, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
    """``GET /admin/tasks``: the tenant's tasks newest first, each with its overall progress."""
    from ripple.service.tasks import _task_view

    require_role(principal, Role.ADMIN)
    reject_unknown_params(query, {"limit", "cursor"})
    limit = validate_limit(query.get("limit"), default=20, maximum=100)
    after = decode_cursor(query.get("cursor"), lambda v: bool(_TASK_SORT.match(v)))
    if svc.tasks is None:  # pragma: no cover - wired by bootstrap
        raise RuntimeError("promotion tasks are not configured")
    tasks, last = svc.tasks.recent(principal.tenant_id, limit, after)
    totals = svc.tasks.totals(principal.tenant_id, [t.task_id for t in tasks])
    now = svc.clock()
    return {
        "items": [{**_task_view(t, now), "progress": totals.get(t.task_id, {})} for t in tasks],
        "next_cursor": encode_cursor(last),
    }


def my_links(svc: Services, principal: Principal, base_url: str, query: dict[str, str]) -> dict[str, Any]:
    """``GET /me/links``: the caller's links (optionally of one campaign or channel), newest first."""
    require_role(principal, Role.EMPLOYEE)
    reject_unknown_params(query, {"campaign_id", "channel"})
    campaign_id = check_id(query["campaign_id"], "campaign_id") if "campaign_id" in query else None
    channel = query.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise ValidationError(f"channel must be one of: {', '.join(CHANNELS)}", details={"field": "channel"})
    links = [
        link
        for link in svc.links.owned_by(principal.tenant_id, principal.sub)
        if (campaign_id is None or link.campaign_id == campaign_id) and (channel is None or link.channel == channel)
    ]
    links.sort(key=lambda link: (-link.created_at, link.code))
    return {
        "items": [{**link.to_public(base_url), "created_at": _iso(link.created_at)} for link in links],
        "next_cursor": None,
    }


def employee_links(svc: Services, principal: Principal, employee_id: str, base_url: str) -> dict[str, Any]:
    """``GET /admin/employees/{id}/links``: one employee's links, newest first (the console's
    employee page; offboarding can hand them over)."""
    from ripple.domain.errors import NotFoundError

    require_role(principal, Role.ADMIN)
    check_id(employee_id, "employee_id")
    if svc.employees.get(principal.tenant_id, employee_id) is None:
        raise NotFoundError(f"employee {employee_id} not found")
    links = sorted(svc.links.owned_by(principal.tenant_id, employee_id), key=lambda link: (-link.created_at, link.code))
    return {
        "items": [{**link.to_public(base_url), "created_at": _iso(link.created_at)} for link in links],
        "next_cursor": None,
    }


def _iso(ms: int) -> str | None:
    from ripple.domain.timeutil import ms_to_iso

    return ms_to_iso(ms) if ms else None

"""Customer use cases: the company's customer base, offboarding handover, the lead pool.

Employees see and work the customers they own; admins see all. Nothing is ever deleted:
ownership moves (handover, recycle, claim) are recorded in each customer's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ripple.domain.contact import mask_email, mask_name, mask_phone
from ripple.domain.customers import (
    POOL,
    Customer,
    CustomerStatus,
    due_for_recycling,
    notes_hidden_until,
    validate_customer_patch,
    validate_note,
)
from ripple.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from ripple.domain.model import LedgerEntry, Role
from ripple.domain.timeutil import ms_to_iso
from ripple.domain.validation import check_id, reject_unknown_params, validate_limit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.ports import CustomerEvent, CustomerFilter, StaleCustomerError

__all__ = [
    "claim_from_pool",
    "customer_view",
    "get_customer",
    "lead_pool",
    "list_customers",
    "note_customer",
    "offboard_employee",
    "patch_customer",
    "reassign_link",
    "recycle_customers",
]

_LIST_PARAMS = {"owner", "status", "tag", "campaign_id", "q", "limit", "cursor"}
_MAX_RETRIES = 6


def customer_view(c: Customer, *, masked: bool = False) -> dict[str, Any]:
    """The API shape. ``masked`` hides contact details (the public lead pool)."""
    view: dict[str, Any] = {
        "customer_id": c.customer_id,
        "name": mask_name(c.name) if masked and c.name else c.name,
        "phone": mask_phone(c.phone) if masked and c.phone else c.phone,
        "email": mask_email(c.email) if masked and c.email else c.email,
        "status": c.status.value,
        "tags": list(c.tags),
        "owner": c.owner or None,
        "in_pool": c.in_pool,
        "source": {"campaign_id": c.source_campaign, "channel": c.source_channel, "code": c.source_code},
        "first_touch": {"employee_id": c.first_touch_employee, "at": ms_to_iso(c.first_touch_at)},
        "last_touch": {"employee_id": c.last_touch_employee, "at": ms_to_iso(c.last_touch_at)},
        "campaigns": list(c.campaigns),
        "leads": c.leads,
        "created_at": ms_to_iso(c.created_at),
        "updated_at": ms_to_iso(c.updated_at),
        "last_contacted_at": ms_to_iso(c.last_contacted_at),
    }
    if not masked:
        view["owner_since"] = ms_to_iso(c.owner_since)
        view["consent"] = {"text": c.consent_text, "at": ms_to_iso(c.consent_at), "lang": c.consent_lang}
    return view


def _visible(svc: Services, principal: Principal, customer_id: str) -> Customer:
    """The customer, if the caller may see it; otherwise 404 (existence is not leaked)."""
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    check_id(customer_id, "customer_id")
    customer = svc.customers.get(principal.tenant_id, customer_id)
    if customer is None or (principal.role is Role.EMPLOYEE and customer.owner != principal.sub):
        raise NotFoundError(f"customer {customer_id} not found")
    return customer


def _status_and_tag(params: dict[str, str]) -> tuple[str | None, str | None]:
    """The ``status`` and ``tag`` filters of both customer lists, refused (422) when malformed."""
    status = params.get("status")
    if status is not None and status not in {s.value for s in CustomerStatus}:
        raise ValidationError(
            "status must be one of: " + ", ".join(s.value for s in CustomerStatus), details={"field": "status"}
        )
    tag = params.get("tag")
    if tag is not None and not 1 <= len(tag) <= 32:
        raise ValidationError("tag must be 1..32 characters", details={"field": "tag"})
    return status, tag


def list_customers(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    reject_unknown_params(params, _LIST_PARAMS)
    owner: str | None
    if principal.role is Role.EMPLOYEE:
        if params.get("owner") not in (None, principal.sub):
            raise ForbiddenError("employees list their own customers; the pool is at /lead-pool")
        owner = principal.sub
    else:
        raw_owner = params.get("owner")
        owner = None if raw_owner is None else (POOL if raw_owner == "pool" else check_id(raw_owner, "owner"))
    status, tag = _status_and_tag(params)
    campaign_id = check_id(params["campaign_id"], "campaign_id") if "campaign_id" in params else None
    search = None
    if "q" in params:  # name, e-mail or phone number, any part of it
        from ripple.domain.contact import search_terms

        tenant = svc.tenants.get(principal.tenant_id)
        search = search_terms(params["q"], (tenant.phone_region,))
    limit = validate_limit(params.get("limit"), default=20)
    cursor = params.get("cursor")
    if cursor is not None and len(cursor) > 2048:
        raise ValidationError("cursor is not valid", details={"field": "cursor"})
    try:
        filt = CustomerFilter(owner, status, tag, campaign_id, search)
        page = svc.customers.search(principal.tenant_id, filt, limit, cursor)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError("cursor is not valid", details={"field": "cursor"}) from exc
    return {"items": [customer_view(c) for c in page.customers], "next_cursor": page.cursor}


def get_customer(svc: Services, principal: Principal, customer_id: str) -> dict[str, Any]:
    customer = _visible(svc, principal, customer_id)
    view = customer_view(customer)
    view["chain"] = _chain_view(svc, customer)
    history = list(svc.customers.history(principal.tenant_id, customer_id))
    if principal.role is Role.EMPLOYEE:
        # other people's notes from before the customer last moved to this owner stay private
        until = notes_hidden_until((e.kind, e.actor, e.ts) for e in history)
        history = [e for e in history if not (e.kind == "note" and e.actor != principal.sub and e.ts <= until)]
    view["history"] = [
        {"kind": e.kind, "at": ms_to_iso(e.ts), "actor": e.actor or None, **({"data": e.data} if e.data else {})}
        for e in history
    ]
    return view


def _chain_view(svc: Services, c: Customer) -> dict[str, Any]:
    """Where the customer sits in the spread: the path from the employee, who brought them
    (an influencer customer, if that node became one), and whom they brought in turn."""
    path: list[str] = []
    parent = c.via
    for _ in range(64):  # bounded: chains are capped far below this
        if not parent or parent.startswith("-"):  # "-" or "-<employee>": the employee's own link
            break
        path.append(parent)
        node = svc.chains.node(c.tenant_id, c.source_campaign, parent)
        parent = node.parent if node is not None and node.parent else ""
    own = svc.chains.node(c.tenant_id, c.source_campaign, c.node) if c.node else None
    influencer = svc.customers.find_by_node(c.tenant_id, c.via) if c.via and c.via != "-" else None
    return {
        "root_employee": c.first_touch_employee,
        "node": c.node or None,
        "depth": c.depth,
        "path": [f"-{c.first_touch_employee}", *reversed(path), c.node] if c.node else [],
        "influenced_by": {"node": c.via, "customer_id": influencer} if c.via and c.via != "-" else None,
        "influence": {"visitors": own.visitors if own else 0, "forwards": own.forwards if own else 0},
    }


def _update(
    svc: Services,
    tenant_id: str,
    customer_id: str,
    change: Callable[[Customer], tuple[Customer, list[CustomerEvent]] | None],
    *,
    expected_owner: Callable[[Customer], str | None] = lambda c: None,
    spend: Callable[[Customer], LedgerEntry | None] = lambda c: None,
) -> Customer:
    """Read, change, conditionally write; retried on concurrent changes. ``spend`` is a
    charge made atomically with the write (the lead-pool claim price)."""
    for _ in range(_MAX_RETRIES):
        current = svc.customers.get(tenant_id, customer_id)
        if current is None:
            raise NotFoundError(f"customer {customer_id} not found")
        result = change(current)
        if result is None:
            return current
        updated, events = result
        try:
            return svc.customers.save(
                updated,
                expected_version=current.version,
                events=events,
                expected_owner=expected_owner(current),
                spend=spend(current),
            )
        except StaleCustomerError:
            continue
    raise ConflictError("customer is being changed concurrently; please retry")


def patch_customer(svc: Services, principal: Principal, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    _visible(svc, principal, customer_id)
    patch = validate_customer_patch(body)
    now = svc.clock()

    def change(c: Customer) -> tuple[Customer, list[CustomerEvent]] | None:
        if principal.role is Role.EMPLOYEE and c.owner != principal.sub:
            raise NotFoundError(f"customer {customer_id} not found")
        events: list[CustomerEvent] = []
        updated = replace(c, tags=list(c.tags), campaigns=list(c.campaigns), updated_at=now)
        if "status" in patch and patch["status"] is not c.status:
            events.append(
                CustomerEvent(
                    svc.ids(10), "status", now, principal.sub, {"from": c.status.value, "to": patch["status"].value}
                )
            )
            updated.status = patch["status"]
            updated.last_contacted_at = now
        tags = [t for t in updated.tags if t not in patch.get("remove_tags", [])]
        tags += [t for t in patch.get("add_tags", []) if t not in tags]
        if len(tags) > 20:
            raise ValidationError("a customer has at most 20 tags", details={"field": "add_tags"})
        if tags != c.tags:
            events.append(CustomerEvent(svc.ids(10), "tags", now, principal.sub, {"tags": tags}))
            updated.tags = tags
        if not events:
            return None
        return updated, events

    return customer_view(_update(svc, principal.tenant_id, customer_id, change))


def note_customer(svc: Services, principal: Principal, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    _visible(svc, principal, customer_id)
    text = validate_note(body)
    now = svc.clock()

    def change(c: Customer) -> tuple[Customer, list[CustomerEvent]]:
        if principal.role is Role.EMPLOYEE and c.owner != principal.sub:
            raise NotFoundError(f"customer {customer_id} not found")
        updated = replace(c, tags=list(c.tags), campaigns=list(c.campaigns), updated_at=now)
        if principal.sub == c.owner:
            updated.last_contacted_at = now  # the owner working the customer keeps it
        return updated, [CustomerEvent(svc.ids(10), "note", now, principal.sub, {"text": text})]

    return customer_view(_update(svc, principal.tenant_id, customer_id, change))


def _move(svc: Services, c: Customer, to: str, now: int, kind: str, actor: str) -> Customer | None:
    """Move one customer to ``to`` (employee or pool) unless someone else moved it first."""
    previous = c.owner

    def change(cur: Customer) -> tuple[Customer, list[CustomerEvent]] | None:
        if cur.owner != previous:
            return None  # already moved by someone else: leave it
        updated = replace(
            cur, tags=list(cur.tags), campaigns=list(cur.campaigns), owner=to, owner_since=now, updated_at=now
        )
        return updated, [CustomerEvent(svc.ids(10), kind, now, actor, {"from": previous or "pool", "to": to or "pool"})]

    moved = _update(svc, c.tenant_id, c.customer_id, change)
    return moved if moved.owner == to else None


def offboard_employee(svc: Services, principal: Principal, employee_id: str, body: dict[str, Any]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    check_id(employee_id, "employee_id")
    unknown = sorted(set(body) - {"to", "reassign_links"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    target = body.get("to")
    if not isinstance(target, str) or not target:
        raise ValidationError('to is required: an employee id or "pool"', details={"field": "to"})
    reassign_links = body.get("reassign_links", False)
    if not isinstance(reassign_links, bool):
        raise ValidationError("reassign_links must be true or false", details={"field": "reassign_links"})
    if reassign_links and target == "pool":
        raise ValidationError("links can be reassigned to an employee, not to the pool", details={"field": "to"})
    employee = svc.employees.get(principal.tenant_id, employee_id)
    if employee is None:
        raise NotFoundError(f"employee {employee_id} not found")
    to = POOL
    if target != "pool":
        check_id(target, "to")
        if target == employee_id:
            raise ValidationError(
                "cannot hand customers over to the employee being offboarded", details={"field": "to"}
            )
        receiver = svc.employees.get(principal.tenant_id, target)
        if receiver is None:
            raise NotFoundError(f"employee {target} not found")
        if not receiver.active:
            raise ConflictError(f"employee {target} has been offboarded too")
        to = target
    now = svc.clock()
    if employee.active:
        if employee.subject and svc.directory is not None:
            svc.directory.set_enabled(employee.subject, False)  # and signed out everywhere
        svc.employees.put(replace(employee, active=False, updated_at=now))
    from ripple.service.accounts import forget_account

    forget_account(principal.tenant_id, employee_id)  # their next call here is a 401
    moved = 0
    for customer in list(svc.customers.owned_by(principal.tenant_id, employee_id)):
        if _move(svc, customer, to, now, "handover", principal.sub) is not None:
            moved += 1
    links = svc.links.owned_by(principal.tenant_id, employee_id)
    if reassign_links:
        links = [svc.links.reassign(link, to) for link in links]
    if employee.active:  # the first offboarding, not a retried one (the event id is the employee's)
        from ripple.service.webhooks import safe_emit

        payload = {"employee_id": employee_id, "to": target, "customers_moved": moved, "at": now}
        safe_emit(svc, principal.tenant_id, "employee.offboarded", payload, f"off_{employee_id}_{now}")
    return {
        "employee_id": employee_id,
        "active": False,
        "to": target,
        "customers_moved": moved,
        "links": [link.code for link in links],
        "links_reassigned": reassign_links,
    }


def reassign_link(svc: Services, principal: Principal, code: str, body: dict[str, Any]) -> dict[str, Any]:
    """Point an existing link's credit at another (active) employee, e.g. after offboarding."""
    require_role(principal, Role.ADMIN)
    unknown = sorted(set(body) - {"employee_id"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    target = body.get("employee_id")
    if not isinstance(target, str):
        raise ValidationError("employee_id is required", details={"field": "employee_id"})
    check_id(target, "employee_id")
    if not code.isalnum() or len(code) > 32:
        raise NotFoundError("no such link")
    link = svc.links.get(code)
    if link is None or link.tenant_id != principal.tenant_id:
        raise NotFoundError("no such link")
    receiver = svc.employees.get(principal.tenant_id, target)
    if receiver is None:
        raise NotFoundError(f"employee {target} not found")
    if not receiver.active:
        raise ConflictError(f"employee {target} has been offboarded")
    updated = svc.links.reassign(link, target)
    from ripple.service.redirect import link_cache

    link_cache.put(updated)  # this container at once; others within the cache TTL
    return {"code": updated.code, "employee_id": updated.employee_id, "campaign_id": updated.campaign_id}


def lead_pool(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    reject_unknown_params(params, {"limit", "cursor", "status", "tag", "campaign_id"})
    limit = validate_limit(params.get("limit"), default=20)
    status, tag = _status_and_tag(params)
    campaign_id = check_id(params["campaign_id"], "campaign_id") if "campaign_id" in params else None
    cursor = params.get("cursor")
    if cursor is not None and len(cursor) > 2048:
        raise ValidationError("cursor is not valid", details={"field": "cursor"})
    try:
        page = svc.customers.search(
            principal.tenant_id,
            CustomerFilter(POOL, status, tag, campaign_id),
            limit,
            cursor,
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError("cursor is not valid", details={"field": "cursor"}) from exc
    return {"items": [customer_view(c, masked=True) for c in page.customers], "next_cursor": page.cursor}


def claim_from_pool(svc: Services, principal: Principal, customer_id: str) -> dict[str, Any]:
    """Exactly one of any number of concurrent claimers wins; the others get 409."""
    require_role(principal, Role.EMPLOYEE)
    check_id(customer_id, "customer_id")
    employee = svc.employees.get(principal.tenant_id, principal.sub)
    if employee is None or not employee.active:
        raise ForbiddenError("only active employees can claim customers")
    now = svc.clock()

    def change(c: Customer) -> tuple[Customer, list[CustomerEvent]]:
        if not c.in_pool:
            raise ConflictError("this customer has already been claimed")
        updated = replace(
            c, tags=list(c.tags), campaigns=list(c.campaigns), owner=principal.sub, owner_since=now, updated_at=now
        )
        return updated, [CustomerEvent(svc.ids(10), "claim", now, principal.sub, {"to": principal.sub})]

    price = svc.tenants.get(principal.tenant_id).pool_claim_price

    def charge(c: Customer) -> LedgerEntry | None:
        """The tenant's claim price, keyed by the customer's version: one charge per claim."""
        if price <= 0:
            return None
        return LedgerEntry(
            tenant_id=principal.tenant_id,
            source_key=f"pc#{customer_id}#v{c.version}",
            employee_id=principal.sub,
            kind="pool_claim",
            points=-price,
            ts=now,
            source_id=customer_id,
        )

    claimed = _update(svc, principal.tenant_id, customer_id, change, expected_owner=lambda c: POOL, spend=charge)
    return customer_view(claimed)


def recycle_customers(svc: Services) -> dict[str, int]:
    """Scheduled: customers nobody contacted within the tenant's limit return to the pool."""
    now = svc.clock()
    report = {"tenants": 0, "checked": 0, "recycled": 0}
    for tenant_id in svc.customers.tenants_with_customers():
        tenant = svc.tenants.get(tenant_id)
        if not tenant.recycle_after_days:
            continue
        report["tenants"] += 1
        cursor: str | None = None
        while True:
            page = svc.customers.search(tenant_id, CustomerFilter(), 100, cursor)
            for customer in page.customers:
                report["checked"] += 1
                due = due_for_recycling(customer, now=now, after_days=tenant.recycle_after_days)
                if due and _move(svc, customer, POOL, now, "recycle", "scheduler") is not None:
                    report["recycled"] += 1
            if page.cursor is None:
                break
            cursor = page.cursor
    return report

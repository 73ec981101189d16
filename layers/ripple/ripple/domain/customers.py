"""Customers the company owns: attribution, ownership moves, and what clients may change.

Pure rules, no I/O. A customer is created by a lead and then belongs to the tenant; the
*owner* (an employee, or nobody = the public lead pool) only holds it. Who should own it
after another lead, an offboarding or a quiet period is decided here, so the service layer
only persists the outcome.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ripple.domain.errors import ValidationError

__all__ = [
    "DAY_MS",
    "POOL",
    "Attribution",
    "Customer",
    "CustomerStatus",
    "LeadTouch",
    "apply_lead",
    "due_for_recycling",
    "lead_pays",
    "notes_hidden_until",
    "validate_attribution",
    "validate_customer_patch",
    "validate_note",
]

POOL = ""  # the owner of a customer in the public lead pool
DAY_MS = 86_400_000
MAX_TAGS = 20
_TAG = re.compile(r"^[\w\-.:/ \u3000-\u9fff\uac00-\ud7af\uff00-\uffef]{1,32}$")


class CustomerStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Attribution:
    """Tenant rule for who owns a customer a second employee also reached.

    ``first_touch`` keeps the customer with its owner for ``days`` after they got it;
    ``last_touch`` hands it to whoever brought the latest lead.
    """

    mode: str = "first_touch"
    days: int = 30

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "days": self.days} if self.mode == "first_touch" else {"mode": self.mode}


@dataclass(frozen=True, slots=True)
class LeadTouch:
    """One lead submission, already validated and normalised."""

    employee_id: str  # root employee of the link the lead came through
    employee_active: bool
    campaign_id: str
    channel: str
    code: str
    node: str
    via: str
    depth: int
    ts: int
    name: str
    phone: str | None
    email: str | None
    consent_text: str
    consent_lang: str
    # the person could have earned a visit (``tracking.decide`` said eligible): only such a
    # lead is a touch that attribution may act on; staff, bots and the like never move a customer
    eligible: bool = True


@dataclass(slots=True)
class Customer:
    tenant_id: str
    customer_id: str
    name: str = ""
    phone: str | None = None
    email: str | None = None
    status: CustomerStatus = CustomerStatus.NEW
    tags: list[str] = field(default_factory=list)
    owner: str = POOL
    owner_since: int = 0
    first_touch_employee: str = ""
    first_touch_at: int = 0
    last_touch_employee: str = ""
    last_touch_at: int = 0
    source_campaign: str = ""
    source_channel: str = ""
    source_code: str = ""
    node: str = ""
    via: str = "-"
    depth: int = 1
    campaigns: list[str] = field(default_factory=list)
    consent_text: str = ""
    consent_at: int = 0
    consent_lang: str = ""
    created_at: int = 0
    updated_at: int = 0
    last_contacted_at: int | None = None
    leads: int = 0
    version: int = 0

    @property
    def in_pool(self) -> bool:
        return self.owner == POOL


def apply_lead(
    existing: Customer | None, touch: LeadTouch, *, customer_id: str, tenant_id: str, rule: Attribution
) -> tuple[Customer, str | None]:
    """The customer after this lead, and the previous owner if ownership moved.

    New customers go to the touching employee (or the pool if that employee has left).
    A repeat lead is a public, unauthenticated request, so it never changes what is stored
    about the customer: name, contacts and consent stay as they are (what it says is kept in
    its history event for the owner to review). It counts as a lead, and an eligible one is
    the latest touch, on which the tenant's attribution rule may move an employee's customer.
    A pool customer stays in the pool: it is taken only by a claim (its price, its race).
    """
    owner_for_touch = touch.employee_id if touch.employee_active else POOL
    if existing is None:
        customer = Customer(
            tenant_id=tenant_id,
            customer_id=customer_id,
            name=touch.name,
            phone=touch.phone,
            email=touch.email,
            owner=owner_for_touch,
            owner_since=touch.ts,
            first_touch_employee=touch.employee_id,
            first_touch_at=touch.ts,
            last_touch_employee=touch.employee_id,
            last_touch_at=touch.ts,
            source_campaign=touch.campaign_id,
            source_channel=touch.channel,
            source_code=touch.code,
            node=touch.node,
            via=touch.via,
            depth=touch.depth,
            campaigns=[touch.campaign_id],
            consent_text=touch.consent_text,
            consent_at=touch.ts,
            consent_lang=touch.consent_lang,
            created_at=touch.ts,
            updated_at=touch.ts,
            leads=1,
        )
        return customer, None
    customer = replace(
        existing,
        last_touch_employee=touch.employee_id if touch.eligible else existing.last_touch_employee,
        last_touch_at=touch.ts if touch.eligible else existing.last_touch_at,
        campaigns=existing.campaigns + ([touch.campaign_id] if touch.campaign_id not in existing.campaigns else []),
        updated_at=touch.ts,
        leads=existing.leads + 1,
        tags=list(existing.tags),
    )
    if not touch.eligible:
        return customer, None
    new_owner = _owner_after_lead(existing, owner_for_touch, touch.ts, rule)
    if new_owner == existing.owner:
        return customer, None
    customer.owner = new_owner
    customer.owner_since = touch.ts
    return customer, existing.owner


def lead_pays(customer: Customer, touch: LeadTouch) -> bool:
    """Whether a lead may pay its link's employee: an eligible person, and a customer that
    employee holds after it (new, already theirs, or just handed to them by the attribution
    rule). Naming a colleague's or a pool customer's contact gains nothing."""
    return touch.eligible and touch.employee_active and customer.owner == touch.employee_id


def _owner_after_lead(existing: Customer, candidate: str, ts: int, rule: Attribution) -> str:
    if candidate == POOL or candidate == existing.owner or existing.in_pool:
        return existing.owner  # the pool is left only through a claim
    if rule.mode == "last_touch":
        return candidate
    held_for = ts - existing.owner_since
    return candidate if held_for >= rule.days * DAY_MS else existing.owner


def notes_hidden_until(moves: Iterable[tuple[str, str, int]]) -> int:
    """Notes are the owner's private working notes. ``moves`` are a customer's history
    events as (kind, actor, ts); the result is the time up to which other people's notes
    stay hidden from the customer's (employee) owner: the latest move that did not hand the
    work on deliberately. An attribution handover (a lead), a claim from the pool and a
    recycle to the pool are such moves, so a ``last_touch`` winner or a claimer never reads
    the previous owner's notes; an admin's offboarding handover passes the work (and its
    notes) on. 0 = nothing hidden."""
    hidden = 0
    for kind, actor, ts in moves:
        if kind in ("claim", "recycle") or (kind == "handover" and actor == "attribution"):
            hidden = max(hidden, ts)
    return hidden


def due_for_recycling(customer: Customer, *, now: int, after_days: int | None) -> bool:
    """Owned, still open, and nobody has contacted it for ``after_days`` since it was
    assigned (the clock restarts on every contact, claim or handover)."""
    if not after_days or customer.in_pool:
        return False
    if customer.status in (CustomerStatus.WON, CustomerStatus.LOST):
        return False
    since = max(customer.owner_since, customer.last_contacted_at or 0)
    return now - since >= after_days * DAY_MS


def validate_attribution(raw: Any) -> Attribution:
    if not isinstance(raw, dict):
        raise ValidationError("attribution must be an object", details={"field": "attribution"})
    unknown = sorted(set(raw) - {"mode", "days"})
    if unknown:
        raise ValidationError(f"unknown attribution field(s): {', '.join(unknown)}", details={"field": "attribution"})
    mode = raw.get("mode")
    if mode not in ("first_touch", "last_touch"):
        raise ValidationError(
            "attribution.mode must be first_touch or last_touch", details={"field": "attribution.mode"}
        )
    days = raw.get("days", 30)
    if mode == "last_touch" and "days" in raw:
        raise ValidationError("attribution.days applies to first_touch only", details={"field": "attribution.days"})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationError("attribution.days must be an integer 1..3650", details={"field": "attribution.days"})
    return Attribution(mode=mode, days=days if mode == "first_touch" else 0)


def _tags(raw: Any, name: str) -> list[str]:
    if not isinstance(raw, list) or len(raw) > MAX_TAGS:
        raise ValidationError(f"{name} must be a list of at most {MAX_TAGS} tags", details={"field": name})
    out: list[str] = []
    for tag in raw:
        if not isinstance(tag, str) or not _TAG.match(tag.strip()):
            raise ValidationError(
                f"{name}: each tag is 1..32 letters, digits, spaces or -_.:/", details={"field": name}
            )
        if tag.strip() not in out:
            out.append(tag.strip())
    return out


def validate_customer_patch(body: dict[str, Any]) -> dict[str, Any]:
    """``{"status"?, "add_tags"?, "remove_tags"?}``; at least one."""
    unknown = sorted(set(body) - {"status", "add_tags", "remove_tags"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    if not body:
        raise ValidationError("nothing to change: give status, add_tags or remove_tags")
    patch: dict[str, Any] = {}
    if "status" in body:
        try:
            patch["status"] = CustomerStatus(body["status"])
        except (ValueError, TypeError) as exc:
            allowed = ", ".join(s.value for s in CustomerStatus)
            raise ValidationError(f"status must be one of: {allowed}", details={"field": "status"}) from exc
    if "add_tags" in body:
        patch["add_tags"] = _tags(body["add_tags"], "add_tags")
    if "remove_tags" in body:
        patch["remove_tags"] = _tags(body["remove_tags"], "remove_tags")
    return patch


def validate_note(body: dict[str, Any]) -> str:
    unknown = sorted(set(body) - {"text"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 2000:
        raise ValidationError("text must be 1..2000 characters", details={"field": "text"})
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ValidationError("text contains control characters", details={"field": "text"})
    return text.strip()

"""Lead capture: a visitor's share token plus contact details become a company customer.

The public ``POST /leads`` lands here. The token (the visitor's own child share token,
signed by the redirect) says which link and which chain node the lead came through, so
the customer record carries the full attribution without trusting anything the client
claims. Points for the lead are *not* granted here: a ``lead`` event is written to the
visits table and the stream consumer awards ``points.lead`` exactly once per customer
and campaign, like every other point.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ripple.domain.chains import token_code
from ripple.domain.chains import verify_token as verify_share_token
from ripple.domain.contact import contact_keys, normalise_email, normalise_name, normalise_phone
from ripple.domain.customers import Attribution, LeadTouch, apply_lead
from ripple.domain.errors import ConflictError, GoneError, TooManyRequestsError, ValidationError
from ripple.domain.model import Decision, Visit
from ripple.domain.tracking import identify_visitor
from ripple.service.context import Services
from ripple.service.ports import ContactTakenError, CustomerEvent, StaleCustomerError
from ripple.service.redirect import _lookup, chain_secret

__all__ = ["LEAD_LIMITS", "LeadReceipt", "LeadRequest", "submit_lead"]

_FIELDS = {"token", "name", "phone", "email", "message", "consent", "consent_text", "lang"}
# (bucket kind, hits allowed, window seconds): per client network and per share token
LEAD_LIMITS = (("ip", 20, 600), ("token", 5, 600))


@dataclass(frozen=True, slots=True)
class LeadRequest:
    body: dict[str, Any]
    client_ip: str
    user_agent: str
    visitor_cookie: str | None


@dataclass(frozen=True, slots=True)
class LeadReceipt:
    lead_id: str
    customer_id: str
    created: bool  # False when merged into an existing customer


def _str(body: dict[str, Any], name: str, max_len: int) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", details={"field": name})
    if len(value) > max_len:
        raise ValidationError(f"{name} is longer than {max_len} characters", details={"field": name})
    return value


def _rate_limit(svc: Services, req: LeadRequest, node: str, now: int) -> None:
    ip_hash = hmac.new(svc.settings.visitor_secret, f"lead-ip:{req.client_ip}".encode(), hashlib.sha256).hexdigest()
    keys = {"ip": ip_hash[:32], "token": node}
    for kind, limit, window in LEAD_LIMITS:
        if not svc.rate_limits.hit(f"lead:{kind}:{keys[kind]}", limit=limit, window_seconds=window, now_ms=now):
            raise TooManyRequestsError("too many submissions; please try again later", retry_after=window)


def submit_lead(svc: Services, req: LeadRequest) -> LeadReceipt:
    body = req.body
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    token = _str(body, "token", 160)
    if token is None:
        raise ValidationError("token is required (the share token from the page)", details={"field": "token"})
    code = token_code(token)
    if code is None:
        raise ValidationError("token is not a valid share token", details={"field": "token"})
    link = _lookup(svc, code)
    try:
        node, parent, depth = verify_share_token(chain_secret(svc), code=code, token=token)
    except ValueError as exc:
        raise ValidationError("token is not a valid share token", details={"field": "token"}) from exc
    if body.get("consent") is not True:
        raise ValidationError("explicit consent is required (consent: true)", details={"field": "consent"})
    now = svc.clock()
    if link.ends_at is not None and now >= link.ends_at:
        raise GoneError("this campaign has ended")

    tenant = svc.tenants.get(link.tenant_id)
    campaign = svc.campaigns.get(link.tenant_id, link.campaign_id)
    if campaign is None:
        raise GoneError("this campaign no longer exists")
    lang = _str(body, "lang", 16) or ""
    consent_text = _consent_text(campaign.landing, lang, _str(body, "consent_text", 2000))
    required = set(campaign.landing.get("required", [])) if campaign.landing else set()
    raw_name = _str(body, "name", 200)
    name = normalise_name(raw_name) if raw_name is not None else ""
    raw_phone = _str(body, "phone", 64)
    phone = normalise_phone(raw_phone, tenant.phone_region) if raw_phone is not None else None
    raw_email = _str(body, "email", 320)
    email = normalise_email(raw_email) if raw_email is not None else None
    message = _str(body, "message", 1000) or ""
    for field_name, value in (("name", name), ("phone", phone), ("email", email), ("message", message)):
        if field_name in required and not value:
            raise ValidationError(f"{field_name} is required", details={"field": field_name})
    if phone is None and email is None:
        raise ValidationError("give a phone number or an e-mail address", details={"field": "phone"})
    _rate_limit(svc, req, node, now)

    employee = svc.employees.get(link.tenant_id, link.employee_id)
    touch = LeadTouch(
        employee_id=link.employee_id,
        employee_active=employee is not None and employee.active,
        campaign_id=link.campaign_id,
        channel=link.channel,
        code=link.code,
        node=node,
        via=parent,
        depth=depth,
        ts=now,
        name=name,
        phone=phone,
        email=email,
        consent_text=consent_text,
        consent_lang=lang,
    )
    rule = Attribution(tenant.attribution_mode, tenant.attribution_days)
    keys = contact_keys(phone, email)
    lead_id = f"{now:013d}L{svc.ids(11)}"
    event = CustomerEvent(
        event_id=lead_id,
        kind="lead",
        ts=now,
        actor="public",
        data={
            "campaign_id": link.campaign_id,
            "channel": link.channel,
            "code": link.code,
            "employee_id": link.employee_id,
            "node": node,
            "via": parent,
            "depth": depth,
            "message": message,
            "consent_text": consent_text,
            "lang": lang,
        },
    )

    def outbox(customer_id: str, created: bool) -> Any:
        """The lead.created webhook event, written in the same transaction as the customer."""
        from ripple.service.webhooks import outbox_for

        payload = {
            "lead_id": lead_id,
            "customer_id": customer_id,
            "new_customer": created,
            "campaign_id": link.campaign_id,
            "channel": link.channel,
            "employee_id": link.employee_id,
            "depth": depth,
            "at": now,
        }
        return outbox_for(svc, link.tenant_id, "lead.created", payload, lead_id)

    customer_id, created = _merge_or_create(svc, link.tenant_id, touch, rule, keys, event, outbox)

    identity = identify_visitor(
        tenant_id=link.tenant_id,
        cookie=req.visitor_cookie,
        client_ip=req.client_ip,
        user_agent=req.user_agent,
        secret=svc.settings.visitor_secret,
    )
    svc.visits.record(
        Visit(
            visit_id=lead_id,
            tenant_id=link.tenant_id,
            code=link.code,
            campaign_id=link.campaign_id,
            employee_id=link.employee_id,
            channel=link.channel,
            visitor=identity.visitor_key,
            ts=now,
            decision=Decision.ELIGIBLE,
            via=parent,
            depth=depth,
            kind="lead",
            customer_id=customer_id,
            node=node,
        )
    )
    return LeadReceipt(lead_id, customer_id, created)


def _consent_text(landing: dict[str, Any] | None, lang: str, given: str | None) -> str:
    """The consent the visitor saw: the hosted page's text (server truth) or, for forms on
    the customer's own site, the text they send with the lead."""
    if landing:
        copies: dict[str, Any] = landing.get("copy") or {}
        chosen: dict[str, Any] = (
            copies.get(lang) or copies.get(landing.get("default_lang", "")) or next(iter(copies.values()), {})
        )
        text = str(chosen.get("consent") or "")
        if text:
            return text
    if not given or not given.strip():
        raise ValidationError(
            "consent_text is required: the consent wording the visitor agreed to", details={"field": "consent_text"}
        )
    return given.strip()


def _merge_or_create(
    svc: Services,
    tenant_id: str,
    touch: LeadTouch,
    rule: Attribution,
    keys: list[str],
    event: CustomerEvent,
    outbox: Callable[[str, bool], Any] | None = None,
) -> tuple[str, bool]:
    """Create the customer or merge into the one holding this phone/e-mail; optimistic
    and retried, so concurrent submissions for one contact end in one customer."""
    for _attempt in range(6):
        owners = svc.customers.contact_owners(tenant_id, keys)
        # phone first, then e-mail: a stable choice when they name different customers
        customer_id = next((owners[k] for k in keys if k in owners), None)
        existing = svc.customers.get(tenant_id, customer_id) if customer_id else None
        new_id = customer_id or "cu" + svc.ids(12)
        customer, previous_owner = apply_lead(existing, touch, customer_id=new_id, tenant_id=tenant_id, rule=rule)
        extra = [item for item in [outbox(new_id, existing is None) if outbox else None] if item is not None]
        try:
            if existing is None:
                svc.customers.create(customer, keys, event, extra)
                return new_id, True
            events = [event]
            if previous_owner is not None:
                events.append(
                    CustomerEvent(
                        event_id=event.event_id + "h",
                        kind="handover",
                        ts=event.ts,
                        actor="attribution",
                        data={"from": previous_owner, "to": customer.owner, "rule": rule.mode},
                    )
                )
            svc.customers.save(
                customer,
                expected_version=existing.version,
                events=events,
                new_contact_keys=[k for k in keys if k not in owners],  # never steal another's contact
                extra=extra,
            )
            return new_id, False
        except (ContactTakenError, StaleCustomerError):
            continue
    raise ConflictError("this contact is being updated concurrently; please retry")

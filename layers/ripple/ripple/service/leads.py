"""Lead capture: a visitor's share token plus contact details become a company customer.

The public ``POST /leads`` lands here. The token (the visitor's own child share token,
signed by the redirect) says which link and which chain node the lead came through, so
the customer record carries the full attribution without trusting anything the client
claims. Points for the lead are *not* granted here: a ``lead`` event is written to the
visits table and the stream consumer awards ``points.lead`` exactly once per customer
and campaign, like every other point.

What a lead may earn is decided like a visit (``tracking.decide``): bots, the link's owner
and colleagues (signed in, on a phone they use signed in, or holding a share token minted
for their own visit) earn nothing, and the consumer applies the same fraud, velocity, cap
and holding rules. A lead naming a known contact merges into that customer without
changing what is stored about it, and pays only if the customer is the link owner's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ripple.domain.chains import (
    HOLDER_COLLEAGUE,
    HOLDER_OWNER,
    InvalidShareTokenError,
    ShareToken,
    read_token,
    token_code,
)
from ripple.domain.contact import (
    contact_keys,
    normalise_email,
    normalise_name,
    normalise_phone_in,
    phone_regions,
    validate_region,
)
from ripple.domain.customers import Attribution, Customer, LeadTouch, apply_lead, lead_pays
from ripple.domain.errors import ConflictError, GoneError, TooManyRequestsError, ValidationError
from ripple.domain.model import Decision, Link, Visit
from ripple.domain.tracking import VisitorIdentity, decide, describe_user_agent, identify_visitor
from ripple.service.auth import Principal
from ripple.service.context import Services
from ripple.service.ports import ContactTakenError, CustomerEvent, StaleCustomerError
from ripple.service.redirect import _lookup, chain_secret

__all__ = ["LEAD_LIMITS", "LeadReceipt", "LeadRequest", "submit_lead"]

_FIELDS = {"token", "name", "phone", "email", "message", "consent", "consent_text", "lang", "country"}
# (bucket kind, hits allowed, window seconds): per client network and per share token
LEAD_LIMITS = (("ip", 20, 600), ("token", 5, 600))


@dataclass(frozen=True, slots=True)
class LeadRequest:
    body: dict[str, Any]
    client_ip: str
    user_agent: str
    visitor_cookie: str | None
    viewer: Principal | None = None  # verified bearer token or session cookie, if any
    country: str = ""  # the CDN's viewer-country header (CloudFront-Viewer-Country), if any
    language: str = ""  # the browser's first Accept-Language tag (the page's ``lang`` may be a fallback)


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
    """Check the form (in the order a visitor fixes it: fields, token, consent, contact), then
    merge or create the customer with its ``lead.created`` outbox event in one transaction and
    record the lead as a visit, which the stream consumer pays for (or not) like any visit."""
    link, share = _share_of(svc, req.body)
    if req.body.get("consent") is not True:
        raise ValidationError("explicit consent is required (consent: true)", details={"field": "consent"})
    now = svc.clock()
    if link.ends_at is not None and now >= link.ends_at:
        raise GoneError("this campaign has ended")
    tenant = svc.tenants.get(link.tenant_id)
    campaign = svc.campaigns.get(link.tenant_id, link.campaign_id)
    if campaign is None:
        raise GoneError("this campaign no longer exists")
    contact = _contact_of(req, campaign.landing, tenant.phone_region)
    _rate_limit(svc, req, share.node, now)

    employee = svc.employees.get(link.tenant_id, link.employee_id)
    employee_active = employee is not None and employee.active
    identity = identify_visitor(
        tenant_id=link.tenant_id,
        cookie=req.visitor_cookie,
        client_ip=req.client_ip,
        user_agent=req.user_agent,
        secret=svc.settings.visitor_secret,
    )
    decision = _decision(svc, req, link, share.holder, identity, employee_active, now)
    touch = LeadTouch(
        employee_id=link.employee_id,
        employee_active=employee_active,
        campaign_id=link.campaign_id,
        channel=link.channel,
        code=link.code,
        node=share.node,
        via=share.parent,
        depth=share.depth,
        ts=now,
        name=contact.name,
        phone=contact.phone,
        email=contact.email,
        consent_text=contact.consent_text,
        consent_lang=contact.lang,
        eligible=decision is Decision.ELIGIBLE,
    )
    rule = Attribution(tenant.attribution_mode, tenant.attribution_days)
    lead_id = f"{now:013d}L{svc.ids(11)}"
    event = _lead_event(lead_id, link, share, contact, now)

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
            "depth": share.depth,
            "at": now,
        }
        return outbox_for(svc, link.tenant_id, "lead.created", payload, lead_id)

    keys = contact_keys(contact.phone, contact.email)
    customer, created = _merge_or_create(svc, link.tenant_id, touch, rule, keys, event, outbox)
    if decision is Decision.ELIGIBLE and not lead_pays(customer, touch):
        decision = Decision.OTHERS_CUSTOMER
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
            decision=decision,
            via=share.parent,
            depth=share.depth,
            kind="lead",
            customer_id=customer.customer_id,
            node=share.node,
            # a signed-in colleague's lead feeds the click-ring signals like their clicks
            viewer=req.viewer.sub if req.viewer is not None and req.viewer.tenant_id == link.tenant_id else "",
        )
    )
    if not customer.in_pool:
        from ripple.service.notifications import lead_assigned

        lead_assigned(svc, link.tenant_id, customer.owner, lead_id, customer.customer_id, contact.name)
    return LeadReceipt(lead_id, customer.customer_id, created)


@dataclass(frozen=True, slots=True)
class _Contact:
    """What the form says, normalised; the consent is the text the visitor was shown."""

    name: str
    phone: str | None
    email: str | None
    message: str
    lang: str
    consent_text: str


def _share_of(svc: Services, body: dict[str, Any]) -> tuple[Link, ShareToken]:
    """The link and the genuine share token the form carries (nothing the client claims beyond it)."""
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
        share = read_token(chain_secret(svc), code=code, token=token)
    except InvalidShareTokenError as exc:
        raise ValidationError("token is not a valid share token", details={"field": "token"}) from exc
    return link, share


def _contact_of(req: LeadRequest, landing: dict[str, Any] | None, default_region: str) -> _Contact:
    """The contact fields, normalised (names NFKC, phones E.164 in the visitor's likely region),
    with the hosted page's required fields and "a phone or an e-mail" enforced."""
    body = req.body
    lang = _str(body, "lang", 16) or ""
    consent_text = _consent_text(landing, lang, _str(body, "consent_text", 2000))
    required = set(landing.get("required", [])) if landing else set()
    raw_name = _str(body, "name", 200)
    name = normalise_name(raw_name) if raw_name is not None else ""
    raw_phone = _str(body, "phone", 64)
    chosen = validate_region(body["country"]) if body.get("country") not in (None, "") else None
    regions = phone_regions(
        chosen=chosen, viewer_country=req.country, lang=req.language or lang, default=default_region
    )
    phone = normalise_phone_in(raw_phone, regions) if raw_phone is not None else None
    raw_email = _str(body, "email", 320)
    email = normalise_email(raw_email) if raw_email is not None else None
    message = _str(body, "message", 1000) or ""
    for field_name, value in (("name", name), ("phone", phone), ("email", email), ("message", message)):
        if field_name in required and not value:
            raise ValidationError(f"{field_name} is required", details={"field": field_name})
    if phone is None and email is None:
        raise ValidationError("give a phone number or an e-mail address", details={"field": "phone"})
    return _Contact(name, phone, email, message, lang, consent_text)


def _lead_event(lead_id: str, link: Link, share: ShareToken, contact: _Contact, now: int) -> CustomerEvent:
    """The customer's history entry: where the lead came from and what it said (a merge
    never overwrites the customer; the owner reviews ``submitted``)."""
    submitted = (("name", contact.name), ("phone", contact.phone), ("email", contact.email))
    return CustomerEvent(
        event_id=lead_id,
        kind="lead",
        ts=now,
        actor="public",
        data={
            "campaign_id": link.campaign_id,
            "channel": link.channel,
            "code": link.code,
            "employee_id": link.employee_id,
            "node": share.node,
            "via": share.parent,
            "depth": share.depth,
            "message": contact.message,
            "consent_text": contact.consent_text,
            "lang": contact.lang,
            "submitted": {k: v for k, v in submitted if v},
        },
    )


def _decision(
    svc: Services,
    req: LeadRequest,
    link: Link,
    holder: str,
    identity: VisitorIdentity,
    owner_active: bool,
    now: int,
) -> Decision:
    """What the lead may earn, by the visit rules: the person behind it is the link's owner
    or a colleague when they are signed in, when their share token was minted for their own
    visit, or when the phone they submit from is one they use signed in."""
    viewer = req.viewer if req.viewer is not None and req.viewer.tenant_id == link.tenant_id else None
    device = None
    if svc.fraud is not None:
        device = svc.fraud.device_owners({(link.tenant_id, identity.visitor_key)}).get(
            (link.tenant_id, identity.visitor_key)
        )
    staff = {p for p in (viewer.sub if viewer else None, device) if p}
    is_owner = holder == HOLDER_OWNER or link.employee_id in staff
    is_colleague = holder == HOLDER_COLLEAGUE or bool(staff - {link.employee_id})
    return decide(
        link=link,
        bot=describe_user_agent(req.user_agent).bot,
        is_owner=is_owner,
        owner_active=owner_active,
        now_ms=now,
        is_colleague=is_colleague,
    )


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
) -> tuple[Customer, bool]:
    """Create the customer or merge into the one holding this phone/e-mail; optimistic
    and retried, so concurrent submissions for one contact end in one customer. A merge
    claims no contact key: the lead's other contact stays in its history, not on the
    customer (an unauthenticated request cannot attach an address to someone)."""
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
                return customer, True
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
            saved = svc.customers.save(customer, expected_version=existing.version, events=events, extra=extra)
            return saved, False
        except (ContactTakenError, StaleCustomerError):
            continue
    raise ConflictError("this contact is being updated concurrently; please retry")

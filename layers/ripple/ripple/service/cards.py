"""The digital business card: edit my card, the public card page, its vCard, taps, and the
card radar (who viewed my card, how often, what they tapped).

Card links are links of the tenant's reserved campaign ``card`` (``domain.card``), so the
public page ``/c/{code}`` resolves and records exactly like ``/p/{code}``: one cached link
lookup and one write through ``record_visit`` (surface ``card``) — bots, HEAD, owner and
colleague clicks, share tokens and unique visitors all work the same way, and points come
from the card campaign's ordinary rules (zero unless an admin sets them).

Taps (call, save contact, e-mail, a campaign, WeChat, LINE) are written to the visits
stream as ``tap`` events (one write; they pay nothing), and the stream consumer folds
views and taps into one radar row per (employee, viewer) with idempotent set additions.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ripple.domain.card import (
    CARD_CAMPAIGN,
    IMAGE_SLOTS,
    MAX_CARD_IMAGE_BYTES,
    CardProfile,
    CompanyCard,
    RadarRow,
    rank_viewers,
    validate_card,
    validate_company,
    validate_tap,
)
from ripple.domain.errors import ForbiddenError, NotFoundError, TooManyRequestsError
from ripple.domain.model import Campaign, Decision, Employee, Link, PointsRules, Role, Visit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.redirect import TTLCache, VisitRequest, _lookup, record_visit

__all__ = [
    "CardRepository",
    "CardView",
    "TapRequest",
    "card_image_key",
    "card_radar",
    "delete_card_image",
    "get_company_card",
    "get_my_card",
    "put_company_card",
    "put_my_card",
    "record_card_events",
    "record_tap",
    "upload_card_image",
    "vcard_for",
    "visit_card",
]

log = logging.getLogger("ripple.cards")

# (per network, per visitor) taps per window: a person taps a handful of times, a script thousands
TAP_LIMITS: tuple[tuple[str, int, int], ...] = (("ip", 120, 3600), ("visitor", 30, 600))
CARD_CAMPAIGN_NAME = "Business card"


class CardRepository(Protocol):
    def get(self, tenant_id: str, employee_id: str) -> CardProfile | None: ...
    def put(self, tenant_id: str, employee_id: str, card: CardProfile) -> None: ...
    def company(self, tenant_id: str) -> CompanyCard: ...
    def put_company(self, tenant_id: str, company: CompanyCard) -> None: ...
    def add_events(
        self, tenant_id: str, employee_id: str, visitor: str, *, views: Any = (), taps: Any = ()
    ) -> None: ...
    def radar(self, tenant_id: str, employee_id: str) -> list[RadarRow]: ...
    def remember_customer(self, tenant_id: str, visitor: str, customer_id: str) -> None: ...
    def customers_of(self, tenant_id: str, visitors: Any) -> dict[str, str]: ...


def _cards(svc: Services) -> CardRepository:
    if svc.cards is None:
        raise NotFoundError("business cards are not available")
    repo: CardRepository = svc.cards
    return repo


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a card page shows besides the link: cached per process like landing pages."""

    employee: Employee | None
    card: CardProfile | None
    company: CompanyCard
    campaigns: tuple[tuple[str, str, str], ...]  # (campaign id, name, short code) the employee shares


# (tenant, employee) -> what their card shows; short TTL so an edit shows within a minute
card_cache: TTLCache[tuple[str, str], _Shown] = TTLCache(max_size=5_000, ttl_seconds=60.0)


def _shown(svc: Services, tenant_id: str, employee_id: str) -> _Shown:
    key = (tenant_id, employee_id)
    hit = card_cache.get(key)
    if hit is not None:
        return hit
    cards = _cards(svc)
    employee = svc.employees.get(tenant_id, employee_id)
    company = _company(svc, cards, tenant_id)
    card = cards.get(tenant_id, employee_id) if employee is not None and employee.active else None
    campaigns: list[tuple[str, str, str]] = []
    if employee is not None and employee.active:
        now = svc.clock()
        links = [
            link
            for link in svc.links.owned_by(tenant_id, employee_id)
            if link.campaign_id != CARD_CAMPAIGN and (link.ends_at is None or link.ends_at > now)
        ]
        first: dict[str, Link] = {}
        for link in sorted(links, key=lambda lk: (lk.channel != "other", lk.created_at)):
            first.setdefault(link.campaign_id, link)
        found = svc.campaigns.batch_get({(tenant_id, cid) for cid in first})
        for cid, link in sorted(first.items(), key=lambda kv: -kv[1].created_at)[:6]:
            campaign = found.get((tenant_id, cid))
            if campaign is not None and (campaign.starts_at is None or campaign.starts_at <= now):
                campaigns.append((cid, campaign.name, link.code))
    value = _Shown(employee, card, company, tuple(campaigns))
    card_cache.set(key, value)
    return value


def _company(svc: Services, cards: CardRepository, tenant_id: str) -> CompanyCard:
    company = cards.company(tenant_id)
    if not company.company:
        tenant = svc.tenants.get(tenant_id)
        company = replace(company, company=tenant.name or tenant_id)
    return company


# ------------------------------------------------------------------ the employee's side


def _ensure_card_campaign(svc: Services, tenant_id: str) -> None:
    """The tenant's card campaign, created on first use with zero points (an admin may set
    rules on it like on any campaign: ``PUT /admin/campaigns/card/rules``)."""
    from ripple.domain.model import RulesVersion

    if svc.campaigns.get(tenant_id, CARD_CAMPAIGN) is not None:
        return
    rules = PointsRules()
    svc.campaigns.create(
        Campaign(
            tenant_id=tenant_id,
            campaign_id=CARD_CAMPAIGN,
            name=CARD_CAMPAIGN_NAME,
            destination_url="",
            points=rules,
            created_at=svc.clock(),
            created_by="ripple",
            rules_history=(RulesVersion(1, 0, rules),),
        )
    )


def _active_employee(svc: Services, principal: Principal) -> Employee:
    require_role(principal, Role.EMPLOYEE)
    employee = svc.employees.get(principal.tenant_id, principal.sub)
    if employee is None:
        raise ForbiddenError("your account is not registered as an employee of this tenant")
    if not employee.active:
        raise ForbiddenError("your account has been deactivated")
    return employee


def _my_card(
    svc: Services, principal: Principal, employee: Employee, card: CardProfile | None, base_url: str
) -> dict[str, Any]:
    from ripple.service.links import issue_link

    _ensure_card_campaign(svc, principal.tenant_id)
    link, _ = issue_link(svc, principal, CARD_CAMPAIGN, {"channel": "other"})
    base = base_url.rstrip("/")
    company = _company(svc, _cards(svc), principal.tenant_id)
    return {
        "name": employee.name,
        "card": (card or CardProfile()).to_dict(),
        "company": company.to_dict(),
        "code": link.code,
        "card_url": f"{base}/c/{link.code}",
        "vcard_url": f"{base}/c/{link.code}/vcard",
        "campaign_id": CARD_CAMPAIGN,
        "images": _image_urls(card or CardProfile(), base, link.code),
    }


def _image_urls(card: CardProfile, base: str, code: str) -> dict[str, str]:
    """slot -> what the card shows: the uploaded image (served through ``/c/{code}/images``,
    versioned by its key so a new upload is never a stale cache hit), else the https URL."""
    out: dict[str, str] = {}
    for slot in IMAGE_SLOTS:
        key = card.images.get(slot)
        if key:
            version = hashlib.sha256(key.encode()).hexdigest()[:10]
            out[slot] = f"{base}/c/{code}/images/{slot}?v={version}"
        elif card.image_url(slot):
            out[slot] = card.image_url(slot)
    return out


def upload_card_image(
    svc: Services, deps: Any, principal: Principal, slot: str, body: bytes, content_type: str, *, base_url: str
) -> dict[str, Any]:
    """My photo or WeChat/LINE QR image: checked, decoded and re-encoded (EXIF stripped) by
    the poster function like every material; anything else is a 422 naming the slot, an
    oversized body a 413, and nothing is saved either way."""
    from ripple.domain.errors import PayloadTooLargeError, ValidationError
    from ripple.domain.posters import IMAGE_TYPES
    from ripple.service.posters import ingest_image

    employee = _active_employee(svc, principal)
    if slot not in IMAGE_SLOTS:
        raise NotFoundError(f"no image slot {slot!r} (one of {', '.join(IMAGE_SLOTS)})")
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype not in IMAGE_TYPES:
        raise ValidationError(f"{slot} must be one of {', '.join(IMAGE_TYPES)}", details={"field": slot})
    if len(body) > MAX_CARD_IMAGE_BYTES:
        raise PayloadTooLargeError(
            f"{slot}: card images are limited to {MAX_CARD_IMAGE_BYTES // (1024 * 1024)} MB", details={"field": slot}
        )
    if not body:
        raise ValidationError(f"{slot}: the request body must be the image", details={"field": slot})
    image_id = "i" + svc.ids(11)
    staged = f"uploads/{principal.tenant_id}/{image_id}"
    deps.blobs.put(staged, body, "application/octet-stream")
    target = f"cards/{principal.tenant_id}/{principal.sub}/{slot}-{image_id}"
    result = ingest_image(deps, staged, target, field=slot)
    cards = _cards(svc)
    card = cards.get(principal.tenant_id, principal.sub) or CardProfile()
    card = replace(card, images={**card.images, slot: str(result["key"])}, updated_at=svc.clock())
    cards.put(principal.tenant_id, principal.sub, card)
    card_cache.discard((principal.tenant_id, principal.sub))
    return _my_card(svc, principal, employee, card, base_url)


def delete_card_image(svc: Services, principal: Principal, slot: str, *, base_url: str) -> dict[str, Any]:
    employee = _active_employee(svc, principal)
    if slot not in IMAGE_SLOTS:
        raise NotFoundError(f"no image slot {slot!r} (one of {', '.join(IMAGE_SLOTS)})")
    cards = _cards(svc)
    card = cards.get(principal.tenant_id, principal.sub) or CardProfile()
    if slot in card.images:
        card = replace(card, images={k: v for k, v in card.images.items() if k != slot}, updated_at=svc.clock())
        cards.put(principal.tenant_id, principal.sub, card)
        card_cache.discard((principal.tenant_id, principal.sub))
    return _my_card(svc, principal, employee, card, base_url)


def card_image_key(svc: Services, code: str, slot: str) -> str:
    """The S3 key of a card's uploaded image (404 for none, or an offboarded employee's)."""
    link = _card_link(svc, code)
    shown = _shown(svc, link.tenant_id, link.employee_id)
    key = shown.card.images.get(slot) if shown.card is not None and slot in IMAGE_SLOTS else None
    if not key:
        raise NotFoundError("no such image")
    return key


def get_my_card(svc: Services, principal: Principal, *, base_url: str) -> dict[str, Any]:
    """My card, and my card link (issued on first ask; per-channel links come from the
    ordinary ``POST /campaigns/card/links``)."""
    employee = _active_employee(svc, principal)
    return _my_card(svc, principal, employee, _cards(svc).get(principal.tenant_id, principal.sub), base_url)


def put_my_card(svc: Services, principal: Principal, body: dict[str, Any], *, base_url: str) -> dict[str, Any]:
    """Replace my card (validated whole first: a 422 names the field and saves nothing)."""
    employee = _active_employee(svc, principal)
    tenant = svc.tenants.get(principal.tenant_id)
    card = validate_card(body, phone_region=tenant.phone_region, now=svc.clock())
    existing = _cards(svc).get(principal.tenant_id, principal.sub)
    if existing is not None and existing.images:
        card = replace(card, images=dict(existing.images))  # uploads change only through uploads
    _cards(svc).put(principal.tenant_id, principal.sub, card)
    card_cache.discard((principal.tenant_id, principal.sub))
    return _my_card(svc, principal, employee, card, base_url)


def get_company_card(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return _cards(svc).company(principal.tenant_id).to_dict()


def put_company_card(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    tenant = svc.tenants.get(principal.tenant_id)
    company = validate_company(body, phone_region=tenant.phone_region)
    _cards(svc).put_company(principal.tenant_id, company)
    card_cache.clear()
    return company.to_dict()


def card_radar(svc: Services, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
    """Viewers of my card ranked by interest: known customers by name, others counted."""
    from ripple.domain.timeutil import ms_to_iso

    require_role(principal, Role.EMPLOYEE)
    try:
        limit = max(1, min(100, int(query.get("limit", "50"))))
    except ValueError:
        from ripple.domain.errors import ValidationError

        raise ValidationError("limit must be an integer 1..100", details={"field": "limit"}) from None
    cards = _cards(svc)
    rows = cards.radar(principal.tenant_id, principal.sub)
    known = cards.customers_of(principal.tenant_id, [r.visitor for r in rows]) if rows else {}
    names: dict[str, tuple[str, str]] = {}
    for visitor, customer_id in known.items():
        customer = svc.customers.get(principal.tenant_id, customer_id)
        if customer is not None:
            names[visitor] = (customer_id, customer.name or "")
    viewers = rank_viewers(rows, names)
    taps: dict[str, int] = {}
    for v in viewers:
        for action, n in v.taps.items():
            taps[action] = taps.get(action, 0) + n
    return {
        "viewers": [v.to_dict(ms_to_iso) for v in viewers[:limit]],
        "totals": {
            "viewers": len(viewers),
            "known_customers": sum(1 for v in viewers if v.customer_id),
            "anonymous": sum(1 for v in viewers if not v.customer_id),
            "views": sum(v.views for v in viewers),
            "taps": dict(sorted(taps.items())),
        },
    }


# ------------------------------------------------------------------ the public side


@dataclass(frozen=True, slots=True)
class CardView:
    """What the public card shows this visitor (rendered by ``ripple.web.card_page``): an
    offboarded employee's link shows the company card (``card`` None, ``name`` "")."""

    lang: str
    images: dict[str, str]
    name: str
    card: CardProfile | None
    company: CompanyCard
    campaigns: list[tuple[str, str]]
    campaign_ids: list[str]
    share_url: str
    vcard_url: str
    taps_url: str
    set_visitor_cookie: str | None


def _card_link(svc: Services, code: str) -> Link:
    link = _lookup(svc, code)
    if link.campaign_id != CARD_CAMPAIGN:
        raise NotFoundError("no such card")
    return link


def visit_card(
    svc: Services, req: VisitRequest, *, base_url: str, accept_language: str, query_lang: str | None
) -> CardView:
    """Record the card view (like a landing page) and say what the card shows. An offboarded
    employee's link shows the company card; their visit credits nobody (the consumer pays
    and tracks nothing for inactive owners)."""
    from ripple.domain.landing import LANGUAGES, negotiate_language

    link = _card_link(svc, req.code)
    rec = record_visit(svc, replace(req, surface="card"))
    shown = _shown(svc, link.tenant_id, link.employee_id)
    token = rec.child_token or ""
    active = shown.employee is not None and shown.employee.active
    cookie = None
    if rec.identity is not None and rec.identity.new_cookie and rec.decision is not Decision.BOT:
        cookie = rec.identity.cookie_value
    return CardView(
        lang=negotiate_language(accept_language, query_lang, LANGUAGES, "en"),
        images=_image_urls(shown.card, base_url, link.code) if active and shown.card is not None else {},
        name=shown.employee.name if active and shown.employee is not None else "",
        card=shown.card if active else None,
        company=shown.company,
        campaigns=[(name, f"{base_url}/{code}") for _cid, name, code in shown.campaigns] if active else [],
        campaign_ids=[cid for cid, _n, _c in shown.campaigns] if active else [],
        share_url=f"{base_url}/s/{token}" if token else f"{base_url}/c/{link.code}",
        vcard_url=f"{base_url}/c/{link.code}/vcard",
        taps_url=f"{base_url}/c/{link.code}/taps",
        set_visitor_cookie=cookie,
    )


def vcard_for(svc: Services, code: str, *, base_url: str) -> tuple[str, str]:
    """(file name, vCard text) of a card; an offboarded employee's is the company's."""
    from datetime import UTC, datetime

    from ripple.domain.card import build_vcard

    link = _card_link(svc, code)
    shown = _shown(svc, link.tenant_id, link.employee_id)
    active = shown.employee is not None and shown.employee.active
    name = shown.employee.name if active and shown.employee is not None else ""
    card = (shown.card or CardProfile()) if active else None
    uid = hashlib.sha256(f"{link.tenant_id}#{link.employee_id if active else '-'}".encode()).hexdigest()
    uid = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
    rev = ""
    if card is not None and card.updated_at:
        rev = datetime.fromtimestamp(card.updated_at / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")
    if card is not None:
        card = replace(card, photo_url=_image_urls(card, base_url, link.code).get("photo", ""))
    text = build_vcard(
        name=name,
        card=card,
        company=shown.company,
        url=f"{base_url}/c/{link.code}",
        uid=uid,
        rev=rev,
    )
    safe = "".join(ch for ch in (name or shown.company.company) if ch.isalnum())[:40] or "contact"
    return safe, text


@dataclass(frozen=True, slots=True)
class TapRequest:
    code: str
    body: dict[str, Any]
    user_agent: str
    client_ip: str
    visitor_cookie: str | None
    viewer: Principal | None


def record_tap(svc: Services, req: TapRequest) -> bool:
    """Record what a card's viewer tapped (one write to the visits stream). Bots, the owner
    and colleagues are answered alike and recorded nothing (False); over the rate limit, 429."""
    from ripple.domain.tracking import describe_user_agent, identify_visitor

    action, campaign_id = validate_tap(req.body)
    link = _card_link(svc, req.code)
    now = svc.clock()
    ip_hash = hmac.new(svc.settings.visitor_secret, f"tap-ip:{req.client_ip}".encode(), hashlib.sha256).hexdigest()
    identity = identify_visitor(
        tenant_id=link.tenant_id,
        cookie=req.visitor_cookie,
        client_ip=req.client_ip,
        user_agent=req.user_agent,
        secret=svc.settings.visitor_secret,
    )
    keys = {"ip": ip_hash[:32], "visitor": identity.visitor_key}
    for kind, limit, window in TAP_LIMITS:
        if not svc.rate_limits.hit(f"tap:{kind}:{keys[kind]}", limit=limit, window_seconds=window, now_ms=now):
            raise TooManyRequestsError("too many taps; please try again later", retry_after=window)
    if describe_user_agent(req.user_agent).bot:
        return False
    if req.viewer is not None and req.viewer.tenant_id == link.tenant_id:
        return False  # the owner or a colleague looking at the card
    svc.visits.record(
        Visit(
            visit_id=f"{now:013d}{svc.ids(12)}",
            tenant_id=link.tenant_id,
            code=link.code,
            campaign_id=link.campaign_id,
            employee_id=link.employee_id,
            channel=link.channel,
            visitor=identity.visitor_key,
            ts=now,
            decision=Decision.ELIGIBLE,
            kind="tap",
            surface="card",
            action=action,
            node=campaign_id,  # the campaign opened, for action "campaign"
        )
    )
    return True


# ------------------------------------------------------------------ the stream consumer


def record_card_events(svc: Services, visits: list[Visit], employees: dict[tuple[str, str], Employee]) -> int:
    """Fold card views and taps into radar rows, and remember which visitors are customers
    (from lead events). Set additions keyed by the event: a redelivery changes nothing.
    Only people count: bots, owners and colleagues are not on anyone's radar, and an
    offboarded employee's card tracks nobody."""
    if svc.cards is None:
        return 0
    cards: CardRepository = svc.cards
    views: dict[tuple[str, str, str], set[str]] = {}
    taps: dict[tuple[str, str, str], set[str]] = {}
    for v in visits:
        if v.kind == "lead" and v.customer_id and v.visitor:
            cards.remember_customer(v.tenant_id, v.visitor, v.customer_id)
            continue
        if v.campaign_id != CARD_CAMPAIGN or v.decision is not Decision.ELIGIBLE:
            continue
        employee = employees.get((v.tenant_id, v.employee_id))
        if employee is None or not employee.active:
            continue
        key = (v.tenant_id, v.employee_id, v.visitor)
        if v.kind == "visit":
            views.setdefault(key, set()).add(f"{v.ts:013d}:{v.visit_id}")
        elif v.kind == "tap" and v.action:
            taps.setdefault(key, set()).add(f"{v.ts:013d}:{v.action}:{v.visit_id}")
    for key in views.keys() | taps.keys():
        cards.add_events(*key, views=views.get(key, ()), taps=taps.get(key, ()))
    return len(views.keys() | taps.keys())

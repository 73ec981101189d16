"""The hosted landing page (``/p/{code}``): record the visit, render the campaign's page.

The page *is* the visit for campaigns without an external destination, so it goes through
the same ``record_visit`` as the redirect (bots, HEAD, owner clicks, chains, one write).
The campaign's page config is cached per process like links, so a warm page costs one
write and no read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ripple.domain.errors import NotFoundError
from ripple.domain.landing import Landing, landing_from_dict, negotiate_language
from ripple.service.context import Services
from ripple.service.redirect import TTLCache, VisitRequest, _lookup, record_visit

__all__ = ["LandingOutcome", "landing_cache", "render_landing"]


# (tenant, campaign) -> (hosted page or None, campaign name)
landing_cache: TTLCache[tuple[str, str], tuple[Landing | None, str]] = TTLCache(max_size=2_000)


def _landing(svc: Services, tenant_id: str, campaign_id: str) -> tuple[Landing | None, str]:
    key = (tenant_id, campaign_id)
    hit = landing_cache.get(key)
    if hit is not None:
        return hit
    campaign = svc.campaigns.get(tenant_id, campaign_id)
    landing = landing_from_dict(campaign.landing) if campaign is not None and campaign.landing else None
    value = (landing, campaign.name if campaign is not None else "")
    landing_cache.set(key, value)
    return value


@dataclass(frozen=True, slots=True)
class LandingOutcome:
    html: str
    lang: str
    nonce: str
    set_visitor_cookie: str | None


def _visitor_region(country: str, accept_language: str) -> str:
    """The region the form's country selector starts on: where the visitor is, else what
    their browser's first language says (``ja`` → JP); "" leaves it on "—"."""
    from ripple.domain.contact import phone_regions
    from ripple.web.landing_page import PHONE_REGIONS

    first = accept_language.split(",", 1)[0].split(";", 1)[0].strip()
    known = {region for region, _ in PHONE_REGIONS}
    regions = phone_regions(chosen=None, viewer_country=country, lang=first, default="")
    return next((r for r in regions if r in known), "")


def render_landing(
    svc: Services, req: VisitRequest, *, base_url: str, accept_language: str, query_lang: str | None
) -> LandingOutcome:
    """Raises NotFoundError (unknown code, or a campaign without a hosted page) and
    GoneError (ended campaign), which the entry point renders as a localized page."""
    from ripple.domain.model import Decision
    from ripple.web.landing_page import new_nonce, render_landing_page

    link = _lookup(svc, req.code)  # cached; record_visit below reuses it
    landing, campaign_name = _landing(svc, link.tenant_id, link.campaign_id)
    if landing is None:
        raise NotFoundError("this link has no hosted page")
    rec = record_visit(svc, replace(req, surface="page"))
    lang = negotiate_language(accept_language, query_lang, landing.copies.keys(), landing.default_lang)
    token = rec.child_token or ""
    share_url = f"{base_url}/s/{token}" if token else f"{base_url}/{link.code}"
    nonce = new_nonce()
    html = render_landing_page(
        landing,
        lang,
        share_url=share_url,
        leads_url=f"{base_url}/leads",
        share_token=token,
        nonce=nonce,
        campaign_name=campaign_name,
        phone_region=_visitor_region(req.country, accept_language),
    )
    cookie = None
    if rec.identity is not None and rec.identity.new_cookie and rec.decision is not Decision.BOT:
        cookie = rec.identity.cookie_value
    return LandingOutcome(html, lang, nonce, cookie)

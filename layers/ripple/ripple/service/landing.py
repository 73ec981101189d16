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

__all__ = ["LandingView", "landing_cache", "visit_landing"]


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
class LandingView:
    """What the hosted page shows this visitor (rendered by ``ripple.web.landing_page``)."""

    landing: Landing
    lang: str
    share_url: str
    leads_url: str
    share_token: str
    campaign_name: str
    set_visitor_cookie: str | None


def visit_landing(
    svc: Services, req: VisitRequest, *, base_url: str, accept_language: str, query_lang: str | None
) -> LandingView:
    """Record the visit and say what the page shows. Raises NotFoundError (unknown code, or
    a campaign without a hosted page) and GoneError (ended campaign), which the entry point
    renders as a localized page."""
    from ripple.domain.model import Decision

    link = _lookup(svc, req.code)  # cached; record_visit below reuses it
    landing, campaign_name = _landing(svc, link.tenant_id, link.campaign_id)
    if landing is None:
        raise NotFoundError("this link has no hosted page")
    rec = record_visit(svc, replace(req, surface="page"))
    lang = negotiate_language(accept_language, query_lang, landing.copies.keys(), landing.default_lang)
    token = rec.child_token or ""
    cookie = None
    if rec.identity is not None and rec.identity.new_cookie and rec.decision is not Decision.BOT:
        cookie = rec.identity.cookie_value
    return LandingView(
        landing=landing,
        lang=lang,
        share_url=f"{base_url}/s/{token}" if token else f"{base_url}/{link.code}",
        leads_url=f"{base_url}/leads",
        share_token=token,
        campaign_name=campaign_name,
        set_visitor_cookie=cookie,
    )

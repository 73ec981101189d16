"""Campaign lifecycle use cases: edit, end now, duplicate, archive, and copying an edit
onto the campaign's links.

Why links are copied: the redirect reads one item (the link, cached per process for up to
five minutes) and never the campaign, so a new destination or window is written onto every
link of the campaign. That copy is resumable: the campaign keeps a cursor until every link
carries the edit (``links_pending`` in its JSON), each call continues from it within a time
budget, and a slower copy of an older edit can never overwrite a newer one (links remember
the campaign's ``links_revision`` they carry). ``POST /admin/campaigns/{id}/links/sync``
continues a copy the edit's own request did not finish.
"""

from __future__ import annotations

import time
from typing import Any

from ripple.domain import campaigns as rules
from ripple.domain.model import Campaign, Role
from ripple.domain.validation import validate_campaign_edit, validate_duplicate
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = [
    "SYNC_BUDGET_S",
    "archive_campaign",
    "campaign_view",
    "duplicate_campaign",
    "edit_campaign",
    "end_campaign",
    "sync_links",
    "unarchive_campaign",
]

SYNC_BUDGET_S = 10.0  # per request: well inside API Gateway's 30 s, the rest on the next call
_PAGE = 100


def campaign_view(campaign: Campaign, now: int, *, links_updated: int | None = None) -> dict[str, Any]:
    """The campaign's JSON with its lifecycle status (and, after an edit, what was copied)."""
    out = {**campaign.to_public(), "status": rules.status(campaign, now)}
    if links_updated is not None:
        out["links_updated"] = links_updated
    return out


def _campaign(svc: Services, principal: Principal, campaign_id: str) -> Campaign:
    from ripple.service.admin import get_campaign

    require_role(principal, Role.ADMIN)
    return get_campaign(svc, principal, campaign_id)


def edit_campaign(svc: Services, principal: Principal, campaign_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``PATCH``: name, destination, hosted page, window. A new destination or window is
    copied onto the links (as far as this request's budget reaches)."""
    from ripple.domain.compliance import check_campaign

    changes = validate_campaign_edit(body)
    campaign = _campaign(svc, principal, campaign_id)
    now = svc.clock()
    new, links_change = rules.edited(campaign, changes, now)
    check_campaign(new.name, new.landing)
    svc.campaigns.save_lifecycle(new)
    copied = 0
    if links_change:
        new, copied = _copy(svc, new, SYNC_BUDGET_S)
    return campaign_view(new, now, links_updated=copied)


def end_campaign(svc: Services, principal: Principal, campaign_id: str) -> dict[str, Any]:
    """End now: from this moment its links show the company's ended page (warm redirect
    containers within their link cache's five minutes) and no new link is issued."""
    campaign = _campaign(svc, principal, campaign_id)
    now = svc.clock()
    ended = rules.ended_now(campaign, now)
    svc.campaigns.save_lifecycle(ended)
    ended, copied = _copy(svc, ended, SYNC_BUDGET_S)
    return campaign_view(ended, now, links_updated=copied)


def duplicate_campaign(svc: Services, principal: Principal, campaign_id: str, body: dict[str, Any]) -> dict[str, Any]:
    from ripple.domain.compliance import check_campaign

    changes = validate_duplicate(body)
    campaign = _campaign(svc, principal, campaign_id)
    now = svc.clock()
    copy = rules.duplicated(campaign, campaign_id="c" + svc.ids(11), now=now, by=principal.sub, changes=changes)
    check_campaign(copy.name, copy.landing)
    svc.campaigns.create(copy)
    return campaign_view(copy, now)


def archive_campaign(svc: Services, principal: Principal, campaign_id: str) -> dict[str, Any]:
    campaign = _campaign(svc, principal, campaign_id)
    now = svc.clock()
    done = rules.archived(campaign, now)
    svc.campaigns.save_lifecycle(done)
    return campaign_view(done, now)


def unarchive_campaign(svc: Services, principal: Principal, campaign_id: str) -> dict[str, Any]:
    campaign = _campaign(svc, principal, campaign_id)
    done = rules.unarchived(campaign)
    svc.campaigns.save_lifecycle(done)
    return campaign_view(done, svc.clock())


def sync_links(svc: Services, principal: Principal, campaign_id: str) -> dict[str, Any]:
    """Continue copying the campaign's last edit onto its links (nothing to do: 0 updated)."""
    campaign = _campaign(svc, principal, campaign_id)
    campaign, copied = _copy(svc, campaign, SYNC_BUDGET_S)
    return campaign_view(campaign, svc.clock(), links_updated=copied)


def _copy(svc: Services, campaign: Campaign, budget_s: float) -> tuple[Campaign, int]:
    """Copy from the campaign's cursor until done or ``budget_s`` is spent; the cursor is
    saved after every page, so a crash or a timeout loses at most one page of work (which
    the next call repeats harmlessly)."""
    from dataclasses import replace

    from ripple.service.redirect import link_cache

    cursor = campaign.links_cursor
    copied = 0
    deadline = time.monotonic() + budget_s
    while cursor is not None:
        codes, after = svc.links.codes_in_campaign(campaign.tenant_id, campaign.campaign_id, cursor or None, _PAGE)
        for code in codes:
            if svc.links.copy_campaign(code, campaign):
                copied += 1
            link_cache.discard(code)  # this container at once; others within the cache's TTL
        cursor = after
        if not svc.campaigns.save_links_cursor(campaign, cursor):
            break  # a newer edit took over the copy; it covers every link
        campaign = replace(campaign, links_cursor=cursor)
        if cursor is not None and time.monotonic() >= deadline:
            break
    return campaign, copied

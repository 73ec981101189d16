"""A campaign's lifecycle: edit, end now, duplicate, archive (pure rules, no I/O).

Links carry a copy of their campaign's destination and window so the redirect needs one
read; an edit that changes those (:data:`LINK_FIELDS`) is therefore copied onto every link
afterwards (``ripple.service.campaigns.sync_links``), and the campaign says so until done
(``links_cursor``). Rules change only through a new rules version (``Campaign.rules_history``),
so nothing already earned is rewritten; chain settings never change (shared tokens carry them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

from ripple.domain.errors import ConflictError, ValidationError
from ripple.domain.model import Campaign, Link, RulesVersion

__all__ = [
    "LINK_FIELDS",
    "Status",
    "archived",
    "duplicated",
    "edited",
    "ended_now",
    "link_is_current",
    "status",
    "unarchived",
]

Status = Literal["scheduled", "active", "ended", "archived"]
# what a link copies from its campaign (the redirect reads only the link)
LINK_FIELDS = ("destination_url", "starts_at", "ends_at")


def status(campaign: Campaign, now: int) -> Status:
    if campaign.archived_at is not None:
        return "archived"
    if campaign.ends_at is not None and now >= campaign.ends_at:
        return "ended"
    if campaign.starts_at is not None and now < campaign.starts_at:
        return "scheduled"
    return "active"


def edited(campaign: Campaign, changes: dict[str, Any], now: int) -> tuple[Campaign, bool]:
    """The campaign with ``changes`` (parsed by ``validate_campaign_edit``) applied, and
    whether its links must be updated. An archived campaign is frozen (unarchive it first)."""
    if campaign.archived_at is not None:
        raise ConflictError("the campaign is archived; unarchive it to edit it")
    new = replace(campaign, **changes)
    if not new.destination_url and not new.landing:
        field = "landing" if "landing" in changes else "destination_url"
        raise ValidationError("a campaign needs a destination_url or a hosted landing page", details={"field": field})
    if new.starts_at is not None and new.ends_at is not None and new.ends_at <= new.starts_at:
        raise ValidationError("ends_at must be after starts_at", details={"field": "ends_at"})
    links_change = any(getattr(new, f) != getattr(campaign, f) for f in LINK_FIELDS)
    if links_change:
        new = replace(new, links_cursor="", links_revision=campaign.links_revision + 1)
    return new, links_change


def ended_now(campaign: Campaign, now: int) -> Campaign:
    """End the campaign at ``now``: its links show the company's ended page from then on."""
    if status(campaign, now) in ("ended", "archived"):
        raise ConflictError("the campaign has already ended")
    starts = campaign.starts_at if campaign.starts_at is not None and campaign.starts_at < now else None
    return replace(campaign, starts_at=starts, ends_at=now, links_cursor="", links_revision=campaign.links_revision + 1)


def duplicated(campaign: Campaign, *, campaign_id: str, now: int, by: str, changes: dict[str, Any]) -> Campaign:
    """A new campaign with the same destination, landing page, chain settings and the newest
    rules (as its version 1); no links, no history, its own window (none unless given)."""
    name = changes.get("name") or _copy_name(campaign.name)
    return Campaign(
        tenant_id=campaign.tenant_id,
        campaign_id=campaign_id,
        name=name,
        destination_url=campaign.destination_url,
        points=campaign.points,
        starts_at=changes.get("starts_at"),
        ends_at=changes.get("ends_at"),
        created_at=now,
        created_by=by,
        share_param=campaign.share_param,
        max_chain_depth=campaign.max_chain_depth,
        landing=campaign.landing,
        rules_history=(RulesVersion(1, 0, campaign.points),),
    )


def _copy_name(name: str) -> str:
    suffix = " (copy)"
    return name[: 200 - len(suffix)] + suffix


def archived(campaign: Campaign, now: int) -> Campaign:
    """Archive an ended campaign (a running one must be ended first, so no link is cut off
    by a tidy-up)."""
    current = status(campaign, now)
    if current == "archived":
        raise ConflictError("the campaign is already archived")
    if current != "ended":
        raise ConflictError("only an ended campaign can be archived; end it first")
    return replace(campaign, archived_at=now)


def unarchived(campaign: Campaign) -> Campaign:
    if campaign.archived_at is None:
        raise ConflictError("the campaign is not archived")
    return replace(campaign, archived_at=None)


def link_is_current(link: Link, campaign: Campaign) -> bool:
    return all(getattr(link, f) == getattr(campaign, f) for f in LINK_FIELDS)

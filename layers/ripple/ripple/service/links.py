"""Issuing personal tracked links."""

from __future__ import annotations

from typing import Any

from ripple.domain.errors import ForbiddenError, GoneError, NotFoundError
from ripple.domain.model import Link, Role
from ripple.domain.validation import check_id, validate_channel
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.ports import CodeTakenError  # re-exported: they are the ports' types

__all__ = ["RESERVED_CODES", "CodeTakenError", "issue_link"]

# Paths of one segment the app serves itself (the API, the web console, the employee page):
# a short code equal to one would be shadowed by that route (literal routes win over
# /{code}), so none is ever issued. "rewards" is 7 characters of the code alphabet, so it
# could be drawn (tests/unit/test_web_console.py keeps this set complete).
RESERVED_CODES = frozenset(
    {"assets", "campaigns", "console", "customers", "lead-pool", "leaderboards", "leads", "m", "me"}
    | {"c", "openapi.json", "p", "rewards", "s", "unsubscribe"}
)


def issue_link(svc: Services, principal: Principal, campaign_id: str, body: dict[str, Any]) -> tuple[Link, bool]:
    """Return the caller's link for this campaign and channel, creating it if needed.

    Returns ``(link, created)``; asking again returns the same link with ``created=False``.
    """
    require_role(principal, Role.EMPLOYEE)
    check_id(campaign_id, "campaign_id")
    channel = validate_channel(body)
    campaign = svc.campaigns.get(principal.tenant_id, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    employee = svc.employees.get(principal.tenant_id, principal.sub)
    if employee is None:
        raise ForbiddenError("your account is not registered as an employee of this tenant")
    if not employee.active:
        raise ForbiddenError("your account has been deactivated")
    from ripple.domain.stories import is_story_campaign

    if is_story_campaign(campaign_id) and campaign.created_by != principal.sub:
        # a story is shared through its author's links only: whoever forwards it credits them
        raise ForbiddenError("a story is shared through its author's link; share that one")
    existing = svc.links.find_for_owner(principal.tenant_id, campaign_id, principal.sub, channel)
    if existing is not None:
        return existing, False
    if campaign.ends_at is not None and svc.clock() >= campaign.ends_at:
        raise GoneError(f"campaign {campaign_id} has ended")
    if campaign.archived_at is not None:
        raise GoneError(f"campaign {campaign_id} is archived")
    for _attempt in range(5):
        code = svc.ids(svc.settings.code_length)
        if code in RESERVED_CODES:
            continue
        link = Link(
            code=code,
            tenant_id=principal.tenant_id,
            campaign_id=campaign_id,
            employee_id=principal.sub,
            channel=channel,
            destination_url=campaign.destination_url,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            created_at=svc.clock(),
            share_param=campaign.share_param,
            max_chain_depth=campaign.max_chain_depth,
        )
        try:
            stored = svc.links.create(link)
        except CodeTakenError:
            continue
        return stored, stored.code == link.code
    raise RuntimeError("could not draw a free short code in 5 attempts")

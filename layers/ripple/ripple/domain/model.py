"""Domain entities as frozen dataclasses.

They carry no persistence concerns: adapters translate them to and from PynamoDB items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "CHANNELS",
    "Campaign",
    "Decision",
    "Employee",
    "LedgerEntry",
    "Link",
    "PointsRules",
    "Role",
    "Tenant",
    "Visit",
]

CHANNELS: tuple[str, ...] = (
    "wechat",
    "line",
    "weibo",
    "douyin",
    "xiaohongshu",
    "linkedin",
    "x",
    "email",
    "other",
)


class Role(StrEnum):
    ADMIN = "admin"
    EMPLOYEE = "employee"


class Decision(StrEnum):
    """Why a visit may or may not earn, decided at request time.

    ``ELIGIBLE`` visits may still earn nothing: uniqueness per visitor and campaign is
    decided by the stream consumer, which records the outcome in the ledger.
    """

    ELIGIBLE = "eligible"
    BOT = "bot"
    OWNER = "owner_click"
    NOT_STARTED = "campaign_not_started"
    INACTIVE_OWNER = "owner_inactive"
    COLLEAGUE = "employee_click"  # another employee of the same tenant (signed in)
    # leads only: a lead naming the contact of a customer someone else holds (a colleague,
    # or the lead pool) is recorded on that customer and pays nobody
    OTHERS_CUSTOMER = "others_customer"


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    name: str = ""
    timezone: str = "UTC"
    # customers (issue 3): attribution rule, days before untouched customers return to
    # the pool (None = never), default region for phone numbers given without +country
    attribution_mode: str = "first_touch"
    attribution_days: int = 30
    recycle_after_days: int | None = None
    phone_region: str = "CN"
    # anti-fraud (None = off): one visitor opening this many different employees' links
    # within 10 minutes is a click farm; an employee earning more unique visits than
    # ``velocity_per_hour`` in an hour is too
    burst_links: int | None = None
    velocity_per_hour: int | None = None
    # points mall (issue 4): what claiming a customer from the lead pool costs (0 = free)
    pool_claim_price: int = 0
    # analytics (issue 6): customer segments by interactions within a rolling window, and
    # how long a touched person still counts as reachable
    segment_window_days: int = 30
    segment_medium: int = 3
    segment_heavy: int = 10
    reach_days: int = 90
    # where an ended campaign's page sends visitors ("" = no button): the company's website
    ended_url: str = ""

    def settings_dict(self) -> dict[str, object]:
        attribution: dict[str, object] = {"mode": self.attribution_mode}
        if self.attribution_mode == "first_touch":
            attribution["days"] = self.attribution_days
        return {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "timezone": self.timezone,
            "attribution": attribution,
            "recycle_after_days": self.recycle_after_days,
            "phone_region": self.phone_region,
            "pool_claim_price": self.pool_claim_price,
            "ended_url": self.ended_url or None,
            "segments": {
                "window_days": self.segment_window_days,
                "medium": self.segment_medium,
                "heavy": self.segment_heavy,
                "reach_days": self.reach_days,
            },
            # the anti-fraud limits (null: that rule is off), so the console can show them
            "fraud": {"burst_links": self.burst_links, "velocity_per_hour": self.velocity_per_hour},
        }


@dataclass(frozen=True, slots=True)
class Employee:
    tenant_id: str
    employee_id: str
    name: str
    team: str
    region: str
    active: bool = True
    updated_at: int = 0
    email: str = ""  # their sign-in (the Cognito user's e-mail); "" = no sign-in yet
    role: str = "employee"  # admin | employee: the Cognito group the sign-in is in
    subject: str = ""  # the Cognito user's sub, so a replaced user's tokens stop working
    signed_in: bool = False  # accepted the invitation: has signed in at least once

    @property
    def status(self) -> str:
        """offboarded | active (has signed in) | invited (a sign-in, never used) | no_sign_in."""
        if not self.active:
            return "offboarded"
        if self.signed_in:
            return "active"
        return "invited" if self.subject else "no_sign_in"

    def to_public(self) -> dict[str, object]:
        return {
            "employee_id": self.employee_id,
            "name": self.name,
            "team": self.team,
            "region": self.region,
            "active": self.active,
            "email": self.email or None,
            "role": self.role,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class PointsRules:
    """What one campaign pays for outcomes (never for the share click itself).

    ``daily_cap`` / ``campaign_cap`` bound what one employee can earn from the campaign per
    day (tenant time zone) and in total; ``threshold`` keeps an employee's points from the
    campaign pending until they have earned that much in it; ``holding_days`` keeps every
    entry pending that long, during which an admin fraud review may reverse it.
    """

    unique_visit: int = 0
    forward: int = 0
    lead: int = 0
    conversion: int = 0
    daily_cap: int | None = None
    campaign_cap: int | None = None
    threshold: int = 0
    holding_days: int = 0

    def to_dict(self) -> dict[str, int]:
        """The per-outcome points (the API's ``points`` object)."""
        out = {"unique_visit": self.unique_visit, "forward": self.forward, "lead": self.lead}
        if self.conversion:
            out["conversion"] = self.conversion
        return out

    def limits_dict(self) -> dict[str, int | None]:
        """Caps, threshold and holding period (the API's ``rules`` object)."""
        return {
            "daily_cap": self.daily_cap,
            "campaign_cap": self.campaign_cap,
            "threshold": self.threshold,
            "holding_days": self.holding_days,
        }

    def for_kind(self, kind: str) -> int:
        return int(getattr(self, kind, 0) or 0) if kind in ("unique_visit", "forward", "lead", "conversion") else 0

    @property
    def holds(self) -> bool:
        return self.holding_days > 0 or self.threshold > 0


@dataclass(frozen=True, slots=True)
class RulesVersion:
    """One version of a campaign's rules, in force from ``effective_from`` (epoch ms)."""

    version: int
    effective_from: int
    rules: PointsRules


@dataclass(frozen=True, slots=True)
class Campaign:
    tenant_id: str
    campaign_id: str
    name: str
    destination_url: str
    points: PointsRules
    starts_at: int | None = None  # epoch milliseconds, UTC
    ends_at: int | None = None
    created_at: int = 0
    created_by: str = ""
    share_param: str = "rp"  # query parameter carrying each visitor's child share token
    max_chain_depth: int = 10
    landing: dict[str, Any] | None = None  # hosted landing page (domain.landing), as stored
    # Every version of the rules, oldest first (``points`` is the newest). Events are paid
    # by the version in force when they happened, so a change never rewrites what was earned.
    rules_history: tuple[RulesVersion, ...] = ()
    archived_at: int | None = None  # hidden from lists and closed to new links (ended first)
    # None: every link carries the campaign's destination and window. Otherwise an edit is
    # still being copied onto its links, from this link code on ("" = from the first).
    links_cursor: str | None = None
    links_revision: int = 0  # +1 per edit of LINK_FIELDS: a slower copy never overwrites a newer one

    def rules_at(self, ts: int) -> tuple[int, PointsRules]:
        """(version, rules) in force at ``ts`` (the first version for earlier events)."""
        if not self.rules_history:
            return 1, self.points
        chosen = self.rules_history[0]
        for v in self.rules_history:
            if v.effective_from <= ts:
                chosen = v
        return chosen.version, chosen.rules

    def with_current_rules(self) -> Campaign:
        """``points`` = the newest version's rules (as stored in the history)."""
        if not self.rules_history or self.rules_history[-1].rules == self.points:
            return self
        from dataclasses import replace

        return replace(self, points=self.rules_history[-1].rules)

    @property
    def rules_version(self) -> int:
        return self.rules_history[-1].version if self.rules_history else 1

    def to_public(self) -> dict[str, object]:
        from ripple.domain.timeutil import ms_to_iso

        return {
            "landing": self.landing,
            "campaign_id": self.campaign_id,
            "name": self.name,
            "destination_url": self.destination_url,
            "points": self.points.to_dict(),
            "rules": {**self.points.limits_dict(), "version": self.rules_version},
            "starts_at": ms_to_iso(self.starts_at),
            "ends_at": ms_to_iso(self.ends_at),
            "created_at": ms_to_iso(self.created_at),
            "chain": {"share_param": self.share_param, "max_depth": self.max_chain_depth},
            "archived_at": ms_to_iso(self.archived_at),
            "links_pending": self.links_cursor is not None,
        }


@dataclass(frozen=True, slots=True)
class Link:
    """A personal tracked link, denormalised so the redirect needs nothing else."""

    code: str
    tenant_id: str
    campaign_id: str
    employee_id: str
    channel: str
    destination_url: str
    starts_at: int | None = None
    ends_at: int | None = None
    created_at: int = 0
    share_param: str = "rp"
    max_chain_depth: int = 10

    def to_public(self, base_url: str) -> dict[str, object]:
        return {
            "code": self.code,
            "short_url": f"{base_url.rstrip('/')}/{self.code}",
            "channel": self.channel,
            "campaign_id": self.campaign_id,
            "employee_id": self.employee_id,
        }


@dataclass(frozen=True, slots=True)
class Visit:
    """One recorded request to a short link (HEAD requests are never recorded)."""

    visit_id: str
    tenant_id: str
    code: str
    campaign_id: str
    employee_id: str
    channel: str
    visitor: str  # tenant-scoped pseudonymous visitor key; never a raw IP
    ts: int  # epoch milliseconds
    decision: Decision
    user_agent_class: str = "browser"
    country: str = ""
    # Forward chain (see domain/chains.py): the node whose token was opened ("-" = the
    # employee's own link), that node's parent, and the visitor's depth in the tree.
    via: str = "-"
    via_parent: str = ""
    depth: int = 1
    token_rejected: bool = False
    # Event kind on the visits stream: "visit", or "lead" (then customer_id is set).
    kind: str = "visit"
    customer_id: str = ""
    # The submitter's own chain node for lead events (their share token's node); visits
    # derive it from the visitor key instead.
    node: str = ""
    amount: str = ""  # conversion events: the won deal's amount, e.g. "1999.00 CNY"
    viewer: str = ""  # the signed-in employee who clicked (owner or colleague), if any
    # analytics: "link" (redirect), "page" (hosted landing page view) or "card" (business
    # card view, /c/{code}); device type and OS
    # from the User-Agent; city from the CDN's viewer headers where present
    surface: str = "link"
    device: str = ""
    os: str = ""
    subdivision: str = ""  # e.g. "13" (Tokyo) in JP: the ISO 3166-2 code after the country
    city: str = ""
    action: str = ""  # kind "tap": what a business card's viewer tapped (domain.card.TAP_ACTIONS)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An immutable change to one employee's points, keyed by the event that caused it.

    ``source_key`` is unique per tenant: a second attempt to write the same key is a
    redelivery and must change nothing.
    """

    tenant_id: str
    source_key: str
    employee_id: str
    kind: str
    points: int
    ts: int
    campaign_id: str = ""
    team: str = ""
    region: str = ""
    day: str = ""
    week: str = ""
    month: str = ""
    source_id: str = ""  # e.g. the visit id that won the unique-visit slot
    meta: dict[str, str] = field(default_factory=dict)
    # Chain effects (domain/chains.py): the visitor's node, the node they came through,
    # its parent, and the visitor's depth. Empty for entries that are not about a visitor.
    node: str = ""
    via: str = ""
    via_parent: str = ""
    depth: int = 0
    # "available" (spendable now) or "pending" (held until ``release_at`` and the campaign
    # threshold; reversible by an admin review until then)
    status: str = "available"
    release_at: int | None = None
    threshold: int = 0
    rules_version: int = 0

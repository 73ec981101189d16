"""The hot path: resolve a short code, record the visit, say where to go.

Exactly one cached link lookup and at most one conditional write. Points, balances and
leaderboards are *not* touched here: the visits table's stream drives them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

from ripple.domain.chains import HOLDER_COLLEAGUE, HOLDER_OWNER, HOLDER_VISITOR, child_token, position_for_visit
from ripple.domain.errors import CampaignEndedError, GoneError, NotFoundError
from ripple.domain.model import Decision, Link, Visit
from ripple.domain.tracking import VisitorIdentity, decide, describe_user_agent, identify_visitor, merge_utm
from ripple.service.auth import Principal
from ripple.service.context import Services

__all__ = [
    "LinkCache",
    "RecordedVisit",
    "RedirectOutcome",
    "TTLCache",
    "VisitRequest",
    "chain_secret",
    "follow_link",
    "link_cache",
    "record_visit",
]

CODE_MAX_LEN = 32
K = TypeVar("K")
V = TypeVar("V")
log = logging.getLogger("ripple.redirect")


class TTLCache(Generic[K, V]):
    """A small per-process LRU with a TTL: warm Lambdas skip the read entirely."""

    def __init__(self, max_size: int, ttl_seconds: float = 300.0) -> None:
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.max_size = max_size
        self.ttl = ttl_seconds

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return hit[1]

    def set(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def discard(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)


class LinkCache(TTLCache[str, Link]):
    """Links by code. Links are immutable once issued (a campaign's end date is copied onto
    them), so the TTL bounds how long an edit takes to reach a warm container."""

    def __init__(self, max_size: int = 20_000, ttl_seconds: float = 300.0) -> None:
        super().__init__(max_size, ttl_seconds)

    def put(self, link: Link) -> None:
        self.set(link.code, link)


link_cache = LinkCache()


@dataclass(frozen=True, slots=True)
class VisitRequest:
    code: str
    method: str
    user_agent: str
    client_ip: str
    visitor_cookie: str | None
    viewer: Principal | None  # verified bearer token or session cookie, if any
    country: str = ""
    share_token: str | None = None  # the child token of whoever shared this link with us
    surface: str = "link"  # "page": the hosted landing page (an exposure of the card)
    city: str = ""  # CloudFront-Viewer-City, where the distribution forwards it
    subdivision: str = ""  # CloudFront-Viewer-Country-Region


@dataclass(frozen=True, slots=True)
class RecordedVisit:
    """What the hot path learned about one request (shared by redirect and landing page)."""

    link: Link
    visit: Visit | None  # None for HEAD, or when the write failed (logged)
    identity: VisitorIdentity | None
    child_token: str | None  # the token this visitor shares onward (None for bots/HEAD)
    decision: Decision | None


@dataclass(frozen=True, slots=True)
class RedirectOutcome:
    location: str
    set_visitor_cookie: str | None
    visit: Visit | None


def chain_secret(svc: Services) -> bytes:
    """Share tokens are signed with a key derived from (not equal to) the visitor secret."""
    return hmac.new(svc.settings.visitor_secret, b"ripple-chain-tokens", hashlib.sha256).digest()


def _lookup(svc: Services, code: str) -> Link:
    if not code or len(code) > CODE_MAX_LEN or not code.isalnum():
        raise NotFoundError("no such link")
    link = link_cache.get(code)
    if link is None:
        link = svc.links.get(code)
        if link is None:
            raise NotFoundError("no such link")
        link_cache.put(link)
    return link


def record_visit(svc: Services, req: VisitRequest) -> RecordedVisit:
    """Resolve the link and record the visit: one cached read, at most one write.

    Raises ``NotFoundError`` (unknown code) and ``GoneError`` (ended campaign). The write
    failing is not the visitor's problem: it is logged and the visit is reported as None.
    """
    link = _lookup(svc, req.code)
    now = svc.clock()
    if link.ends_at is not None and now >= link.ends_at:
        raise CampaignEndedError("this campaign has ended", tenant_id=link.tenant_id)
    if req.method == "HEAD":
        return RecordedVisit(link, None, None, None, None)

    identity = identify_visitor(
        tenant_id=link.tenant_id,
        cookie=req.visitor_cookie,
        client_ip=req.client_ip,
        user_agent=req.user_agent,
        secret=svc.settings.visitor_secret,
    )
    is_owner = req.viewer is not None and req.viewer.tenant_id == link.tenant_id and req.viewer.sub == link.employee_id
    # Owner activity is enforced by the stream consumer, which reads the employee anyway;
    # checking here would cost the hot path a second read.
    ua = describe_user_agent(req.user_agent)
    colleague = req.viewer is not None and req.viewer.tenant_id == link.tenant_id and not is_owner
    decision = decide(link=link, bot=ua.bot, is_owner=is_owner, owner_active=True, now_ms=now, is_colleague=colleague)
    secret = chain_secret(svc)
    position, rejected = position_for_visit(
        secret, code=link.code, token=req.share_token, max_depth=link.max_chain_depth
    )
    if rejected:
        log.warning("share token rejected; counted as a visit to the link owner", extra={"code": link.code})
    visit = Visit(
        visit_id=f"{now:013d}{svc.ids(12)}",
        tenant_id=link.tenant_id,
        code=link.code,
        campaign_id=link.campaign_id,
        employee_id=link.employee_id,
        channel=link.channel,
        visitor=identity.visitor_key,
        ts=now,
        decision=decision,
        user_agent_class=ua.ua_class,
        country=req.country[:2].upper() if req.country else "",
        via=position.via,
        via_parent=position.via_parent,
        depth=position.depth,
        token_rejected=rejected,
        viewer=req.viewer.sub if req.viewer is not None and req.viewer.tenant_id == link.tenant_id else "",
        surface=req.surface,
        device=ua.device,
        os=ua.os,
        subdivision=req.subdivision[:8].upper(),
        city=req.city[:64],
    )
    recorded: Visit | None = visit
    try:
        svc.visits.record(visit)
    except Exception:
        # The visitor still gets where they were going; the lost visit is logged and
        # counted (an alarm on this metric beats a failed redirect in a customer's hand).
        log.exception("visit not recorded", extra={"code": link.code})
        recorded = None
    token = None
    if decision is not Decision.BOT:
        # the owner's and colleagues' own tokens carry that in their signature: leads and
        # forwards through them earn nothing (a fresh cookie-less preview mints a fresh one)
        holder = HOLDER_OWNER if is_owner else HOLDER_COLLEAGUE if colleague else HOLDER_VISITOR
        token = child_token(secret, code=link.code, visitor_key=identity.visitor_key, position=position, holder=holder)
    return RecordedVisit(link, recorded, identity, token, decision)


def _safe_destination(link: Link) -> str:
    """Destinations are normalised to ASCII when configured; a link stored before that (a
    raw ``https://例え.jp/パス``) is normalised here, or refused before a visit is recorded
    for a redirect that could never be sent (a ``Location`` header is ASCII only)."""
    if link.destination_url.isascii() and link.destination_url.isprintable():
        return link.destination_url
    from ripple.domain.errors import ValidationError
    from ripple.domain.validation import normalize_url

    try:
        return normalize_url(link.destination_url)
    except ValidationError as exc:
        log.error("stored destination cannot be redirected to", extra={"code": link.code, "reason": exc.message})
        raise GoneError("this link's destination is not a valid URL") from exc


def follow_link(svc: Services, req: VisitRequest, *, base_url: str = "") -> RedirectOutcome:
    """Record the visit and say where to send the visitor.

    Campaigns with a hosted landing page have no destination: the short link forwards to
    ``{base_url}/p/{code}`` (carrying the share token) and the page records the visit, so
    it is counted once, where the visitor actually lands. Business card links (campaign
    ``card``) forward to the card, ``{base_url}/c/{code}``, and story links to the story,
    ``{base_url}/story/{code}``, the same way.
    """
    link = _lookup(svc, req.code)  # cached: record_visit below reuses it
    if not link.destination_url:
        if link.ends_at is not None and svc.clock() >= link.ends_at:
            raise CampaignEndedError("this campaign has ended", tenant_id=link.tenant_id)
        suffix = f"?{urlencode({'rp': req.share_token})}" if req.share_token else ""
        from ripple.domain.card import CARD_CAMPAIGN
        from ripple.domain.stories import is_story_campaign

        # a business card's link opens the card, a story's the story, others the hosted page
        surface = "c" if link.campaign_id == CARD_CAMPAIGN else "story" if is_story_campaign(link.campaign_id) else "p"
        return RedirectOutcome(f"{base_url}/{surface}/{link.code}{suffix}", None, None)
    destination = _safe_destination(link)  # before anything is recorded
    rec = record_visit(svc, req)
    link = rec.link
    extra = {link.share_param: rec.child_token} if rec.child_token else None
    location = merge_utm(destination, channel=link.channel, campaign_id=link.campaign_id, extra=extra)
    cookie = None
    if rec.identity is not None and rec.identity.new_cookie and rec.decision is not Decision.BOT:
        cookie = rec.identity.cookie_value
    return RedirectOutcome(location, cookie, rec.visit)

"""Should this visit be tracked, and who is the visitor?

Kept apart from the redirect itself (as Shlink does): the redirect always happens, this
module only decides what the visit is worth and why, so every visit can be recorded with
its reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ripple.domain.model import Decision, Link
from ripple.domain.useragents import is_bot

__all__ = [
    "UserAgentInfo",
    "VisitorIdentity",
    "classify_user_agent",
    "decide",
    "describe_user_agent",
    "device_and_os",
    "identify_visitor",
    "is_bot",
    "merge_utm",
    "sign_visitor_cookie",
    "verify_visitor_cookie",
]

_MOBILE_RE = re.compile(r"mobile|android|iphone|ipad", re.IGNORECASE)


_OS_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"harmonyos|openharmony", re.IGNORECASE), "harmonyos"),
    (re.compile(r"iphone|ipad|ipod|ios\b|cpu os", re.IGNORECASE), "ios"),
    (re.compile(r"android", re.IGNORECASE), "android"),
    (re.compile(r"windows", re.IGNORECASE), "windows"),
    (re.compile(r"cros\b", re.IGNORECASE), "chromeos"),
    (re.compile(r"mac os x|macintosh", re.IGNORECASE), "macos"),
    (re.compile(r"linux|x11", re.IGNORECASE), "linux"),
)
_TABLET_RE = re.compile(r"ipad|tablet|(android(?!.*mobile))", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """Everything the redirect takes from a User-Agent, read once per request and cached
    per User-Agent: the bot check is the costly part (one large compiled alternation)."""

    bot: bool
    ua_class: str  # "bot", "wechat", "mobile" or "desktop" (stored on the visit)
    device: str  # "bot", "phone", "tablet" or "desktop" (analytics)
    os: str  # OS family, "other" when unknown (analytics)


_MAX_CACHED_UA = 512  # longer User-Agents are rare (and often junk): computed, never cached


def describe_user_agent(user_agent: str | None) -> UserAgentInfo:
    """One LRU keyed by the User-Agent: a campaign's visitors share few distinct ones, so a
    warm Lambda answers most requests from the cache."""
    if user_agent is not None and len(user_agent) > _MAX_CACHED_UA:
        return _describe(user_agent)
    return _describe_cached(user_agent)


def _describe(user_agent: str | None) -> UserAgentInfo:
    if is_bot(user_agent):
        return UserAgentInfo(True, "bot", "bot", "other")
    ua = user_agent or ""
    ua_class = "wechat" if "micromessenger" in ua.lower() else "mobile" if _MOBILE_RE.search(ua) else "desktop"
    os_name = next((name for rx, name in _OS_RULES if rx.search(ua)), "other")
    if _TABLET_RE.search(ua):
        device = "tablet"
    elif _MOBILE_RE.search(ua) or os_name in ("ios", "android", "harmonyos"):
        device = "phone"
    else:
        device = "desktop"
    return UserAgentInfo(False, ua_class, device, os_name)


_describe_cached = lru_cache(maxsize=4096)(_describe)


def classify_user_agent(user_agent: str | None) -> str:
    return describe_user_agent(user_agent).ua_class


def device_and_os(user_agent: str | None) -> tuple[str, str]:
    """Device type (``phone``, ``tablet``, ``desktop``, ``bot``) and OS family, for the
    analytics breakdowns."""
    info = describe_user_agent(user_agent)
    return info.device, info.os


def decide(
    *, link: Link, bot: bool, is_owner: bool, owner_active: bool, now_ms: int, is_colleague: bool = False
) -> Decision:
    """What a visit to ``link``, or a lead through it, may earn: the one earn decision for
    both (a lead is paid only when its person could have earned a visit). Order matters:
    the first reason wins. ``bot`` comes from :func:`describe_user_agent` (read once per
    request); ``is_owner`` / ``is_colleague`` say the person is the link's owner or another
    employee of the tenant (signed in, or holding a staff share token)."""
    if bot:
        return Decision.BOT
    if is_owner:
        return Decision.OWNER
    if not owner_active:
        return Decision.INACTIVE_OWNER
    if link.starts_at is not None and now_ms < link.starts_at:
        return Decision.NOT_STARTED
    if is_colleague:
        return Decision.COLLEAGUE  # recorded, earns nothing, feeds ring detection
    return Decision.ELIGIBLE


@dataclass(frozen=True, slots=True)
class VisitorIdentity:
    cookie_value: str  # what the first-party cookie holds (signed)
    visitor_key: str  # what we store: tenant-scoped, so tenants cannot correlate visitors
    new_cookie: bool  # whether the response must set the cookie


def _b32(digest: bytes, n: int) -> str:
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()[:n]


def sign_visitor_cookie(vid: str, secret: bytes) -> str:
    sig = _b32(hmac.new(secret, b"vid:" + vid.encode(), hashlib.sha256).digest(), 16)
    return f"{vid}.{sig}"


def verify_visitor_cookie(value: str | None, secret: bytes) -> str | None:
    """Return the visitor id of a genuine cookie; forged or malformed cookies count as none.

    Signing stops a click farm from minting unlimited "unique" visitors by inventing cookies.
    """
    if not value or len(value) > 80 or "." not in value:
        return None
    vid, _, _sig = value.partition(".")
    if not vid.isalnum():
        return None
    return vid if hmac.compare_digest(sign_visitor_cookie(vid, secret), value) else None


def identify_visitor(
    *, tenant_id: str, cookie: str | None, client_ip: str, user_agent: str, secret: bytes
) -> VisitorIdentity:
    """First-party cookie when genuine; else a salted hash of IP and User-Agent.

    The cookie we then set *is* that hash, so a browser's first (cookie-less) and later
    visits resolve to the same visitor. Raw IPs never leave this function.
    """
    vid = verify_visitor_cookie(cookie, secret)
    new_cookie = vid is None
    if vid is None:
        vid = _b32(hmac.new(secret, f"ipua:{client_ip}|{user_agent}".encode(), hashlib.sha256).digest(), 26)
    visitor_key = _b32(hmac.new(secret, f"visitor:{tenant_id}:{vid}".encode(), hashlib.sha256).digest(), 26)
    return VisitorIdentity(sign_visitor_cookie(vid, secret), visitor_key, new_cookie)


def merge_utm(destination: str, *, channel: str, campaign_id: str, extra: dict[str, str] | None = None) -> str:
    """Merge our UTM parameters into the destination's query, replacing any of the same name."""
    parts = urlsplit(destination)
    ours = {"utm_source": channel, "utm_medium": "ripple", "utm_campaign": campaign_id, **(extra or {})}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    query.extend(ours.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))

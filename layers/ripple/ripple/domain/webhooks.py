"""Webhook rules, pure: event types, the signature, the retry schedule, endpoint validation.

A delivery is signed like Stripe's: ``Ripple-Signature: t=<unix seconds>,v1=<hex>`` where
``hex = HMAC-SHA256(secret, f"{t}.{body}")``. Receivers recompute it over the raw body,
compare in constant time, reject old timestamps, and dedupe by ``Ripple-Delivery``
(delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from ripple.domain.errors import ValidationError

__all__ = [
    "BACKOFF_MS",
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "check_events",
    "check_url",
    "is_public_address",
    "legacy_ipv4",
    "next_retry_ms",
    "sign",
    "signature_header",
    "validate_endpoint",
    "verify",
]

EVENT_TYPES = (
    "lead.created",
    "customer.converted",
    "settlement.completed",
    "redemption.requested",
    "task.created",
    "task.completed",  # sent when the task's deadline passes (its totals: GET /admin/tasks/{id})
    "employee.offboarded",
    "story.submitted",  # an employee's story waits for review
)
_MINUTE = 60_000
# Wait after failed attempt n (1-based): 1m, 5m, 30m, 2h, 12h; attempt 6 failing marks the event failed.
BACKOFF_MS = (1 * _MINUTE, 5 * _MINUTE, 30 * _MINUTE, 120 * _MINUTE, 720 * _MINUTE)
MAX_ATTEMPTS = len(BACKOFF_MS) + 1
MAX_URL = 2048


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now_s: int, tolerance_s: int = 300) -> bool:
    """What a receiver does (documented and used by the tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        ts = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now_s - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), parts.get("v1", ""))


def next_retry_ms(attempt: int, now: int) -> int | None:
    """When to try again after attempt ``attempt`` (1-based) failed at ``now``; None = give up."""
    if attempt < 1 or attempt > len(BACKOFF_MS):
        return None
    return now + BACKOFF_MS[attempt - 1]


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def is_public_address(address: str) -> bool:
    """Whether an IP literal is globally routable (no loopback, private, link-local — which
    includes the cloud metadata address 169.254.169.254 — multicast, reserved or unspecified).
    IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, 6to4, Teredo, NAT64)
    are judged by that IPv4 address too: ``::ffff:127.0.0.1`` is loopback."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.ipv4_mapped is not None:
            return _public(ip.ipv4_mapped)
        if any(v4 is not None and not _public(v4) for v4 in embedded):
            return False
    return _public(ip)


def _number(label: str) -> int:
    """One part of a legacy IPv4 host: decimal, ``0x`` hex or ``0``-prefixed octal."""
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)
    if not label.isdigit():
        raise ValueError(label)
    return int(label)


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a numeric host means to a URL parser (WHATWG) or ``inet_aton``: ``127.1``,
    ``0x7f.0.0.1``, ``0177.0.0.1`` and ``2130706433`` are all 127.0.0.1. None when the host
    is a name (its last label is not a number); ValueError when numeric but not an address."""
    labels = host.split(".")
    try:
        _number(labels[-1])
    except ValueError:
        return None
    if len(labels) > 4:
        raise ValueError(host)
    *head, tail = [_number(label) for label in labels]
    if any(n > 255 for n in head) or tail >= 256 ** (4 - len(head)):
        raise ValueError(host)
    value = tail
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")


def _check_url(value: object, *, allow_private: bool) -> str:
    """Checked at configuration; the addresses a name resolves to are checked again at every
    delivery, and the connection goes to the address checked (adapters.webhooks.http_post)."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL:
        raise ValidationError(f"url must be a string of at most {MAX_URL} characters", details={"field": "url"})
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise ValidationError("url is not a valid URL", details={"field": "url"}) from exc
    if not host or parts.username or parts.password or any(c.isspace() for c in value):
        raise ValidationError("url must be an absolute URL with a host and no credentials", details={"field": "url"})
    if not value.isascii():
        raise ValidationError("url must be ASCII (international host names in punycode)", details={"field": "url"})
    bare = host[:-1] if host.endswith(".") else host  # "localhost." is localhost
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        try:
            legacy = legacy_ipv4(bare)
        except ValueError as exc:
            raise ValidationError("url host is not a valid name or address", details={"field": "url"}) from exc
        if legacy is not None:  # 127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433: one address, many spellings
            raise ValidationError(
                f"url must write an IPv4 address as four decimal numbers ({legacy}), or use a host name",
                details={"field": "url"},
            ) from None
        ip = None
    loopback = bare == "localhost" or bare.endswith(".localhost") or (ip is not None and _loopback(ip))
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http" and loopback):
        raise ValidationError("url must use https", details={"field": "url"})
    if not allow_private:
        if ip is not None:
            if not is_public_address(str(ip)):
                raise ValidationError("url must not point to a private or reserved address", details={"field": "url"})
        elif loopback or bare.endswith(_PRIVATE_SUFFIXES) or "." not in bare:
            raise ValidationError("url must be a public host", details={"field": "url"})
    return value


check_url = _check_url  # the chat bots' URLs are checked the same way (domain.chatbots)


def _loopback(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def validate_endpoint(body: dict[str, Any], *, allow_private: bool) -> dict[str, Any]:
    """``{"url", "events", "active"?, "rotate_secret"?}`` -> clean values, or ValidationError.

    ``allow_private`` (local and test stacks only) also admits plain-http loopback receivers.
    """
    unknown = sorted(set(body) - {"url", "events", "active", "rotate_secret"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    url = _check_url(body.get("url"), allow_private=allow_private)
    events = check_events(body.get("events"), EVENT_TYPES)
    active = body.get("active", True)
    rotate = body.get("rotate_secret", False)
    if not isinstance(active, bool):
        raise ValidationError("active must be a boolean", details={"field": "active"})
    if not isinstance(rotate, bool):
        raise ValidationError("rotate_secret must be a boolean", details={"field": "rotate_secret"})
    return {"url": url, "events": events, "active": active, "rotate_secret": rotate}


def check_events(events: object, known: tuple[str, ...]) -> list[str]:
    """A non-empty list of known event types, sorted and without repeats (the endpoint's and
    the chat bots' subscriptions)."""
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValidationError("events must be a non-empty list of event types", details={"field": "events"})
    bad = sorted(set(events) - set(known))
    if bad:
        raise ValidationError(
            f"unknown event type(s): {', '.join(bad)}; known: {', '.join(known)}",
            details={"field": "events", "unknown": bad},
        )
    return sorted(set(events))

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
    "is_public_address",
    "next_retry_ms",
    "sign",
    "signature_header",
    "validate_endpoint",
    "verify",
]

EVENT_TYPES = ("lead.created", "customer.converted", "settlement.completed", "redemption.requested")
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


def is_public_address(address: str) -> bool:
    """Whether an IP literal is globally routable (no loopback, private, link-local — which
    includes the cloud metadata address 169.254.169.254 — multicast, reserved or unspecified)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(value: object, *, allow_private: bool) -> str:
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
    loopback = _is_loopback_host(host)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http" and loopback):
        raise ValidationError("url must use https", details={"field": "url"})
    if not allow_private:
        if loopback or host.endswith((".local", ".internal")) or "." not in host.strip("[]"):
            raise ValidationError("url must be a public host", details={"field": "url"})
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass  # a DNS name: its addresses are checked again when we connect
        else:
            if not is_public_address(host):
                raise ValidationError("url must not point to a private or reserved address", details={"field": "url"})
    return value


def validate_endpoint(body: dict[str, Any], *, allow_private: bool) -> dict[str, Any]:
    """``{"url", "events", "active"?, "rotate_secret"?}`` -> clean values, or ValidationError.

    ``allow_private`` (local and test stacks only) also admits plain-http loopback receivers.
    """
    unknown = sorted(set(body) - {"url", "events", "active", "rotate_secret"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    url = _check_url(body.get("url"), allow_private=allow_private)
    events = body.get("events")
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValidationError("events must be a non-empty list of event types", details={"field": "events"})
    bad = sorted(set(events) - set(EVENT_TYPES))
    if bad:
        raise ValidationError(
            f"unknown event type(s): {', '.join(bad)}; known: {', '.join(EVENT_TYPES)}",
            details={"field": "events", "unknown": bad},
        )
    active = body.get("active", True)
    rotate = body.get("rotate_secret", False)
    if not isinstance(active, bool):
        raise ValidationError("active must be a boolean", details={"field": "active"})
    if not isinstance(rotate, bool):
        raise ValidationError("rotate_secret must be a boolean", details={"field": "rotate_secret"})
    return {"url": url, "events": sorted(set(events)), "active": active, "rotate_secret": rotate}

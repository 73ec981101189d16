"""Strict validation of client input.

Every rule here raises ``ValidationError`` (422) or ``BadRequestError`` (400) with a
message that names the field, so a client can fix its request without reading our code.
Unknown fields are rejected: silently ignoring a misspelt ``ends_at`` would be worse.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from ripple.domain.errors import BadRequestError, PayloadTooLargeError, ValidationError
from ripple.domain.model import CHANNELS, PointsRules
from ripple.domain.timeutil import parse_iso_ms

__all__ = [
    "MAX_BODY_BYTES",
    "check_id",
    "decode_cursor",
    "encode_cursor",
    "parse_json_body",
    "reject_unknown_params",
    "validate_campaign",
    "validate_channel",
    "validate_destination_url",
    "validate_employee",
    "validate_limit",
]

MAX_BODY_BYTES = 16 * 1024
MAX_URL_BYTES = 2048
MAX_POINTS = 1_000_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


def parse_json_body(raw: bytes | str | None, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Decode a JSON object body; 413 when too large, 400 when not JSON, 422 when not an object."""
    if raw is None or raw in (b"", ""):
        raise BadRequestError("request body must be a JSON object")
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"request body exceeds {max_bytes} bytes")
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadRequestError(f"malformed JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object")
    return body


def _reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})


def reject_unknown_params(query: Mapping[str, str], allowed: Collection[str]) -> None:
    """Query parameters an endpoint does not know are refused (a misspelt filter silently
    ignored would return the wrong rows)."""
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise ValidationError(f"unknown query parameter(s): {', '.join(unknown)}", details={"fields": unknown})


def encode_cursor(value: str | None) -> str | None:
    """An opaque page cursor for a sort key (base64url, unpadded)."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=") if value else None


def decode_cursor(raw: str | None, valid: Callable[[str], bool], *, max_len: int = 200) -> str | None:
    """The sort key a cursor names, or 422 if it is not one this API could have issued."""
    if raw is None:
        return None
    try:
        if not raw or len(raw) > max_len:
            raise ValueError
        value = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not valid", details={"field": "cursor"}) from exc
    if not valid(value):
        raise ValidationError("cursor is not valid", details={"field": "cursor"})
    return value


def _text(body: dict[str, Any], name: str, *, max_len: int, required: bool = True) -> str | None:
    if name not in body or body[name] is None:
        if required:
            raise ValidationError(f"{name} is required", details={"field": name})
        return None
    value = body[name]
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", details={"field": name})
    value = value.strip()
    if not value:
        raise ValidationError(f"{name} must not be empty", details={"field": name})
    if len(value) > max_len:
        raise ValidationError(f"{name} must be at most {max_len} characters", details={"field": name})
    if any(ord(c) < 32 for c in value):
        raise ValidationError(f"{name} must not contain control characters", details={"field": name})
    return value


def check_id(value: str, what: str) -> str:
    """Ids in paths: 1..64 of [A-Za-z0-9._-], starting alphanumeric."""
    if not isinstance(value, str) or not _ID.match(value):
        raise ValidationError(
            f"{what} must be 1-64 characters of letters, digits, '.', '_' or '-'", details={"field": what}
        )
    return value


def validate_employee(body: dict[str, Any]) -> dict[str, str]:
    _reject_unknown(body, {"name", "team", "region"})
    return {
        "name": _text(body, "name", max_len=100) or "",
        "team": check_id(_text(body, "team", max_len=64) or "", "team"),
        "region": check_id(_text(body, "region", max_len=64) or "", "region"),
    }


def validate_destination_url(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("destination_url must be a string", details={"field": "destination_url"})
    if len(value.encode("utf-8")) > MAX_URL_BYTES:
        raise ValidationError(
            f"destination_url must be at most {MAX_URL_BYTES} bytes", details={"field": "destination_url"}
        )
    if value != value.strip() or any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise ValidationError(
            "destination_url must not contain spaces or control characters", details={"field": "destination_url"}
        )
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValidationError("destination_url is not a valid URL", details={"field": "destination_url"}) from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError("destination_url must be an absolute http(s) URL", details={"field": "destination_url"})
    if parts.username or parts.password:
        raise ValidationError("destination_url must not embed credentials", details={"field": "destination_url"})
    return value


_OUTCOMES = ("unique_visit", "forward", "lead", "conversion")
_LIMITS = ("daily_cap", "campaign_cap", "threshold", "holding_days")


def _points(body: dict[str, Any]) -> PointsRules:
    """``points`` (what each outcome pays) and the optional ``rules`` (caps, threshold,
    holding period) into one PointsRules. Outcomes only: there is no way to pay for the
    share itself (WeChat's external-link rules forbid rewarding the act of sharing)."""
    raw = body.get("points")
    if not isinstance(raw, dict):
        raise ValidationError("points must be an object", details={"field": "points"})
    if "share" in raw or "shares" in raw:
        raise ValidationError(
            "points cannot pay for the share itself, only for outcomes: " + ", ".join(_OUTCOMES),
            details={"field": "points", "rule": "no-reward-for-sharing"},
        )
    _reject_unknown(raw, set(_OUTCOMES))
    values: dict[str, Any] = {}
    for key in _OUTCOMES:
        v = raw.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValidationError(f"points.{key} must be an integer", details={"field": f"points.{key}"})
        if not 0 <= v <= MAX_POINTS:
            raise ValidationError(
                f"points.{key} must be between 0 and {MAX_POINTS}", details={"field": f"points.{key}"}
            )
        values[key] = v
    limits = body.get("rules")
    if limits is not None:
        if not isinstance(limits, dict):
            raise ValidationError("rules must be an object", details={"field": "rules"})
        _reject_unknown(limits, set(_LIMITS))
        for key in _LIMITS:
            v = limits.get(key)
            if v is None:
                continue
            top = 3650 if key == "holding_days" else 10_000_000
            if isinstance(v, bool) or not isinstance(v, int) or not (1 if key.endswith("cap") else 0) <= v <= top:
                raise ValidationError(
                    f"rules.{key} must be an integer in range", details={"field": f"rules.{key}", "max": top}
                )
            values[key] = v
    values.setdefault("threshold", 0)
    values.setdefault("holding_days", 0)
    return PointsRules(**values)


def validate_rules_update(body: dict[str, Any]) -> PointsRules:
    """A new rules version: the full ``points`` object and optionally ``rules``."""
    _reject_unknown(body, {"points", "rules"})
    return _points(body)


def validate_campaign(body: dict[str, Any]) -> dict[str, Any]:
    """A campaign sends visitors to ``destination_url``, or to its hosted ``landing`` page
    (then ``destination_url`` may be omitted and the short link opens ``/p/{code}``)."""
    _reject_unknown(body, {"name", "destination_url", "points", "rules", "starts_at", "ends_at", "chain", "landing"})
    name = _text(body, "name", max_len=200)
    landing: dict[str, Any] | None = None
    if body.get("landing") is not None:
        from ripple.domain.landing import landing_to_dict, validate_landing

        landing = landing_to_dict(validate_landing(body["landing"]))
    if "destination_url" not in body and landing is None:
        raise ValidationError(
            "destination_url is required (or a hosted landing page)", details={"field": "destination_url"}
        )
    url = validate_destination_url(body["destination_url"]) if "destination_url" in body else ""
    points = _points(body)
    starts_at = parse_iso_ms(body["starts_at"], "starts_at") if body.get("starts_at") is not None else None
    ends_at = parse_iso_ms(body["ends_at"], "ends_at") if body.get("ends_at") is not None else None
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationError("ends_at must be after starts_at", details={"field": "ends_at"})
    share_param, max_depth = _chain(body.get("chain"))
    return {
        "name": name,
        "destination_url": url,
        "points": points,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "share_param": share_param,
        "max_chain_depth": max_depth,
        "landing": landing,
    }


_PARAM = re.compile(r"^[a-z][a-z0-9_]{0,15}\Z")
_RESERVED_PARAMS = {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}


def _chain(raw: object) -> tuple[str, int]:
    """Optional forward-chain settings: the share-token query parameter and the depth cap."""
    if raw is None:
        return "rp", 10
    if not isinstance(raw, dict):
        raise ValidationError("chain must be an object", details={"field": "chain"})
    _reject_unknown(raw, {"share_param", "max_depth"})
    param = raw.get("share_param", "rp")
    if not isinstance(param, str) or not _PARAM.match(param) or param in _RESERVED_PARAMS:
        raise ValidationError(
            "chain.share_param must be 1-16 lowercase letters, digits or '_' and not a utm_ parameter",
            details={"field": "chain.share_param"},
        )
    depth = raw.get("max_depth", 10)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 50:
        raise ValidationError("chain.max_depth must be an integer from 1 to 50", details={"field": "chain.max_depth"})
    return param, depth


def validate_channel(body: dict[str, Any]) -> str:
    _reject_unknown(body, {"channel"})
    channel = body.get("channel")
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise ValidationError(f"channel must be one of: {', '.join(CHANNELS)}", details={"field": "channel"})
    return channel


def validate_limit(value: str | None, *, default: int = 10, maximum: int = 100) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= maximum:
        raise ValidationError(f"limit must be an integer from 1 to {maximum}", details={"field": "limit"})
    return int(value)

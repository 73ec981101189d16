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
    "CAMPAIGN_EDIT_FIELDS",
    "MAX_BODY_BYTES",
    "check_email",
    "check_id",
    "check_tenant_id",
    "decode_cursor",
    "encode_cursor",
    "normalize_url",
    "parse_json_body",
    "reject_unknown_params",
    "validate_campaign",
    "validate_campaign_edit",
    "validate_channel",
    "validate_destination_url",
    "validate_duplicate",
    "validate_employee",
    "validate_limit",
]

MAX_BODY_BYTES = 16 * 1024
MAX_URL_BYTES = 2048
MAX_POINTS = 1_000_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
# Tenant ids are part of every key ("EMP#tenant#id", "B#tenant#..."), so they get the strictest
# set: lower-case letters, digits and inner hyphens, 2-32 characters. Never '#', '.', '_'.
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]\Z")


MAX_INT_DIGITS = 30  # far beyond any count, amount or timestamp the API takes


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _JsonRefused(f"a number with more than {MAX_INT_DIGITS} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _JsonRefused("a number too large to represent")
    return value


def _parse_constant(name: str) -> float:
    raise _JsonRefused(f"{name}, which is not JSON")


class _JsonRefused(ValueError):
    """Valid-looking JSON we will not take (see parse_json_body)."""


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _check_strings(value: Any, depth: int = 0) -> None:
    """Lone surrogates (``"\\ud800"``) decode to strings that cannot be encoded as UTF-8:
    stored or echoed, they would fail later (a 500, or no response at all). Keys and values."""
    if isinstance(value, str):
        if _has_surrogate(value):
            raise _JsonRefused("a string with a lone surrogate (\\ud800-\\udfff)")
    elif isinstance(value, dict):
        for key, item in value.items():
            if _has_surrogate(key):
                raise _JsonRefused("a key with a lone surrogate (\\ud800-\\udfff)")
            _check_strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, depth + 1)


def parse_json_body(raw: bytes | str | None, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """Decode a JSON object body; 413 when too large, 400 when not JSON, 422 when not an object
    or when it carries what no field can take: a lone surrogate in any string or key, an
    integer of more than 30 digits (Python refuses >4,300 with a ValueError, a 500 before),
    NaN/Infinity or an overflowing float. The one place every JSON body enters."""
    if raw is None or raw in (b"", ""):
        raise BadRequestError("request body must be a JSON object")
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"request body exceeds {max_bytes} bytes")
    try:
        body = json.loads(data, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
        _check_strings(body)
    except _JsonRefused as exc:
        raise ValidationError(f"request body contains {exc}", details={"field": "body"}) from exc
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise BadRequestError("malformed JSON: " + str(exc).encode("ascii", "backslashreplace").decode()) from exc
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


def check_tenant_id(value: object, what: str = "tenant") -> str:
    """Tenant ids: 2-32 of [a-z0-9-], starting and ending alphanumeric (a key component)."""
    if not isinstance(value, str) or not _TENANT_ID.match(value):
        raise ValidationError(
            f"{what} must be 2-32 lower-case letters, digits or inner hyphens", details={"field": what}
        )
    return value


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\Z"
)
EMPLOYEE_ROLES = ("employee", "admin")


def check_email(value: str, what: str = "email") -> str:
    """A plain ``local@domain.tld`` address (no display names, no IP literals), lower-cased:
    e-mail is how the directory and CSV files match people, so case must not split them."""
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value):
        raise ValidationError(f"{what} must be an e-mail address like name@example.com", details={"field": what})
    return value.lower()


def validate_employee(body: dict[str, Any]) -> dict[str, str]:
    """``name``, ``team``, ``region`` (required); ``email`` and ``role`` (optional: absent
    means "keep what is stored", the role defaulting to ``employee`` for a new one)."""
    _reject_unknown(body, {"name", "team", "region", "email", "role"})
    out = {
        "name": _text(body, "name", max_len=100) or "",
        "team": check_id(_text(body, "team", max_len=64) or "", "team"),
        "region": check_id(_text(body, "region", max_len=64) or "", "region"),
    }
    email = _text(body, "email", max_len=254, required=False)
    if email is not None:
        out["email"] = check_email(email)
    role = _text(body, "role", max_len=16, required=False)
    if role is not None:
        if role not in EMPLOYEE_ROLES:
            raise ValidationError("role must be employee or admin", details={"field": "role"})
        out["role"] = role
    return out


# Characters no destination may carry even percent-encoded by us: invisible formatting
# (bidi overrides, zero-width), line and paragraph separators (U+2028/U+2029), other
# Unicode spaces, private-use, surrogates and unassigned code points. They spoof what an
# admin reviews and break the headers and HTML the URL ends up in.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
_UNSAFE_ASCII = re.compile(r'["<>\\^`{|}]')  # ASCII that must be percent-encoded in a URL
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What stays as written in each part (RFC 3986 reserved + unreserved + '%' of existing escapes)
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = "/%:@!$&'()*+,;=-._~?"


def _url_error(message: str, field: str) -> ValidationError:
    return ValidationError(message, details={"field": field})


def _ascii_host(host: str, field: str) -> str:
    """IDNA (UTS #46) for internationalised names; A-labels that do not decode are refused."""
    import idna

    try:
        if not host.isascii():
            return str(idna.encode(host, uts46=True).decode("ascii"))
        if "xn--" in host:
            idna.decode(host)
    except (idna.IDNAError, UnicodeError) as exc:
        raise _url_error(f"{field} has an invalid international host name", field) from exc
    return host


def normalize_url(value: str, *, field: str = "destination_url") -> str:
    """The URL as pure ASCII, meaning the same thing: the host in IDNA/punycode form, every
    other non-ASCII or unsafe character percent-encoded as UTF-8. Refuses (422) what cannot
    be made safe: invisible or separator characters, malformed ``%`` escapes, bad IDNA.
    Idempotent, so an already-normalised URL passes through unchanged."""
    import unicodedata

    for ch in value:
        if (ord(ch) < 33 or ord(ch) == 127) or (ord(ch) > 127 and unicodedata.category(ch) in _REFUSED_CATEGORIES):
            raise _url_error(
                f"{field} must not contain spaces, control, invisible or separator characters (U+{ord(ch):04X})",
                field,
            )
    if _BAD_ESCAPE.search(value):
        raise _url_error(f"{field} has a '%' that is not a %XX escape", field)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a malformed port
        host = parts.hostname
    except ValueError as exc:
        raise _url_error(f"{field} is not a valid URL", field) from exc
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise _url_error(f"{field} must be an absolute http(s) URL", field)
    if parts.username or parts.password:
        raise _url_error(f"{field} must not embed credentials", field)
    ascii_host = _ascii_host(host, field)
    if value.isascii() and not _UNSAFE_ASCII.search(value):
        return value  # already what a Location header can carry: kept exactly as written
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None:
        netloc += f":{port}"
    from urllib.parse import quote, urlunsplit

    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=_SAFE_PATH),
            quote(parts.query, safe=_SAFE_QUERY),
            quote(parts.fragment, safe=_SAFE_QUERY + "#"),
        )
    )


def validate_destination_url(value: object) -> str:
    """An absolute http(s) URL, returned normalised to ASCII (:func:`normalize_url`): the
    redirect's ``Location`` header can only carry ASCII, so a destination is made safe (or
    refused) here, before any link or visit can exist for it."""
    if not isinstance(value, str):
        raise ValidationError("destination_url must be a string", details={"field": "destination_url"})
    if len(value.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES:
        raise ValidationError(
            f"destination_url must be at most {MAX_URL_BYTES} bytes", details={"field": "destination_url"}
        )
    url = normalize_url(value)
    if len(url) > MAX_URL_BYTES:
        raise ValidationError(
            f"destination_url must be at most {MAX_URL_BYTES} bytes once percent-encoded",
            details={"field": "destination_url"},
        )
    return url


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
    starts_at, ends_at = _window(body)
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


CAMPAIGN_EDIT_FIELDS = ("name", "destination_url", "landing", "starts_at", "ends_at")


def validate_campaign_edit(body: dict[str, Any]) -> dict[str, Any]:
    """The fields a ``PATCH`` of a campaign changes, parsed: ``name``, ``destination_url``,
    ``landing`` (null removes the hosted page), ``starts_at``/``ends_at`` (ISO 8601; null
    removes the bound). Rules change through their own versioned endpoint, chain settings
    never (tokens already shared carry them). Whether the result is a valid campaign is
    :func:`ripple.domain.campaigns.edited`'s to say."""
    _reject_unknown(body, set(CAMPAIGN_EDIT_FIELDS))
    if not body:
        raise ValidationError(
            "nothing to change: give at least one of " + ", ".join(CAMPAIGN_EDIT_FIELDS), details={"field": "name"}
        )
    out: dict[str, Any] = {}
    if "name" in body:
        out["name"] = _text(body, "name", max_len=200)
    if "destination_url" in body:
        out["destination_url"] = validate_destination_url(body["destination_url"])
    if "landing" in body:
        if body["landing"] is None:
            out["landing"] = None
        else:
            from ripple.domain.landing import landing_to_dict, validate_landing

            out["landing"] = landing_to_dict(validate_landing(body["landing"]))
    for bound in ("starts_at", "ends_at"):
        if bound in body:
            out[bound] = parse_iso_ms(body[bound], bound) if body[bound] is not None else None
    return out


def validate_duplicate(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /admin/campaigns/{id}/duplicate``: an optional new ``name`` and window."""
    _reject_unknown(body, {"name", "starts_at", "ends_at"})
    if "name" in body and body["name"] is None:
        raise ValidationError(
            "name must be a string (leave it out for the original's name + (copy))", details={"field": "name"}
        )
    name = _text(body, "name", max_len=200, required=False)
    starts_at, ends_at = _window(body)
    return {"name": name, "starts_at": starts_at, "ends_at": ends_at}


def _window(body: dict[str, Any]) -> tuple[int | None, int | None]:
    """Optional ``starts_at``/``ends_at`` (ISO 8601, null = unbounded), the end after the start."""
    starts_at = parse_iso_ms(body["starts_at"], "starts_at") if body.get("starts_at") is not None else None
    ends_at = parse_iso_ms(body["ends_at"], "ends_at") if body.get("ends_at") is not None else None
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationError("ends_at must be after starts_at", details={"field": "ends_at"})
    return starts_at, ends_at


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

"""The points mall: rewards, redemptions and their rules (pure; no AWS).

A reward costs ``price`` points. ``stock`` None means unlimited; ``per_employee_limit``
caps how many times one employee may redeem it per ``limit_period`` (day, ISO week or
month in the tenant's time zone, or ``all`` time). A redemption is ``requested`` until an
admin marks it ``fulfilled`` or ``cancelled``; cancelling refunds the points as a new
ledger entry and puts the item back in stock.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from ripple.domain.errors import ConflictError, ValidationError
from ripple.domain.timeutil import ms_to_iso, period_keys
from ripple.domain.validation import _reject_unknown, _text

__all__ = [
    "KINDS",
    "LIMIT_PERIODS",
    "MAX_PRICE",
    "MAX_STOCK",
    "IdempotencyKeyReusedError",
    "InsufficientPointsError",
    "LimitReachedError",
    "OutOfStockError",
    "Redemption",
    "RedemptionStatus",
    "Reward",
    "RewardUnavailableError",
    "fingerprint",
    "limit_period_key",
    "redemption_source_key",
    "refund_source_key",
    "shortfall",
    "transition",
    "validate_cancel",
    "validate_fulfil",
    "validate_idempotency_key",
    "validate_redeem_body",
    "validate_reward",
    "validate_reward_update",
]

KINDS: tuple[str, ...] = ("physical", "virtual_code", "perk", "lead_claim")
LIMIT_PERIODS: tuple[str, ...] = ("day", "week", "month", "all")
MAX_PRICE = 100_000_000
MAX_STOCK = 1_000_000
MAX_LIMIT = 10_000
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_URL_BYTES = 2048


class RedemptionStatus(StrEnum):
    REQUESTED = "requested"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


_TRANSITIONS: dict[RedemptionStatus, frozenset[RedemptionStatus]] = {
    RedemptionStatus.REQUESTED: frozenset({RedemptionStatus.FULFILLED, RedemptionStatus.CANCELLED}),
    RedemptionStatus.FULFILLED: frozenset(),
    RedemptionStatus.CANCELLED: frozenset(),
}


class InsufficientPointsError(ConflictError):
    """Not enough *available* points; ``details.shortfall`` says how many are missing."""

    code = "insufficient_points"

    def __init__(self, shortfall: int, *, price: int, available: int) -> None:
        super().__init__(
            f"not enough points: {price} needed, {available} available",
            details={"shortfall": shortfall, "price": price, "available": available},
        )


class OutOfStockError(ConflictError):
    code = "out_of_stock"


class LimitReachedError(ConflictError):
    code = "limit_reached"


class RewardUnavailableError(ConflictError):
    """The reward is inactive (or changed while being redeemed, repeatedly)."""

    code = "reward_unavailable"


class IdempotencyKeyReusedError(ValidationError):
    """The Idempotency-Key was first used for a different request (IETF draft: 422)."""

    code = "idempotency_key_reused"


@dataclass(frozen=True, slots=True)
class Reward:
    tenant_id: str
    reward_id: str
    name: str
    price: int
    kind: str
    description: str = ""
    image_url: str = ""
    stock: int | None = None  # None = unlimited; otherwise what is left
    per_employee_limit: int | None = None
    limit_period: str = "all"
    active: bool = True
    created_at: int = 0
    updated_at: int = 0

    def to_public(self) -> dict[str, Any]:
        return {
            "reward_id": self.reward_id,
            "name": self.name,
            "description": self.description,
            "image_url": self.image_url or None,
            "price": self.price,
            "kind": self.kind,
            "stock": self.stock,
            "unlimited": self.stock is None,
            "per_employee_limit": (
                {"count": self.per_employee_limit, "period": self.limit_period}
                if self.per_employee_limit is not None
                else None
            ),
            "active": self.active,
            "created_at": ms_to_iso(self.created_at),
            "updated_at": ms_to_iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class Redemption:
    tenant_id: str
    redemption_id: str
    reward_id: str
    employee_id: str
    price: int
    kind: str
    reward_name: str = ""
    status: RedemptionStatus = RedemptionStatus.REQUESTED
    created_at: int = 0
    updated_at: int = 0
    # the per-employee counter this redemption counted against ("" = no limit) and
    # whether it took one item of stock; a cancellation gives both back
    limit_key: str = ""
    took_stock: bool = False
    code: str = ""  # a virtual code handed over on fulfilment
    reason: str = ""  # why it was cancelled
    actor: str = ""  # the admin who fulfilled or cancelled it

    def to_public(self) -> dict[str, Any]:
        return {
            "redemption_id": self.redemption_id,
            "reward_id": self.reward_id,
            "reward_name": self.reward_name,
            "kind": self.kind,
            "employee_id": self.employee_id,
            "price": self.price,
            "status": self.status.value,
            "code": self.code or None,
            "reason": self.reason or None,
            "created_at": ms_to_iso(self.created_at),
            "updated_at": ms_to_iso(self.updated_at),
        }


def redemption_source_key(redemption_id: str) -> str:
    return f"rd#{redemption_id}"


def refund_source_key(redemption_id: str) -> str:
    return f"rf#{redemption_id}"


def shortfall(price: int, available: int) -> int:
    return max(price - max(available, 0), 0)


def transition(redemption: Redemption, to: RedemptionStatus) -> RedemptionStatus:
    """``requested`` -> ``fulfilled`` | ``cancelled``; anything else is a 409."""
    if to not in _TRANSITIONS[redemption.status]:
        raise ConflictError(
            f"redemption {redemption.redemption_id} is {redemption.status.value}; it cannot become {to.value}",
            details={"status": redemption.status.value},
        )
    return to


def limit_period_key(period: str, ts_ms: int, tz: str) -> str:
    """The counter a redemption at ``ts_ms`` counts against (tenant-local periods)."""
    if period == "all":
        return "all"
    keys = period_keys(ts_ms, tz)
    return {"day": keys.day, "week": keys.week, "month": keys.month}[period]


def fingerprint(reward_id: str, body: dict[str, Any]) -> str:
    """What an idempotency key is bound to: the reward and the (canonical) body."""
    canonical = json.dumps({"reward_id": reward_id, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# ------------------------------------------------------------------ validation


def _int(body: dict[str, Any], name: str, *, lo: int, hi: int, nullable: bool = False) -> int | None:
    value = body.get(name)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        suffix = " or null" if nullable else ""
        raise ValidationError(f"{name} must be an integer from {lo} to {hi}{suffix}", details={"field": name})
    return value


def _image_url(value: object) -> str:
    if value is None or value == "":
        return ""
    field = {"field": "image_url"}
    if not isinstance(value, str) or len(value.encode()) > _URL_BYTES:
        raise ValidationError(f"image_url must be a string of at most {_URL_BYTES} bytes", details=field)
    if any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise ValidationError("image_url must not contain spaces or control characters", details=field)
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as exc:
        raise ValidationError("image_url is not a valid URL", details=field) from exc
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ValidationError("image_url must be an https URL without credentials", details=field)
    return value


def _description(body: dict[str, Any]) -> str:
    value = body.get("description")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 2000:
        raise ValidationError(
            "description must be a string of at most 2000 characters", details={"field": "description"}
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValidationError("description must not contain control characters", details={"field": "description"})
    return value.strip()


def _active(body: dict[str, Any]) -> bool:
    value = body.get("active", True)
    if not isinstance(value, bool):
        raise ValidationError("active must be true or false", details={"field": "active"})
    return value


def validate_reward(body: dict[str, Any]) -> dict[str, Any]:
    """A new catalog entry (``POST /admin/rewards``)."""
    _reject_unknown(
        body,
        {"name", "description", "image_url", "price", "stock", "per_employee_limit", "limit_period", "kind", "active"},
    )
    name = _text(body, "name", max_len=200) or ""
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValidationError(f"kind must be one of: {', '.join(KINDS)}", details={"field": "kind"})
    price = _int(body, "price", lo=1, hi=MAX_PRICE)
    stock = _int(body, "stock", lo=0, hi=MAX_STOCK, nullable=True)
    limit = _int(body, "per_employee_limit", lo=1, hi=MAX_LIMIT, nullable=True)
    period = body.get("limit_period", "all")
    if not isinstance(period, str) or period not in LIMIT_PERIODS:
        raise ValidationError(
            f"limit_period must be one of: {', '.join(LIMIT_PERIODS)}", details={"field": "limit_period"}
        )
    if limit is None and "limit_period" in body:
        raise ValidationError("limit_period needs per_employee_limit", details={"field": "limit_period"})
    return {
        "name": name,
        "description": _description(body),
        "image_url": _image_url(body.get("image_url")),
        "price": price,
        "stock": stock,
        "per_employee_limit": limit,
        "limit_period": period,
        "kind": kind,
        "active": _active(body),
    }


def validate_reward_update(body: dict[str, Any]) -> dict[str, Any]:
    """A partial update (``PUT /admin/rewards/{id}``): only the fields given change;
    ``stock`` sets what is left now (null = unlimited)."""
    _reject_unknown(body, {"name", "description", "image_url", "price", "stock", "active"})
    if not body:
        raise ValidationError("nothing to update: give name, description, image_url, price, stock or active")
    out: dict[str, Any] = {}
    if "name" in body:
        out["name"] = _text(body, "name", max_len=200)
    if "description" in body:
        out["description"] = _description(body)
    if "image_url" in body:
        out["image_url"] = _image_url(body["image_url"])
    if "price" in body:
        out["price"] = _int(body, "price", lo=1, hi=MAX_PRICE)
    if "stock" in body:
        out["stock"] = _int(body, "stock", lo=0, hi=MAX_STOCK, nullable=True)
    if "active" in body:
        out["active"] = _active(body)
    return out


def validate_redeem_body(body: dict[str, Any]) -> dict[str, Any]:
    """The redeem body is optional and, today, has no fields (``{}``)."""
    _reject_unknown(body, set())
    return {}


def validate_idempotency_key(value: str | None) -> str:
    if value is None or not _IDEMPOTENCY_KEY.match(value):
        raise ValidationError(
            "the Idempotency-Key header is required: 1-64 characters of letters, digits, '_' or '-'",
            details={"field": "Idempotency-Key"},
        )
    return value


def validate_fulfil(body: dict[str, Any], kind: str) -> str:
    """Optional ``{"code": "..."}``: the virtual code handed to the employee."""
    _reject_unknown(body, {"code"})
    if body.get("code") is None:
        return ""
    if kind != "virtual_code":
        raise ValidationError("code is only for virtual_code rewards", details={"field": "code"})
    return _text(body, "code", max_len=256) or ""


def validate_cancel(body: dict[str, Any]) -> str:
    _reject_unknown(body, {"reason"})
    return _text(body, "reason", max_len=500) or ""

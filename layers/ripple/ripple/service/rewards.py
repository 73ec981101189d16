"""Points mall use cases: the catalog, redeeming, fulfilment and cancellation with refund.

Every redemption is one transaction in the repository (see ``adapters/rewards.py``); this
module decides what to write and turns a refused transaction into the right client error.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ripple.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from ripple.domain.model import LedgerEntry, Role
from ripple.domain.rewards import (
    IdempotencyKeyReusedError,
    InsufficientPointsError,
    LimitReachedError,
    OutOfStockError,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardUnavailableError,
    fingerprint,
    limit_period_key,
    redemption_source_key,
    refund_source_key,
    shortfall,
    transition,
    validate_cancel,
    validate_fulfil,
    validate_idempotency_key,
    validate_redeem_body,
    validate_reward,
    validate_reward_update,
)
from ripple.domain.timeutil import period_keys
from ripple.domain.validation import check_id, parse_json_body, reject_unknown_params, validate_limit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.ports import (  # re-exported: they are the ports' types
    IdempotencyRecord,
    RedeemRejected,
    RedemptionPage,
    RewardRepository,
    StaleRedemptionError,
)

__all__ = [
    "IdempotencyRecord",
    "RedeemRejected",
    "RedemptionPage",
    "RewardRepository",
    "StaleRedemptionError",
    "admin_redemptions",
    "cancel_redemption",
    "create_reward",
    "fulfil_redemption",
    "list_rewards",
    "my_redemptions",
    "redeem",
    "update_reward",
]

_MAX_ATTEMPTS = 4


def _repo(svc: Services) -> RewardRepository:
    repo = getattr(svc, "rewards", None)
    if repo is None:
        raise RuntimeError("the rewards repository is not wired (bootstrap)")
    return repo  # type: ignore[no-any-return]


# ------------------------------------------------------------------ catalog


def create_reward(svc: Services, principal: Principal, body: dict[str, Any]) -> Reward:
    require_role(principal, Role.ADMIN)
    fields = validate_reward(body)
    now = svc.clock()
    reward = Reward(
        tenant_id=principal.tenant_id, reward_id="w" + svc.ids(11), created_at=now, updated_at=now, **fields
    )
    _repo(svc).create_reward(reward)
    return reward


def update_reward(svc: Services, principal: Principal, reward_id: str, body: dict[str, Any]) -> Reward:
    require_role(principal, Role.ADMIN)
    check_id(reward_id, "reward_id")
    fields = validate_reward_update(body)
    updated = _repo(svc).update_reward(principal.tenant_id, reward_id, fields, svc.clock())
    if updated is None:
        raise NotFoundError(f"reward {reward_id} not found")
    return updated


def list_rewards(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    """Active rewards with the stock left; admins may add ``include_inactive=true``."""
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    reject_unknown_params(params, {"include_inactive"})
    flag = params.get("include_inactive", "false")
    if flag not in ("true", "false"):
        raise ValidationError("include_inactive must be true or false", details={"field": "include_inactive"})
    if flag == "true":
        require_role(principal, Role.ADMIN)
    rewards = _repo(svc).list_rewards(principal.tenant_id)
    shown = [r for r in rewards if r.active or flag == "true"]
    return {"items": [r.to_public() for r in shown], "next_cursor": None}


# ------------------------------------------------------------------ redeeming


def _replay(svc: Services, principal: Principal, record: IdempotencyRecord, fp: str) -> dict[str, Any]:
    if record.fingerprint != fp:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was used for a different request", details={"field": "Idempotency-Key"}
        )
    if record.response is not None:
        return dict(json.loads(record.response))
    # The first request committed but has not stored its response yet: rebuild it.
    redemption = _repo(svc).get_redemption(principal.tenant_id, record.redemption_id)
    if redemption is None:  # pragma: no cover - the record is written in the same transaction
        raise ConflictError("the first request with this Idempotency-Key is still in progress")
    available = svc.points.balances(principal.tenant_id, principal.sub)["available"]
    return {**redemption.to_public(), "available": available}


def redeem(
    svc: Services, principal: Principal, reward_id: str, idempotency_key: str | None, raw_body: bytes | str | None
) -> tuple[int, dict[str, Any]]:
    """Deduct points, take one item of stock, count against the employee's limit and record
    the redemption, atomically. Returns (201, body), or (200, the first body) on a replay."""
    require_role(principal, Role.EMPLOYEE)
    check_id(reward_id, "reward_id")
    key = validate_idempotency_key(idempotency_key)
    body = validate_redeem_body(parse_json_body(raw_body) if raw_body not in (None, b"", "") else {})
    fp = fingerprint(reward_id, body)
    repo = _repo(svc)
    tenant_id, employee_id = principal.tenant_id, principal.sub

    previous = repo.idempotency(tenant_id, employee_id, key)
    if previous is not None:
        return 200, _replay(svc, principal, previous, fp)
    employee = svc.employees.get(tenant_id, employee_id)
    if employee is None or not employee.active:
        raise ForbiddenError("only active employees can redeem rewards")
    reward = repo.get_reward(tenant_id, reward_id)
    if reward is None:
        raise NotFoundError(f"reward {reward_id} not found")
    tenant = svc.tenants.get(tenant_id)

    for _ in range(_MAX_ATTEMPTS):
        if not reward.active:
            raise RewardUnavailableError(f"reward {reward_id} is not available")
        if reward.stock is not None and reward.stock <= 0:
            raise OutOfStockError(f"reward {reward_id} is out of stock")
        now = svc.clock()
        redemption_id = "r" + svc.ids(15)
        limit_key = (
            f"{reward.limit_period}:{limit_period_key(reward.limit_period, now, tenant.timezone)}"
            if reward.per_employee_limit is not None
            else ""
        )
        redemption = Redemption(
            tenant_id=tenant_id,
            redemption_id=redemption_id,
            reward_id=reward.reward_id,
            employee_id=employee_id,
            price=reward.price,
            kind=reward.kind,
            reward_name=reward.name,
            created_at=now,
            updated_at=now,
            limit_key=limit_key,
            took_stock=reward.stock is not None,
        )
        keys = period_keys(now, tenant.timezone)
        spend = LedgerEntry(
            tenant_id=tenant_id,
            source_key=redemption_source_key(redemption_id),
            employee_id=employee_id,
            kind="redemption",
            points=-reward.price,
            ts=now,
            day=keys.day,
            week=keys.week,
            month=keys.month,
            source_id=redemption_id,
            meta={"reward_id": reward.reward_id},
        )
        from ripple.service.webhooks import outbox_for

        # the redemption.requested event is written in the redemption's own transaction
        outbox = outbox_for(svc, tenant_id, "redemption.requested", redemption.to_public(), redemption_id)
        try:
            repo.redeem(
                reward, redemption, spend, IdempotencyRecord(key, fp, redemption_id), [outbox] if outbox else []
            )
        except RedeemRejected as rejected:
            if rejected.reason == "replay":
                record = repo.idempotency(tenant_id, employee_id, key)
                if record is None:  # pragma: no cover - it exists: it just refused our put
                    raise ConflictError("Idempotency-Key in use; retry") from rejected
                return 200, _replay(svc, principal, record, fp)
            if rejected.reason == "limit":
                raise LimitReachedError(
                    f"you may redeem this reward {reward.per_employee_limit} time(s) per {reward.limit_period}",
                    details={"limit": reward.per_employee_limit, "period": reward.limit_period},
                ) from rejected
            if rejected.reason == "points":
                available = svc.points.balances(tenant_id, employee_id)["available"]
                raise InsufficientPointsError(
                    shortfall(reward.price, available), price=reward.price, available=available
                ) from rejected
            fresh = repo.get_reward(tenant_id, reward_id)  # out of stock, deactivated or repriced
            if fresh is None:  # pragma: no cover - rewards are never deleted
                raise NotFoundError(f"reward {reward_id} not found") from rejected
            reward = fresh
            continue
        available = svc.points.balances(tenant_id, employee_id)["available"]
        response = {**redemption.to_public(), "available": available}
        repo.remember_response(tenant_id, employee_id, key, json.dumps(response, separators=(",", ":")))
        return 201, response
    raise RewardUnavailableError(f"reward {reward_id} is changing; please retry")


# ------------------------------------------------------------------ redemptions


def _status_filter(params: dict[str, str], allowed: set[str]) -> tuple[str | None, int, str | None]:
    reject_unknown_params(params, allowed)
    status = params.get("status")
    if status is not None and status not in {s.value for s in RedemptionStatus}:
        raise ValidationError(
            f"status must be one of: {', '.join(s.value for s in RedemptionStatus)}", details={"field": "status"}
        )
    limit = validate_limit(params.get("limit"), default=50, maximum=100)
    cursor = params.get("cursor")
    if cursor is not None and (len(cursor) > 2048 or not cursor):
        raise ValidationError("cursor is not valid", details={"field": "cursor"})
    return status, limit, cursor


def _page(svc: Services, tenant_id: str, employee_id: str | None, params: dict[str, str], allowed: set[str]) -> Any:
    status, limit, cursor = _status_filter(params, allowed)
    try:
        page = _repo(svc).list_redemptions(
            tenant_id, employee_id=employee_id, status=status, limit=limit, cursor=cursor
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError("cursor is not valid", details={"field": "cursor"}) from exc
    return {"items": [r.to_public() for r in page.redemptions], "next_cursor": page.cursor}


def my_redemptions(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.EMPLOYEE)
    return dict(_page(svc, principal.tenant_id, principal.sub, params, {"status", "limit", "cursor"}))


def admin_redemptions(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    employee_id = params.get("employee_id")
    if employee_id is not None:
        check_id(employee_id, "employee_id")
    return dict(_page(svc, principal.tenant_id, employee_id, params, {"status", "limit", "cursor", "employee_id"}))


def _redemption(svc: Services, principal: Principal, redemption_id: str) -> Redemption:
    check_id(redemption_id, "redemption_id")
    redemption = _repo(svc).get_redemption(principal.tenant_id, redemption_id)
    if redemption is None:
        raise NotFoundError(f"redemption {redemption_id} not found")
    return redemption


def fulfil_redemption(svc: Services, principal: Principal, redemption_id: str, body: dict[str, Any]) -> Redemption:
    require_role(principal, Role.ADMIN)
    redemption = _redemption(svc, principal, redemption_id)
    code = validate_fulfil(body, redemption.kind)
    transition(redemption, RedemptionStatus.FULFILLED)
    now = svc.clock()
    try:
        _repo(svc).fulfil(redemption, code=code, actor=principal.sub, now=now)
    except StaleRedemptionError as exc:
        raise ConflictError(f"redemption {redemption_id} was already fulfilled or cancelled") from exc
    from ripple.service.notifications import reward_fulfilled

    reward = _repo(svc).get_reward(principal.tenant_id, redemption.reward_id)
    name = reward.name if reward is not None else redemption.reward_id
    reward_fulfilled(svc, principal.tenant_id, redemption.employee_id, redemption_id, name)
    return replace(redemption, status=RedemptionStatus.FULFILLED, code=code, actor=principal.sub, updated_at=now)


def cancel_redemption(svc: Services, principal: Principal, redemption_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Cancel a requested redemption: refund as a new ledger entry (``rf#<id>``), stock and
    the employee's limit given back, exactly once however often or concurrently called."""
    require_role(principal, Role.ADMIN)
    redemption = _redemption(svc, principal, redemption_id)
    reason = validate_cancel(body)
    transition(redemption, RedemptionStatus.CANCELLED)
    repo = _repo(svc)
    reward = repo.get_reward(principal.tenant_id, redemption.reward_id)
    now = svc.clock()
    refund = LedgerEntry(
        tenant_id=principal.tenant_id,
        source_key=refund_source_key(redemption_id),
        employee_id=redemption.employee_id,
        kind="refund",
        points=redemption.price,
        ts=now,
        source_id=redemption_id,
        meta={"reward_id": redemption.reward_id, "reason": reason},
    )
    restock = redemption.took_stock and reward is not None and reward.stock is not None
    try:
        repo.cancel(redemption, reason=reason, actor=principal.sub, now=now, refund=refund, restock=restock)
    except StaleRedemptionError as exc:
        raise ConflictError(f"redemption {redemption_id} was already fulfilled or cancelled") from exc
    cancelled = replace(
        redemption, status=RedemptionStatus.CANCELLED, reason=reason, actor=principal.sub, updated_at=now
    )
    return {**cancelled.to_public(), "refunded": redemption.price}

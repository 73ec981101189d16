"""The points mall over PynamoDB: rewards, redemptions, per-employee counters, idempotency.

A redemption is ONE ``TransactWriteItems``: the idempotency record (must not exist), the
reward's stock decrement (stock > 0, still active, still at the price charged), the
employee's per-period counter (below the limit), the redemption record and the points
spend (ledger entry + conditional balance update, ``add_spend``). Either all of it lands
or nothing does, so nobody is ever charged without a redemption and stock never goes
below zero. Cancellation reasons name the item that refused (see ``_Slots``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import MainItem, decode_key_cursor, encode_key_cursor
from ripple.adapters.repositories import _connection, add_spend
from ripple.domain.model import LedgerEntry
from ripple.domain.rewards import Redemption, RedemptionStatus, Reward
from ripple.service.ports import (
    IdempotencyRecord,
    RedeemRejected,
    RedemptionPage,
    StaleRedemptionError,
)

__all__ = [
    "DynamoRewards",
    "IdempotencyItem",
    "RedeemCounterItem",
    "RedemptionItem",
    "RewardItem",
]

_CONFLICT_CODES = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class RewardItem(MainItem):
    """A catalog entry; ``gsi1`` (``<tenant>#RWD``) lists a tenant's catalog."""

    tenant = UnicodeAttribute()
    reward_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    image_url = UnicodeAttribute(default="")
    price = NumberAttribute()
    kind = UnicodeAttribute()
    stock = NumberAttribute(null=True)  # absent = unlimited
    per_employee_limit = NumberAttribute(null=True)
    limit_period = UnicodeAttribute(default="all")
    active = BooleanAttribute(default=True)
    redeemed = NumberAttribute(default=0)
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, reward_id: str) -> str:
        return f"RWD#{tenant_id}#{reward_id}"

    @staticmethod
    def listing(tenant_id: str) -> str:
        return f"{tenant_id}#RWD"


class RedemptionItem(MainItem):
    """One redemption; ``gsi1`` lists a tenant's, ``gsi2`` one employee's, newest first."""

    tenant = UnicodeAttribute()
    redemption_id = UnicodeAttribute()
    reward_id = UnicodeAttribute()
    reward_name = UnicodeAttribute(default="")
    kind = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    price = NumberAttribute()
    status = UnicodeAttribute()
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)
    limit_key = UnicodeAttribute(default="")
    took_stock = BooleanAttribute(default=False)
    code = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, redemption_id: str) -> str:
        return f"RDM#{tenant_id}#{redemption_id}"

    @staticmethod
    def listing(tenant_id: str) -> str:
        return f"{tenant_id}#RDM"

    @staticmethod
    def of_employee(tenant_id: str, employee_id: str) -> str:
        return f"{tenant_id}#RDM#{employee_id}"


class RedeemCounterItem(MainItem):
    """How often one employee redeemed one reward in one period (a conditional ADD)."""

    used = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, reward_id: str, employee_id: str, period_key: str) -> str:
        return f"RDC#{tenant_id}#{reward_id}#{employee_id}#{period_key}"


class IdempotencyItem(MainItem):
    """(tenant, employee, Idempotency-Key) -> the redemption it created and its response."""

    fingerprint = UnicodeAttribute()
    redemption_id = UnicodeAttribute()
    response = UnicodeAttribute(null=True)  # JSON of the first response, stored after it
    created_at = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, employee_id: str, idem_key: str) -> str:
        return f"IDEM#{tenant_id}#{employee_id}#{idem_key}"


def _reward(item: RewardItem) -> Reward:
    return Reward(
        tenant_id=item.tenant,
        reward_id=item.reward_id,
        name=item.name,
        price=int(item.price),
        kind=item.kind,
        description=item.description or "",
        image_url=item.image_url or "",
        stock=int(item.stock) if item.stock is not None else None,
        per_employee_limit=int(item.per_employee_limit) if item.per_employee_limit is not None else None,
        limit_period=item.limit_period or "all",
        active=bool(item.active),
        created_at=int(item.created_at or 0),
        updated_at=int(item.updated_at or 0),
    )


def _redemption(item: RedemptionItem) -> Redemption:
    return Redemption(
        tenant_id=item.tenant,
        redemption_id=item.redemption_id,
        reward_id=item.reward_id,
        employee_id=item.employee_id,
        price=int(item.price),
        kind=item.kind,
        reward_name=item.reward_name or "",
        status=RedemptionStatus(item.status),
        created_at=int(item.created_at or 0),
        updated_at=int(item.updated_at or 0),
        limit_key=item.limit_key or "",
        took_stock=bool(item.took_stock),
        code=item.code or "",
        reason=item.reason or "",
        actor=item.actor or "",
    )


def _redemption_item(r: Redemption) -> RedemptionItem:
    sort = f"{r.created_at:013d}#{r.redemption_id}"
    return RedemptionItem(
        RedemptionItem.key(r.tenant_id, r.redemption_id),
        gsi1pk=RedemptionItem.listing(r.tenant_id),
        gsi1sk=sort,
        gsi2pk=RedemptionItem.of_employee(r.tenant_id, r.employee_id),
        gsi2sk=sort,
        tenant=r.tenant_id,
        redemption_id=r.redemption_id,
        reward_id=r.reward_id,
        reward_name=r.reward_name,
        kind=r.kind,
        employee_id=r.employee_id,
        price=r.price,
        status=r.status.value,
        created_at=r.created_at,
        updated_at=r.updated_at,
        limit_key=r.limit_key,
        took_stock=r.took_stock,
    )


def _failed(exc: TransactWriteError, index: int | None) -> bool:
    if index is None:
        return False
    reasons = exc.cancellation_reasons or []
    reason = reasons[index] if index < len(reasons) else None
    return reason is not None and reason.code == "ConditionalCheckFailed"


def _is_conflict(exc: TransactWriteError) -> bool:
    if exc.cause_response_code in ("TransactionConflictException", "TransactionInProgressException"):
        return True
    return bool({r.code for r in exc.cancellation_reasons or [] if r is not None} & _CONFLICT_CODES)


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """Raises ValueError for anything that is not a cursor we issued."""
    raw = decode_key_cursor(cursor)
    if raw is None:
        return None
    if set(raw) - {"pk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}:
        raise ValueError("bad cursor")
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in raw.values()):
        raise ValueError("bad cursor")
    return raw


@dataclass(slots=True)
class MallStats:
    """Counters for the bench: transactions committed, conflicts retried, cancellations."""

    committed: int = 0
    conflicts: int = 0
    cancelled: int = 0


class DynamoRewards:
    def __init__(self, max_conflict_retries: int = 10) -> None:
        # Real DynamoDB cancels concurrent transactions on one item (the reward's stock) with
        # TransactionConflict; they are retried with jittered backoff, and counted.
        self.max_conflict_retries = max_conflict_retries
        self.stats = MallStats()
        self._stats_lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)

    # -- catalog

    def create_reward(self, reward: Reward) -> None:
        RewardItem(
            RewardItem.key(reward.tenant_id, reward.reward_id),
            gsi1pk=RewardItem.listing(reward.tenant_id),
            gsi1sk=f"{reward.created_at:013d}#{reward.reward_id}",
            tenant=reward.tenant_id,
            reward_id=reward.reward_id,
            name=reward.name,
            description=reward.description,
            image_url=reward.image_url,
            price=reward.price,
            kind=reward.kind,
            stock=reward.stock,
            per_employee_limit=reward.per_employee_limit,
            limit_period=reward.limit_period,
            active=reward.active,
            created_at=reward.created_at,
            updated_at=reward.updated_at,
        ).save(condition=RewardItem.pk.does_not_exist())

    def get_reward(self, tenant_id: str, reward_id: str) -> Reward | None:
        try:
            return _reward(RewardItem.get(RewardItem.key(tenant_id, reward_id), consistent_read=True))
        except DoesNotExist:
            return None

    def update_reward(self, tenant_id: str, reward_id: str, fields: dict[str, Any], now: int) -> Reward | None:
        """Apply a validated partial update; None if the reward does not exist."""
        actions: list[Any] = [RewardItem.updated_at.set(now)]
        for name in ("name", "description", "image_url", "price", "active"):
            if name in fields:
                actions.append(getattr(RewardItem, name).set(fields[name]))
        if "stock" in fields:
            stock = fields["stock"]
            actions.append(RewardItem.stock.remove() if stock is None else RewardItem.stock.set(stock))
        item = RewardItem(RewardItem.key(tenant_id, reward_id))
        try:
            item.update(actions=actions, condition=RewardItem.pk.exists())
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                return None
            raise
        return self.get_reward(tenant_id, reward_id)

    def list_rewards(self, tenant_id: str) -> list[Reward]:
        items = RewardItem.by_tenant.query(RewardItem.listing(tenant_id))
        return [_reward(item) for item in items]  # type: ignore[arg-type]

    # -- redeeming

    def redeem(
        self,
        reward: Reward,
        redemption: Redemption,
        spend: LedgerEntry,
        idem: IdempotencyRecord,
        extra: Sequence[Any] = (),
    ) -> None:
        """One transaction; raises ``RedeemRejected(reason)`` with reason ``replay``,
        ``unavailable`` (stock, active or price changed), ``limit`` or ``points``.
        ``extra``: items written with the redemption or not at all (its webhook outbox item)."""
        for attempt in range(self.max_conflict_retries + 1):
            with_limit = reward.per_employee_limit is not None and bool(redemption.limit_key)
            # PynamoDB sends every Put before every Update, and cancellation reasons follow
            # that order: puts = idempotency 0, redemption 1, ledger 2, extra items; updates =
            # reward, counter (with a limit), balance last.
            n = len(extra)
            i_reward, i_limit, i_points = 3 + n, (4 + n if with_limit else None), (5 + n if with_limit else 4 + n)
            try:
                with TransactWrite(connection=_connection()) as tx:
                    tx.save(
                        IdempotencyItem(
                            IdempotencyItem.key(redemption.tenant_id, redemption.employee_id, idem.key),
                            fingerprint=idem.fingerprint,
                            redemption_id=redemption.redemption_id,
                            created_at=redemption.created_at,
                        ),
                        condition=IdempotencyItem.pk.does_not_exist(),
                    )
                    condition = (
                        RewardItem.pk.exists() & (RewardItem.active == True) & (RewardItem.price == reward.price)  # noqa: E712
                    )
                    actions: list[Any] = [RewardItem.redeemed.add(1)]
                    if reward.stock is None:
                        condition = condition & RewardItem.stock.does_not_exist()
                    else:
                        condition = condition & (RewardItem.stock > 0)
                        actions.append(RewardItem.stock.add(-1))
                    tx.update(RewardItem(RewardItem.key(reward.tenant_id, reward.reward_id)), actions, condition)
                    if with_limit:
                        counter = RedeemCounterItem(
                            RedeemCounterItem.key(
                                reward.tenant_id, reward.reward_id, redemption.employee_id, redemption.limit_key
                            )
                        )
                        tx.update(
                            counter,
                            [RedeemCounterItem.used.add(1)],
                            RedeemCounterItem.used.does_not_exist()
                            | (RedeemCounterItem.used < int(reward.per_employee_limit or 0)),
                        )
                    tx.save(_redemption_item(redemption), condition=RedemptionItem.pk.does_not_exist())
                    add_spend(tx, spend)
                    for item in extra:
                        tx.save(item, condition=type(item).pk.does_not_exist())
            except TransactWriteError as exc:
                if _failed(exc, 0):
                    self._count("cancelled")
                    raise RedeemRejected("replay") from exc
                if _failed(exc, i_reward):
                    self._count("cancelled")
                    raise RedeemRejected("unavailable") from exc
                if _failed(exc, i_limit):
                    self._count("cancelled")
                    raise RedeemRejected("limit") from exc
                if _failed(exc, i_points):
                    self._count("cancelled")
                    raise RedeemRejected("points") from exc
                if _is_conflict(exc) and attempt < self.max_conflict_retries:
                    self._count("conflicts")
                    time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())
                    continue
                raise
            self._count("committed")
            return
        raise AssertionError("unreachable")  # pragma: no cover

    def idempotency(self, tenant_id: str, employee_id: str, idem_key: str) -> IdempotencyRecord | None:
        try:
            item = IdempotencyItem.get(IdempotencyItem.key(tenant_id, employee_id, idem_key), consistent_read=True)
        except DoesNotExist:
            return None
        return IdempotencyRecord(idem_key, item.fingerprint, item.redemption_id, item.response)

    def remember_response(self, tenant_id: str, employee_id: str, idem_key: str, response: str) -> None:
        """Store the first response so a replay returns exactly it (set once)."""
        item = IdempotencyItem(IdempotencyItem.key(tenant_id, employee_id, idem_key))
        try:
            item.update(
                actions=[IdempotencyItem.response.set(response)],
                condition=IdempotencyItem.pk.exists() & IdempotencyItem.response.does_not_exist(),
            )
        except UpdateError as exc:  # already stored by a concurrent replay
            if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                raise

    # -- redemptions

    def get_redemption(self, tenant_id: str, redemption_id: str) -> Redemption | None:
        try:
            item = RedemptionItem.get(RedemptionItem.key(tenant_id, redemption_id), consistent_read=True)
        except DoesNotExist:
            return None
        return _redemption(item)

    def list_redemptions(
        self, tenant_id: str, *, employee_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> RedemptionPage:
        start = _decode_cursor(cursor)
        condition = RedemptionItem.status == status if status else None
        if employee_id is None:
            index: Any = RedemptionItem.by_tenant
            hash_key, names = RedemptionItem.listing(tenant_id), ("gsi1pk", "gsi1sk")
        else:
            index = RedemptionItem.by_owner
            hash_key, names = RedemptionItem.of_employee(tenant_id, employee_id), ("gsi2pk", "gsi2sk")
        results = index.query(
            hash_key,
            filter_condition=condition,
            scan_index_forward=False,
            last_evaluated_key=start,
            page_size=max(limit, 25),
        )
        out: list[Redemption] = []
        next_key: dict[str, Any] | None = None
        for item in results:
            out.append(_redemption(item))
            if len(out) == limit:
                next_key = {"pk": {"S": item.pk}}
                next_key.update({n: {"S": getattr(item, n)} for n in names})
                break
        return RedemptionPage(out, encode_key_cursor(next_key))

    def fulfil(self, redemption: Redemption, *, code: str, actor: str, now: int) -> None:
        item = RedemptionItem(RedemptionItem.key(redemption.tenant_id, redemption.redemption_id))
        actions: list[Any] = [
            RedemptionItem.status.set(RedemptionStatus.FULFILLED.value),
            RedemptionItem.updated_at.set(now),
            RedemptionItem.actor.set(actor),
        ]
        if code:
            actions.append(RedemptionItem.code.set(code))
        try:
            item.update(actions=actions, condition=RedemptionItem.status == RedemptionStatus.REQUESTED.value)
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
                raise StaleRedemptionError from exc
            raise

    def cancel(
        self, redemption: Redemption, *, reason: str, actor: str, now: int, refund: LedgerEntry, restock: bool
    ) -> None:
        """One transaction: the status change (only from ``requested``), the stock and
        the per-employee counter given back, the refund (a new ledger entry)."""
        for attempt in range(self.max_conflict_retries + 1):
            try:
                with TransactWrite(connection=_connection()) as tx:
                    tx.update(
                        RedemptionItem(RedemptionItem.key(redemption.tenant_id, redemption.redemption_id)),
                        [
                            RedemptionItem.status.set(RedemptionStatus.CANCELLED.value),
                            RedemptionItem.updated_at.set(now),
                            RedemptionItem.reason.set(reason),
                            RedemptionItem.actor.set(actor),
                        ],
                        RedemptionItem.status == RedemptionStatus.REQUESTED.value,
                    )
                    if restock:
                        tx.update(
                            RewardItem(RewardItem.key(redemption.tenant_id, redemption.reward_id)),
                            [RewardItem.stock.add(1), RewardItem.redeemed.add(-1)],
                            RewardItem.stock.exists(),
                        )
                    if redemption.limit_key:
                        counter = RedeemCounterItem(
                            RedeemCounterItem.key(
                                redemption.tenant_id,
                                redemption.reward_id,
                                redemption.employee_id,
                                redemption.limit_key,
                            )
                        )
                        tx.update(counter, [RedeemCounterItem.used.add(-1)], RedeemCounterItem.used > 0)
                    add_spend(tx, refund)
            except TransactWriteError as exc:
                # puts: the refund's ledger entry 0; updates: the redemption 1, the reward 2
                # (when restocking), the counter, the balance
                if _failed(exc, 1):
                    raise StaleRedemptionError from exc
                if restock and _failed(exc, 2):
                    restock = False  # the reward became unlimited meanwhile: no stock to give back
                    continue
                if _is_conflict(exc) and attempt < self.max_conflict_retries:
                    time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())
                    continue
                raise
            return

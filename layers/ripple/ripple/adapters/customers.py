"""Customers, their contact index and history, and rate-limit counters over PynamoDB.

Every ownership change is a conditional write on the customer's ``version`` (and, for a
claim, on its owner still being the pool), so two employees racing for one customer
cannot both win, and a merge never overwrites a concurrent change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import (
    ContactItem,
    CustomerEventItem,
    CustomerItem,
    RateLimitItem,
    TenantItem,
    decode_key_cursor,
    encode_key_cursor,
)
from ripple.adapters.repositories import DynamoPoints, _connection, add_spend
from ripple.domain.contact import fold
from ripple.domain.customers import POOL, Customer, CustomerStatus
from ripple.domain.model import LedgerEntry
from ripple.domain.rewards import InsufficientPointsError, shortfall
from ripple.service.ports import (
    ContactTakenError,
    CustomerEvent,
    CustomerFilter,
    CustomerPage,
    StaleCustomerError,
)

__all__ = ["DynamoCustomers", "DynamoRateLimiter"]


def _to_customer(item: CustomerItem) -> Customer:
    return Customer(
        tenant_id=item.tenant,
        customer_id=item.customer_id,
        name=item.name or "",
        phone=item.phone,
        email=item.email,
        status=CustomerStatus(item.status or "new"),
        tags=list(item.tags or []),
        owner=item.owner or POOL,
        owner_since=int(item.owner_since or 0),
        first_touch_employee=item.first_touch_employee or "",
        first_touch_at=int(item.first_touch_at or 0),
        last_touch_employee=item.last_touch_employee or "",
        last_touch_at=int(item.last_touch_at or 0),
        source_campaign=item.source_campaign or "",
        source_channel=item.source_channel or "",
        source_code=item.source_code or "",
        node=item.node or "",
        via=item.via or "-",
        depth=int(item.depth or 1),
        campaigns=list(item.campaigns or []),
        consent_text=item.consent_text or "",
        consent_at=int(item.consent_at or 0),
        consent_lang=item.consent_lang or "",
        created_at=int(item.created_at or 0),
        updated_at=int(item.updated_at or 0),
        last_contacted_at=int(item.last_contacted_at) if item.last_contacted_at else None,
        leads=int(item.leads or 0),
        version=int(item.version or 0),
    )


def _to_item(c: Customer, version: int) -> CustomerItem:
    return CustomerItem(
        CustomerItem.key(c.tenant_id, c.customer_id),
        gsi1pk=CustomerItem.listing(c.tenant_id),
        gsi1sk=f"{c.created_at:013d}#{c.customer_id}",
        gsi2pk=CustomerItem.owned_by(c.tenant_id, c.owner),
        gsi2sk=f"{c.updated_at:013d}#{c.customer_id}",
        tenant=c.tenant_id,
        customer_id=c.customer_id,
        name=c.name,
        name_folded=fold(c.name) if c.name else None,
        phone=c.phone,
        email=c.email,
        status=c.status.value,
        tags=list(c.tags),
        owner=c.owner,
        owner_since=c.owner_since,
        first_touch_employee=c.first_touch_employee,
        first_touch_at=c.first_touch_at,
        last_touch_employee=c.last_touch_employee,
        last_touch_at=c.last_touch_at,
        source_campaign=c.source_campaign,
        source_channel=c.source_channel,
        source_code=c.source_code,
        node=c.node,
        via=c.via,
        depth=c.depth,
        campaigns=list(c.campaigns),
        consent_text=c.consent_text,
        consent_at=c.consent_at,
        consent_lang=c.consent_lang,
        created_at=c.created_at,
        updated_at=c.updated_at,
        last_contacted_at=c.last_contacted_at,
        leads=c.leads,
        version=version,
    )


def _event_item(tenant_id: str, customer_id: str, event: CustomerEvent) -> CustomerEventItem:
    return CustomerEventItem(
        CustomerEventItem.key(tenant_id, customer_id, event.ts, event.event_id),
        gsi1pk=CustomerEventItem.history(tenant_id, customer_id),
        gsi1sk=f"{event.ts:013d}#{event.event_id}",
        tenant=tenant_id,
        customer_id=customer_id,
        kind=event.kind,
        ts=event.ts,
        actor=event.actor,
        data=dict(event.data),
    )


def _cancelled_on(exc: TransactWriteError, index: int) -> bool:
    reasons = exc.cancellation_reasons or []
    reason = reasons[index] if index < len(reasons) else None
    return reason is not None and reason.code == "ConditionalCheckFailed"


class DynamoCustomers:
    def get(self, tenant_id: str, customer_id: str) -> Customer | None:
        try:
            return _to_customer(CustomerItem.get(CustomerItem.key(tenant_id, customer_id), consistent_read=True))
        except DoesNotExist:
            return None

    def contact_owners(self, tenant_id: str, contact_keys: Sequence[str]) -> dict[str, str]:
        if not contact_keys:
            return {}
        by_pk = {ContactItem.key(tenant_id, k): k for k in contact_keys}
        return {by_pk[item.pk]: item.customer_id for item in ContactItem.batch_get(list(by_pk), consistent_read=True)}

    def find_by_node(self, tenant_id: str, node: str) -> str | None:
        try:
            return ContactItem.get(ContactItem.key(tenant_id, f"node:{node}")).customer_id
        except DoesNotExist:
            return None

    def create(
        self, customer: Customer, contact_keys: Sequence[str], event: CustomerEvent, extra: Sequence[Any] = ()
    ) -> None:
        """``extra``: items written with the customer or not at all (e.g. a webhook's outbox
        item, so a committed lead always has its event)."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(_to_item(customer, 1), condition=CustomerItem.pk.does_not_exist())
                for key in contact_keys:
                    tx.save(
                        ContactItem(ContactItem.key(customer.tenant_id, key), customer_id=customer.customer_id),
                        condition=ContactItem.pk.does_not_exist(),
                    )
                tx.save(_event_item(customer.tenant_id, customer.customer_id, event))
                if customer.node:  # chain node -> customer: shows who influenced whom
                    node_key = ContactItem.key(customer.tenant_id, f"node:{customer.node}")
                    tx.save(ContactItem(node_key, customer_id=customer.customer_id))
                for item in extra:
                    tx.save(item, condition=type(item).pk.does_not_exist())
        except TransactWriteError as exc:
            if any(_cancelled_on(exc, i) for i in range(1, 1 + len(contact_keys))):
                raise ContactTakenError from exc
            raise
        customer.version = 1

    def save(
        self,
        customer: Customer,
        *,
        expected_version: int,
        events: Sequence[CustomerEvent],
        new_contact_keys: Sequence[str] = (),
        expected_owner: str | None = None,
        spend: LedgerEntry | None = None,
        extra: Sequence[Any] = (),
    ) -> Customer:
        """``spend`` (a lead-pool claim's price) is charged in the same transaction: a lost
        race charges nothing, and too few available points refuse the whole write."""
        condition = CustomerItem.version == expected_version
        if expected_owner is not None:
            condition = condition & (CustomerItem.owner == expected_owner)
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(_to_item(customer, expected_version + 1), condition=condition)
                for key in new_contact_keys:
                    contact = ContactItem(ContactItem.key(customer.tenant_id, key), customer_id=customer.customer_id)
                    tx.save(
                        contact,
                        condition=ContactItem.pk.does_not_exist() | (ContactItem.customer_id == customer.customer_id),
                    )
                for event in events:
                    tx.save(_event_item(customer.tenant_id, customer.customer_id, event))
                for item in extra:
                    tx.save(item, condition=type(item).pk.does_not_exist())
                if spend is not None:
                    add_spend(tx, spend)
        except TransactWriteError as exc:
            if _cancelled_on(exc, 0):
                raise StaleCustomerError from exc
            if any(_cancelled_on(exc, i) for i in range(1, 1 + len(new_contact_keys))):
                raise ContactTakenError from exc
            # PynamoDB sends every Put before every Update: the customer, contacts, events,
            # extra items and the ledger entry, then the balance update (the only update) last.
            if spend is not None and _cancelled_on(exc, 1 + len(new_contact_keys) + len(events) + len(extra) + 1):
                available = DynamoPoints().balances(spend.tenant_id, spend.employee_id)["available"]
                price = -spend.points
                raise InsufficientPointsError(shortfall(price, available), price=price, available=available) from exc
            raise
        customer.version = expected_version + 1
        return customer

    def search(self, tenant_id: str, filt: CustomerFilter, limit: int, cursor: str | None) -> CustomerPage:
        condition: Any = None
        if filt.status:
            condition = CustomerItem.status == filt.status
        if filt.tag:
            tag_cond = CustomerItem.tags.contains(filt.tag)
            condition = tag_cond if condition is None else condition & tag_cond
        if filt.campaign_id:
            camp_cond = CustomerItem.campaigns.contains(filt.campaign_id)
            condition = camp_cond if condition is None else condition & camp_cond
        if filt.search is not None:
            term = filt.search
            found = (
                CustomerItem.name_folded.contains(term.text)
                | CustomerItem.name.contains(term.raw)  # customers stored before names were folded
                | CustomerItem.email.contains(term.text)
            )
            if term.digits:
                found = found | CustomerItem.phone.contains(term.digits)
            condition = found if condition is None else condition & found
        start = decode_key_cursor(cursor)
        if filt.owner is None:
            pages = CustomerItem.by_tenant.query(
                CustomerItem.listing(tenant_id),
                filter_condition=condition,
                scan_index_forward=False,
                last_evaluated_key=start,
                page_size=max(limit, 25),
            )
        else:
            pages = CustomerItem.by_owner.query(
                CustomerItem.owned_by(tenant_id, filt.owner),
                filter_condition=condition,
                scan_index_forward=False,
                last_evaluated_key=start,
                page_size=max(limit, 25),
            )
        customers: list[Customer] = []
        next_key: dict[str, Any] | None = None
        for item in pages:
            customers.append(_to_customer(item))  # type: ignore[arg-type]
            if len(customers) == limit:
                next_key = _item_key(item, by_owner=filt.owner is not None)
                break
        else:
            next_key = None
        return CustomerPage(customers, encode_key_cursor(next_key), int(pages.total_count or 0))

    def history(self, tenant_id: str, customer_id: str, limit: int = 100) -> list[CustomerEvent]:
        out: list[CustomerEvent] = []
        for item in CustomerEventItem.by_tenant.query(
            CustomerEventItem.history(tenant_id, customer_id), scan_index_forward=False, limit=limit
        ):
            data = item.attribute_values
            out.append(
                CustomerEvent(
                    event_id=str(data["gsi1sk"]).split("#", 1)[1],
                    kind=str(data.get("kind", "")),
                    ts=int(data.get("ts", 0)),
                    actor=str(data.get("actor", "")),
                    data=_plain(data.get("data")),
                )
            )
        return out

    def owned_by(self, tenant_id: str, owner: str) -> Iterator[Customer]:
        for item in CustomerItem.by_owner.query(CustomerItem.owned_by(tenant_id, owner)):
            yield _to_customer(item)  # type: ignore[arg-type]

    def tenants_with_customers(self) -> Iterable[str]:
        for item in TenantItem.by_tenant.query("TENANTS"):
            yield str(item.attribute_values.get("gsi1sk", ""))


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if hasattr(value, "as_dict"):
        return dict(value.as_dict())
    return dict(value)


def _item_key(item: Any, *, by_owner: bool) -> dict[str, Any]:
    key = {"pk": {"S": item.pk}}
    if by_owner:
        key.update({"gsi2pk": {"S": item.gsi2pk}, "gsi2sk": {"S": item.gsi2sk}})
    else:
        key.update({"gsi1pk": {"S": item.gsi1pk}, "gsi1sk": {"S": item.gsi1sk}})
    return key


class DynamoRateLimiter:
    """Fixed-window counters: one conditional ADD per hit, no read."""

    def hit(self, bucket: str, *, limit: int, window_seconds: int, now_ms: int) -> bool:
        window = now_ms // 1000 // window_seconds
        item = RateLimitItem(RateLimitItem.key(bucket, window))
        try:
            item.update(
                actions=[
                    RateLimitItem.hits.add(1),
                    RateLimitItem.expires_at.set((window + 2) * window_seconds),
                ],
                condition=RateLimitItem.hits.does_not_exist() | (RateLimitItem.hits < limit),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

"""Business cards over PynamoDB: card profiles, the company card, radar rows and the
visitor -> customer map (main table, one string key each, so no tenant-wide hot key)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, fields

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from ripple.adapters.models import CardItem, CardRadarItem, VisitorCustomerItem
from ripple.domain.card import CardProfile, CompanyCard, RadarRow

__all__ = ["DynamoCards"]

MAX_RADAR_ROWS = 500  # viewers read for one radar (newest rows are not ordered; a bound, not a page)


def _load(cls: type, raw: str) -> object:
    data = json.loads(raw or "{}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


class DynamoCards:
    def get(self, tenant_id: str, employee_id: str) -> CardProfile | None:
        try:
            item = CardItem.get(CardItem.key(tenant_id, employee_id))
        except DoesNotExist:
            return None
        card = _load(CardProfile, item.data)
        assert isinstance(card, CardProfile)
        return card

    def put(self, tenant_id: str, employee_id: str, card: CardProfile) -> None:
        CardItem(CardItem.key(tenant_id, employee_id), data=json.dumps(asdict(card), ensure_ascii=False)).save()

    def company(self, tenant_id: str) -> CompanyCard:
        try:
            item = CardItem.get(CardItem.company_key(tenant_id))
        except DoesNotExist:
            return CompanyCard()
        company = _load(CompanyCard, item.data)
        assert isinstance(company, CompanyCard)
        return company

    def put_company(self, tenant_id: str, company: CompanyCard) -> None:
        CardItem(CardItem.company_key(tenant_id), data=json.dumps(asdict(company), ensure_ascii=False)).save()

    def add_events(
        self, tenant_id: str, employee_id: str, visitor: str, *, views: Iterable[str] = (), taps: Iterable[str] = ()
    ) -> None:
        """Add view/tap event markers to the viewer's row (set ADD: idempotent)."""
        view_set, tap_set = set(views), set(taps)
        if not view_set and not tap_set:
            return
        item = CardRadarItem(CardRadarItem.key(tenant_id, employee_id, visitor))
        actions: list[Action] = [
            CardRadarItem.gsi2pk.set(CardRadarItem.listing(tenant_id, employee_id)),
            CardRadarItem.gsi2sk.set(visitor),
            CardRadarItem.tenant.set(tenant_id),
            CardRadarItem.employee_id.set(employee_id),
            CardRadarItem.visitor.set(visitor),
        ]
        if view_set:
            actions.append(CardRadarItem.views.add(view_set))
        if tap_set:
            actions.append(CardRadarItem.taps.add(tap_set))
        item.update(actions=actions)

    def radar(self, tenant_id: str, employee_id: str) -> list[RadarRow]:
        rows: list[RadarRow] = []
        for item in CardRadarItem.by_owner.query(CardRadarItem.listing(tenant_id, employee_id), limit=MAX_RADAR_ROWS):
            d = item.attribute_values
            rows.append(
                RadarRow(
                    str(d.get("visitor", "")),
                    frozenset(d.get("views") or ()),
                    frozenset(d.get("taps") or ()),
                )
            )
        return rows

    def remember_customer(self, tenant_id: str, visitor: str, customer_id: str) -> None:
        VisitorCustomerItem(VisitorCustomerItem.key(tenant_id, visitor), customer_id=customer_id).save()

    def customers_of(self, tenant_id: str, visitors: Iterable[str]) -> dict[str, str]:
        """visitor key -> customer id, for the visitors known to be customers."""
        keys = [VisitorCustomerItem.key(tenant_id, v) for v in set(visitors)]
        out: dict[str, str] = {}
        prefix = len(VisitorCustomerItem.key(tenant_id, ""))
        for item in VisitorCustomerItem.batch_get(keys):
            out[item.pk[prefix:]] = str(item.customer_id)
        return out

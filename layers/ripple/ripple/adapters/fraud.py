"""Fraud signals over PynamoDB: stored per event (idempotent), listed per tenant."""

from __future__ import annotations

import time
from collections.abc import Iterable

from ripple.adapters.models import EmployeeDeviceItem, FraudSignalItem, LedgerItem, VisitItem
from ripple.domain.fraud import FraudSignal

__all__ = ["DynamoFraud"]


class DynamoFraud:
    def record(self, signals: Iterable[FraudSignal]) -> int:
        n = 0
        with FraudSignalItem.batch_write() as batch:
            for s in signals:
                batch.save(
                    FraudSignalItem(
                        FraudSignalItem.key(s.tenant_id, s.kind, s.source),
                        gsi1pk=FraudSignalItem.listing(s.tenant_id),
                        gsi1sk=f"{s.ts:013d}#{s.kind}#{s.source}",
                        tenant=s.tenant_id,
                        kind=s.kind,
                        employee_id=s.employee_id,
                        campaign_id=s.campaign_id,
                        visitor=s.visitor,
                        clicker=s.clicker,
                        source=s.source,
                        ts=s.ts,
                        detail=s.detail,
                    )
                )
                n += 1
        return n

    def recent(self, tenant_id: str, since: int, limit: int = 1000) -> list[FraudSignal]:
        out: list[FraudSignal] = []
        for item in FraudSignalItem.by_tenant.query(
            FraudSignalItem.listing(tenant_id),
            FraudSignalItem.gsi1sk >= f"{since:013d}",
            scan_index_forward=False,
            limit=limit,
        ):
            d = item.attribute_values
            out.append(
                FraudSignal(
                    tenant_id=tenant_id,
                    kind=str(d.get("kind", "")),
                    source=str(d.get("source", "")),
                    ts=int(d.get("ts", 0)),
                    employee_id=str(d.get("employee_id", "")),
                    campaign_id=str(d.get("campaign_id", "")),
                    visitor=str(d.get("visitor", "")),
                    clicker=str(d.get("clicker", "")),
                    detail=str(d.get("detail", "")),
                )
            )
        return out

    def unique_visits_between(
        self, tenant_id: str, employee_id: str, start: int, end: int, kind: str = "unique_visit"
    ) -> int:
        """Unique visits (or another outcome ``kind``, e.g. leads) the employee earned in
        [start, end) (ledger GSI, count only)."""
        return LedgerItem.by_owner.count(
            f"{tenant_id}#{employee_id}",
            LedgerItem.sort.between(f"{start:013d}", f"{end:013d}"),
            filter_condition=LedgerItem.kind == kind,
        )

    def employees_reached(self, tenant_id: str, visitor: str, start: int, end: int) -> int:
        """Distinct employees whose links this visitor opened in [start, end] (GSI query)."""
        reached = {
            str(item.employee_id)
            for item in VisitItem.by_visitor.query(f"{tenant_id}#{visitor}", VisitItem.ts.between(start, end))
        }
        return len(reached)

    def remember_device(self, tenant_id: str, visitor: str, employee_id: str) -> None:
        EmployeeDeviceItem(
            EmployeeDeviceItem.key(tenant_id, visitor), employee_id=employee_id, seen_at=int(time.time() * 1000)
        ).save()

    def device_owners(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(tenant, visitor) -> employee, for visitors seen on an employee's own calls."""
        wanted = {EmployeeDeviceItem.key(t, v): (t, v) for t, v in set(keys)}
        if not wanted:
            return {}
        return {wanted[item.pk]: item.employee_id for item in EmployeeDeviceItem.batch_get(list(wanted))}

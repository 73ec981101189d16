"""Turning recorded visits into points, exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ripple.domain.model import Visit
from ripple.domain.points import earnings_from_visits
from ripple.service.context import Services
from ripple.service.ports import RecordResult

__all__ = ["ApplyReport", "apply_visits"]


@dataclass(slots=True)
class ApplyReport:
    visits: int
    candidates: int
    result: RecordResult


def apply_visits(svc: Services, visits: Sequence[Visit]) -> ApplyReport:
    """Credit the owners of a batch of visits. Safe to call again with any overlap."""
    tenants = {v.tenant_id for v in visits}
    campaigns = svc.campaigns.batch_get({(v.tenant_id, v.campaign_id) for v in visits})
    employees = svc.employees.batch_get({(v.tenant_id, v.employee_id) for v in visits})
    timezones = {t: svc.tenants.get(t).timezone for t in tenants}
    candidates = earnings_from_visits(visits, campaigns, employees, timezones)
    result = svc.points.record(candidates) if candidates else RecordResult()
    return ApplyReport(len(visits), len(candidates), result)

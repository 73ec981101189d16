"""Turning recorded visits into points, exactly once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ripple.domain.model import Campaign, LedgerEntry, Visit
from ripple.domain.points import apply_caps, cap_rows, earnings_from_visits
from ripple.service.context import Services
from ripple.service.ports import RecordResult
from ripple.service.settlement import shift_late_entries

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
    candidates = _capped(svc, candidates, campaigns)
    candidates = shift_late_entries(svc, candidates, timezones)  # periods already settled -> next open one
    result = svc.points.record(candidates) if candidates else RecordResult()
    return ApplyReport(len(visits), len(candidates), result)


def _has_caps(campaign: Campaign | None) -> bool:
    if campaign is None:
        return False
    versions = [v.rules for v in campaign.rules_history] or [campaign.points]
    return any(r.daily_cap is not None or r.campaign_cap is not None for r in versions)


def _capped(
    svc: Services, candidates: list[LedgerEntry], campaigns: Mapping[tuple[str, str], Campaign]
) -> list[LedgerEntry]:
    """Apply daily/campaign caps against what the ledger already holds. Only campaigns
    with caps pay the extra reads (which keys exist, and two board rows per employee).
    Candidates already in the ledger are dropped here: they are replays, and counting
    them again would clamp the genuinely new ones."""
    capped = [e for e in candidates if _has_caps(campaigns.get((e.tenant_id, e.campaign_id)))]
    if not capped:
        return candidates
    known: set[tuple[str, str]] = set()
    for tenant in {e.tenant_id for e in capped}:
        keys = [e.source_key for e in capped if e.tenant_id == tenant]
        known |= {(tenant, k) for k in svc.points.existing(tenant, keys)}
    fresh = [e for e in capped if (e.tenant_id, e.source_key) not in known]
    adjusted = {
        (e.tenant_id, e.source_key): e for e in apply_caps(fresh, campaigns, svc.points.scores(cap_rows(fresh)))
    }
    out: list[LedgerEntry] = []
    for e in candidates:
        key = (e.tenant_id, e.source_key)
        if key in known:
            continue
        out.append(adjusted.get(key, e))
    return out

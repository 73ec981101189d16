"""Turning recorded visits into points, exactly once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ripple.domain.fraud import (
    BURST_WINDOW_MS,
    HOUR_MS,
    VELOCITY_KINDS,
    FraudSignal,
    colleague_signals,
    is_burst,
    withhold,
    withhold_velocity,
)
from ripple.domain.model import Campaign, LedgerEntry, Tenant, Visit
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
    tenants = {t: svc.tenants.get(t) for t in {v.tenant_id for v in visits}}
    campaigns = svc.campaigns.batch_get({(v.tenant_id, v.campaign_id) for v in visits})
    employees = svc.employees.batch_get({(v.tenant_id, v.employee_id) for v in visits})
    timezones = {t: tenant.timezone for t, tenant in tenants.items()}
    candidates = earnings_from_visits(visits, campaigns, employees, timezones)
    by_id = {v.visit_id: v for v in visits}  # entries name the visit that caused them (source_id)
    candidates = _earliest_wins(svc, by_id, candidates)
    candidates, signals = _fraud(svc, visits, by_id, candidates, tenants)
    candidates = _capped(svc, candidates, campaigns)
    candidates = shift_late_entries(svc, candidates, timezones)  # periods already settled -> next open one
    result = svc.points.record(candidates) if candidates else RecordResult()
    if svc.tasks is not None and (result.inserted or result.duplicates):
        from ripple.service.tasks import record_outcomes

        # duplicates too: a crash between the ledger and this call is healed by the
        # redelivery (per-entry markers make counting the same entry twice a no-op)
        record_outcomes(svc, [*result.inserted, *result.duplicates])
    if signals and svc.fraud is not None:
        svc.fraud.record(signals)  # after the ledger: a redelivery rewrites the same items
    if svc.analytics is not None:
        from ripple.service.analytics import record_events

        # after the ledger, so each event is counted with the outcomes it earned; markers
        # per event make a redelivered batch count nothing twice
        record_events(svc, visits, result, employees, timezones)
    if svc.cards is not None:
        from ripple.service.cards import record_card_events

        # card radar rows and the visitor -> customer map: set additions, idempotent
        record_card_events(svc, list(visits), employees)
    return ApplyReport(len(visits), len(candidates), result)


def _earliest_wins(svc: Services, by_id: Mapping[str, Visit], candidates: list[LedgerEntry]) -> list[LedgerEntry]:
    """A visitor's unique visit (and forward) belongs to their *earliest* eligible visit to
    the campaign, whatever order the stream delivers visits in (items in different shards
    arrive in any order). A candidate with an earlier eligible visit on record yields
    nothing: that visit's own delivery pays it.

    The ledger answers first, in one BatchGet per 100 keys: a key already paid was paid by
    the earliest visit (every visit is written before the stream delivers it, and a later
    one defers to it), so a stored entry naming this visit means it is the earliest (a
    redelivery, kept so it is reported as a duplicate) and one naming another visit means
    it is not. Only visits whose keys are unpaid -- first visits -- cost a Query."""
    applies = [
        e
        for e in candidates
        if (v := by_id.get(e.source_id)) is not None and v.kind == "visit" and e.kind in ("unique_visit", "forward")
    ]
    checked: dict[str, bool] = {}  # visit id -> has an earlier eligible visit
    for tenant in {e.tenant_id for e in applies}:
        stored = svc.points.sources(tenant, [e.source_key for e in applies if e.tenant_id == tenant])
        for e in applies:
            if e.tenant_id == tenant and e.source_key in stored:
                checked[e.source_id] = checked.get(e.source_id, False) or stored[e.source_key] != e.source_id
    out: list[LedgerEntry] = []
    for e in candidates:
        v = by_id.get(e.source_id)
        if v is None or v.kind != "visit" or e.kind not in ("unique_visit", "forward"):
            out.append(e)
            continue
        if v.visit_id not in checked:
            checked[v.visit_id] = svc.visits.earlier_eligible(v)
        if not checked[v.visit_id]:
            out.append(e)
    return out


def _fraud(
    svc: Services,
    visits: Sequence[Visit],
    by_id: Mapping[str, Visit],
    candidates: list[LedgerEntry],
    tenants: Mapping[str, Tenant],
) -> tuple[list[LedgerEntry], list[FraudSignal]]:
    """Withhold what the anti-fraud signals catch (entries keep their keys, 0 points)."""
    signals = colleague_signals(visits)
    devices: dict[tuple[str, str], str] = {}
    if svc.fraud is not None and candidates:
        devices = svc.fraud.device_owners(
            {(by_id[e.source_id].tenant_id, by_id[e.source_id].visitor) for e in candidates if e.source_id in by_id}
        )
    if devices:
        candidates, device_signals = _employee_devices(candidates, by_id, devices)
        signals += device_signals
    reached: dict[tuple[str, str, int], int] = {}
    out: list[LedgerEntry] = []
    for e in candidates:
        v = by_id.get(e.source_id)
        limit = tenants[e.tenant_id].burst_links if e.tenant_id in tenants else None
        if v is None or not limit or svc.fraud is None or e.kind not in ("unique_visit", "forward") or e.points <= 0:
            out.append(e)
            continue
        key = (v.tenant_id, v.visitor, v.ts)
        if key not in reached:
            reached[key] = svc.fraud.employees_reached(v.tenant_id, v.visitor, v.ts - BURST_WINDOW_MS, v.ts)
        if not is_burst(reached[key], limit):
            out.append(e)
            continue
        out.append(withhold(e, "burst"))
        if e.kind == "unique_visit":
            signals.append(
                FraudSignal(
                    e.tenant_id,
                    "burst",
                    v.visit_id,
                    v.ts,
                    e.employee_id,
                    e.campaign_id,
                    v.visitor,
                    detail=f"one visitor opened {reached[key]} employees' links within 10 minutes",
                )
            )
    limits = {t: o.velocity_per_hour for t, o in tenants.items() if o.velocity_per_hour}
    if not limits or svc.fraud is None:
        return out, signals
    watched = [e for e in out if e.tenant_id in limits and e.kind in VELOCITY_KINDS and e.points > 0]
    if not watched:
        return out, signals
    known = _known(svc, watched)
    fresh = [e for e in out if (e.tenant_id, e.source_key) not in known]
    recent: dict[tuple[str, str, str], int] = {}
    for velocity_key in {(e.tenant_id, e.employee_id, e.kind) for e in watched}:
        first = min(e.ts for e in watched if (e.tenant_id, e.employee_id, e.kind) == velocity_key)
        tenant_id, employee_id, kind = velocity_key
        recent[velocity_key] = svc.fraud.unique_visits_between(
            tenant_id, employee_id, first - HOUR_MS, first, kind=kind
        )
    limited, velocity = withhold_velocity(fresh, recent, limits)
    return limited, signals + velocity


def _employee_devices(
    candidates: list[LedgerEntry], by_id: Mapping[str, Visit], devices: Mapping[tuple[str, str], str]
) -> tuple[list[LedgerEntry], list[FraudSignal]]:
    """A visit from an employee's own phone (seen on their signed-in calls) is not a
    customer: it earns nothing, and a colleague's shows up as an employee click."""
    out: list[LedgerEntry] = []
    signals: list[FraudSignal] = []
    for e in candidates:
        v = by_id.get(e.source_id)
        clicker = devices.get((v.tenant_id, v.visitor)) if v is not None else None
        if v is None or clicker is None or e.kind not in ("unique_visit", "forward", "lead") or e.points <= 0:
            out.append(e)
            continue
        reason = "owner_device" if clicker == e.employee_id else "employee_device"
        out.append(withhold(e, reason))
        if e.kind == "unique_visit" and reason == "employee_device":
            signals.append(
                FraudSignal(
                    e.tenant_id,
                    "employee_click",
                    v.visit_id,
                    v.ts,
                    e.employee_id,
                    e.campaign_id,
                    v.visitor,
                    clicker=clicker,
                    detail="a colleague's phone (not signed in)",
                )
            )
    return out, signals


def _known(svc: Services, entries: Sequence[LedgerEntry]) -> set[tuple[str, str]]:
    """(tenant, source key) of entries already in the ledger (replays, partial retries)."""
    known: set[tuple[str, str]] = set()
    for tenant in {e.tenant_id for e in entries}:
        keys = [e.source_key for e in entries if e.tenant_id == tenant]
        known |= {(tenant, k) for k in svc.points.existing(tenant, keys)}
    return known


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
    known = _known(svc, capped)
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

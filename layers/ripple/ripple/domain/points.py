"""Points: from recorded visits to ledger entries, and from ledger entries to aggregates.

Exactly-once is a property of keys, decided here: every ledger entry has a source key that
names the *outcome* it pays for (``uv#<campaign>#<visitor>``: this visitor's first visit to
this campaign). However often, in whatever order and through whichever link a visitor's
visits are delivered, there is one such key, so at most one entry. Aggregates (balances,
leaderboards) are pure functions of the entries that were actually inserted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ripple.domain.model import Campaign, Decision, Employee, LedgerEntry, Visit
from ripple.domain.timeutil import PERIOD_ALL, period_keys

__all__ = [
    "ALL_CAMPAIGNS",
    "DIMENSIONS",
    "AggregateKey",
    "aggregate",
    "board_id",
    "earnings_from_visits",
    "unique_visit_key",
]

DIMENSIONS: tuple[str, ...] = ("employee", "team", "region")
ALL_CAMPAIGNS = "*"


@dataclass(frozen=True, slots=True, order=True)
class AggregateKey:
    """One counter: an employee's balance (``dim == 'balance'``) or one leaderboard row."""

    tenant_id: str
    dim: str  # "balance" | "employee" | "team" | "region"
    scope: str  # campaign id or ALL_CAMPAIGNS ("" for balances)
    period: str  # "all" | day | week | month ("" for balances)
    member: str  # employee id, team or region

    @property
    def board(self) -> str:
        return board_id(self.tenant_id, self.dim, self.scope, self.period)


def board_id(tenant_id: str, dim: str, scope: str, period: str) -> str:
    return f"{tenant_id}#{dim}#{scope}#{period}"


def unique_visit_key(campaign_id: str, visitor: str) -> str:
    return f"uv#{campaign_id}#{visitor}"


def earnings_from_visits(
    visits: Iterable[Visit],
    campaigns: Mapping[tuple[str, str], Campaign],
    employees: Mapping[tuple[str, str], Employee],
    timezones: Mapping[str, str],
) -> list[LedgerEntry]:
    """Ledger entries a batch of visits *may* produce (the store decides which are new).

    Earliest visit first, so within a batch the first visit of a visitor wins the slot.
    Visits of unknown campaigns, inactive owners or zero-point rules produce nothing.
    """
    entries: list[LedgerEntry] = []
    seen: set[tuple[str, str]] = set()
    for visit in sorted(visits, key=lambda v: (v.ts, v.visit_id)):
        if visit.decision is not Decision.ELIGIBLE:
            continue
        campaign = campaigns.get((visit.tenant_id, visit.campaign_id))
        employee = employees.get((visit.tenant_id, visit.employee_id))
        if campaign is None or employee is None or not employee.active:
            continue
        if campaign.points.unique_visit <= 0:
            continue
        key = unique_visit_key(visit.campaign_id, visit.visitor)
        if (visit.tenant_id, key) in seen:
            continue
        seen.add((visit.tenant_id, key))
        periods = period_keys(visit.ts, timezones.get(visit.tenant_id, "UTC"))
        entries.append(
            LedgerEntry(
                tenant_id=visit.tenant_id,
                source_key=key,
                employee_id=employee.employee_id,
                kind="unique_visit",
                points=campaign.points.unique_visit,
                ts=visit.ts,
                campaign_id=visit.campaign_id,
                team=employee.team,
                region=employee.region,
                day=periods.day,
                week=periods.week,
                month=periods.month,
                source_id=visit.visit_id,
                meta={"channel": visit.channel, "code": visit.code},
            )
        )
    return entries


def aggregate_keys(entry: LedgerEntry) -> list[AggregateKey]:
    """Every counter one entry moves: its owner's balance and 24 leaderboard rows
    (3 dimensions x {this campaign, all campaigns} x {all time, day, week, month})."""
    keys = [AggregateKey(entry.tenant_id, "balance", "", "", entry.employee_id)]
    scopes = [ALL_CAMPAIGNS] + ([entry.campaign_id] if entry.campaign_id else [])
    periods = [PERIOD_ALL] + [p for p in (entry.day, entry.week, entry.month) if p]
    members = {"employee": entry.employee_id, "team": entry.team, "region": entry.region}
    for dim in DIMENSIONS:
        member = members[dim]
        if not member:
            continue
        for scope in scopes:
            for period in periods:
                keys.append(AggregateKey(entry.tenant_id, dim, scope, period, member))
    return keys


def aggregate(entries: Iterable[LedgerEntry]) -> dict[AggregateKey, int]:
    """Sum the deltas of many entries per counter: one write per counter per batch."""
    totals: dict[AggregateKey, int] = defaultdict(int)
    for entry in entries:
        for key in aggregate_keys(entry):
            totals[key] += entry.points
    return dict(totals)

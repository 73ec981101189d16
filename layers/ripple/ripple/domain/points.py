"""Points: from stream events to ledger entries, and from ledger entries to aggregates.

Exactly-once is a property of keys, decided here: every ledger entry has a source key that
names the *outcome* it pays for, never the delivery that reported it:

* ``uv#<campaign>#<visitor>``  this visitor's first (eligible) visit to this campaign;
* ``fw#<campaign>#<visitor>``  that first visit came through a customer's share token;
* ``ld#<campaign>#<customer>`` this customer's first lead for this campaign;
* ``cv#<campaign>#<customer>`` this customer's won deal, credited to the first-touch employee.

However often, in whatever order and through whichever path events are delivered, there is
one such key, so at most one entry. Everything an entry moves (balances, leaderboard rows,
chain-tree counters) is a pure function of the entries actually inserted, and is written in
the same transaction as the entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from ripple.domain.chains import ROOT, node_id
from ripple.domain.model import Campaign, Decision, Employee, LedgerEntry, Visit
from ripple.domain.timeutil import PERIOD_ALL, period_keys

__all__ = [
    "ALL_CAMPAIGNS",
    "DIMENSIONS",
    "AggregateKey",
    "NodeDelta",
    "NodeKey",
    "aggregate",
    "aggregate_keys",
    "apply_caps",
    "board_id",
    "cap_rows",
    "conversion_key",
    "earnings_from_visits",
    "forward_key",
    "lead_key",
    "node_deltas",
    "node_keys",
    "pack_transactions",
    "root_node",
    "unique_visit_key",
]

DIMENSIONS: tuple[str, ...] = ("employee", "team", "region")
T = TypeVar("T")
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


@dataclass(frozen=True, slots=True, order=True)
class NodeKey:
    """One node of a campaign's spread tree: a visitor, or ``-<employee>`` for the root."""

    tenant_id: str
    campaign_id: str
    node: str


@dataclass(slots=True)
class NodeDelta:
    """What a batch changes on one node: counters to add, and (once) where it sits."""

    root: str = ""  # the employee whose tree this is
    parent: str | None = None  # set only by the entry that creates the node
    depth: int | None = None
    first_seen: int | None = None
    visitors: int = 0  # new visitors who arrived through this node's link
    forwards: int = 0  # ... of whom arrived through a customer's token (counted on that customer)
    leads: int = 0  # leads this node's visitor submitted


def board_id(tenant_id: str, dim: str, scope: str, period: str) -> str:
    return f"{tenant_id}#{dim}#{scope}#{period}"


def unique_visit_key(campaign_id: str, visitor: str) -> str:
    return f"uv#{campaign_id}#{visitor}"


def forward_key(campaign_id: str, visitor: str) -> str:
    return f"fw#{campaign_id}#{visitor}"


def lead_key(campaign_id: str, customer_id: str) -> str:
    return f"ld#{campaign_id}#{customer_id}"


def conversion_key(campaign_id: str, customer_id: str) -> str:
    return f"cv#{campaign_id}#{customer_id}"


def visit_meta(visit: Visit) -> dict[str, str]:
    """Extra facts an event carries into its ledger entry (a conversion's deal amount)."""
    return {"amount": visit.amount} if visit.amount else {}


def root_node(employee_id: str) -> str:
    return f"{ROOT}{employee_id}"


def _entry(visit: Visit, employee: Employee, campaign: Campaign, *, key: str, kind: str, tz: str) -> LedgerEntry:
    periods = period_keys(visit.ts, tz)
    version, rules = campaign.rules_at(visit.ts)
    return LedgerEntry(
        tenant_id=visit.tenant_id,
        source_key=key,
        employee_id=employee.employee_id,
        kind=kind,
        points=rules.for_kind(kind),
        ts=visit.ts,
        campaign_id=visit.campaign_id,
        team=employee.team,
        region=employee.region,
        day=periods.day,
        week=periods.week,
        month=periods.month,
        source_id=visit.visit_id,
        meta={"channel": visit.channel, "code": visit.code},
        node=visit.node or node_id(visit.visitor),
        via=visit.via or ROOT,
        via_parent=visit.via_parent,
        depth=visit.depth,
        status="pending" if rules.holds else "available",
        release_at=visit.ts + rules.holding_days * 86_400_000 if rules.holds else None,
        threshold=rules.threshold,
        rules_version=version,
    )


def earnings_from_visits(
    visits: Iterable[Visit],
    campaigns: Mapping[tuple[str, str], Campaign],
    employees: Mapping[tuple[str, str], Employee],
    timezones: Mapping[str, str],
) -> list[LedgerEntry]:
    """Ledger entries a batch of events *may* produce (the store decides which are new).

    Earliest event first, so within a batch the first visit of a visitor wins the slot.
    A visitor's first eligible visit always yields a ``unique_visit`` entry, even at zero
    points, because it is also the record of where they joined the spread tree. Events of
    unknown campaigns or inactive owners produce nothing.
    """
    entries: list[LedgerEntry] = []
    seen: set[tuple[str, str]] = set()
    for visit in sorted(visits, key=lambda v: (v.ts, v.visit_id)):
        if visit.decision is not Decision.ELIGIBLE or visit.kind not in ("visit", "lead", "conversion"):
            continue  # e.g. a business card's "tap" events: recorded for the card radar, paid nothing
        campaign = campaigns.get((visit.tenant_id, visit.campaign_id))
        employee = employees.get((visit.tenant_id, visit.employee_id))
        if campaign is None or employee is None or not employee.active:
            continue
        tz = timezones.get(visit.tenant_id, "UTC")
        if visit.kind in ("lead", "conversion"):
            if not visit.customer_id:
                continue
            make_key = lead_key if visit.kind == "lead" else conversion_key
            key = make_key(visit.campaign_id, visit.customer_id)
            if (visit.tenant_id, key) not in seen:
                seen.add((visit.tenant_id, key))
                entry = _entry(visit, employee, campaign, key=key, kind=visit.kind, tz=tz)
                if visit.kind == "conversion":
                    entry = replace(entry, meta={**entry.meta, **visit_meta(visit)})
                entries.append(entry)
            continue
        key = unique_visit_key(visit.campaign_id, visit.visitor)
        if (visit.tenant_id, key) in seen:
            continue
        seen.add((visit.tenant_id, key))
        entries.append(_entry(visit, employee, campaign, key=key, kind="unique_visit", tz=tz))
        if visit.via and visit.via != ROOT:
            entries.append(
                _entry(
                    visit, employee, campaign, key=forward_key(visit.campaign_id, visit.visitor), kind="forward", tz=tz
                )
            )
    return entries


def aggregate_keys(entry: LedgerEntry) -> list[AggregateKey]:
    """Every counter one entry moves: its owner's balance and 24 leaderboard rows
    (3 dimensions x {this campaign, all campaigns} x {all time, day, week, month}).
    Zero-point entries move none."""
    if entry.points == 0:
        return []
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


def _node_of(entry: LedgerEntry, node: str) -> NodeKey:
    return NodeKey(entry.tenant_id, entry.campaign_id, node)


def node_keys(entry: LedgerEntry) -> list[NodeKey]:
    """The chain-tree nodes one entry touches (see ``node_deltas``)."""
    if not entry.node or not entry.campaign_id:
        return []
    via = entry.via if entry.via and entry.via != ROOT else root_node(entry.employee_id)
    if entry.kind == "unique_visit":
        return [_node_of(entry, entry.node), _node_of(entry, via)]
    if entry.kind == "forward":
        return [_node_of(entry, via)]
    if entry.kind == "lead":
        return [_node_of(entry, entry.node)]
    return []


def node_deltas(entries: Iterable[LedgerEntry]) -> dict[NodeKey, NodeDelta]:
    """Chain-tree changes of a batch of *inserted* entries, merged per node.

    * a ``unique_visit`` entry places its visitor in the tree (parent = the node whose
      link they opened, depth, first seen) and adds a visitor to that parent;
    * a ``forward`` entry adds a forward to the customer node it came through;
    * a ``lead`` entry adds a lead to the submitting visitor's node.
    """
    out: dict[NodeKey, NodeDelta] = {}

    def delta(key: NodeKey, root: str) -> NodeDelta:
        d = out.get(key)
        if d is None:
            d = out[key] = NodeDelta(root=root)
        return d

    for e in entries:
        if not e.node or not e.campaign_id:
            continue
        via = e.via if e.via and e.via != ROOT else root_node(e.employee_id)
        if e.kind == "unique_visit":
            me = delta(_node_of(e, e.node), e.employee_id)
            me.parent, me.depth, me.first_seen = via, e.depth, e.ts
            delta(_node_of(e, via), e.employee_id).visitors += 1
        elif e.kind == "forward":
            delta(_node_of(e, via), e.employee_id).forwards += 1
        elif e.kind == "lead":
            delta(_node_of(e, e.node), e.employee_id).leads += 1
    return out


def cap_rows(entries: Iterable[LedgerEntry]) -> set[tuple[str, str]]:
    """The leaderboard rows (board, member) that hold what each entry's employee has earned
    in its campaign today and in total: the state caps are checked against."""
    rows: set[tuple[str, str]] = set()
    for e in entries:
        if e.campaign_id:
            rows.add((board_id(e.tenant_id, "employee", e.campaign_id, e.day), e.employee_id))
            rows.add((board_id(e.tenant_id, "employee", e.campaign_id, PERIOD_ALL), e.employee_id))
    return rows


def apply_caps(
    entries: Iterable[LedgerEntry],
    campaigns: Mapping[tuple[str, str], Campaign],
    earned: Mapping[tuple[str, str], int],
) -> list[LedgerEntry]:
    """Clamp entries to the per-employee daily and per-campaign caps of the rules version
    that pays them, earliest first. ``earned`` maps ``cap_rows`` to points already earned
    (entries already in the ledger must not be in ``entries``). A clamped entry keeps its
    source key (the outcome happened, and must not be paid later) and says why in ``meta``.
    """
    running: dict[tuple[str, str], int] = dict(earned)
    out: list[LedgerEntry] = []
    for e in sorted(entries, key=lambda x: (x.ts, x.source_key)):
        campaign = campaigns.get((e.tenant_id, e.campaign_id))
        if campaign is None or e.points <= 0:
            out.append(e)
            continue
        rules = campaign.rules_at(e.ts)[1]
        if rules.daily_cap is None and rules.campaign_cap is None:
            out.append(e)
            continue
        day_row = (board_id(e.tenant_id, "employee", e.campaign_id, e.day), e.employee_id)
        all_row = (board_id(e.tenant_id, "employee", e.campaign_id, PERIOD_ALL), e.employee_id)
        room, why = e.points, ""
        if rules.daily_cap is not None and rules.daily_cap - running.get(day_row, 0) < room:
            room, why = max(0, rules.daily_cap - running.get(day_row, 0)), "daily_cap"
        if rules.campaign_cap is not None and rules.campaign_cap - running.get(all_row, 0) < room:
            room, why = max(0, rules.campaign_cap - running.get(all_row, 0)), "campaign_cap"
        if room < e.points:
            e = replace(e, points=room, meta={**e.meta, "capped": why, "uncapped_points": str(e.points)})
        running[day_row] = running.get(day_row, 0) + room
        running[all_row] = running.get(all_row, 0) + room
        out.append(e)
    return out


def pack_transactions(items: Iterable[T], touches: Callable[[T], Collection[object]], max_items: int) -> list[list[T]]:
    """Greedy chunks, in the order given, for transactions that hold one conditional put per
    element plus one summed update per distinct thing the chunk's elements touch: each chunk
    stays within ``max_items`` (an element alone always gets a chunk). Ordering elements so
    that neighbours touch the same things is what makes the summing pay."""
    chunks: list[list[T]] = []
    current: list[T] = []
    keys: set[object] = set()
    for item in items:
        mine = set(touches(item))
        if current and len(current) + 1 + len(keys | mine) > max_items:
            chunks.append(current)
            current, keys = [], set()
        current.append(item)
        keys |= mine
    if current:
        chunks.append(current)
    return chunks

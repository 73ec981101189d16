"""Period-end settlement: freeze the period's boards, award the configured prizes, report.

``settle(tenant, period)`` is a small state machine on one record per (tenant, period):

1. **begin** — a conditional put creates the record in state ``running`` with a run id, a
   lease and a snapshot of the prize configuration. A record already ``done`` returns its
   stored summary (idempotent); one ``running`` under a live lease means another runner is
   at work (409); an expired lease (a crashed runner) is taken over conditionally.
2. **freeze** — every board of the period (employee/team/region x all campaigns and each
   campaign) is read in full through the ``board-by-score`` GSI, ranked, and written as
   immutable chunk items; a conditional update publishes the manifest once. A runner that
   loses that race adopts the winner's manifest, so all runners award from one result.
3. **award** — each award is its own transaction (``add_spend`` with positive points: a
   ledger put with a deterministic source key + the balance ADD). A duplicate key means
   "already awarded", so racing or repeated runs insert every award at most once.
4. **done** — one transaction marks the record ``done`` with the summary (conditional on
   ``running``) and puts the ``settlement.completed`` webhook payload in the outbox.
   Delivering outbox items to tenants' webhooks is later work; they wait there.

Once the record exists (even ``running``) the period is *closed*: the points consumer moves
later entries of it into the next open period (``shift_late_entries``) and leaves a marker;
the next settlement of that granularity counts the markers whose ledger entry really moved
(``late_events``). Award entries change balances only, never leaderboards.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ripple.domain.errors import ConflictError, NotFoundError, ValidationError
from ripple.domain.model import LedgerEntry, Role
from ripple.domain.points import ALL_CAMPAIGNS, DIMENSIONS, board_id
from ripple.domain.ranking import RankedEntry, rank
from ripple.domain.settlement import (
    GRANULARITIES,
    Award,
    PrizeRule,
    closed_key,
    due_periods,
    parse_settlement_period,
    period_bounds,
    plan_awards,
    prizes_to_dict,
    settlement_id,
    shift_late,
    successors,
    validate_prizes,
)
from ripple.domain.timeutil import ms_to_iso, period_keys
from ripple.domain.validation import reject_unknown_params, validate_limit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.ports import (  # re-exported: they are the ports' types
    FrozenBoard,
    LateEvent,
    SettlementRecord,
    SettlementRepository,
)

__all__ = [
    "GRACE_MS",
    "LEASE_MS",
    "FrozenBoard",
    "LateEvent",
    "SettlementBusyError",
    "SettlementRecord",
    "SettlementRepository",
    "get_prizes",
    "get_settlement",
    "put_prizes",
    "settle",
    "settle_due",
    "shift_late_entries",
]

log = logging.getLogger("ripple.settlement")

LEASE_MS = 15 * 60 * 1000  # the settlement Lambda's timeout: an older "running" record is a dead runner's
GRACE_MS = 10 * 60 * 1000  # the scheduled job waits this long after a period ends (in-flight stream batches)
MAX_LATE_LISTED = 100


class SettlementBusyError(ConflictError):
    """Another runner holds this settlement's lease."""


def _repo(svc: Services) -> SettlementRepository:
    repo: SettlementRepository | None = getattr(svc, "settlements", None)
    if repo is None:
        raise RuntimeError("settlement repository is not configured")
    return repo


# ------------------------------------------------------------------ prize configuration


def put_prizes(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    prizes = validate_prizes(body)
    campaigns = {p.campaign_id for rules in prizes.values() for p in rules if p.campaign_id}
    for campaign_id in sorted(campaigns):
        if svc.campaigns.get(principal.tenant_id, campaign_id) is None:
            raise ValidationError(f"campaign {campaign_id} not found", details={"field": "campaign_id"})
    _repo(svc).put_prizes(principal.tenant_id, prizes, principal.sub, svc.clock())
    return prizes_to_dict(prizes)


def get_prizes(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return prizes_to_dict(_repo(svc).get_prizes(principal.tenant_id))


# ------------------------------------------------------------------ settle


def _freeze(svc: Services, repo: SettlementRepository, tenant_id: str, period: str, end_ms: int) -> list[FrozenBoard]:
    scopes = [ALL_CAMPAIGNS, *repo.campaign_ids(tenant_id, created_before=end_ms)]
    boards: list[FrozenBoard] = []
    for scope in scopes:
        for dim in DIMENSIONS:
            rows = repo.board_rows(board_id(tenant_id, dim, scope, period))
            entries = rank(rows, len(rows))
            if entries:
                boards.append(FrozenBoard(dim, scope, entries))
    return boards


def _winners(
    period: str,
    boards: Mapping[tuple[str, str], Sequence[RankedEntry]],
    prizes: Sequence[PrizeRule],
    awards: Sequence[Award],
) -> list[dict[str, Any]]:
    paid: dict[tuple[str, str, int, str], int] = {}
    for a in awards:
        k = (a.dimension, a.scope, a.rank, a.member)
        paid[k] = paid.get(k, 0) + a.points
    out: list[dict[str, Any]] = []
    for prize in prizes:
        for e in boards.get((prize.dimension, prize.scope), ()):
            if e.rank == prize.rank:
                out.append(
                    {
                        "dimension": prize.dimension,
                        "campaign_id": prize.campaign_id,
                        "rank": e.rank,
                        "id": e.id,
                        "score": e.score,
                        "prize": prize.points,
                        "awarded": paid.get((prize.dimension, prize.scope, e.rank, e.id), 0),
                    }
                )
    return out


TOP_IN_PAYLOAD = 5  # leaders per dimension in the settlement.completed payload


def settle(
    svc: Services,
    tenant_id: str,
    period: str,
    *,
    run_id: str | None = None,
    lease_ms: int = LEASE_MS,
) -> dict[str, Any]:
    """Settle one period of one tenant (see the module docstring); returns the summary."""
    gran, period = parse_settlement_period(period)
    repo = _repo(svc)
    tenant = svc.tenants.get(tenant_id)
    _, end_ms = period_bounds(period, tenant.timezone)
    now = svc.clock()
    if end_ms > now:
        raise ConflictError(
            f"period {period} has not ended yet in {tenant.timezone}", details={"ends_at": ms_to_iso(end_ms)}
        )
    run_id = run_id or secrets.token_hex(8)
    record = repo.begin(tenant_id, gran, period, run_id, now, lease_ms)
    if record.state == "done" and record.summary is not None:
        return record.summary
    if record.run_id != run_id:
        raise SettlementBusyError(f"settlement {settlement_id(tenant_id, gran, period)} is already running")

    manifest = record.frozen
    if manifest is None:
        boards = _freeze(svc, repo, tenant_id, period, end_ms)
        manifest = repo.save_frozen(record, run_id, boards)
    frozen = repo.load_frozen(manifest)
    by_key = {(b.dimension, b.scope): b.entries for b in frozen}

    prizes = record.prizes

    def at_prized_rank(dimension: str) -> set[str]:
        return {
            e.id
            for p in prizes
            if p.dimension == dimension
            for e in by_key.get((dimension, p.scope), ())
            if e.rank == p.rank
        }

    teams = at_prized_rank("team")
    members = repo.team_members(tenant_id, teams) if teams else {}
    wanted = at_prized_rank("employee") | {m for ms in members.values() for m in ms}
    employees = svc.employees.batch_get({(tenant_id, e) for e in wanted})
    active = {e for (_, e), emp in employees.items() if emp.active}
    awards = plan_awards(period, by_key, prizes, active_employees=active, team_members=members)

    inserted = 0
    for a in awards:
        emp = employees.get((tenant_id, a.employee_id))
        entry = LedgerEntry(
            tenant_id=tenant_id,
            source_key=a.source_key,
            employee_id=a.employee_id,
            kind="prize",
            points=a.points,
            ts=now,
            campaign_id="" if a.scope == ALL_CAMPAIGNS else a.scope,
            team=emp.team if emp else "",
            region=emp.region if emp else "",
            source_id=settlement_id(tenant_id, gran, period),
            meta={
                "settlement": settlement_id(tenant_id, gran, period),
                "dimension": a.dimension,
                "member": a.member,
                "rank": str(a.rank),
            },
        )
        inserted += repo.award(entry)

    late = repo.late_events(tenant_id, gran, period)
    for ev in late:
        log.info("late event counted in %s %s: %s moved from %s", tenant_id, period, ev.source_key, ev.from_period)
    winners = _winners(period, by_key, prizes, awards)
    summary = {
        "settlement_id": settlement_id(tenant_id, gran, period),
        "tenant_id": tenant_id,
        "granularity": gran,
        "period": period,
        "timezone": tenant.timezone,
        "boards": len(frozen),
        "rows": sum(len(b.entries) for b in frozen),
        "winners": len(winners),
        "awards": len(awards),
        "points_awarded": sum(a.points for a in awards),
        "late_events": len(late),
        "settled_at": ms_to_iso(now),
    }
    late_list = [
        {"source_key": ev.source_key, "employee_id": ev.employee_id, "points": ev.points, "from": ev.from_period}
        for ev in late[:MAX_LATE_LISTED]
    ]
    # the period's leaders of all campaigns (whether or not a prize was set): what a group
    # chat bot posts, and what a receiver shows without reading the boards
    top = {
        dim: [e.to_dict() for e in by_key.get((dim, ALL_CAMPAIGNS), ())[:TOP_IN_PAYLOAD]]
        for dim in ("employee", "team")
    }
    payload = {"event": "settlement.completed", "summary": summary, "winners": winners, "top": top}
    done = repo.finish(record, summary, winners, late_list, payload, now)
    log.info("settled %s: %d awards inserted by this run", summary["settlement_id"], inserted)
    return done.summary or summary


def settle_due(svc: Services, *, tenants: Iterable[str] | None = None, grace_ms: int = GRACE_MS) -> dict[str, Any]:
    """The hourly job: settle every due, unsettled period of every tenant (bounded lookback)."""
    repo = _repo(svc)
    now = svc.clock()
    settled: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    for tenant_id in tenants if tenants is not None else repo.tenant_ids():
        tz = svc.tenants.get(tenant_id).timezone
        due = due_periods(tz, now, grace_ms=grace_ms)
        have = repo.closed((tenant_id, g, p) for g, p in due)
        for gran, period in due:
            sid = settlement_id(tenant_id, gran, period)
            if (tenant_id, gran, period) in have:
                record = repo.get(tenant_id, gran, period)
                if record is None or record.state == "done":
                    continue
            try:
                settle(svc, tenant_id, period)
                settled.append(sid)
            except SettlementBusyError:
                skipped.append(sid)
            except Exception:
                log.exception("settlement %s failed", sid)
                failed.append(sid)
    return {"job": "settle", "settled": settled, "skipped": skipped, "failed": failed, "ok": not failed}


# ------------------------------------------------------------------ read API


def get_settlement(svc: Services, principal: Principal, period: str, params: Mapping[str, str]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    reject_unknown_params(params, {"limit"})
    limit = validate_limit(params.get("limit"))
    gran, period = parse_settlement_period(period)
    repo = _repo(svc)
    record = repo.get(principal.tenant_id, gran, period)
    if record is None or record.state != "done" or record.summary is None:
        raise NotFoundError(f"period {period} has not been settled")
    boards = repo.load_frozen(record.frozen or [], top=limit)
    return {
        "summary": record.summary,
        "winners": record.winners or [],
        "late": record.late or [],
        "boards": [
            {
                "dimension": b.dimension,
                "campaign_id": None if b.scope == ALL_CAMPAIGNS else b.scope,
                "rows": next(
                    (
                        int(m["rows"])
                        for m in record.frozen or []
                        if (m["dimension"], m["scope"]) == (b.dimension, b.scope)
                    ),
                    len(b.entries),
                ),
                "entries": [e.to_dict() for e in b.entries[:limit]],
            }
            for b in boards
        ],
    }


# ------------------------------------------------------------------ late events (points consumer)


def shift_late_entries(
    svc: Services, entries: Sequence[LedgerEntry], timezones: Mapping[str, str]
) -> list[LedgerEntry]:
    """Move entries of settled periods into the next open period, leaving a marker for the
    next settlement's report. One consistent BatchGet per batch when nothing is settled."""
    repo: SettlementRepository | None = getattr(svc, "settlements", None)
    if repo is None or not entries:
        return list(entries)
    keys = {(e.tenant_id, g, getattr(e, g)) for e in entries for g in GRANULARITIES if getattr(e, g)}
    closed = repo.closed(keys)
    if not closed:
        return list(entries)
    now = svc.clock()
    more: set[tuple[str, str, str]] = set()
    for tenant_id, gran, period in closed:
        current = period_keys(now, timezones.get(tenant_id, "UTC"))[GRANULARITIES.index(gran)]
        more |= {(tenant_id, gran, p) for p in successors(period, current)}
    closed |= repo.closed(more - keys)
    by_tenant: dict[str, set[str]] = {}
    for tenant_id, gran, period in closed:
        by_tenant.setdefault(tenant_id, set()).add(closed_key(gran, period))
    out: list[LedgerEntry] = []
    markers: list[LateEvent] = []
    for e in entries:
        shifted, moved = shift_late(e, by_tenant.get(e.tenant_id, set()), timezones.get(e.tenant_id, "UTC"), now)
        for gran, original in moved.items():
            target = getattr(shifted, gran)
            log.warning(
                "late event %s#%s: %s %s is settled, counted in %s", e.tenant_id, e.source_key, gran, original, target
            )
            markers.append(LateEvent(e.tenant_id, gran, original, target, e.source_key, e.employee_id, e.points, e.ts))
        out.append(shifted)
    if markers:
        repo.mark_late(markers)
    return out

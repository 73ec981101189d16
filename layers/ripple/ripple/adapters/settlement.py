"""Settlement persistence: prize configuration, settlement records, frozen boards, late
markers and the webhook outbox (PynamoDB).

* ``PRIZES#<tenant>`` (main table): the tenant's prize configuration (JSON).
* ``ST#<tenant>#<granularity>#<period>`` (points table): the settlement record, the state
  machine of ``service/settlement.py`` (``running`` -> ``done``); its existence closes the period.
* ``STF#<tenant>#<granularity>#<period>#<run>#<board>#<chunk>``: the frozen ranking of one
  board, chunked below DynamoDB's 400 KB item limit; immutable once the record's manifest
  names it (chunks of a runner that lost the manifest race are never read).
* ``LATE#<tenant>#<granularity>#<to period>#<source key>``: a late-event marker, listed
  through the ``ledger-by-owner`` GSI (``owner`` = ``<tenant>#LATE#<granularity>#<period>``,
  which no employee id can collide with: ids cannot contain ``#``).
* ``WHO#<tenant>#settlement.completed#<settlement id>`` (main table): the webhook outbox item
  (``adapters/webhooks.py``), written in the same transaction that marks the record done.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import CampaignItem, EmployeeItem, LedgerItem, MainItem, PointsItem, TenantItem
from ripple.adapters.repositories import _connection, add_spend
from ripple.adapters.webhooks import WebhookOutboxItem, outbox_item
from ripple.domain.model import LedgerEntry
from ripple.domain.ranking import RankedEntry
from ripple.domain.settlement import GRANULARITIES, PrizeRule, settlement_id
from ripple.service.ports import FrozenBoard, LateEvent, SettlementRecord

__all__ = [
    "DynamoSettlements",
    "FrozenChunkItem",
    "LateEventItem",
    "PrizeConfigItem",
    "SettlementItem",
]

CHUNK_BYTES = 300_000  # JSON bytes per frozen chunk item (DynamoDB items are at most 400 KB)


class PrizeConfigItem(MainItem):
    tenant = UnicodeAttribute()
    config = UnicodeAttribute(default="{}")  # JSON {"day": [...], "week": [...], "month": [...]}
    updated_at = NumberAttribute(default=0)
    updated_by = UnicodeAttribute(default="")

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"PRIZES#{tenant_id}"


class SettlementItem(PointsItem):
    tenant = UnicodeAttribute()
    granularity = UnicodeAttribute()
    period = UnicodeAttribute()
    state = UnicodeAttribute()  # running | done
    run_id = UnicodeAttribute()
    started_at = NumberAttribute()
    finished_at = NumberAttribute(null=True)
    prizes = UnicodeAttribute(default="[]")  # JSON snapshot of this granularity's prizes at begin
    frozen = UnicodeAttribute(null=True)  # JSON manifest
    summary = UnicodeAttribute(null=True)  # JSON
    winners = UnicodeAttribute(null=True)  # JSON
    late = UnicodeAttribute(null=True)  # JSON

    @staticmethod
    def key(tenant_id: str, gran: str, period: str) -> str:
        return f"ST#{tenant_id}#{gran}#{period}"


class FrozenChunkItem(PointsItem):
    rows = UnicodeAttribute()  # JSON [[rank, id, score], ...] in rank order


class _LateByOwner(GlobalSecondaryIndex["LateEventItem"]):
    class Meta:
        index_name = "ledger-by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class LateEventItem(PointsItem):
    owner = UnicodeAttribute()  # "<tenant>#LATE#<granularity>#<to period>"
    sort = UnicodeAttribute()  # source key
    tenant = UnicodeAttribute()
    granularity = UnicodeAttribute()
    from_period = UnicodeAttribute()
    to_period = UnicodeAttribute()
    source_key = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    points = NumberAttribute()
    ts = NumberAttribute()
    by_owner = _LateByOwner()

    @staticmethod
    def key(tenant_id: str, gran: str, to_period: str, source_key: str) -> str:
        return f"LATE#{tenant_id}#{gran}#{to_period}#{source_key}"

    @staticmethod
    def listing(tenant_id: str, gran: str, to_period: str) -> str:
        return f"{tenant_id}#LATE#{gran}#{to_period}"


def _prizes_from(raw: Any) -> list[PrizeRule]:
    return [PrizeRule(str(p["dimension"]), int(p["rank"]), int(p["points"]), p.get("campaign_id") or None) for p in raw]


def _record(item: SettlementItem) -> SettlementRecord:
    return SettlementRecord(
        tenant_id=item.tenant,
        granularity=item.granularity,
        period=item.period,
        state=item.state,
        run_id=item.run_id,
        started_at=int(item.started_at),
        prizes=_prizes_from(json.loads(item.prizes or "[]")),
        frozen=json.loads(item.frozen) if item.frozen else None,
        summary=json.loads(item.summary) if item.summary else None,
        winners=json.loads(item.winners) if item.winners else None,
        late=json.loads(item.late) if item.late else None,
    )


def _conditional_failed(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def _chunks(rows: Sequence[RankedEntry]) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    size = 0
    for e in rows:
        cell = json.dumps([e.rank, e.id, e.score], separators=(",", ":"))
        if current and size + len(cell) + 1 > CHUNK_BYTES:
            out.append("[" + ",".join(current) + "]")
            current, size = [], 0
        current.append(cell)
        size += len(cell) + 1
    if current:
        out.append("[" + ",".join(current) + "]")
    return out


class DynamoSettlements:
    # -- prizes

    def get_prizes(self, tenant_id: str) -> dict[str, list[PrizeRule]]:
        try:
            item = PrizeConfigItem.get(PrizeConfigItem.key(tenant_id))
        except DoesNotExist:
            return {g: [] for g in GRANULARITIES}
        raw = json.loads(item.config or "{}")
        return {g: _prizes_from(raw.get(g, [])) for g in GRANULARITIES}

    def put_prizes(self, tenant_id: str, prizes: Mapping[str, Sequence[PrizeRule]], actor: str, now: int) -> None:
        config = {g: [p.to_dict() for p in prizes.get(g, [])] for g in GRANULARITIES}
        PrizeConfigItem(
            PrizeConfigItem.key(tenant_id),
            tenant=tenant_id,
            config=json.dumps(config, sort_keys=True),
            updated_at=now,
            updated_by=actor,
        ).save()

    # -- what to settle

    def tenant_ids(self) -> list[str]:
        return [str(item.gsi1sk) for item in TenantItem.by_tenant.query("TENANTS")]

    def campaign_ids(self, tenant_id: str, created_before: int) -> list[str]:
        out: list[str] = []
        for item in CampaignItem.by_tenant.query(f"{tenant_id}#CAMP"):
            data = item.attribute_values
            if int(data.get("created_at") or 0) < created_before:
                out.append(str(data["campaign_id"]))
        return sorted(out)

    def board_rows(self, board: str) -> list[tuple[str, int]]:
        from ripple.adapters.models import BoardRowItem

        return [(item.member, int(item.score)) for item in BoardRowItem.by_score.query(board, scan_index_forward=False)]

    def team_members(self, tenant_id: str, teams: Iterable[str]) -> dict[str, list[str]]:
        wanted = set(teams)
        out: dict[str, list[str]] = {t: [] for t in wanted}
        for item in EmployeeItem.by_tenant.query(f"{tenant_id}#EMP"):
            data = item.attribute_values
            team = str(data.get("team", ""))
            if team in wanted and data.get("active", True):
                out[team].append(str(data["employee_id"]))
        return out

    # -- records

    def get(self, tenant_id: str, gran: str, period: str) -> SettlementRecord | None:
        try:
            return _record(SettlementItem.get(SettlementItem.key(tenant_id, gran, period), consistent_read=True))
        except DoesNotExist:
            return None

    def closed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        wanted = sorted({SettlementItem.key(t, g, p) for t, g, p in keys})
        if not wanted:
            return set()
        found: set[tuple[str, str, str]] = set()
        for item in SettlementItem.batch_get(wanted, consistent_read=True, attributes_to_get=["pk"]):
            t, g, p = item.pk[3:].rsplit("#", 2)
            found.add((t, g, p))
        return found

    def begin(self, tenant_id: str, gran: str, period: str, run_id: str, now: int, lease_ms: int) -> SettlementRecord:
        prizes = self.get_prizes(tenant_id)[gran]
        item = SettlementItem(
            SettlementItem.key(tenant_id, gran, period),
            tenant=tenant_id,
            granularity=gran,
            period=period,
            state="running",
            run_id=run_id,
            started_at=now,
            prizes=json.dumps([p.to_dict() for p in prizes], sort_keys=True),
        )
        try:
            item.save(condition=SettlementItem.pk.does_not_exist())
            return _record(item)
        except PutError as exc:
            if not _conditional_failed(exc):
                raise
        existing = SettlementItem.get(item.pk, consistent_read=True)
        if existing.state == "running" and int(existing.started_at) + lease_ms <= now:
            # The holder's lease expired (a crashed runner): take over, conditionally.
            try:
                existing.update(
                    actions=[SettlementItem.run_id.set(run_id), SettlementItem.started_at.set(now)],
                    condition=(SettlementItem.state == "running") & (SettlementItem.run_id == existing.run_id),
                )
            except UpdateError as exc:
                if not _conditional_failed(exc):
                    raise
                existing = SettlementItem.get(item.pk, consistent_read=True)
        return _record(existing)

    def save_frozen(self, record: SettlementRecord, run_id: str, boards: Sequence[FrozenBoard]) -> list[dict[str, Any]]:
        sid = settlement_id(record.tenant_id, record.granularity, record.period)
        manifest: list[dict[str, Any]] = []
        with FrozenChunkItem.batch_write() as batch:
            for n, board in enumerate(boards):
                keys: list[str] = []
                for c, rows in enumerate(_chunks(board.entries)):
                    pk = f"STF#{sid}#{run_id}#{n}#{c}"
                    batch.save(FrozenChunkItem(pk, rows=rows))
                    keys.append(pk)
                manifest.append(
                    {"dimension": board.dimension, "scope": board.scope, "rows": len(board.entries), "chunks": keys}
                )
        item = SettlementItem(SettlementItem.key(record.tenant_id, record.granularity, record.period))
        try:
            item.update(
                actions=[SettlementItem.frozen.set(json.dumps(manifest, separators=(",", ":")))],
                condition=SettlementItem.frozen.does_not_exist() & (SettlementItem.state == "running"),
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            current = SettlementItem.get(item.pk, consistent_read=True)
            if not current.frozen:
                raise
            adopted: list[dict[str, Any]] = json.loads(current.frozen)
            return adopted
        return manifest

    def load_frozen(self, manifest: Sequence[dict[str, Any]], top: int | None = None) -> list[FrozenBoard]:
        wanted = (
            [m["chunks"][0] for m in manifest if m["chunks"]]
            if top is not None
            else [pk for m in manifest for pk in m["chunks"]]
        )
        rows: dict[str, list[list[Any]]] = {}
        for item in FrozenChunkItem.batch_get(wanted, consistent_read=True):
            rows[item.pk] = json.loads(item.rows)
        out: list[FrozenBoard] = []
        for m in manifest:
            chunks = m["chunks"][:1] if top is not None else m["chunks"]
            entries = [RankedEntry(int(r), str(i), int(s)) for pk in chunks for r, i, s in rows[pk]]
            out.append(FrozenBoard(str(m["dimension"]), str(m["scope"]), entries[:top] if top is not None else entries))
        return out

    def award(self, entry: LedgerEntry) -> bool:
        for attempt in range(8):
            try:
                with TransactWrite(connection=_connection()) as tx:
                    add_spend(tx, entry)
                return True
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                    return False  # already awarded
                codes = {r.code for r in reasons if r is not None}
                if "TransactionConflict" in codes or exc.cause_response_code == "TransactionConflictException":
                    time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
                    continue
                raise
        raise RuntimeError(f"award {entry.source_key} kept conflicting")

    # -- late events

    def mark_late(self, events: Sequence[LateEvent]) -> None:
        with LateEventItem.batch_write() as batch:
            for ev in events:
                batch.save(
                    LateEventItem(
                        LateEventItem.key(ev.tenant_id, ev.granularity, ev.to_period, ev.source_key),
                        owner=LateEventItem.listing(ev.tenant_id, ev.granularity, ev.to_period),
                        sort=ev.source_key,
                        tenant=ev.tenant_id,
                        granularity=ev.granularity,
                        from_period=ev.from_period,
                        to_period=ev.to_period,
                        source_key=ev.source_key,
                        employee_id=ev.employee_id,
                        points=ev.points,
                        ts=ev.ts,
                    )
                )

    def late_events(self, tenant_id: str, gran: str, period: str) -> list[LateEvent]:
        markers = list(LateEventItem.by_owner.query(LateEventItem.listing(tenant_id, gran, period)))
        if not markers:
            return []
        ledger = {
            item.source_key: item
            for item in LedgerItem.batch_get(
                [LedgerItem.key(tenant_id, m.source_key) for m in markers], consistent_read=True
            )
        }
        out: list[LateEvent] = []
        for m in markers:
            entry = ledger.get(m.source_key)
            # Count only entries that were inserted *with* the move (a redelivered duplicate
            # of an on-time entry leaves a marker but its ledger entry keeps its period).
            if entry is not None and getattr(entry, gran) == period:
                out.append(
                    LateEvent(
                        tenant_id, gran, m.from_period, period, m.source_key, m.employee_id, int(m.points), int(m.ts)
                    )
                )
        return out

    # -- done

    def finish(
        self,
        record: SettlementRecord,
        summary: dict[str, Any],
        winners: list[dict[str, Any]],
        late: list[dict[str, Any]],
        payload: dict[str, Any],
        now: int,
    ) -> SettlementRecord:
        sid = settlement_id(record.tenant_id, record.granularity, record.period)
        key = SettlementItem.key(record.tenant_id, record.granularity, record.period)
        # The generic webhook outbox (main table, delivered by functions/webhooks.py).
        outbox = outbox_item(record.tenant_id, "settlement.completed", sid, payload, now)
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(
                    SettlementItem(key),
                    actions=[
                        SettlementItem.state.set("done"),
                        SettlementItem.finished_at.set(now),
                        SettlementItem.summary.set(json.dumps(summary, sort_keys=True, ensure_ascii=False)),
                        SettlementItem.winners.set(json.dumps(winners, sort_keys=True, ensure_ascii=False)),
                        SettlementItem.late.set(json.dumps(late, sort_keys=True, ensure_ascii=False)),
                    ],
                    condition=SettlementItem.state == "running",
                )
                tx.save(outbox, condition=WebhookOutboxItem.pk.does_not_exist())
        except TransactWriteError:
            current = self.get(record.tenant_id, record.granularity, record.period)
            if current is not None and current.state == "done":
                return current
            raise
        done = self.get(record.tenant_id, record.granularity, record.period)
        assert done is not None
        return done

    # -- tests and the bench

    def outbox(self, tenant_id: str) -> list[dict[str, Any]]:
        """Pending outbox payloads of a tenant (a scan: for tests and operators only)."""
        items = WebhookOutboxItem.scan(WebhookOutboxItem.pk.startswith(f"WHO#{tenant_id}#settlement.completed#"))
        return [{"kind": i.kind, "created_at": int(i.created_at), **json.loads(i.payload)} for i in items]

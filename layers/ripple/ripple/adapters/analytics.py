"""The analytics table: counter items the stream consumer maintains, read by the API.

Layout (see ``domain.analytics``):

* ``A#<tenant>#<scope>#<dim>`` / ``<day>``: a dimension's counters for one day, one flat
  numeric attribute per ``<value>|<metric>``;
* ``AE#<tenant>#<day>`` / ``<employee>``: one employee's counters for one day;
* ``AM#<tenant>#<event>`` / ``-``: the marker of a counted event (TTL 8 days, longer than
  a stream's 24-hour retention plus retries): a redelivered event finds it and adds nothing;
* ``AV#<tenant>#<shard>`` / ``<visitor>``: a person's interactions per day and per
  employee (segments and reach), 16 shards so no tenant has one hot partition;
* ``AS#<tenant>`` / ``-`` and ``e#<employee>``: the latest segment snapshot.

Counter attributes have data-dependent names, so reads go through PynamoDB's low-level
connection (the model declares only the keys); writes are PynamoDB transactions.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.operand import Path
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import _Meta, _table
from ripple.adapters.repositories import _connection, transact_once
from ripple.domain.analytics import Fact, SegmentSnapshot, pack_facts, plan_counters

__all__ = ["PROFILE_SHARDS", "AnalyticsItem", "DynamoAnalytics", "WriteReport", "batch_put"]

PROFILE_SHARDS = 16
MARKER_TTL_SECONDS = 8 * 24 * 3600
TRANSACTION_LIMIT = 100


class AnalyticsItem(Model):
    class Meta(_Meta):
        table_name = _table("RIPPLE_ANALYTICS_TABLE", "ripple-analytics")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = NumberAttribute(null=True)
    team = UnicodeAttribute(null=True)  # employee items: labels as of the last event
    region = UnicodeAttribute(null=True)


def dim_pk(tenant_id: str, scope: str, dim: str) -> str:
    return f"A#{tenant_id}#{scope}#{dim}"


def emp_pk(tenant_id: str, day: str) -> str:
    return f"AE#{tenant_id}#{day}"


def marker_pk(tenant_id: str, event_id: str) -> str:
    return f"AM#{tenant_id}#{event_id}"


def profile_pk(tenant_id: str, visitor: str) -> str:
    return f"AV#{tenant_id}#{zlib.crc32(visitor.encode()) % PROFILE_SHARDS}"


def snapshot_pk(tenant_id: str) -> str:
    return f"AS#{tenant_id}"


def _value(attr: Mapping[str, Any]) -> Any:
    if "N" in attr:
        return int(attr["N"]) if "." not in attr["N"] else float(attr["N"])
    if "S" in attr:
        return attr["S"]
    if "M" in attr:
        return {k: _value(v) for k, v in attr["M"].items()}
    return None


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


@dataclass(slots=True)
class WriteReport:
    counted: int = 0  # events whose counters were added now
    already: int = 0  # events counted by an earlier delivery (marker present)
    transactions: int = 0
    items_written: int = 0


class DynamoAnalytics:
    @staticmethod
    def _conn() -> Any:
        return AnalyticsItem._get_connection()

    # -- writes (the stream consumer)

    def record(self, facts: Sequence[Fact], now_ms: int) -> WriteReport:
        """Add each fact's counters exactly once: every transaction holds the markers of
        its facts (put only if absent) and the summed counters of those facts. A cancelled
        marker means that fact was counted before; it is dropped and the rest retried."""
        report = WriteReport()
        for chunk in pack_facts(facts, TRANSACTION_LIMIT):
            written, already, items = transact_once(chunk, lambda c: self._transact(c, now_ms))
            report.counted += len(written)
            report.already += len(already)
            report.items_written += items
            report.transactions += 1 if written else 0
        return report

    def _transact(self, facts: Sequence[Fact], now_ms: int) -> int:
        plan = plan_counters(facts)
        expires = now_ms // 1000 + MARKER_TTL_SECONDS
        with TransactWrite(connection=_connection()) as tx:
            for f in facts:  # puts first: cancellation reasons index the markers
                tx.save(
                    AnalyticsItem(marker_pk(f.tenant_id, f.event_id), "-", expires_at=expires),
                    condition=AnalyticsItem.pk.does_not_exist(),
                )
            written = len(facts) + len(plan.employee_items)
            for (tenant, scope, dim, day), counters in sorted(plan.dimension_items.items()):
                if adds := _adds(counters):  # counters that summed to 0 write nothing
                    tx.update(AnalyticsItem(dim_pk(tenant, scope, dim), day), actions=adds)
                    written += 1
            for (tenant, day, employee), counters in sorted(plan.employee_items.items()):
                team, region = plan.employee_labels[(tenant, day, employee)]
                actions = _adds(counters)
                actions.append(AnalyticsItem.team.set(team or "-"))
                actions.append(AnalyticsItem.region.set(region or "-"))
                tx.update(AnalyticsItem(emp_pk(tenant, day), employee), actions=actions)
            for (tenant, visitor), counters in sorted(plan.profiles.items()):
                if adds := _adds(counters):
                    tx.update(AnalyticsItem(profile_pk(tenant, visitor), visitor), actions=adds)
                    written += 1
        return written

    # -- reads (the API)

    def _query(
        self, pk: str, sk_from: str | None = None, sk_to: str | None = None, only: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        condition = None
        if sk_from is not None and sk_to is not None:
            condition = AnalyticsItem.sk.between(sk_from, sk_to)
        start: Any = None
        while True:
            page = self._conn().query(
                pk, range_key_condition=condition, exclusive_start_key=start, attributes_to_get=_projection(only)
            )
            for item in page.get("Items", []):
                yield _plain(item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def dimension_days(self, tenant_id: str, scope: str, dim: str, first: str, last: str) -> list[dict[str, Any]]:
        """One item per day with activity in [first, last] (``sk`` is the day)."""
        return list(self._query(dim_pk(tenant_id, scope, dim), first, last))

    def employee_days(
        self, tenant_id: str, employee_id: str, days: Sequence[str], only: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """One employee's items for the given days (BatchGetItem, 100 keys per call);
        ``only``: the counter attributes wanted (the rest of the item is not transferred)."""
        out: list[dict[str, Any]] = []
        table = AnalyticsItem.Meta.table_name
        pending = [{"pk": {"S": emp_pk(tenant_id, d)}, "sk": {"S": employee_id}} for d in days]
        while pending:
            batch, pending = pending[:100], pending[100:]
            while batch:
                resp = self._conn().batch_get_item(batch, attributes_to_get=_projection(only))
                out.extend(_plain(item) for item in resp.get("Responses", {}).get(table, []))
                batch = resp.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        return out

    def employees_of_day(self, tenant_id: str, day: str, only: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Every employee's item of one day (a breakdown by employee reads one per person)."""
        return list(self._query(emp_pk(tenant_id, day), only=only))

    def profiles(self, tenant_id: str) -> Iterator[tuple[str, dict[str, int]]]:
        for shard in range(PROFILE_SHARDS):
            for item in self._query(f"AV#{tenant_id}#{shard}"):
                visitor = str(item.pop("sk"))
                item.pop("pk", None)
                yield visitor, {k: int(v) for k, v in item.items() if isinstance(v, int)}

    def prune(self, tenant_id: str, stale: Mapping[str, Iterable[str]]) -> int:
        """Drop day counters older than every window (keeps profiles small)."""
        n = 0
        for visitor, names in stale.items():
            actions: list[Any] = [Path([name]).remove() for name in names]
            if actions:
                AnalyticsItem(profile_pk(tenant_id, visitor), visitor).update(actions=actions)
                n += 1
        return n

    def save_snapshot(self, tenant_id: str, snap: SegmentSnapshot, now_ms: int) -> int:
        head: dict[str, Any] = {
            "pk": {"S": snapshot_pk(tenant_id)},
            "sk": {"S": "-"},
            "as_of_day": {"S": snap.as_of_day},
            "at": {"N": str(now_ms)},
            "people": {"N": str(snap.people)},
            "reachable": {"N": str(snap.reachable)},
            **{k: {"N": str(v)} for k, v in snap.segments.items()},
            **{f"p_{k}": {"N": str(v)} for k, v in snap.policy.to_dict().items()},
        }
        written = [head]
        for employee_id, es in snap.employees.items():
            item: dict[str, Any] = {
                "pk": {"S": snapshot_pk(tenant_id)},
                "sk": {"S": f"e#{employee_id}"},
                "at": {"N": str(now_ms)},
            }
            item.update({k: {"N": str(v)} for k, v in es.to_dict().items()})
            written.append(item)
        return batch_put(written)

    def snapshot(self, tenant_id: str, employee_id: str | None = None) -> list[dict[str, Any]]:
        """The head item and either one employee's item or every employee's."""
        if employee_id is not None:
            return [
                item
                for item in (
                    self._get(snapshot_pk(tenant_id), "-"),
                    self._get(snapshot_pk(tenant_id), f"e#{employee_id}"),
                )
                if item is not None
            ]
        return list(self._query(snapshot_pk(tenant_id)))

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self._conn().get_item(pk, sk)
        item = resp.get("Item")
        if not item:
            return None
        return _plain(item)


def _projection(only: Sequence[str] | None) -> list[Path] | None:
    """Key, label and the wanted counter attributes, as single-segment paths (counter names
    may hold dots, which PynamoDB would otherwise read as document paths)."""
    if only is None:
        return None
    return [Path([name]) for name in ("pk", "sk", "team", "region", *only)]


def batch_put(items: Sequence[dict[str, Any]]) -> int:
    """Put raw (typed) items in BatchWriteItem calls of 25, resending what comes back
    unprocessed; returns how many were written."""
    conn = AnalyticsItem._get_connection()
    table = AnalyticsItem.Meta.table_name
    for i in range(0, len(items), 25):
        puts = list(items[i : i + 25])
        while puts:
            resp = conn.batch_write_item(put_items=puts)
            puts = [r["PutRequest"]["Item"] for r in resp.get("UnprocessedItems", {}).get(table, [])]
    return len(items)


def _adds(counters: Mapping[str, int]) -> list[Any]:
    return [Path([name]).add(n) for name, n in sorted(counters.items()) if n]

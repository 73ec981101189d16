"""Hot keys: a team or region row that receives all of a viral campaign's points is
written once per transaction that moves it, never once per visit.

That is what bounds its write rate by the consumer's transactions per second (DynamoDB
allows ~1,000 WRU/s per partition; a transactional board row with its index move is
~4 WRU), whatever the campaign's traffic: a batch of 100 visits to one team is a few
transactions, each holding the team's rows once with the batch's summed delta.
"""

from __future__ import annotations

from collections import Counter

from ripple.adapters.repositories import DynamoPoints
from ripple.domain.model import LedgerEntry
from ripple.domain.points import AggregateKey, aggregate, aggregate_keys

TS = 1_796_000_000_000


def _entries(n: int, employees: int) -> list[LedgerEntry]:
    """``n`` unique visits of one campaign, all to one team and region."""
    return [
        LedgerEntry(
            tenant_id="t",
            source_key=f"uv#viral#visitor{i:05d}",
            employee_id=f"e{i % employees:03d}",
            kind="unique_visit",
            points=10,
            ts=TS + i,
            campaign_id="viral",
            team="growth",
            region="north",
            day="2026-12-01",
            week="2026-W49",
            month="2026-12",
            source_id=f"visit{i}",
        )
        for i in range(n)
    ]


def _team_rows(keys: list[AggregateKey]) -> list[AggregateKey]:
    return [k for k in keys if k.dim in ("team", "region")]


def test_a_batch_moves_each_team_and_region_row_once_per_transaction() -> None:
    entries = _entries(100, employees=50)
    chunks = DynamoPoints()._chunks(entries)
    writes: Counter[AggregateKey] = Counter()
    for chunk in chunks:
        keys = list(aggregate(chunk))
        assert len(keys) == len(set(keys))  # one summed update per row per transaction
        writes.update(_team_rows(keys))
    team_rows = set(_team_rows([k for e in entries for k in aggregate_keys(e)]))
    assert len(team_rows) == 16  # team + region x (campaign, all) x (all, day, week, month)
    assert set(writes) == team_rows
    assert max(writes.values()) <= len(chunks) < len(entries) // 10  # per transaction, not per visit
    totals = Counter[AggregateKey]()
    for chunk in chunks:
        totals.update(aggregate(chunk))
    assert all(totals[k] == 100 * 10 for k in team_rows)  # and each carries the whole batch


def test_more_visits_in_a_batch_do_not_mean_more_writes_per_row() -> None:
    """Ten times the visits of the same 50 employees: the same number of writes per row
    per transaction (one), so the row's rate follows transactions, not traffic."""
    small = DynamoPoints()._chunks(_entries(100, employees=50))
    large = DynamoPoints()._chunks(_entries(1000, employees=50))
    per_chunk = [Counter(_team_rows(list(aggregate(c)))) for c in small + large]
    assert all(max(c.values()) == 1 for c in per_chunk)

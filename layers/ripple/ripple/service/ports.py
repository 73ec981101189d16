"""Repository ports: what the use cases need from persistence, nothing about how.

The PynamoDB adapters implement these; unit tests of use cases may use in-memory ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ripple.domain.model import Campaign, Employee, LedgerEntry, Link, Tenant, Visit

__all__ = [
    "CampaignRepository",
    "ChainNode",
    "ChainPage",
    "ChainRepository",
    "EmployeeRepository",
    "LinkRepository",
    "PointsRepository",
    "RecordResult",
    "TenantRepository",
    "VisitRepository",
]


class TenantRepository(Protocol):
    def get(self, tenant_id: str) -> Tenant: ...
    def put(self, tenant: Tenant) -> None: ...


class EmployeeRepository(Protocol):
    def get(self, tenant_id: str, employee_id: str) -> Employee | None: ...
    def put(self, employee: Employee) -> None: ...
    def batch_get(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Employee]: ...


class CampaignRepository(Protocol):
    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None: ...
    def create(self, campaign: Campaign) -> None: ...
    def batch_get(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Campaign]: ...


class LinkRepository(Protocol):
    def get(self, code: str) -> Link | None: ...
    def find_for_owner(self, tenant_id: str, campaign_id: str, employee_id: str, channel: str) -> Link | None: ...
    def create(self, link: Link) -> Link:
        """Insert ``link``; if the owner already has one for this campaign and channel,
        return that one instead (a lost race is not an error). Raises ``CodeTakenError``
        when the code collides so the caller can retry with another."""
        ...


class VisitRepository(Protocol):
    def record(self, visit: Visit) -> None: ...


@dataclass(slots=True)
class RecordResult:
    inserted: list[LedgerEntry] = field(default_factory=list)
    duplicates: list[LedgerEntry] = field(default_factory=list)
    transactions: int = 0
    items_written: int = 0


class PointsRepository(Protocol):
    def record(self, entries: Sequence[LedgerEntry]) -> RecordResult:
        """Insert entries not already in the ledger and apply their aggregates atomically
        with them. Entries whose source key exists are reported as duplicates."""
        ...

    def balance(self, tenant_id: str, employee_id: str) -> int: ...
    def top(self, board: str, limit: int) -> list[tuple[str, int]]:
        """Rows of one board with the ``limit`` highest scores, plus any rows tied with
        the lowest of them (so the caller can order ties stably)."""
        ...

    def ledger(self, tenant_id: str, employee_id: str) -> list[LedgerEntry]: ...
    def snapshot(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        """(balances, ledger sums) per (tenant, employee): for reconciliation jobs."""
        ...


@dataclass(frozen=True, slots=True)
class ChainNode:
    node: str
    parent: str | None
    depth: int | None
    first_seen: int | None
    visitors: int
    forwards: int
    leads: int


@dataclass(slots=True)
class ChainPage:
    nodes: list[ChainNode]
    items_read: int


class ChainRepository(Protocol):
    def tree(self, tenant_id: str, campaign_id: str, root_employee: str) -> ChainPage:
        """Every node of one employee's spread tree for one campaign (one paginated Query)."""
        ...

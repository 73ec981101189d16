"""Repository ports: what the use cases need from persistence, nothing about how.

The PynamoDB adapters implement these; unit tests of use cases may use in-memory ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ripple.domain.customers import Customer
from ripple.domain.model import Campaign, Employee, LedgerEntry, Link, RulesVersion, Tenant, Visit

__all__ = [
    "CampaignRepository",
    "ChainNode",
    "ChainPage",
    "ChainRepository",
    "ContactTakenError",
    "CustomerEvent",
    "CustomerFilter",
    "CustomerPage",
    "CustomerRepository",
    "Directory",
    "DirectoryUser",
    "EmailTakenError",
    "EmployeeRepository",
    "LinkRepository",
    "LiveConnections",
    "LivePublisher",
    "PointsRepository",
    "RateLimiter",
    "RecordResult",
    "StaleCustomerError",
    "TenantRepository",
    "VisitRepository",
]


class TenantRepository(Protocol):
    def get(self, tenant_id: str) -> Tenant: ...
    def all_ids(self) -> list[str]: ...
    def put(self, tenant: Tenant) -> None: ...


class EmployeeRepository(Protocol):
    def get(self, tenant_id: str, employee_id: str) -> Employee | None: ...
    def put(self, employee: Employee) -> None: ...
    def batch_get(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Employee]: ...
    def in_tenant(self, tenant_id: str) -> list[Employee]: ...
    def mark_signed_in(self, tenant_id: str, employee_id: str) -> None:
        """Their first admitted call (the invitation accepted); only this flag changes."""
        ...

    def owners_of_emails(self, tenant_id: str, emails: Iterable[str]) -> dict[str, str]: ...


class CampaignRepository(Protocol):
    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None: ...
    def create(self, campaign: Campaign) -> None: ...
    def add_rules_version(self, campaign: Campaign, version: RulesVersion) -> Campaign: ...
    def batch_get(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Campaign]: ...
    def in_tenant(self, tenant_id: str, limit: int, after: str | None = None) -> tuple[list[Campaign], str | None]:
        """One page of the tenant's campaigns in id order, and the last id if more follow."""
        ...


class LinkRepository(Protocol):
    def get(self, code: str) -> Link | None: ...
    def find_for_owner(self, tenant_id: str, campaign_id: str, employee_id: str, channel: str) -> Link | None: ...
    def create(self, link: Link) -> Link:
        """Insert ``link``; if the owner already has one for this campaign and channel,
        return that one instead (a lost race is not an error). Raises ``CodeTakenError``
        when the code collides so the caller can retry with another."""
        ...

    def reassign(self, link: Link, employee_id: str) -> Link: ...
    def owned_by(self, tenant_id: str, employee_id: str) -> list[Link]: ...


class VisitRepository(Protocol):
    def record(self, visit: Visit) -> None: ...
    def earlier_eligible(self, visit: Visit) -> bool:
        """Whether the visitor has an eligible visit to the same campaign before this one."""
        ...


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
    def balances(self, tenant_id: str, employee_id: str) -> dict[str, int]:
        """``{"balance", "available", "pending"}``; balance = available + pending."""
        ...

    def top(self, board: str, limit: int) -> list[tuple[str, int]]:
        """Rows of one board with the ``limit`` highest scores, plus any rows tied with
        the lowest of them (so the caller can order ties stably)."""
        ...

    def ledger(self, tenant_id: str, employee_id: str) -> list[LedgerEntry]: ...
    def ledger_page(
        self, tenant_id: str, employee_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]: ...
    def existing(self, tenant_id: str, source_keys: Iterable[str]) -> set[str]: ...
    def sources(self, tenant_id: str, source_keys: Iterable[str]) -> dict[str, str]:
        """Source key -> ``source_id`` (the event that earned it) of the keys in the ledger."""
        ...

    def scores(self, rows: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]: ...
    def entry(self, tenant_id: str, source_key: str) -> LedgerEntry | None: ...
    def pending(self, tenant_id: str, source_key: str) -> Any: ...
    def due(self, tenant_id: str, now: int) -> list[Any]: ...
    def release(self, item: Any, now: int) -> bool: ...
    def reverse(self, item: Any, reversal: LedgerEntry, reason: str, now: int) -> bool: ...
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

    def node(self, tenant_id: str, campaign_id: str, node: str) -> ChainNode | None: ...


class ContactTakenError(Exception):
    """Another customer already holds this phone or e-mail (a concurrent first lead)."""


class StaleCustomerError(Exception):
    """The customer changed since it was read (optimistic lock); re-read and retry."""


@dataclass(frozen=True, slots=True)
class CustomerEvent:
    """One entry of a customer's interaction history."""

    event_id: str
    kind: str  # lead | note | status | tags | handover | claim | recycle
    ts: int
    actor: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    owner: str | None = None  # None = every customer of the tenant; "" = the pool
    status: str | None = None
    tag: str | None = None
    campaign_id: str | None = None


@dataclass(slots=True)
class CustomerPage:
    customers: list[Customer]
    cursor: str | None
    items_read: int = 0


class CustomerRepository(Protocol):
    def get(self, tenant_id: str, customer_id: str) -> Customer | None: ...
    def contact_owners(self, tenant_id: str, contact_keys: Sequence[str]) -> dict[str, str]:
        """contact key -> customer id, for the keys already indexed."""
        ...

    def find_by_node(self, tenant_id: str, node: str) -> str | None:
        """The customer whose chain node this is (nodes are per visitor, not per campaign)."""
        ...

    def create(
        self, customer: Customer, contact_keys: Sequence[str], event: CustomerEvent, extra: Sequence[Any] = ()
    ) -> None:
        """Insert a new customer with its contact index entries, atomically; raises
        ``ContactTakenError`` if a contact is already indexed."""
        ...

    def save(
        self,
        customer: Customer,
        *,
        expected_version: int,
        events: Sequence[CustomerEvent],
        new_contact_keys: Sequence[str] = (),
        expected_owner: str | None = None,
        spend: LedgerEntry | None = None,
        extra: Sequence[Any] = (),
    ) -> Customer:
        """Write ``customer`` (version bumped) if it is still at ``expected_version``
        (and, if given, still owned by ``expected_owner``); raises ``StaleCustomerError``.
        ``spend`` is charged in the same transaction (``InsufficientPointsError``: nothing
        written)."""
        ...

    def search(self, tenant_id: str, filt: CustomerFilter, limit: int, cursor: str | None) -> CustomerPage: ...
    def history(self, tenant_id: str, customer_id: str, limit: int = 100) -> list[CustomerEvent]: ...
    def owned_by(self, tenant_id: str, owner: str) -> Iterable[Customer]: ...
    def tenants_with_customers(self) -> Iterable[str]: ...


class RateLimiter(Protocol):
    def hit(self, bucket: str, *, limit: int, window_seconds: int, now_ms: int) -> bool:
        """Count one hit; False when the bucket is over ``limit`` in this window."""
        ...


class EmailTakenError(Exception):
    """The identity provider already has a sign-in with this e-mail (in any tenant)."""


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    subject: str  # the identity provider's immutable user id (Cognito ``sub``)
    status: str = ""  # the provider's own status, e.g. FORCE_CHANGE_PASSWORD, CONFIRMED


class Directory(Protocol):
    """The identity provider (Cognito): sign-ins for employees, created and changed only by
    Ripple's admin use cases, never by the employee. ``tenant_id`` and ``employee_id`` are
    written once, at creation, into attributes nobody can change later."""

    def create_user(self, *, tenant_id: str, employee_id: str, email: str, name: str, admin: bool) -> DirectoryUser:
        """Create the sign-in and send the provider's invitation (a temporary password).
        Raises ``EmailTakenError`` if the e-mail already has a sign-in."""
        ...

    def update_user(self, subject: str, *, email: str, name: str, admin: bool) -> None: ...
    def set_enabled(self, subject: str, enabled: bool) -> None:
        """Disabling also signs the user out everywhere (refresh tokens revoked)."""
        ...

    def reset_invitation(self, subject: str, temporary_password: str) -> None:
        """A new temporary password: the next sign-in must choose a password."""
        ...

    def resend_invitation(self, subject: str) -> None: ...


class LiveConnections(Protocol):
    """Open WebSocket connections of the live pages, by topic (see ``domain.live``)."""

    def add(self, topic: str, connection_id: str, expires_at: int) -> None: ...
    def remove(self, connection_id: str) -> str | None:
        """Forget a connection; returns the topic it was subscribed to (None: unknown)."""
        ...

    def forget(self, topic: str, connection_ids: Iterable[str]) -> None:
        """Drop connections the gateway says are gone."""
        ...

    def subscribers(self, topics: Iterable[str]) -> dict[str, set[str]]:
        """Topic -> connection ids, for many topics at once (one batched read)."""
        ...


class LivePublisher(Protocol):
    """Pushes frames to connections (API Gateway's management API, or the local stand-in)."""

    def send(self, frames: Sequence[tuple[str, bytes]]) -> set[str]:
        """Send each ``(connection_id, data)``; returns the ids that are gone. Best effort:
        any other failure is logged and skipped, never raised."""
        ...

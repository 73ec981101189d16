"""Repository ports: what the use cases need from persistence, nothing about how.

The PynamoDB adapters implement these; unit tests of use cases may use in-memory ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ripple.domain.customers import Customer
from ripple.domain.model import Campaign, Employee, LedgerEntry, Link, Role, RulesVersion, Tenant, Visit

if TYPE_CHECKING:  # annotations only: the redirect's cold start imports this module
    from ripple.domain.contact import SearchTerms
    from ripple.domain.notifications import Preferences
    from ripple.domain.ranking import RankedEntry
    from ripple.domain.rewards import Redemption, Reward
    from ripple.domain.settlement import PrizeRule

__all__ = [
    "CampaignRepository",
    "ChainNode",
    "ChainPage",
    "ChainRepository",
    "CodeTakenError",
    "ContactTakenError",
    "CustomerEvent",
    "CustomerFilter",
    "CustomerPage",
    "CustomerRepository",
    "Directory",
    "DirectoryUser",
    "DueEvent",
    "DueMessage",
    "EmailTakenError",
    "EmployeeRepository",
    "FrozenBoard",
    "IdempotencyRecord",
    "LateEvent",
    "LinkRepository",
    "LiveConnections",
    "LivePublisher",
    "MailError",
    "Mailer",
    "NotificationStore",
    "OutgoingMail",
    "PointsRepository",
    "Principal",
    "RateLimiter",
    "RecordResult",
    "RedeemRejected",
    "RedemptionPage",
    "RewardRepository",
    "SettlementRecord",
    "SettlementRepository",
    "StaleCustomerError",
    "StaleRedemptionError",
    "TenantRepository",
    "TokenVerifier",
    "VisitRepository",
]


class TokenVerifier(Protocol):
    """Checks a user's bearer token (signature, issuer, audience, expiry, ``token_use``) and
    says who it names; the Cognito JWKS verifier in ``ripple.adapters.auth`` on both sides."""

    def verify(self, token: str) -> Principal: ...


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

    def save_lifecycle(self, campaign: Campaign) -> None:
        """Store name, destination, landing, window, archive mark and link-copy state of an
        existing campaign (never its rules: those only grow by ``add_rules_version``)."""
        ...

    def save_links_cursor(self, campaign: Campaign, cursor: str | None) -> bool:
        """Record how far the links were copied; False when another edit (a newer
        ``links_revision``) took over, so the caller stops."""
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
    def codes_in_campaign(
        self, tenant_id: str, campaign_id: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """One page of the campaign's link codes in code order, and an opaque cursor for the
        next page (None: this was the last)."""
        ...

    def copy_campaign(self, code: str, campaign: Campaign) -> bool:
        """Copy the campaign's destination and window onto link ``code``, unless the link
        already carries a newer ``links_revision`` (False then, or when it is not this campaign's)."""
        ...


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
    def release_withheld(self, release: LedgerEntry) -> bool:
        """Insert a release entry and add its points everywhere; False if already released."""
        ...

    def award(self, entry: LedgerEntry, *, cap_scope: str | None = None, cap: int = 0) -> bool | None:
        """Pay an admin-decided entry once: True paid, False paid before, None over ``cap``
        (a counter per employee and ``cap_scope``, raised in the same transaction)."""
        ...

    def withheld_at(self, tenant_id: str, employee_id: str, ts: int, source_id: str) -> LedgerEntry | None: ...
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
    search: SearchTerms | None = None  # name, e-mail or phone (ripple.domain.contact.search_terms)


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


# ------------------------------------------------------------------ rewards


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    redemption_id: str = ""
    response: str | None = None  # JSON of the first response, once stored


@dataclass(slots=True)
class RedemptionPage:
    redemptions: list[Redemption]
    cursor: str | None


class RedeemRejected(Exception):
    """The redeem (or cancel) transaction was refused; ``reason`` names the item:
    ``replay`` (idempotency key exists), ``unavailable`` (stock / active / price),
    ``limit`` (per-employee counter) or ``points`` (not enough available points)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StaleRedemptionError(Exception):
    """The redemption is no longer ``requested`` (a concurrent fulfil or cancel won)."""


class RewardRepository(Protocol):
    def create_reward(self, reward: Reward) -> None: ...
    def get_reward(self, tenant_id: str, reward_id: str) -> Reward | None: ...
    def update_reward(self, tenant_id: str, reward_id: str, fields: dict[str, Any], now: int) -> Reward | None: ...
    def list_rewards(self, tenant_id: str) -> list[Reward]: ...
    def redeem(
        self,
        reward: Reward,
        redemption: Redemption,
        spend: LedgerEntry,
        idem: IdempotencyRecord,
        extra: Sequence[Any] = (),
    ) -> None: ...
    def idempotency(self, tenant_id: str, employee_id: str, idem_key: str) -> IdempotencyRecord | None: ...
    def remember_response(self, tenant_id: str, employee_id: str, idem_key: str, response: str) -> None: ...
    def get_redemption(self, tenant_id: str, redemption_id: str) -> Redemption | None: ...
    def list_redemptions(
        self, tenant_id: str, *, employee_id: str | None, status: str | None, limit: int, cursor: str | None
    ) -> RedemptionPage: ...
    def fulfil(self, redemption: Redemption, *, code: str, actor: str, now: int) -> None: ...
    def cancel(
        self, redemption: Redemption, *, reason: str, actor: str, now: int, refund: LedgerEntry, restock: bool
    ) -> None: ...


# ------------------------------------------------------------------ settlement


@dataclass(frozen=True, slots=True)
class FrozenBoard:
    dimension: str
    scope: str  # campaign id or ALL_CAMPAIGNS
    entries: list[RankedEntry]


@dataclass(frozen=True, slots=True)
class LateEvent:
    """An entry moved out of a settled period (``from_period``) into ``to_period``."""

    tenant_id: str
    granularity: str
    from_period: str
    to_period: str
    source_key: str
    employee_id: str
    points: int
    ts: int


@dataclass(frozen=True, slots=True)
class SettlementRecord:
    tenant_id: str
    granularity: str
    period: str
    state: str  # "running" | "done"
    run_id: str
    started_at: int
    prizes: list[PrizeRule] = field(default_factory=list)
    frozen: list[dict[str, Any]] | None = None  # manifest: [{"dimension","scope","rows","chunks"}]
    summary: dict[str, Any] | None = None
    winners: list[dict[str, Any]] | None = None
    late: list[dict[str, Any]] | None = None


class SettlementRepository(Protocol):
    def get_prizes(self, tenant_id: str) -> dict[str, list[PrizeRule]]: ...
    def put_prizes(self, tenant_id: str, prizes: Mapping[str, Sequence[PrizeRule]], actor: str, now: int) -> None: ...
    def tenant_ids(self) -> list[str]: ...
    def campaign_ids(self, tenant_id: str, created_before: int) -> list[str]: ...
    def board_rows(self, board: str) -> list[tuple[str, int]]:
        """Every row of one board (all pages of the board-by-score GSI)."""
        ...

    def team_members(self, tenant_id: str, teams: Iterable[str]) -> dict[str, list[str]]:
        """Active employees of each of ``teams``."""
        ...

    def get(self, tenant_id: str, gran: str, period: str) -> SettlementRecord | None: ...
    def closed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which (tenant, granularity, period) have a settlement record (any state)."""
        ...

    def begin(
        self, tenant_id: str, gran: str, period: str, run_id: str, now: int, lease_ms: int
    ) -> SettlementRecord: ...
    def save_frozen(self, record: SettlementRecord, run_id: str, boards: Sequence[FrozenBoard]) -> list[dict[str, Any]]:
        """Store the boards and publish their manifest unless one exists; returns the
        manifest in force (ours, or the one another runner published first)."""
        ...

    def load_frozen(self, manifest: Sequence[dict[str, Any]], top: int | None = None) -> list[FrozenBoard]: ...
    def award(self, entry: LedgerEntry) -> bool:
        """Insert a positive award entry and its balance change; False if already there."""
        ...

    def mark_late(self, events: Sequence[LateEvent]) -> None: ...
    def late_events(self, tenant_id: str, gran: str, period: str) -> list[LateEvent]:
        """Markers moved into this period whose ledger entry really carries the move."""
        ...

    def finish(
        self,
        record: SettlementRecord,
        summary: dict[str, Any],
        winners: list[dict[str, Any]],
        late: list[dict[str, Any]],
        payload: dict[str, Any],
        now: int,
    ) -> SettlementRecord:
        """Mark ``done`` (if still running) and put the outbox item, atomically; returns
        the stored record (another runner's, if it finished first)."""
        ...


# ------------------------------------------------------------------ links


class CodeTakenError(Exception):
    """A freshly drawn short code already exists (astronomically rare; retried)."""


# ------------------------------------------------------------------ auth


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, from claims only an administrator can set: ``tenant_id`` and ``sub``
    (the Ripple employee id) are the Cognito user's immutable ``custom:tenant`` and
    ``custom:employee_id``, ``role`` its group membership; ``subject`` is Cognito's ``sub``."""

    tenant_id: str
    sub: str
    role: Role
    subject: str = ""


# ------------------------------------------------------------------ notifications


@dataclass(frozen=True, slots=True)
class DueEvent:
    """A notification event whose time has come (to be expanded into messages)."""

    pk: str
    tenant_id: str
    kind: str
    key: str
    recipients: tuple[str, ...]
    data: dict[str, Any]
    due_at: int
    attempts: int
    due_key: str


@dataclass(frozen=True, slots=True)
class DueMessage:
    """One recipient's message on one channel, due to be decided and sent."""

    pk: str
    tenant_id: str
    kind: str
    key: str
    employee_id: str
    channel: str
    data: dict[str, Any]
    state: str
    attempts: int
    due_key: str


class NotificationStore(Protocol):
    """Events, messages (each written at most once), preferences and the hourly counters."""

    def settings(self, tenant_id: str) -> dict[str, Any]: ...

    def save_settings(self, tenant_id: str, settings: dict[str, Any]) -> None: ...

    def preferences(self, tenant_id: str, employee_id: str) -> Preferences: ...

    def save_preferences(self, tenant_id: str, employee_id: str, prefs: Preferences) -> None: ...

    def put_event(
        self,
        tenant_id: str,
        kind: str,
        key: str,
        recipients: Sequence[str],
        data: dict[str, Any],
        *,
        now: int,
        due_at: int,
    ) -> bool: ...

    def due_events(self, now: int, limit: int) -> list[DueEvent]: ...

    def claim_event(self, event: DueEvent, lease_until: int) -> bool: ...

    def put_messages(self, event: DueEvent, employee_ids: Iterable[str], channel: str, now: int) -> int: ...

    def finish_event(self, event: DueEvent) -> None: ...

    def due_messages(self, now: int, limit: int) -> list[DueMessage]: ...

    def claim_message(self, message: DueMessage, token: str, lease_until: int) -> bool: ...

    def settle_message(
        self,
        message: DueMessage,
        token: str,
        *,
        state: str,
        reason: str | None,
        at: int,
        retry_at: int | None = None,
        provider_id: str | None = None,
    ) -> bool: ...

    def abandon(self, message: DueMessage, at: int) -> bool: ...

    def take_rate(self, tenant_id: str, employee_id: str, hour: int, limit: int) -> bool: ...

    def messages_of(self, tenant_id: str, employee_id: str, limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str
    from_name: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


class MailError(Exception):
    """The provider refused or failed; ``permanent`` = retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Send one message; the provider's message id. Raises MailError."""
        ...

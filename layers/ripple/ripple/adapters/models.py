"""PynamoDB models: the single place that knows how entities sit in DynamoDB.

Four tables, all keyed by a single string ``pk`` so no tenant-wide partition key is ever
hot (every employee, campaign, board row and ledger entry is its own partition):

* main    tenants, employees, campaigns, and the link-owner index (GSI ``by-tenant``)
* links   short code -> denormalised link (the redirect's only read)
* visits  one item per recorded visit; its stream drives points
* points  ledger entries (GSI ``ledger-by-owner``), balances, leaderboard rows (GSI
          ``board-by-score``: top-N is a Query, never a Scan)

Table names come from the environment, set by ``template.yaml`` on AWS and by the local
stack; both create tables from the same definitions in ``template.yaml``.
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

__all__ = [
    "BalanceItem",
    "BoardRowItem",
    "CampaignItem",
    "ChainNodeItem",
    "ContactItem",
    "CustomerEventItem",
    "CustomerItem",
    "EmployeeDeviceItem",
    "EmployeeItem",
    "FraudSignalItem",
    "LedgerItem",
    "LinkItem",
    "LinkOwnerItem",
    "PendingItem",
    "RateLimitItem",
    "TenantItem",
    "VisitItem",
    "all_models",
    "decode_key_cursor",
    "due_items",
    "due_sort_key",
    "encode_key_cursor",
    "queue_shard",
]


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _table(var: str, default: str) -> str:
    return os.environ.get(var, default)


class _Meta:
    region = _region()
    # host stays None: botocore then honours AWS_ENDPOINT_URL_DYNAMODB, which is how the
    # local stack points the very same code at moto.
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3


# ---------------------------------------------------------------- main table


class ByTenantIndex(GlobalSecondaryIndex["MainItem"]):
    class Meta:
        index_name = "by-tenant"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ByOwnerIndex(GlobalSecondaryIndex["MainItem"]):
    """Customers by owner (``<tenant>#OWNER#<employee>`` or ``<tenant>#OWNER#-pool``)."""

    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class MainItem(Model):
    class Meta(_Meta):
        table_name = _table("RIPPLE_MAIN_TABLE", "ripple-main")

    pk = UnicodeAttribute(hash_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds), rate-limit windows only
    by_tenant = ByTenantIndex()
    by_owner = ByOwnerIndex()


class TenantItem(MainItem):
    name = UnicodeAttribute(default="")
    timezone = UnicodeAttribute(default="UTC")
    attribution_mode = UnicodeAttribute(null=True)  # "first_touch" | "last_touch"
    attribution_days = NumberAttribute(null=True)
    recycle_after_days = NumberAttribute(null=True)  # customers untouched this long return to the pool
    burst_links = NumberAttribute(null=True)  # 0 = off (None = default)
    velocity_per_hour = NumberAttribute(null=True)
    phone_region = UnicodeAttribute(null=True)  # default region for national phone numbers
    pool_claim_price = NumberAttribute(null=True)  # points a lead-pool claim costs (absent = 0)
    segments = UnicodeAttribute(null=True)  # "window_days,medium,heavy,reach_days"
    ended_url = UnicodeAttribute(null=True)  # an ended campaign's page links here (absent = none)

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"TENANT#{tenant_id}"


class EmployeeItem(MainItem):
    tenant = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    name = UnicodeAttribute()
    team = UnicodeAttribute()
    region = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    updated_at = NumberAttribute(default=0)
    email = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    subject = UnicodeAttribute(null=True)  # Cognito sub of their sign-in
    signed_in = BooleanAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, employee_id: str) -> str:
        return f"EMP#{tenant_id}#{employee_id}"


class EmailClaimItem(MainItem):
    """``EMAIL#tenant#address`` → the one employee who has that e-mail (a conditional put
    makes e-mail unique per tenant, and finds an employee by e-mail with one GetItem)."""

    employee_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, email: str) -> str:
        return f"EMAIL#{tenant_id}#{email}"


class PointsRulesMap(MapAttribute[str, Any]):
    unique_visit = NumberAttribute(default=0)
    forward = NumberAttribute(default=0)
    lead = NumberAttribute(default=0)


class CampaignItem(MainItem):
    tenant = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    destination_url = UnicodeAttribute()
    points = PointsRulesMap()
    starts_at = NumberAttribute(null=True)
    ends_at = NumberAttribute(null=True)
    created_at = NumberAttribute(default=0)
    created_by = UnicodeAttribute(default="")
    share_param = UnicodeAttribute(null=True)
    max_chain_depth = NumberAttribute(null=True)
    landing = UnicodeAttribute(null=True)  # JSON of domain.landing.Landing (hosted page)
    rules_history = UnicodeAttribute(null=True)  # JSON list of rule versions (domain.model.RulesVersion)
    archived_at = NumberAttribute(null=True)
    links_cursor = UnicodeAttribute(null=True)  # an edit still being copied onto the links (domain.campaigns)
    links_revision = NumberAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, campaign_id: str) -> str:
        return f"CAMP#{tenant_id}#{campaign_id}"


class LinkOwnerItem(MainItem):
    """Makes "one link per employee, campaign and channel" a conditional write. ``gsi1``
    lists an employee's links, ``gsi2`` (``<tenant>#CLINKS#<campaign>``, by code) a campaign's."""

    code = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, campaign_id: str, employee_id: str, channel: str) -> str:
        return f"LINKOWNER#{tenant_id}#{campaign_id}#{employee_id}#{channel}"


class ChainNodeItem(MainItem):
    """One person in a campaign's spread tree (forward chains, issue 3).

    Keyed per (campaign, visitor) so a visitor appears once, where they first arrived; the
    ``by-tenant`` GSI (``<tenant>#CHAIN#<campaign>#<root>``) returns a whole tree in one
    paginated Query. Written only by the points consumer, in the ledger's transaction.
    """

    tenant = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    root = UnicodeAttribute()
    node = UnicodeAttribute()
    parent = UnicodeAttribute(null=True)
    depth = NumberAttribute(null=True)
    first_seen = NumberAttribute(null=True)
    visitors = NumberAttribute(default=0)
    forwards = NumberAttribute(default=0)
    leads = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, campaign_id: str, node: str) -> str:
        return f"NODE#{tenant_id}#{campaign_id}#{node}"

    @staticmethod
    def tree(tenant_id: str, campaign_id: str, root: str) -> str:
        return f"{tenant_id}#CHAIN#{campaign_id}#{root}"


class CustomerItem(MainItem):
    """A customer the tenant owns (issue 3). ``gsi1`` lists a tenant's customers newest
    first; ``gsi2`` lists them by owner, the pool being the owner ``-pool``."""

    tenant = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    name_folded = UnicodeAttribute(null=True)  # domain.contact.fold(name): what a search compares
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="new")
    tags = ListAttribute[str](default=list)  # list of strings
    owner = UnicodeAttribute(default="")  # employee id, "" = public lead pool
    owner_since = NumberAttribute(default=0)
    first_touch_employee = UnicodeAttribute(default="")
    first_touch_at = NumberAttribute(default=0)
    last_touch_employee = UnicodeAttribute(default="")
    last_touch_at = NumberAttribute(default=0)
    source_campaign = UnicodeAttribute(default="")
    source_channel = UnicodeAttribute(default="")
    source_code = UnicodeAttribute(default="")
    node = UnicodeAttribute(default="")  # the customer's node in the source campaign's tree
    via = UnicodeAttribute(default="-")  # the node they arrived through ("-" = the employee)
    depth = NumberAttribute(default=1)
    campaigns = ListAttribute[str](default=list)  # list of strings
    consent_text = UnicodeAttribute(default="")
    consent_at = NumberAttribute(default=0)
    consent_lang = UnicodeAttribute(default="")
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)
    last_contacted_at = NumberAttribute(null=True)
    leads = NumberAttribute(default=0)
    version = NumberAttribute(default=0)  # optimistic lock for merges and claims

    @staticmethod
    def key(tenant_id: str, customer_id: str) -> str:
        return f"CUST#{tenant_id}#{customer_id}"

    @staticmethod
    def listing(tenant_id: str) -> str:
        return f"{tenant_id}#CUSTOMERS"

    @staticmethod
    def owned_by(tenant_id: str, owner: str) -> str:
        return f"{tenant_id}#OWNER#{owner or '-pool'}"


class ContactItem(MainItem):
    """Contact (normalised phone or e-mail) -> customer: makes merging a conditional write."""

    customer_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, contact_key: str) -> str:
        return f"CONTACT#{tenant_id}#{contact_key}"


class CustomerEventItem(MainItem):
    """One entry of a customer's interaction history (lead, note, status, handover, claim)."""

    tenant = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    ts = NumberAttribute()
    actor = UnicodeAttribute(default="")
    data = MapAttribute[str, Any](default=dict)

    @staticmethod
    def key(tenant_id: str, customer_id: str, ts: int, event_id: str) -> str:
        return f"CEV#{tenant_id}#{customer_id}#{ts:013d}#{event_id}"

    @staticmethod
    def history(tenant_id: str, customer_id: str) -> str:
        return f"{tenant_id}#CEV#{customer_id}"


class FraudSignalItem(MainItem):
    """Why points were withheld (or a pattern worth a look), for admins. Keyed by the event
    so a redelivered batch rewrites the same item instead of adding another."""

    tenant = UnicodeAttribute()
    kind = UnicodeAttribute()  # burst | velocity | employee_click
    employee_id = UnicodeAttribute(default="")
    campaign_id = UnicodeAttribute(default="")
    visitor = UnicodeAttribute(default="")
    clicker = UnicodeAttribute(default="")
    source = UnicodeAttribute(default="")  # visit id
    ts = NumberAttribute(default=0)
    detail = UnicodeAttribute(default="")

    @staticmethod
    def key(tenant_id: str, kind: str, source: str) -> str:
        return f"FRAUD#{tenant_id}#{kind}#{source}"

    @staticmethod
    def listing(tenant_id: str) -> str:
        return f"{tenant_id}#FRAUD"


class EmployeeDeviceItem(MainItem):
    """A visitor key (signed first-party cookie) seen on an employee's authenticated calls."""

    employee_id = UnicodeAttribute()
    seen_at = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, visitor: str) -> str:
        return f"EMPDEV#{tenant_id}#{visitor}"


class RateLimitItem(MainItem):
    """A fixed-window counter; the TTL removes old windows on AWS."""

    hits = NumberAttribute(default=0)

    @staticmethod
    def key(bucket: str, window: int) -> str:
        return f"RL#{bucket}#{window}"


# ---------------------------------------------------------------- links table


class LinkItem(Model):
    class Meta(_Meta):
        table_name = _table("RIPPLE_LINKS_TABLE", "ripple-links")
        # The redirect must fail fast rather than hold a visitor for seconds.
        connect_timeout_seconds = 1
        read_timeout_seconds = 2

    code = UnicodeAttribute(hash_key=True)
    tenant = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    destination_url = UnicodeAttribute()
    starts_at = NumberAttribute(null=True)
    ends_at = NumberAttribute(null=True)
    created_at = NumberAttribute(default=0)
    share_param = UnicodeAttribute(null=True)
    max_chain_depth = NumberAttribute(null=True)
    campaign_revision = NumberAttribute(null=True)  # the campaign's links_revision last copied here


# ---------------------------------------------------------------- visits table


class ByVisitorIndex(GlobalSecondaryIndex["VisitItem"]):
    class Meta:
        index_name = "by-visitor"
        projection = IncludeProjection(["employee_id", "decision", "campaign_id"])

    vk = UnicodeAttribute(hash_key=True)
    ts = NumberAttribute(range_key=True)


TENANT_DAY_SHARDS = 8


def tenant_day_key(tenant_id: str, ts_ms: int, visit_id: str) -> str:
    """``<tenant>#<UTC day>#<shard>``: the visits table's partition key ``td`` (its sort key
    ``pk`` is the visit id, the name every consumer of the stream already reads). A tenant's day of
    visits is spread over 8 partitions (8,000 WRU/s before a viral tenant's day could be
    throttled), and the export of a day is 8 Queries of the base table: no index, so the
    redirect's write is one item and nothing else."""
    import time as _time
    import zlib

    day = _time.strftime("%Y-%m-%d", _time.gmtime(ts_ms // 1000))
    return f"{tenant_id}#{day}#{zlib.crc32(visit_id.encode()) % TENANT_DAY_SHARDS}"


class VisitItem(Model):
    class Meta(_Meta):
        table_name = _table("RIPPLE_VISITS_TABLE", "ripple-visits")
        connect_timeout_seconds = 1
        read_timeout_seconds = 2

    td = UnicodeAttribute(hash_key=True)  # tenant_day_key(tenant, ts, id): a tenant's day, sharded
    pk = UnicodeAttribute(range_key=True)  # the visit id ("<ts:013d>..."), so a partition is in time order
    tenant = UnicodeAttribute()
    code = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    visitor = UnicodeAttribute()
    ts = NumberAttribute()
    decision = UnicodeAttribute()
    ua = UnicodeAttribute(default="browser")
    country = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds): raw visits are not kept forever
    # forward chain position (domain/chains.py)
    via = UnicodeAttribute(default="-")
    via_parent = UnicodeAttribute(null=True)
    depth = NumberAttribute(default=1)
    token_rejected = BooleanAttribute(null=True)
    # lead events (kind "lead") share the stream so leads earn points like visits do
    kind = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    node = UnicodeAttribute(null=True)
    amount = UnicodeAttribute(null=True)  # conversion events: "1999.00 CNY"
    viewer = UnicodeAttribute(null=True)  # signed-in employee who clicked
    vk = UnicodeAttribute(null=True)  # "<tenant>#<visitor>" for GET visits (GSI by-visitor)
    sf = UnicodeAttribute(null=True)  # surface: "page" for hosted landing page views (null = link)
    dev = UnicodeAttribute(null=True)  # device type (domain.tracking.device_and_os)
    os = UnicodeAttribute(null=True)
    subdivision = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    action = UnicodeAttribute(null=True)  # card tap events (kind "tap"): call | save | email | ...
    by_visitor = ByVisitorIndex()


class StoryItem(MainItem):
    """An employee's story (domain.stories.Story) as JSON, written conditionally on ``version``.
    Listed per author through ``by-owner`` (gsi2: ``STORIES#tenant#author``, newest first by
    creation) and per tenant and review state through ``by-tenant`` (gsi1:
    ``STORYQ#tenant#status``, oldest submission first: the review queue is a FIFO)."""

    data = UnicodeAttribute(default="{}")
    version = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, story_id: str) -> str:
        return f"STORY#{tenant_id}#{story_id}"

    @staticmethod
    def by_author(tenant_id: str, author: str) -> str:
        return f"STORIES#{tenant_id}#{author}"

    @staticmethod
    def queue(tenant_id: str, status: str) -> str:
        return f"STORYQ#{tenant_id}#{status}"

    @staticmethod
    def policy_key(tenant_id: str) -> str:
        return f"STORYPOLICY#{tenant_id}"


class StoryCapItem(MainItem):
    """How many awards of one kind an employee got in one scope (``story#<month>``: the content
    policy's monthly cap), raised in the award's own transaction, conditional on the cap."""

    n = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, employee_id: str, scope: str) -> str:
        return f"CAP#{tenant_id}#{employee_id}#{scope}"


class CardItem(MainItem):
    """An employee's business card (domain.card.CardProfile), as JSON: read whole, written whole."""

    data = UnicodeAttribute(default="{}")

    @staticmethod
    def key(tenant_id: str, employee_id: str) -> str:
        return f"CARD#{tenant_id}#{employee_id}"

    @staticmethod
    def company_key(tenant_id: str) -> str:
        return f"CARDCO#{tenant_id}"


class CardRadarItem(MainItem):
    """One viewer of one employee's card. Views and taps are string *sets* of
    ``<ts>:<event id>`` / ``<ts>:<action>:<event id>``: adding a redelivered event again
    changes nothing. Listed per employee through ``by-owner`` (gsi2pk)."""

    tenant = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    visitor = UnicodeAttribute()
    views = UnicodeSetAttribute(null=True)
    taps = UnicodeSetAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, employee_id: str, visitor: str) -> str:
        return f"CRADAR#{tenant_id}#{employee_id}#{visitor}"

    @staticmethod
    def listing(tenant_id: str, employee_id: str) -> str:
        return f"{tenant_id}#CRADAR#{employee_id}"


class VisitorCustomerItem(MainItem):
    """A visitor key that submitted a lead -> the customer it became (written by the consumer
    from lead events): lets the card radar name known customers."""

    customer_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, visitor: str) -> str:
        return f"VCUST#{tenant_id}#{visitor}"


# ---------------------------------------------------------------- points table


class LedgerByOwnerIndex(GlobalSecondaryIndex["LedgerItem"]):
    class Meta:
        index_name = "ledger-by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class BoardByScoreIndex(GlobalSecondaryIndex["BoardRowItem"]):
    class Meta:
        index_name = "board-by-score"
        projection = AllProjection()

    board = UnicodeAttribute(hash_key=True)
    score = NumberAttribute(range_key=True)


class PointsItem(Model):
    class Meta(_Meta):
        table_name = _table("RIPPLE_POINTS_TABLE", "ripple-points")

    pk = UnicodeAttribute(hash_key=True)


class LedgerItem(PointsItem):
    tenant = UnicodeAttribute()
    source_key = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    owner = UnicodeAttribute()  # "<tenant>#<employee>"
    sort = UnicodeAttribute()  # "<ts:013d>#<source_key>": newest-first listing
    kind = UnicodeAttribute()
    points = NumberAttribute()
    ts = NumberAttribute()
    campaign_id = UnicodeAttribute(default="")
    team = UnicodeAttribute(default="")
    region = UnicodeAttribute(default="")
    day = UnicodeAttribute(default="")
    week = UnicodeAttribute(default="")
    month = UnicodeAttribute(default="")
    source_id = UnicodeAttribute(default="")
    meta = MapAttribute[str, Any](default=dict)
    node = UnicodeAttribute(null=True)
    via = UnicodeAttribute(null=True)
    depth = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)  # "pending" when held at insertion (see PendingItem)
    release_at = NumberAttribute(null=True)
    rules_version = NumberAttribute(null=True)
    by_owner = LedgerByOwnerIndex()

    @staticmethod
    def key(tenant_id: str, source_key: str) -> str:
        return f"L#{tenant_id}#{source_key}"


class BalanceItem(PointsItem):
    """``balance`` = ``available`` + ``pending``, always equal to the sum of the owner's
    ledger entries. Spending is a conditional ADD on ``available`` (never below zero)."""

    balance = NumberAttribute(default=0)
    available = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    earned = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, employee_id: str) -> str:
        return f"BAL#{tenant_id}#{employee_id}"


class PendingDueIndex(GlobalSecondaryIndex["PendingItem"]):
    class Meta:
        index_name = "ledger-by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    sort = UnicodeAttribute(range_key=True)


class PendingItem(PointsItem):
    """A ledger entry's points while they are held (holding period and/or threshold).

    While ``state == "pending"`` it carries ``owner = PENDING#<tenant>`` and ``sort =
    <release_at>#<source_key>``, so the ``ledger-by-owner`` GSI lists what is due in one
    Query; releasing or reversing it removes both (a sparse index) in the same transaction
    as the balance move, conditional on the state still being pending: exactly once.
    """

    tenant = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute(default="")
    source_key = UnicodeAttribute()
    points = NumberAttribute()
    release_at = NumberAttribute()
    threshold = NumberAttribute(default=0)
    state = UnicodeAttribute(default="pending")  # pending | released | reversed
    owner = UnicodeAttribute(null=True)
    sort = UnicodeAttribute(null=True)
    updated_at = NumberAttribute(default=0)
    reason = UnicodeAttribute(null=True)
    due = PendingDueIndex()

    @staticmethod
    def key(tenant_id: str, source_key: str) -> str:
        return f"P#{tenant_id}#{source_key}"

    @staticmethod
    def due_owner(tenant_id: str) -> str:
        return f"PENDING#{tenant_id}"


class BoardRowItem(PointsItem):
    board = UnicodeAttribute()
    member = UnicodeAttribute()
    score = NumberAttribute(default=0)
    by_score = BoardByScoreIndex()

    @staticmethod
    def key(board: str, member: str) -> str:
        return f"B#{board}#{member}"


def all_models() -> list[type[Model]]:
    """One model per physical table (used to reach each table's connection)."""
    return [MainItem, LinkItem, VisitItem, PointsItem]


def encode_key_cursor(key: dict[str, Any] | None) -> str | None:
    """An opaque page cursor for a query's ``LastEvaluatedKey`` (base64url of its JSON)."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_key_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The key a cursor names; raises ValueError for anything that is not shaped like a key
    (callers check which attributes theirs may hold)."""
    if not cursor:
        return None
    raw = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise ValueError("bad cursor")
    return raw


# ------------------------------------------------------------------ due-time queues
# The webhook outbox and the notification events and messages wait in sparse due-time
# queues on the ``by-tenant`` GSI: ``gsi1pk = <prefix>#<shard>`` (the item's key hashed over
# a few shards, so no queue partition is hot), ``gsi1sk = <due ms, 13 digits>#<pk>``.


def queue_shard(prefix: str, pk: str, shards: int) -> str:
    return f"{prefix}#{zlib.crc32(pk.encode()) % shards}"


def due_sort_key(due: int, pk: str) -> str:
    return f"{due:013d}#{pk}"


def due_items(model: Any, prefix: str, shards: int, now: int, limit: int) -> list[Any]:
    """Items of ``model`` due at ``now`` (at most ``limit``), oldest first within each shard."""
    upper = f"{now:013d}~"
    out: list[Any] = []
    for shard in range(shards):
        query = model.by_tenant.query(f"{prefix}#{shard}", model.gsi1sk <= upper, limit=limit - len(out))
        out.extend(i for i in query if isinstance(i, model))
        if len(out) >= limit:
            break
    return out

"""Webhook persistence (main table) and the HTTP sender.

* ``WHEP#<tenant>``: the tenant's endpoint (url, events, active, signing secret).
* ``WHO#<tenant>#<event type>#<event id>``: an outbox item, written once (conditional put).
  While undelivered it carries ``gsi1pk = WHQ#<shard>`` and ``gsi1sk = <due ms>#<pk>``, so
  the ``by-tenant`` GSI doubles as a sparse due-time index spread over ``SHARDS``
  partitions; delivered, failed and skipped items drop both attributes and leave the index.
  A dispatcher claims an item by moving its due time one lease ahead (conditional on the
  due time it read), so a crashed dispatcher's item comes back when the lease runs out.
* ``WHD#<tenant>#<event id>#<attempt>``: one delivery attempt (the delivery log), listed
  newest first through ``by-tenant`` (``<tenant>#WHLOG``), expires after 30 days.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ripple.adapters.models import (
    MainItem,
    decode_key_cursor,
    due_items,
    due_sort_key,
    encode_key_cursor,
    queue_shard,
)
from ripple.domain.webhooks import is_public_address

__all__ = [
    "SHARDS",
    "DynamoWebhooks",
    "OutboxEntry",
    "SendResult",
    "WebhookDeliveryItem",
    "WebhookEndpointItem",
    "WebhookOutboxItem",
    "http_post",
]

SHARDS = 4
LOG_TTL_S = 30 * 86_400


class WebhookEndpointItem(MainItem):
    tenant = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute[str](default=list)
    active = BooleanAttribute(default=True)
    secret = UnicodeAttribute()
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)
    updated_by = UnicodeAttribute(default="")

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"WHEP#{tenant_id}"


class WebhookOutboxItem(MainItem):
    tenant = UnicodeAttribute()
    kind = UnicodeAttribute()  # the event type
    event_id = UnicodeAttribute()
    payload = UnicodeAttribute()  # JSON: the event's ``data``
    created_at = NumberAttribute()
    state = UnicodeAttribute(default="pending")  # pending | delivered | failed | skipped
    attempts = NumberAttribute(default=0)
    lease = UnicodeAttribute(null=True)
    next_at = NumberAttribute(null=True)
    last_status = NumberAttribute(null=True)
    last_error = UnicodeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, kind: str, event_id: str) -> str:
        return f"WHO#{tenant_id}#{kind}#{event_id}"

    @staticmethod
    def queue(pk: str) -> str:
        return queue_shard("WHQ", pk, SHARDS)

    @staticmethod
    def due_key(due: int, pk: str) -> str:
        return due_sort_key(due, pk)


class ChatBotsItem(MainItem):
    tenant = UnicodeAttribute()
    bots = UnicodeAttribute()  # JSON list of the tenant's group bots (with their secrets)

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"WHBOT#{tenant_id}"


class WebhookDeliveryItem(MainItem):
    tenant = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    attempt = NumberAttribute()
    at = NumberAttribute()
    ok = BooleanAttribute()
    status_code = NumberAttribute(null=True)
    latency_ms = NumberAttribute(default=0)
    next_retry_at = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    url = UnicodeAttribute(default="")

    @staticmethod
    def key(tenant_id: str, event_id: str, attempt: int) -> str:
        return f"WHD#{tenant_id}#{event_id}#{attempt:02d}"

    @staticmethod
    def listing(tenant_id: str) -> str:
        return f"{tenant_id}#WHLOG"


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    pk: str
    tenant_id: str
    event_type: str
    event_id: str
    payload: dict[str, Any]
    created_at: int
    attempts: int
    due_key: str


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    error: str | None
    body: bytes = b""  # the first KB of the answer (chat products say "refused" in a 200)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def outbox_item(
    tenant_id: str, event_type: str, event_id: str, payload: dict[str, Any], now: int, due: int | None = None
) -> WebhookOutboxItem:
    """A new outbox item, due now or at ``due`` (also used inside the settlement's
    finishing transaction)."""
    pk = WebhookOutboxItem.key(tenant_id, event_type, event_id)
    return WebhookOutboxItem(
        pk,
        tenant=tenant_id,
        kind=event_type,
        event_id=event_id,
        payload=json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
        created_at=now,
        gsi1pk=WebhookOutboxItem.queue(pk),
        gsi1sk=WebhookOutboxItem.due_key(now if due is None else due, pk),
    )


def _conditional_failed(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def _entry(item: WebhookOutboxItem) -> OutboxEntry:
    return OutboxEntry(
        pk=item.pk,
        tenant_id=item.tenant,
        event_type=item.kind,
        event_id=item.event_id,
        payload=json.loads(item.payload),
        created_at=int(item.created_at),
        attempts=int(item.attempts or 0),
        due_key=item.gsi1sk or "",
    )


def _decode_cursor(cursor: str | None, listing: str) -> dict[str, Any] | None:
    """Raises ValueError for anything that is not a cursor we issued for this tenant."""
    raw = decode_key_cursor(cursor)
    if raw is None:
        return None
    if set(raw) != {"pk", "gsi1pk", "gsi1sk"}:
        raise ValueError("bad cursor")
    if not all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in raw.values()):
        raise ValueError("bad cursor")
    if raw["gsi1pk"]["S"] != listing:
        raise ValueError("bad cursor")
    return raw


def _delivery(item: WebhookDeliveryItem) -> dict[str, Any]:
    return {
        "event_id": item.event_id,
        "type": item.kind,
        "attempt": int(item.attempt),
        "at": int(item.at),
        "ok": bool(item.ok),
        "status_code": None if item.status_code is None else int(item.status_code),
        "latency_ms": int(item.latency_ms or 0),
        "next_retry_at": None if item.next_retry_at is None else int(item.next_retry_at),
        "error": item.error,
    }


class DynamoWebhooks:
    # -- endpoint

    def get_endpoint(self, tenant_id: str) -> dict[str, Any] | None:
        try:
            item = WebhookEndpointItem.get(WebhookEndpointItem.key(tenant_id), consistent_read=True)
        except DoesNotExist:
            return None
        return {
            "url": item.url,
            "events": list(item.events or []),
            "active": bool(item.active),
            "secret": item.secret,
            "created_at": int(item.created_at),
            "updated_at": int(item.updated_at),
        }

    def put_endpoint(self, tenant_id: str, endpoint: dict[str, Any], actor: str) -> None:
        WebhookEndpointItem(
            WebhookEndpointItem.key(tenant_id),
            tenant=tenant_id,
            url=endpoint["url"],
            events=list(endpoint["events"]),
            active=endpoint["active"],
            secret=endpoint["secret"],
            created_at=endpoint["created_at"],
            updated_at=endpoint["updated_at"],
            updated_by=actor,
        ).save()

    # -- chat bots

    def bots(self, tenant_id: str) -> list[dict[str, Any]]:
        try:
            item = ChatBotsItem.get(ChatBotsItem.key(tenant_id), consistent_read=True)
        except DoesNotExist:
            return []
        value = json.loads(item.bots)
        return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []

    def put_bots(self, tenant_id: str, bots: list[dict[str, Any]]) -> None:
        ChatBotsItem(
            ChatBotsItem.key(tenant_id), tenant=tenant_id, bots=json.dumps(bots, sort_keys=True, ensure_ascii=False)
        ).save()

    # -- outbox

    def enqueue(
        self,
        tenant_id: str,
        event_type: str,
        event_id: str,
        payload: dict[str, Any],
        now: int,
        due: int | None = None,
    ) -> bool:
        """Write the event once; False if it was already there (a retried emit)."""
        try:
            outbox_item(tenant_id, event_type, event_id, payload, now, due).save(
                condition=WebhookOutboxItem.pk.does_not_exist()
            )
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def rearm(self, tenant_id: str, event_type: str, event_id: str, now: int) -> str:
        """An admin's retry of an event whose attempts ran out: due now again, for one more
        attempt (the attempt count goes on, so a failure gives up again at once). Returns
        "rearmed", "missing", or the state it is in (only "failed" is rearmed; the condition
        makes two racing retries one)."""
        pk = WebhookOutboxItem.key(tenant_id, event_type, event_id)
        try:
            WebhookOutboxItem(pk).update(
                actions=[
                    WebhookOutboxItem.state.set("pending"),
                    WebhookOutboxItem.next_at.set(now),
                    WebhookOutboxItem.gsi1pk.set(WebhookOutboxItem.queue(pk)),
                    WebhookOutboxItem.gsi1sk.set(WebhookOutboxItem.due_key(now, pk)),
                    WebhookOutboxItem.lease.remove(),
                ],
                condition=WebhookOutboxItem.pk.exists() & (WebhookOutboxItem.state == "failed"),
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            try:
                return str(WebhookOutboxItem.get(pk, consistent_read=True).state)
            except WebhookOutboxItem.DoesNotExist:
                return "missing"
        return "rearmed"

    def due(self, now: int, limit: int) -> list[OutboxEntry]:
        """Undelivered items due at ``now``, oldest first within each shard."""
        return [_entry(i) for i in due_items(WebhookOutboxItem, "WHQ", SHARDS, now, limit)]

    def claim(self, entry: OutboxEntry, token: str, lease_until: int) -> bool:
        """Take the item for one attempt: move its due time to the end of the lease, on
        condition nobody else moved it since we read it."""
        try:
            WebhookOutboxItem(entry.pk).update(
                actions=[
                    WebhookOutboxItem.gsi1sk.set(WebhookOutboxItem.due_key(lease_until, entry.pk)),
                    WebhookOutboxItem.lease.set(token),
                ],
                condition=(WebhookOutboxItem.gsi1sk == entry.due_key)
                & (WebhookOutboxItem.attempts == entry.attempts)
                & (WebhookOutboxItem.state == "pending"),
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def settle_attempt(
        self,
        entry: OutboxEntry,
        token: str,
        *,
        state: str,
        attempts: int,
        next_at: int | None,
        status_code: int | None,
        error: str | None,
    ) -> bool:
        """Record the outcome of our claimed attempt; False if our lease was taken over."""
        actions: list[Any] = [
            WebhookOutboxItem.state.set(state),
            WebhookOutboxItem.attempts.set(attempts),
            WebhookOutboxItem.lease.remove(),
        ]
        actions.append(
            WebhookOutboxItem.last_status.set(status_code)
            if status_code is not None
            else WebhookOutboxItem.last_status.remove()
        )
        actions.append(
            WebhookOutboxItem.last_error.set(error[:500]) if error else WebhookOutboxItem.last_error.remove()
        )
        if state == "pending" and next_at is not None:
            actions += [
                WebhookOutboxItem.next_at.set(next_at),
                WebhookOutboxItem.gsi1sk.set(WebhookOutboxItem.due_key(next_at, entry.pk)),
            ]
        else:
            actions += [
                WebhookOutboxItem.next_at.remove(),
                WebhookOutboxItem.gsi1pk.remove(),
                WebhookOutboxItem.gsi1sk.remove(),
            ]
        try:
            WebhookOutboxItem(entry.pk).update(actions=actions, condition=WebhookOutboxItem.lease == token)
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def outbox(self, tenant_id: str) -> list[dict[str, Any]]:
        """A tenant's outbox items (a scan: for tests and operators only)."""
        items = WebhookOutboxItem.scan(WebhookOutboxItem.pk.startswith(f"WHO#{tenant_id}#"))
        return [
            {
                "kind": i.kind,
                "event_id": i.event_id,
                "state": i.state,
                "attempts": int(i.attempts or 0),
                "created_at": int(i.created_at),
                "queued": i.gsi1pk is not None,
                **json.loads(i.payload),
            }
            for i in items
        ]

    # -- delivery log

    def log(self, tenant_id: str, record: dict[str, Any], url: str) -> None:
        at = int(record["at"])
        key = WebhookDeliveryItem.key(tenant_id, record["event_id"], int(record["attempt"]))
        WebhookDeliveryItem(
            key,
            tenant=tenant_id,
            event_id=record["event_id"],
            kind=record["type"],
            attempt=int(record["attempt"]),
            at=at,
            ok=bool(record["ok"]),
            status_code=record["status_code"],
            latency_ms=int(record["latency_ms"]),
            next_retry_at=record["next_retry_at"],
            error=(record["error"] or None) and str(record["error"])[:500],
            url=url,
            gsi1pk=WebhookDeliveryItem.listing(tenant_id),
            gsi1sk=f"{at:013d}#{key}",
            expires_at=at // 1000 + LOG_TTL_S,
        ).save()

    def deliveries(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        listing = WebhookDeliveryItem.listing(tenant_id)
        start = _decode_cursor(cursor, listing)
        query = WebhookDeliveryItem.by_tenant.query(
            listing, scan_index_forward=False, limit=limit, last_evaluated_key=start, page_size=limit
        )
        rows = [_delivery(i) for i in query if isinstance(i, WebhookDeliveryItem)]
        return rows, encode_key_cursor(query.last_evaluated_key)


# ------------------------------------------------------------------ sending


def _addresses(host: str, port: int) -> list[str]:
    """The host's addresses, resolved once (IP literals resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address we checked, not to whatever the name resolves to next: a
    second resolution (urllib's own) is what DNS rebinding turns into a request to loopback."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address, verified against the URL's host name (SNI + certificate)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def http_post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> SendResult:
    """POST ``body``; any 2xx is success, a 3xx is a failure (never followed). The host is
    resolved once; outside local/test every address must be public (no SSRF into the VPC
    or the metadata service), and the connection goes to an address so checked."""
    started = time.monotonic()

    def done(status: int | None, error: str | None, body: bytes = b"") -> SendResult:
        return SendResult(status, int((time.monotonic() - started) * 1000), error, body)

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        return done(None, f"ValueError: {exc}")
    addresses = _addresses(host, port)
    if not allow_private and (not addresses or not all(is_public_address(a) for a in addresses)):
        return done(None, "refused: the host does not resolve to public addresses")
    if not addresses:
        return done(None, f"OSError: cannot resolve {host}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    conn_type = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    error = "no address"
    for address in addresses:
        conn = conn_type(host, port, address, timeout)
        try:
            conn.request("POST", target, body=body, headers=headers)
            resp = conn.getresponse()
            answer = resp.read(1024)
            status = int(resp.status)
            return done(status, None if 200 <= status < 300 else f"HTTP {status}", answer)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
    return done(None, error)

"""Live pages by push: subscribe a verified page to its topic, and tell subscribers after a
batch of points has committed (``publish_changes``, called once by the stream consumer).

The gateway (API Gateway's WebSocket API, or ``infra.websocket`` locally) owns the sockets;
this module only decides who may listen to what and what to tell them, over two ports:
``LiveConnections`` (where subscriptions are stored) and ``LivePublisher`` (how a frame
reaches a connection).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ripple.domain.errors import AuthenticationError
from ripple.domain.live import changes, message, topic_for
from ripple.domain.model import LedgerEntry, Visit
from ripple.service.ports import LiveConnections, LivePublisher, RecordResult, TokenVerifier

if TYPE_CHECKING:
    from ripple.service.context import Services

__all__ = ["CONNECTION_TTL_S", "Live", "PushReport", "connect", "disconnect", "publish_changes"]

log = logging.getLogger("ripple.live")

# API Gateway closes a WebSocket after 2 hours at most; a connection item outlives that a
# little, so TTL cleans up after a $disconnect that never came (a crashed gateway node).
CONNECTION_TTL_S = 2 * 3600 + 600


@dataclass(slots=True)
class Live:
    """What ``Services.live`` holds: the subscriptions, and a publisher where pushing is
    configured (None: the API's own functions only subscribe and never push)."""

    connections: LiveConnections
    publisher: LivePublisher | None = None


@dataclass(slots=True)
class PushReport:
    topics: int = 0
    sent: int = 0
    gone: set[str] = field(default_factory=set)


def connect(svc: Services, verifier: TokenVerifier, token: str, connection_id: str) -> str:
    """Admit a WebSocket connection carrying an ID token (``?token=``: browsers cannot set
    headers on a WebSocket); returns the topic it now hears. The topic comes from the
    verified claims only, so a page can never listen to another tenant or employee.
    Raises ``AuthenticationError`` (401) for a bad, expired or deactivated token."""
    from ripple.service.accounts import check_account

    if svc.live is None:
        raise AuthenticationError("live updates are not configured")
    if not connection_id:
        raise AuthenticationError("no connection")
    principal = verifier.verify(token)
    check_account(svc, principal)  # offboarded employees are refused like on the HTTP API
    topic = topic_for(principal.tenant_id, principal.sub, principal.role)
    svc.live.connections.add(topic, connection_id, svc.clock() // 1000 + CONNECTION_TTL_S)
    return topic


def disconnect(svc: Services, connection_id: str) -> str | None:
    """Forget a closed connection (idempotent: a second $disconnect changes nothing)."""
    if svc.live is None or not connection_id:
        return None
    removed: str | None = svc.live.connections.remove(connection_id)
    return removed


def publish_changes(svc: Services, visits: Iterable[Visit], result: RecordResult | Iterable[LedgerEntry]) -> PushReport:
    """After a batch committed: one frame per touched topic to each of its connections.

    Best effort by design (a frame is only a hint to refresh): nothing here may fail the
    batch, so every error is logged and swallowed. Gone connections are forgotten."""
    report = PushReport()
    live = svc.live
    if live is None or live.publisher is None:
        return report
    try:
        inserted = result.inserted if isinstance(result, RecordResult) else list(result)
        touched = changes(visits, inserted)
        if not touched:
            return report
        report.topics = len(touched)
        subscribers = live.connections.subscribers(touched)
        now = svc.clock()
        frames = [
            (conn, message(touched[topic], now)) for topic, conns in subscribers.items() for conn in sorted(conns)
        ]
        if not frames:
            return report
        report.gone = live.publisher.send(frames)
        report.sent = len(frames) - len(report.gone)
        for topic, conns in subscribers.items():
            gone = conns & report.gone
            if gone:
                live.connections.forget(topic, gone)
    except Exception:  # a push is a hint; the batch has committed already
        log.exception("live push failed (pages catch up on their next refresh)")
    return report

"""Live-page subscriptions in DynamoDB, and pushes through API Gateway's management API.

One small table (``ConnectionsTable``), keyed by a single string ``pk``, two item shapes:

* ``<topic>`` (``T#tenant`` or ``E#tenant#employee``): the set of connection ids listening,
  so the consumer reads the subscribers of up to 100 topics in one BatchGetItem;
* ``C#<connection id>``: which topic a connection is on, for ``$disconnect`` (whose event
  carries nothing but the id).

Both expire by TTL shortly after API Gateway's 2-hour connection limit, so a lost
``$disconnect`` costs nothing for long. A topic item is one partition per employee (or per
tenant for admins): written only on connect and disconnect, never hot.

``ApiGatewayPublisher`` posts with boto3's ``apigatewaymanagementapi`` client to the endpoint
in ``RIPPLE_LIVE_ENDPOINT`` (``https://{api}.execute-api.{region}.amazonaws.com/{stage}`` on
AWS, the management port of ``infra.websocket`` locally: the same code path).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from ripple.adapters.models import _Meta, _table

__all__ = ["ApiGatewayPublisher", "ConnectionItem", "DynamoConnections"]

log = logging.getLogger("ripple.live")
BATCH_GET_LIMIT = 100


class ConnectionItem(Model):
    class Meta(_Meta):
        table_name = _table("RIPPLE_CONNECTIONS_TABLE", "ripple-connections")

    pk = UnicodeAttribute(hash_key=True)
    topic = UnicodeAttribute(null=True)  # connection items
    conns = UnicodeSetAttribute(null=True)  # topic items
    expires_at = NumberAttribute(null=True)


def _conn_key(connection_id: str) -> str:
    return f"C#{connection_id}"


class DynamoConnections:
    """``ports.LiveConnections`` over the connections table (two writes per connect)."""

    def add(self, topic: str, connection_id: str, expires_at: int) -> None:
        ConnectionItem(_conn_key(connection_id), topic=topic, expires_at=expires_at).save()
        ConnectionItem(topic).update(
            actions=[ConnectionItem.conns.add({connection_id}), ConnectionItem.expires_at.set(expires_at)]
        )

    def remove(self, connection_id: str) -> str | None:
        try:
            item = ConnectionItem.get(_conn_key(connection_id), consistent_read=True)
        except DoesNotExist:
            return None
        topic = item.topic
        if topic:
            self.forget(topic, [connection_id])
        item.delete()
        return topic

    def forget(self, topic: str, connection_ids: Iterable[str]) -> None:
        ids = set(connection_ids)
        if ids:
            # DELETE from a string set: removing ids that are not there is a no-op
            ConnectionItem(topic).update(actions=[ConnectionItem.conns.delete(ids)])

    def subscribers(self, topics: Iterable[str]) -> dict[str, set[str]]:
        wanted = sorted(set(topics))
        out: dict[str, set[str]] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            for item in ConnectionItem.batch_get(
                wanted[start : start + BATCH_GET_LIMIT], attributes_to_get=["pk", "conns"]
            ):
                if item.conns:
                    out[item.pk] = set(item.conns)
        return out


class ApiGatewayPublisher:
    """``ports.LivePublisher``: ``post_to_connection`` for each frame, a few at a time (one
    boto3 client, thread-safe); ``GoneException`` (410) marks the connection gone."""

    def __init__(self, endpoint: str, *, workers: int = 8, client: Any = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.workers = workers
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=self.endpoint,
                config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 2, "mode": "standard"}),
            )
        return self._client

    def _post(self, frame: tuple[str, bytes]) -> str | None:
        connection_id, data = frame
        client = self.client
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=data)
        except client.exceptions.GoneException:
            return connection_id
        except Exception:  # best effort: one bad connection never stops the rest
            log.warning("push to %s failed", connection_id, exc_info=True)
        return None

    def send(self, frames: Sequence[tuple[str, bytes]]) -> set[str]:
        if not frames:
            return set()
        self.client  # noqa: B018 - made once, before the threads share it
        if len(frames) == 1 or self.workers <= 1:
            results = [self._post(f) for f in frames]
        else:
            from concurrent.futures import ThreadPoolExecutor  # the consumer's path only

            with ThreadPoolExecutor(max_workers=min(self.workers, len(frames))) as pool:
                results = list(pool.map(self._post, frames))
        return {r for r in results if r is not None}

"""The live pages' WebSocket routes (API Gateway WebSocket API; ``infra.websocket`` locally
sends the same events): ``$connect`` admits a page with its ID token and subscribes it to the
topic its claims name, ``$disconnect`` forgets it, ``ping`` (or anything on ``$default``) is
answered so a page can tell a live socket from a dead one. Pushes come from the consumer.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from ripple import bootstrap
from ripple.domain.errors import RippleError
from ripple.service.live import connect, disconnect

logger = Logger(service="ripple-live")

__all__ = ["handler"]


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(body, separators=(",", ":"))}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event.get("requestContext") or {}
    route = ctx.get("routeKey", "")
    connection_id = str(ctx.get("connectionId") or "")
    svc = bootstrap.services()
    if route == "$connect":
        token = str((event.get("queryStringParameters") or {}).get("token") or "")
        try:
            topic = connect(svc, bootstrap.verifier(), token, connection_id)
        except RippleError as err:
            logger.info("connection refused", extra={"reason": err.message, "status": err.status})
            return _reply(err.status, err.to_dict())
        logger.info("connected", extra={"connection": connection_id, "topic": topic.split("#", 2)[0]})
        return _reply(200, {"type": "subscribed"})
    if route == "$disconnect":
        disconnect(svc, connection_id)
        return _reply(200, {})
    # ping / $default: API Gateway sends a route's returned body back to the client when the
    # route has a route response (template.yaml gives $default and ping one)
    return _reply(200, {"type": "pong"})

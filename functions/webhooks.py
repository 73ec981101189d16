"""Outbox dispatcher (EventBridge Scheduler every minute on AWS, ``infra.scheduler`` locally).

Job ``deliver``: POST every due outbox item to its tenant's endpoint, signed, and record each
attempt in the delivery log; failures are retried with backoff (``service/webhooks.py``).
Job ``notify``: expand due notification events into messages and send the due ones
(``service/notifications.py``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="ripple-webhooks")

__all__ = ["handler"]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = (event or {}).get("job")
    if job == "deliver":
        from ripple import bootstrap
        from ripple.service.webhooks import dispatch_due

        counts = dispatch_due(bootstrap.services(), allow_private=bootstrap.config().private_receivers)
        if any(counts.values()):
            logger.info("webhook deliveries", extra=counts)
        return {"job": "deliver", **counts}
    if job == "notify":
        from ripple import bootstrap
        from ripple.service.notifications import dispatch

        counts = dispatch(bootstrap.services())
        if any(counts.values()):
            logger.info("notifications", extra=counts)
        return {"job": "notify", **counts}
    logger.warning("unknown job", extra={"event": event})
    return {"status": "unknown_job"}

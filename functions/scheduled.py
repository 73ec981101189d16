"""Scheduled jobs (EventBridge Scheduler on AWS, ``infra.scheduler`` locally).

The event's ``job`` field picks the job. ``reconcile`` recomputes every balance it is
given from the ledger and reports drift; ``recycle`` returns customers nobody contacted
within their tenant's limit to the public lead pool; ``settle`` belongs to the rewards work and says
so instead of pretending.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="ripple-scheduled")

__all__ = ["handler"]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    job = (event or {}).get("job")
    if job == "reconcile":
        from ripple import bootstrap
        from ripple.service.reconcile import reconcile_all

        report = reconcile_all(bootstrap.services())
        logger.info("reconciled", extra=report)
        return report
    if job == "recycle":
        from ripple import bootstrap
        from ripple.service.customers import recycle_customers

        recycled = recycle_customers(bootstrap.services())
        logger.info("recycled untouched customers to the lead pool", extra=recycled)
        return {"job": "recycle", **recycled}
    if job == "settle":
        logger.info("settlement is not implemented yet (rewards work)", extra={"event": event})
        return {"job": "settle", "status": "not_implemented"}
    logger.warning("unknown job", extra={"event": event})
    return {"status": "unknown_job"}

"""Scheduled jobs (EventBridge Scheduler on AWS, ``infra.scheduler`` locally).

The event's ``job`` field picks the job. ``reconcile`` recomputes every balance it is
given from the ledger and reports drift; ``recycle`` returns customers nobody contacted
within their tenant's limit to the public lead pool; ``settle`` settles every day, ISO week and month that has
ended in its tenant's time zone and is not settled yet (``service/settlement.py``);
``segments`` recomputes customer segments and reach (``service/analytics.py``); ``digest``
announces each tenant's weekly digest on Monday morning in its zone, ``summary`` the admins'
daily program summary of yesterday from 08:00 in its zone (``service/notifications.py``).
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
    if job == "release":
        from ripple import bootstrap
        from ripple.service.ledger import release_due

        released = release_due(bootstrap.services())
        logger.info("released held points", extra=released)
        return {"job": "release", **released}
    if job == "recycle":
        from ripple import bootstrap
        from ripple.service.customers import recycle_customers

        recycled = recycle_customers(bootstrap.services())
        logger.info("recycled untouched customers to the lead pool", extra=recycled)
        return {"job": "recycle", **recycled}
    if job == "settle":
        from ripple import bootstrap
        from ripple.service.settlement import settle_due

        tenants = event.get("tenants")
        settled = settle_due(bootstrap.services(), tenants=tenants if isinstance(tenants, list) else None)
        logger.info("settled due periods", extra=settled)
        return settled
    if job == "segments":
        from ripple import bootstrap
        from ripple.service.analytics import refresh_segments

        report = refresh_segments(bootstrap.services())
        logger.info("refreshed customer segments and reach", extra=report)
        return report
    if job == "digest":
        from ripple import bootstrap
        from ripple.service.notifications import announce_digests

        tenants = event.get("tenants")
        report = announce_digests(bootstrap.services(), tenants if isinstance(tenants, list) else None)
        logger.info("weekly digests", extra=report)
        return {"job": "digest", **report}
    if job == "summary":
        from ripple import bootstrap
        from ripple.service.notifications import announce_summaries

        tenants = event.get("tenants")
        report = announce_summaries(bootstrap.services(), tenants if isinstance(tenants, list) else None)
        logger.info("daily program summaries", extra=report)
        return {"job": "summary", **report}
    logger.warning("unknown job", extra={"event": event})
    return {"status": "unknown_job"}

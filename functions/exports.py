"""ExportFunction: streams one CSV export (visits are not supported yet) into S3.

Invoked asynchronously by the API (``ripple.adapters.exports.invoke_export_function``) with
``{"op": "export", "tenant", "export_id"}``; the job record (kind, range in epoch ms, S3 key)
was written by ``POST /admin/exports``. Rows are read page by page and written through an S3
multipart upload of ~8 MB parts, so a million rows fit in the function's memory.
-> ``{"ok": true, "rows", "bytes", "parts"}`` or ``{"ok": false, "reason"}``
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from ripple.service.exports import run_export

logger = Logger(service="ripple-exports")

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event = event or {}
    if event.get("op") != "export" or not event.get("tenant") or not event.get("export_id"):
        return {"ok": False, "reason": "bad event"}
    result = run_export(str(event["tenant"]), str(event["export_id"]))
    logger.info("export finished", extra={"tenant": event["tenant"], "export_id": event["export_id"], **result})
    return result

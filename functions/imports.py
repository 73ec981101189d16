"""ImportFunction: applies one employee CSV import job (``ripple.service.imports.run_import``).

Invoked asynchronously by the API (``ripple.adapters.imports.invoke_import_function``) with
``{"op": "import", "tenant", "import_id"}``; the job and its plan were written by
``POST /admin/employees/import``. Each row goes through the ``upsert_employee`` use case;
progress is recorded chunk by chunk, so Lambda's retry of a crashed run (or
``POST /admin/employees/imports/{id}/resume``) continues where it stopped.
-> ``{"ok": true, "status", "processed", "failed"}`` or ``{"ok": false, "reason"}``
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from ripple import bootstrap
from ripple.service.imports import run_import

logger = Logger(service="ripple-imports")

__all__ = ["handler"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event = event or {}
    if event.get("op") != "import" or not event.get("tenant") or not event.get("import_id"):
        return {"ok": False, "reason": "bad event"}
    result = run_import(bootstrap.services(), str(event["tenant"]), str(event["import_id"]))
    logger.info("import finished", extra={"tenant": event["tenant"], "import_id": event["import_id"], **result})
    return result

"""The OpenAPI 3.1 document of the whole API, served at ``GET /openapi.json``.

Paths and methods come from the Chalice app's routes (so a new route can never be missing),
summaries from the views' docstrings; request and response bodies of the main endpoints from
the hand-maintained ``SCHEMAS`` and ``OPERATIONS`` tables below. Pure: no boto3, no app
import (the view passes ``app.routes`` in); built once per process and cached.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ripple.domain.analytics import BREAKDOWNS

__all__ = ["build_document", "document_json", "requires_auth"]

# A view is authenticated iff it (or a helper of its module it calls) names one of these;
# the same rule as tests/packaging/test_routes.py, read from code objects instead of source.
AUTH_CALLS = frozenset({"_principal", "authenticate"})


def _code_names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


def requires_auth(view: Any, _seen: set[int] | None = None) -> bool:
    """Whether calling ``view`` authenticates the caller (helpers of its module followed)."""
    fn = getattr(view, "__wrapped__", view)
    code = getattr(fn, "__code__", None)
    if code is None:
        return True  # unknown: never advertise an operation as public by mistake
    seen = _seen if _seen is not None else set()
    if id(code) in seen:
        return False
    seen.add(id(code))
    names = _code_names(code)
    if names & AUTH_CALLS:
        return True
    module = getattr(fn, "__module__", None)
    scope = getattr(fn, "__globals__", {})
    for name in names:
        helper = scope.get(name)
        local = callable(helper) and getattr(helper, "__module__", None) == module and hasattr(helper, "__code__")
        if local and requires_auth(helper, seen):
            return True
    return False


_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_TS: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_DAY: dict[str, Any] = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: Mapping[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": dict(props)}
    if required:
        out["required"] = list(required)
    return out


def _list_of(name: str, key: str = "items") -> dict[str, Any]:
    return _obj({key: {"type": "array", "items": _ref(name)}, "next": {"type": ["string", "null"]}}, (key,))


_METRICS: dict[str, Any] = {
    name: _INT
    for name in (
        "exposures",
        "visits",
        "page_views",
        "unique_visitors",
        "forwards",
        "leads",
        "conversions",
        "points",
    )
}
_SCOPE: dict[str, Any] = {
    "from": _DAY,
    "to": _DAY,
    "timezone": _STR,
    "campaign": {"type": ["string", "null"]},
    "employee": {"type": ["string", "null"]},
    "items_read": _INT,
}
_LEVELS = _obj({"light": _INT, "medium": _INT, "heavy": _INT}, ("light", "medium", "heavy"))
_ANALYTICS: dict[str, dict[str, Any]] = {
    "AnalyticsSummary": _obj(
        {
            **_SCOPE,
            "totals": _obj(_METRICS, tuple(_METRICS)),
            "depth": _obj({"1": _INT, "2": _INT, "3": _INT, "4+": _INT}),
            "funnel": {
                "type": "array",
                "items": _obj(
                    {
                        "stage": {"type": "string", "enum": ["exposure", "visit", "forward", "lead", "conversion"]},
                        "count": _INT,
                        "rate": {"type": ["number", "null"]},
                    },
                    ("stage", "count", "rate"),
                ),
            },
        },
        ("from", "to", "totals", "depth", "funnel", "items_read"),
    ),
    "AnalyticsTimeseries": _obj(
        {**_SCOPE, "days": {"type": "array", "items": _obj({"day": _DAY, **_METRICS}, ("day",))}},
        ("from", "to", "days", "items_read"),
    ),
    "AnalyticsBreakdown": _obj(
        {
            **_SCOPE,
            "by": {
                "type": "string",
                "enum": list(BREAKDOWNS),
            },
            "rows": {
                "type": "array",
                "items": _obj({"key": _STR, "name": _STR, "team": _STR, "region": _STR, **_METRICS}, ("key",)),
            },
            "total_rows": _INT,
        },
        ("by", "rows", "items_read"),
    ),
    "AnalyticsSegments": _obj(
        {
            "as_of": {"type": ["string", "null"]},
            "computed_at": {"type": ["integer", "null"]},
            "window_days": _INT,
            "medium": _INT,
            "heavy": _INT,
            "reach_days": _INT,
            "thresholds": _LEVELS,
            "segments": _LEVELS,
            "reach": _obj({"touched": _INT, "reachable": _INT}, ("touched", "reachable")),
            "employee": _STR,
            "employees": {
                "type": "array",
                "items": _obj(
                    {
                        "employee_id": _STR,
                        "touched": _INT,
                        "reachable": _INT,
                        "light": _INT,
                        "medium": _INT,
                        "heavy": _INT,
                    },
                    ("employee_id", "touched", "reachable"),
                ),
            },
            "items_read": _INT,
        },
        ("segments", "reach", "items_read"),
    ),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj(
        {
            "error": _obj(
                {"code": _STR, "message": _STR, "details": {"type": "object", "additionalProperties": True}},
                ("code", "message"),
            )
        },
        ("error",),
    ),
    "EmployeeInput": _obj({"name": _STR, "team": _STR, "region": _STR}, ("name", "team", "region")),
    "Employee": _obj(
        {"employee_id": _STR, "name": _STR, "team": _STR, "region": _STR, "active": _BOOL},
        ("employee_id", "name", "team", "region", "active"),
    ),
    "Tenant": _obj(
        {
            "tenant_id": _STR,
            "name": _STR,
            "timezone": _STR,
            "attribution": _obj({"mode": {"type": ["string", "null"]}, "days": {"type": ["integer", "null"]}}),
            "recycle_after_days": {"type": ["integer", "null"]},
            "phone_region": {"type": ["string", "null"]},
            "pool_claim_price": {"type": ["integer", "null"]},
            "segments": _obj({"window_days": _INT, "medium": _INT, "heavy": _INT, "reach_days": _INT}),
        },
        ("tenant_id", "timezone"),
    ),
    "Points": _obj({"unique_visit": _INT, "forward": _INT, "lead": _INT, "conversion": _INT}),
    "CampaignInput": _obj(
        {
            "name": _STR,
            "destination_url": {"type": "string", "format": "uri"},
            "points": _ref("Points"),
            "starts_at": _TS,
            "ends_at": _TS,
            "landing": {"type": ["object", "null"]},
        },
        ("name", "destination_url"),
    ),
    "Campaign": _obj(
        {
            "campaign_id": _STR,
            "name": _STR,
            "destination_url": _STR,
            "points": _ref("Points"),
            "rules": {"type": "object"},
            "starts_at": _TS,
            "ends_at": _TS,
            "created_at": _TS,
            "chain": _obj({"share_param": _STR, "max_depth": _INT}),
            "landing": {"type": ["object", "null"]},
        },
        ("campaign_id", "name", "destination_url"),
    ),
    "LinkInput": _obj({"channel": _STR}, ("channel",)),
    "Link": _obj(
        {"code": _STR, "short_url": _STR, "channel": _STR, "campaign_id": _STR, "employee_id": _STR},
        ("code", "short_url", "channel", "campaign_id", "employee_id"),
    ),
    "Me": _obj(
        {
            "employee_id": _STR,
            "name": _STR,
            "team": _STR,
            "region": _STR,
            "points": {"type": "object"},
            "timezone": _STR,
        },
        ("employee_id", "name", "points"),
    ),
    "Leaderboard": _obj(
        {
            "entries": {
                "type": "array",
                "items": _obj({"rank": _INT, "key": _STR, "name": _STR, "score": {"type": "number"}}),
            }
        },
        ("entries",),
    ),
    "LeadInput": _obj(
        {"code": _STR, "name": _STR, "phone": _STR, "email": _STR, "consent": _BOOL, "rp": _STR},
        ("code",),
    ),
    "Customer": _obj(
        {
            "customer_id": _STR,
            "name": _STR,
            "phone": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "status": _STR,
            "tags": {"type": "array", "items": _STR},
            "owner": _STR,
            "created_at": _TS,
        },
        ("customer_id",),
    ),
    "CustomerList": _list_of("Customer"),
    "Reward": _obj(
        {"reward_id": _STR, "name": _STR, "price": _INT, "stock": {"type": ["integer", "null"]}, "active": _BOOL},
        ("reward_id", "price"),
    ),
    "RewardList": _list_of("Reward"),
    "Redemption": _obj(
        {"redemption_id": _STR, "reward_id": _STR, "employee_id": _STR, "points": _INT, "status": _STR},
        ("redemption_id", "status"),
    ),
    "LedgerEntry": _obj(
        {"source_key": _STR, "kind": _STR, "points": _INT, "ts": _TS, "campaign_id": _STR, "status": _STR}
    ),
    "Ledger": _list_of("LedgerEntry"),
    "TaskInput": _obj(
        {"title": _STR, "campaign_id": _STR, "starts_at": _TS, "ends_at": _TS, "targets": {"type": "object"}},
        ("title",),
    ),
    "Task": _obj({"task_id": _STR, "title": _STR, "status": _STR, "progress": {"type": "object"}}, ("task_id",)),
    "PosterTemplate": _obj(
        {
            "template_id": _STR,
            "version": _INT,
            "name": _STR,
            "canvas": _obj({"width": _INT, "height": _INT}),
            "text_boxes": {"type": "array", "items": {"type": "object"}},
            "qr": {"type": "object"},
        },
        ("name",),
    ),
    # web console and employee page lists
    "CampaignList": _obj(
        {"campaigns": {"type": "array", "items": _ref("Campaign")}, "next_cursor": {"type": ["string", "null"]}},
        ("campaigns",),
    ),
    "EmployeeList": _obj({"employees": {"type": "array", "items": _ref("Employee")}}, ("employees",)),
    "TaskList": _obj(
        {"tasks": {"type": "array", "items": _ref("Task")}, "next_cursor": {"type": ["string", "null"]}},
        ("tasks",),
    ),
    "LinkList": _obj({"links": {"type": "array", "items": _ref("Link")}}, ("links",)),
    "PosterLink": _obj({"url": {"type": "string", "format": "uri"}, "cached": _BOOL}, ("url", "cached")),
    "ExportInput": _obj(
        {"kind": {"type": "string", "enum": ["visits", "leads", "customers", "ledger"]}, "from": _DAY, "to": _DAY},
        ("kind", "from", "to"),
    ),
    "Export": _obj(
        {
            "export_id": _STR,
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "kind": _STR,
            "from": _DAY,
            "to": _DAY,
            "rows": {"type": ["integer", "null"]},
            "bytes": {"type": ["integer", "null"]},
            "url": {"type": ["string", "null"], "format": "uri"},
            "expires_in": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
        },
        ("export_id", "status"),
    ),
    **_ANALYTICS,
}

# (path, METHOD) -> (request schema or None, success status, response schema or None)
OPERATIONS: dict[tuple[str, str], tuple[str | None, int, str | None]] = {
    ("/admin/employees/{employee_id}", "PUT"): ("EmployeeInput", 200, "Employee"),
    ("/admin/campaigns", "POST"): ("CampaignInput", 201, "Campaign"),
    ("/admin/tenant", "GET"): (None, 200, "Tenant"),
    ("/admin/tenant", "PUT"): ("Tenant", 200, "Tenant"),
    ("/campaigns/{campaign_id}", "GET"): (None, 200, "Campaign"),
    ("/campaigns/{campaign_id}/links", "POST"): ("LinkInput", 201, "Link"),
    ("/me", "GET"): (None, 200, "Me"),
    ("/me/ledger", "GET"): (None, 200, "Ledger"),
    ("/admin/employees/{employee_id}/ledger", "GET"): (None, 200, "Ledger"),
    ("/leaderboards", "GET"): (None, 200, "Leaderboard"),
    ("/leads", "POST"): ("LeadInput", 201, None),
    ("/customers", "GET"): (None, 200, "CustomerList"),
    ("/customers/{customer_id}", "GET"): (None, 200, "Customer"),
    ("/customers/{customer_id}", "PATCH"): ("Customer", 200, "Customer"),
    ("/rewards", "GET"): (None, 200, "RewardList"),
    ("/admin/rewards", "POST"): ("Reward", 201, "Reward"),
    ("/rewards/{reward_id}/redeem", "POST"): (None, 201, "Redemption"),
    ("/admin/tasks", "POST"): ("TaskInput", 201, "Task"),
    ("/admin/tasks/{task_id}", "GET"): (None, 200, "Task"),
    ("/me/tasks/{task_id}", "GET"): (None, 200, "Task"),
    ("/admin/poster-templates", "POST"): ("PosterTemplate", 201, "PosterTemplate"),
    ("/admin/poster-templates/{template_id}", "GET"): (None, 200, "PosterTemplate"),
    ("/admin/poster-templates/{template_id}", "PUT"): ("PosterTemplate", 200, "PosterTemplate"),
    ("/admin/exports", "POST"): ("ExportInput", 201, "Export"),
    ("/admin/exports/{export_id}", "GET"): (None, 200, "Export"),
    ("/analytics/summary", "GET"): (None, 200, "AnalyticsSummary"),
    ("/analytics/timeseries", "GET"): (None, 200, "AnalyticsTimeseries"),
    ("/analytics/breakdown", "GET"): (None, 200, "AnalyticsBreakdown"),
    ("/analytics/segments", "GET"): (None, 200, "AnalyticsSegments"),
    ("/campaigns", "GET"): (None, 200, "CampaignList"),
    ("/admin/employees", "GET"): (None, 200, "EmployeeList"),
    ("/admin/tasks", "GET"): (None, 200, "TaskList"),
    ("/me/links", "GET"): (None, 200, "LinkList"),
    ("/me/posters/{campaign_id}", "GET"): (None, 200, "PosterLink"),
}

_REDIRECTS = {"/{code}", "/s/{token}", "/campaigns/{campaign_id}/poster"}
_HTML = {"/p/{code}", "/console", "/m"}
_STATIC = {"/assets/{name}"}
_PARAM = re.compile(r"{([^}/]+)}")


def _summary(view: Any, method: str, path: str) -> tuple[str, str]:
    doc = (getattr(view, "__doc__", None) or "").strip()
    if not doc:
        return f"{method} {path}", ""
    lines = [line.strip() for line in doc.splitlines()]
    first = " ".join(lines[: lines.index("")] if "" in lines else lines)
    return first[:200], " ".join(line for line in lines if line)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _operation(path: str, method: str, view: Any, content_types: list[str]) -> dict[str, Any]:
    summary, description = _summary(view, method, path)
    name = str(getattr(view, "__name__", "") or f"{method.lower()}_{path}")
    op: dict[str, Any] = {"operationId": f"{name}_{method.lower()}", "summary": summary}
    if description and description != summary:
        op["description"] = description
    params = [{"name": p, "in": "path", "required": True, "schema": _STR} for p in _PARAM.findall(path)]
    if params:
        op["parameters"] = params
    request, status, response = OPERATIONS.get((path, method), (None, 200, None))
    if request is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(request)}}}
    elif method in ("POST", "PUT", "PATCH"):
        types = [t for t in content_types if t != "application/json"] or ["application/json"]
        op["requestBody"] = {"required": False, "content": {t: {"schema": {}} for t in types}}
    responses: dict[str, Any] = {}
    if path in _REDIRECTS:
        responses["302"] = {"description": "Redirect", "headers": {"Location": {"schema": _STR}}}
    elif path in _HTML:
        responses["200"] = {"description": "HTML page", "content": {"text/html": {"schema": _STR}}}
    elif path in _STATIC:
        assets = ("text/javascript", "text/css", "application/json", "image/svg+xml")
        responses["200"] = {"description": "Static asset", "content": {t: {"schema": _STR} for t in assets}}
    elif method in ("OPTIONS", "HEAD"):
        responses["200"] = {"description": "OK"}
    else:
        schema = _ref(response) if response else {"type": "object"}
        responses[str(status)] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    responses["4XX"] = _error("Client error")
    responses["5XX"] = _error("Server error")
    op["responses"] = responses
    if not requires_auth(view):
        op["security"] = []
    tag = path.strip("/").split("/", 1)[0] or "redirect"
    op["tags"] = ["redirect" if tag.startswith("{") or tag in ("s", "p") else tag]
    return op


def build_document(routes: Mapping[str, Mapping[str, Any]], version: str = "1.0.0") -> dict[str, Any]:
    """``routes`` is ``app.routes`` of a Chalice app: path -> method -> RouteEntry."""
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(routes):
        for method in sorted(routes[path]):
            entry = routes[path][method]
            view = getattr(entry, "view_function", None)
            content_types = list(getattr(entry, "content_types", None) or [])
            paths.setdefault(path, {})[method.lower()] = _operation(path, method.upper(), view, content_types)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ripple API",
            "version": version,
            "description": "All-staff marketing: tracked links, redirects, points, leaderboards, "
            "customers, rewards, tasks, posters and exports. Bearer JWT on every non-public route.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": SCHEMAS,
        },
    }


_cached: str | None = None


def document_json(routes: Mapping[str, Mapping[str, Any]]) -> str:
    """The serialized document, built on the first call of the process."""
    global _cached
    if _cached is None:
        _cached = json.dumps(build_document(routes), ensure_ascii=False, separators=(",", ":"))
    return _cached

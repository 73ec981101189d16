"""Chalice behind an API Gateway **HTTP API** (payload format 1.0) with a few coarse routes.

Why: Chalice dispatches on ``requestContext.resourcePath``, which must be one of its own route
templates (``/campaigns/{campaign_id}/links``). A REST API with one API Gateway route per
Chalice route gives exactly that, but SAM then adds one ``AWS::Lambda::Permission`` per route
and the function's resource policy outgrows Lambda's 20 KB limit (issue 10). template.yaml
therefore routes the HTTP API by *prefix* (``ANY /admin/{proxy+}`` behind the JWT
authorizer, ``$default`` public) with a single wildcard permission, and this module turns
such an event back into the one Chalice expects: it matches the concrete path against the
app's route templates (literal segments beat ``{params}``, as API Gateway ranks them) and
fills in ``resource``, ``requestContext.resourcePath`` and ``pathParameters``.

Events that already name a Chalice route (the REST-shaped events of Chalice's local server,
tests, a REST API) pass through untouched. A path no Chalice route matches gets a JSON 404,
never Chalice's ``KeyError`` 500.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Container, Iterable
from typing import Any
from urllib.parse import unquote

from chalice.app import Chalice

__all__ = ["HttpApiChalice", "RouteTable", "framework_errors_in_api_shape", "route_event"]


class RouteTable:
    """Chalice route templates, matched against concrete paths (pure, no I/O)."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._exact: set[str] = set()
        by_length: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
        for template in templates:
            segments = tuple(template.strip("/").split("/")) if template != "/" else ()
            if not any(_is_param(s) for s in segments):
                self._exact.add(template)
            by_length.setdefault(len(segments), []).append((template, segments))
        # literal segments before parameters, position by position: "/me/links" beats "/{code}/x"
        self._by_length = {
            n: sorted(entries, key=lambda e: tuple(_is_param(s) for s in e[1])) for n, entries in by_length.items()
        }

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """``(template, path parameters)`` for ``path``, or None when no route has that shape."""
        if path in self._exact:
            return path, {}
        parts = tuple(path.strip("/").split("/")) if path.strip("/") else ()
        for template, segments in self._by_length.get(len(parts), []):
            params: dict[str, str] = {}
            for seg, part in zip(segments, parts, strict=True):
                if _is_param(seg):
                    if not part:
                        break
                    params[seg[1:-1]] = unquote(part)
                elif seg != part:
                    break
            else:
                return template, params
        return None


def _is_param(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def route_event(event: dict[str, Any], table: RouteTable, known: Container[str]) -> dict[str, Any] | None:
    """The event as Chalice needs it, or None when no Chalice route matches its path."""
    context = event.get("requestContext") or {}
    if str(context.get("resourcePath")) in known:
        return event
    path = event.get("path") or context.get("path") or "/"
    found = table.match(path)
    if found is None:
        return None
    template, params = found
    return {
        **event,
        "resource": template,
        "pathParameters": params or None,
        "requestContext": {**context, "resourcePath": template},
    }


class HttpApiChalice(Chalice):
    """``Chalice`` whose handler also accepts HTTP API events routed by prefix (see module doc)."""

    _route_table: RouteTable | None = None
    # Chalice keeps the request being handled in one attribute of the app. Lambda hands a
    # process one event at a time, but a threaded host (chalice.test's gateway under the
    # concurrency tests) would let one request read another's headers and body, so the
    # request is kept per thread, as `chalice local`'s LocalChalice does.
    _requests = threading.local()

    @property
    def current_request(self) -> Any:
        return getattr(self._requests, "current", None)

    @current_request.setter
    def current_request(self, value: Any) -> None:
        self._requests.current = value

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        if self._route_table is None:  # routes are all registered by the time the first event arrives
            self._route_table = RouteTable(self.routes)
        routed = route_event(event, self._route_table, self.routes) if isinstance(event, dict) else None
        if routed is None:
            body = {"error": {"code": "not_found", "message": "no such route"}}
            return {
                "statusCode": 404,
                "headers": {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
                "multiValueHeaders": {},
                "body": json.dumps(body, separators=(",", ":")),
                "isBase64Encoded": False,
            }
        return framework_errors_in_api_shape(super().__call__(routed, context))


def _snake(code: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", code.removesuffix("Error")).lower()
    return words or "error"


def framework_errors_in_api_shape(response: dict[str, Any]) -> dict[str, Any]:
    """Chalice's own refusals (415 for a media type a route does not take, 405, 400 for a
    body it cannot decode) answer ``{"Code", "Message"}``; every error of the API, and of
    its OpenAPI document, is ``{"error": {"code", "message"}}``, so they are rewritten."""
    if int(response.get("statusCode") or 0) < 400 or response.get("isBase64Encoded"):
        return response
    try:
        body = json.loads(response.get("body") or "")
    except (TypeError, ValueError):
        return response
    if not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    shaped = {"error": {"code": _snake(str(body["Code"])), "message": str(body["Message"])}}
    headers = {**(response.get("headers") or {}), "Content-Type": "application/json; charset=utf-8"}
    return {**response, "headers": headers, "body": json.dumps(shaped, separators=(",", ":"))}

"""The one route decorator of the API, and what every view reads from the request.

Why one decorator: each of the API's views used to repeat the same five steps (error mapping,
``_principal()``, the services, the use case, ``json_response``). ``Area.route`` declares them
instead: who may call the route (``auth``, and for admin screens ``role``), the status of a
successful answer, and whether domain errors are mapped to JSON (the visitor pages and SCIM map
their own). The view receives the verified :class:`~ripple.service.auth.Principal` first and
returns either a JSON-able value or a finished ``Response``.

The declaration is data (:class:`RouteSpec` on the registered handler, read by
:func:`route_spec`): the OpenAPI document and the packaging tests read it instead of inferring
auth from code. Nothing here imports a use case or an adapter; views import theirs lazily, so
the redirect's cold start pays only for this module, Chalice and ``ripple.http``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Chalice, Request, Response

from ripple import bootstrap
from ripple.domain.validation import parse_json_body
from ripple.http import VISITOR_COOKIE, authenticate, cookies, handle_errors, json_response
from ripple.service.auth import Principal, require_role

if TYPE_CHECKING:
    from ripple.domain.model import Role

__all__ = [
    "CSV_TYPES",
    "Area",
    "Auth",
    "RouteSpec",
    "client_ip",
    "current_app",
    "current_request",
    "json_body",
    "poster_deps",
    "principal",
    "public_base",
    "query_params",
    "raw_bytes",
    "route_spec",
]

# what browsers and curl send a .csv as (Windows reports application/vnd.ms-excel)
CSV_TYPES = ["text/csv", "application/vnd.ms-excel"]


class Auth(enum.Enum):
    """Who may call a route; the HTTP API's JWT authorizer sits exactly in front of ``USER``."""

    PUBLIC = "public"  # anyone (the view may still recognise a signed-in viewer)
    USER = "user"  # a verified Cognito ID token of an active employee or admin
    SCIM = "scim"  # the tenant's SCIM bearer token, checked by the SCIM views


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """What a route declares (read by the OpenAPI document and the packaging tests)."""

    path: str
    methods: tuple[str, ...]
    auth: Auth
    role: Role | None
    status: int
    errors: bool
    area: str


_SPEC_ATTR = "ripple_route"
_app: Chalice | None = None


def route_spec(view: Any) -> RouteSpec | None:
    """The declaration of a registered view (a Chalice ``RouteEntry.view_function``)."""
    spec = getattr(view, _SPEC_ATTR, None)
    return spec if isinstance(spec, RouteSpec) else None


class Area:
    """One area of the API (a Chalice Blueprint): ``@area.route(path, methods=[...], auth=...)``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.blueprint = Blueprint(f"ripple.api.{name}")

    def route(
        self,
        path: str,
        *,
        methods: Sequence[str],
        auth: Auth,
        role: Role | None = None,
        status: int = 200,
        errors: bool = True,
        content_types: Sequence[str] | None = None,
        cors: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if role is not None and auth is not Auth.USER:
            raise ValueError(f"{path}: a role needs auth=Auth.USER")
        spec = RouteSpec(path, tuple(methods), auth, role, status, errors, self.name)

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(fn)
            def view(**params: Any) -> Response:
                if auth is Auth.USER:
                    caller = principal()
                    if role is not None:
                        require_role(caller, role)
                    result = fn(caller, **params)
                else:
                    result = fn(**params)
                return result if isinstance(result, Response) else json_response(result, status)

            handler = handle_errors(view) if errors else view
            setattr(handler, _SPEC_ATTR, spec)
            options: dict[str, Any] = {"methods": list(methods)}
            if content_types is not None:
                options["content_types"] = list(content_types)
            if cors:
                options["cors"] = True
            self.blueprint.route(path, **options)(handler)
            return fn

        return decorate


def bind(app: Chalice) -> None:
    """Remember the app the areas are registered to (for the request of the current call)."""
    global _app
    _app = app


def current_app() -> Chalice:
    assert _app is not None, "ripple.api.register_areas(app) was not called"
    return _app


def current_request() -> Request:
    request = current_app().current_request
    assert request is not None  # Chalice sets it for every routed call
    current: Request = request
    return current


def principal() -> Principal:
    """The verified caller. Offboarded employees (and Cognito users replaced by another for
    the same employee id) are refused even while their token has not expired yet: one
    cached read of the employee record (the API path, never the redirect)."""
    from ripple.domain.model import Role
    from ripple.service.accounts import check_account

    request = current_request()
    caller = authenticate(request, bootstrap.verifier())
    svc = bootstrap.services()
    check_account(svc, caller)
    if caller.role is Role.EMPLOYEE:
        cookie = cookies(request).get(VISITOR_COOKIE)
        if cookie and svc.fraud is not None:
            from ripple.service.ledger import remember_device

            remember_device(svc, caller, cookie)  # their phone, for the anti-fraud rules
    return caller


def json_body() -> dict[str, Any]:
    return parse_json_body(current_request().raw_body)


def raw_bytes() -> bytes:
    """The body as bytes (Chalice hands text bodies over as ``str``)."""
    raw = current_request().raw_body
    return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")


def query_params() -> dict[str, str]:
    return dict(current_request().query_params or {})


def public_base(configured: str) -> str:
    """Base of short links: ``PublicBaseUrl``, else the API's own ``https://{domain}[/{stage}]``
    (template.yaml cannot pass that in: it would make the function depend on its own API)."""
    if configured:
        return configured
    ctx = current_request().context or {}
    stage = ctx.get("stage", "")
    stage = "" if stage == "$default" else stage  # the HTTP API's default stage has no path prefix
    return f"https://{ctx.get('domainName', '')}/{stage}".rstrip("/")


def client_ip() -> str:
    identity = (current_request().context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "")


def poster_deps() -> Any:
    """Materials, templates and the poster renderer's queue (ripple.service.posters)."""
    from ripple.service.posters import default_deps

    return default_deps()

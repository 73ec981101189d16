"""HTTP plumbing shared by the Chalice entry point: JSON responses, errors, auth, cookies.

Nothing here knows business rules; it turns requests into plain values and domain errors
into clear JSON errors, so no client input can end as a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from functools import wraps
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

from chalice.app import Request, Response

from ripple.domain.errors import AuthenticationError, RippleError
from ripple.service.auth import Principal

__all__ = [
    "SESSION_COOKIE",
    "VISITOR_COOKIE",
    "authenticate",
    "cookies",
    "error_response",
    "handle_errors",
    "json_response",
    "optional_viewer",
]

VISITOR_COOKIE = "rp_vid"
SESSION_COOKIE = "rp_session"
_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
log = logging.getLogger("ripple.http")

F = TypeVar("F", bound=Callable[..., Response])


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={**_JSON_HEADERS, **(headers or {})},
    )


def error_response(err: RippleError, request: Request | None = None) -> Response:
    headers: dict[str, str] = {}
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="ripple"'
    retry_after = getattr(err, "retry_after", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return json_response(err.to_dict(), err.status, headers)


def handle_errors(fn: F) -> F:
    """Map domain errors to JSON; log and hide anything unexpected as a 500 (our bug)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except RippleError as err:
            return error_response(err)
        except Exception:
            log.exception("unhandled error in %s", fn.__name__)
            return json_response({"error": {"code": "internal", "message": "internal error"}}, 500)

    return wrapper  # type: ignore[return-value]


def cookies(request: Request) -> dict[str, str]:
    raw = request.headers.get("cookie") or ""
    if not raw or len(raw) > 8192:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization header must be 'Bearer <token>'")
    return token.strip()


def _authorizer_claims(request: Request) -> Mapping[str, Any] | None:
    authorizer = (request.context or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    return claims if isinstance(claims, Mapping) else None


def authenticate(request: Request, *, secret: str, mode: str) -> Principal:
    """The caller's principal, or 401. On AWS, API Gateway's Cognito authorizer has
    already verified the token and we read its claims; locally we verify HS256."""
    from ripple.adapters.auth import principal_from_claims, verify_token

    if mode == "cognito":
        claims = _authorizer_claims(request)
        if claims is None:
            raise AuthenticationError("missing bearer token")
        return principal_from_claims(claims)
    token = _bearer(request)
    if token is None:
        raise AuthenticationError("missing bearer token")
    return verify_token(token, secret)


def optional_viewer(request: Request, jar: Mapping[str, str], *, secret: str) -> Principal | None:
    """Who is clicking, if they told us: the bearer token or the signed session cookie.

    Used only to recognise an employee clicking their own link; never an error.
    """
    from ripple.adapters.auth import verify_token

    candidates: list[str] = []
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        candidates.append(header[7:].strip())
    if jar.get(SESSION_COOKIE):
        candidates.append(jar[SESSION_COOKIE])
    for token in candidates:
        try:
            return verify_token(token, secret)
        except RippleError:
            continue
    return None

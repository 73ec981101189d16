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
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import Request, Response

from ripple.domain.errors import AuthenticationError, RippleError
from ripple.service.auth import Principal

if TYPE_CHECKING:
    from ripple.service.ports import TokenVerifier

__all__ = [
    "SESSION_COOKIE",
    "VISITOR_COOKIE",
    "authenticate",
    "cookies",
    "error_response",
    "etag_response",
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


def etag_response(request: Request, body: Any) -> Response:
    """A JSON answer with a strong ``ETag`` (a hash of the body), or an empty 304 when the
    caller's ``If-None-Match`` names it: the pages' fallback poll (when their WebSocket is
    down) then costs a few hundred bytes instead of the whole document. ``no-cache``: the
    browser keeps it but must ask again, sending ``If-None-Match`` itself (``Vary``: per token)."""
    import hashlib

    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    tag = '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'
    headers: dict[str, str | list[str]] = {
        **_JSON_HEADERS,
        "Cache-Control": "private, no-cache",
        "ETag": tag,
        "Vary": "Authorization",
    }
    wanted = {t.strip().removeprefix("W/") for t in (request.headers.get("if-none-match") or "").split(",")}
    if tag in wanted or "*" in wanted:
        return Response(body="", status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    return Response(body=text, status_code=200, headers=headers)


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
    return str(token).strip()


def authenticate(request: Request, verifier: TokenVerifier) -> Principal:
    """The caller's principal, or 401: the bearer ID token verified against the user pool's
    JWKS, the same way locally and on AWS (API Gateway's authorizer is only a first gate)."""
    token = _bearer(request)
    if token is None:
        raise AuthenticationError("missing bearer token")
    return verifier.verify(token)


def optional_viewer(
    request: Request, jar: Mapping[str, str], verifier: Callable[[], TokenVerifier]
) -> Principal | None:
    """Who is clicking, if they told us: the bearer token or the signed session cookie.

    Used only to recognise an employee clicking their own link; never an error. Costs
    nothing unless the click carries a token (browsers opening a link send none).
    """
    candidates: list[str] = []
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        candidates.append(header[7:].strip())
    if jar.get(SESSION_COOKIE):
        candidates.append(jar[SESSION_COOKIE])
    for token in candidates:
        try:
            return verifier().verify(token)  # built (and jwt imported) only when a token came
        except RippleError:
            continue
    return None

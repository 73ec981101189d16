"""Bearer tokens: Cognito ID tokens, verified here against the user pool's JWKS.

One code path locally and on AWS: the signature (RS256 only, key from the pool's
``/.well-known/jwks.json``, cached), ``iss`` (the pool), ``aud`` (our app client), ``exp`` and
``token_use == "id"``. On AWS API Gateway's Cognito authorizer is a first gate in front of the
function, never the only one. Locally moto's Cognito issues and signs the tokens.

Claims come from attributes a user cannot write: ``custom:tenant`` and ``custom:employee_id``
are immutable and missing from the app client's ``WriteAttributes``; the role is membership of
the pool's ``admin`` group, which only an IAM principal can change.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt

from ripple.domain.errors import AuthenticationError, RippleError
from ripple.domain.model import Role
from ripple.domain.validation import check_id, check_tenant_id
from ripple.service.ports import Principal

__all__ = ["ADMIN_GROUP", "JwksCache", "TokenVerifier", "principal_from_claims"]

ADMIN_GROUP = "admin"
MAX_TOKEN_BYTES = 4096
log = logging.getLogger("ripple.auth")


def _fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=3) as resp:
        return json.loads(resp.read())


class JwksCache:
    """The pool's public keys by ``kid``, fetched once per ``ttl`` seconds. An unknown ``kid``
    (Cognito rotated its keys) refetches at most once per ``min_refetch`` seconds, so tokens
    with invented kids cannot turn into a stream of requests to Cognito."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 3600.0,
        min_refetch: float = 60.0,
        fetch: Callable[[str], Any] = _fetch_json,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()
        self.fetches = 0

    def _refresh(self) -> None:
        document = self._fetch(self.url)
        keys: dict[str, jwt.PyJWK] = {}
        for raw in document.get("keys", []) if isinstance(document, dict) else []:
            if isinstance(raw, dict) and raw.get("kty") == "RSA" and isinstance(raw.get("kid"), str):
                keys[raw["kid"]] = jwt.PyJWK(raw, algorithm="RS256")
        self._keys = keys
        self._fetched_at = time.monotonic()
        self.fetches += 1

    def key(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        key = self._keys.get(kid)
        if key is not None and now - self._fetched_at < self.ttl:
            return key
        with self._lock:
            stale = now - self._fetched_at >= self.ttl
            if stale or (kid not in self._keys and now - self._fetched_at >= self.min_refetch):
                self._refresh()
            return self._keys.get(kid)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Map verified ID-token claims to a principal; every claim must be one an admin set."""
    subject = claims.get("sub")
    tenant = claims.get("custom:tenant")
    employee_id = claims.get("custom:employee_id")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("token lacks the sub claim")
    if not isinstance(tenant, str) or not isinstance(employee_id, str):
        raise AuthenticationError("this user belongs to no tenant (custom:tenant, custom:employee_id)")
    try:
        check_tenant_id(tenant)
        check_id(employee_id, "employee_id")
    except RippleError as exc:
        raise AuthenticationError("token has a malformed tenant or employee id") from exc
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):  # API Gateway flattens lists into strings
        groups = groups.strip("[]").replace(",", " ").split()
    role = Role.ADMIN if isinstance(groups, list) and ADMIN_GROUP in groups else Role.EMPLOYEE
    return Principal(tenant_id=tenant, sub=employee_id, role=role, subject=subject)


class TokenVerifier:
    """Verifies the pool's ID tokens; one per process (``bootstrap.verifier()``)."""

    def __init__(self, *, issuer: str, client_id: str, jwks: JwksCache, leeway: int = 0) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway

    def claims(self, token: str) -> dict[str, Any]:
        if not token or len(token) > MAX_TOKEN_BYTES:
            raise AuthenticationError("missing or oversized bearer token")
        if not self.client_id:
            raise AuthenticationError("no user pool is configured")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError("invalid token") from exc
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise AuthenticationError("invalid token: only RS256 tokens of the user pool are accepted")
        key = self.jwks.key(header["kid"])
        if key is None:
            raise AuthenticationError("invalid token: unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("invalid token") from exc
        if claims.get("token_use") != "id":
            raise AuthenticationError("an ID token is required (token_use must be id)")
        return claims

    def verify(self, token: str) -> Principal:
        return principal_from_claims(self.claims(token))

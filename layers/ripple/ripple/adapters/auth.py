"""Bearer tokens.

Locally (and in tests) tokens are HS256 JWTs signed with ``RIPPLE_JWT_SECRET``. On AWS the
API Gateway Cognito authorizer verifies the token and hands us its claims; both paths end
in the same ``Principal``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

from ripple.domain.errors import AuthenticationError
from ripple.domain.model import Role
from ripple.service.auth import Principal

__all__ = ["issue_token", "principal_from_claims", "verify_token"]

_ISSUER = "ripple-local"


def issue_token(secret: str, *, tenant: str, sub: str, role: str, ttl_seconds: int = 12 * 3600) -> str:
    now = int(time.time())
    claims = {"sub": sub, "tenant": tenant, "role": role, "iat": now, "exp": now + ttl_seconds, "iss": _ISSUER}
    return jwt.encode(claims, secret, algorithm="HS256")


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Map verified claims to a principal; Cognito's ``custom:`` prefix is accepted."""
    sub = claims.get("sub")
    tenant = claims.get("tenant", claims.get("custom:tenant"))
    role = claims.get("role", claims.get("custom:role"))
    if not isinstance(sub, str) or not sub or not isinstance(tenant, str) or not tenant:
        raise AuthenticationError("token lacks the sub or tenant claim")
    try:
        parsed_role = Role(role)
    except ValueError as exc:
        raise AuthenticationError("token has no valid role claim") from exc
    return Principal(tenant_id=tenant, sub=sub, role=parsed_role)


def verify_token(token: str, secret: str) -> Principal:
    if not token or len(token) > 4096:
        raise AuthenticationError("missing or oversized bearer token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
            issuer=_ISSUER,
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationError("invalid token") from exc
    return principal_from_claims(claims)

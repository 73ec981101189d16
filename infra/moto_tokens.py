"""ID tokens signed with the key moto's Cognito signs with (the one its
``/.well-known/jwks.json`` publishes), for the user pool and client the code under test is
configured with: what tests and benchmarks use when they only need *a* tenant admin or
employee. The API verifies them exactly like the tokens Cognito hands out on AWS (signature
against the pool's JWKS, issuer, audience, ``token_use``, expiry); they are worthless against
any real pool. Tests about signing in use real moto Cognito sign-ins instead."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

__all__ = ["id_token", "moto_private_key", "subject_of"]


def moto_private_key() -> Any:
    import jwt
    from moto.utilities.utils import load_resource

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"), algorithm="RS256")


def subject_of(tenant: str, sub: str) -> str:
    """A stable Cognito-like ``sub`` (UUID) per tenant and employee id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ripple:{tenant}:{sub}"))


def id_token(
    tenant: str,
    sub: str,
    role: str,
    /,
    *,
    pool_id: str | None = None,
    client_id: str | None = None,
    region: str | None = None,
    ttl: int = 3600,
    **overrides: Any,
) -> str:
    import jwt

    pool_id = pool_id or os.environ["RIPPLE_USER_POOL_ID"]
    client_id = client_id or os.environ["RIPPLE_USER_POOL_CLIENT_ID"]
    region = region or os.environ.get("AWS_REGION", "us-east-1")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": f"https://cognito-idp.{region}.amazonaws.com/{pool_id}",
        "sub": subject_of(tenant, sub),
        "aud": client_id,
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "custom:tenant": tenant,
        "custom:employee_id": sub,
        "email": f"{sub}@{tenant}.example.com",
    }
    if role == "admin":
        claims["cognito:groups"] = ["admin"]
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    key = moto_private_key()
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "dummy"})

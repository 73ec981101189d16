"""Claims to principals, tenant ids, and the JWKS cache's refetch rules (no network: the
cache is given a fetch function that serves a key set and counts calls)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ripple.adapters.auth import JwksCache, TokenVerifier, principal_from_claims
from ripple.domain.errors import AuthenticationError, ValidationError
from ripple.domain.model import Role
from ripple.domain.validation import check_tenant_id

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Unit"


def _key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _key()


def _jwk(key: Any, kid: str) -> dict[str, Any]:
    return {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256"}


def _token(key: Any = KEY, kid: str = "k1", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": "client",
        "sub": "0b6c",
        "token_use": "id",
        "iat": now,
        "exp": now + 60,
        "custom:tenant": "acme",
        "custom:employee_id": "alice",
    }
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


class Served:
    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.calls = 0

    def __call__(self, url: str) -> Any:
        self.calls += 1
        return {"keys": self.keys}


def test_claims_map_to_the_admin_set_ids_and_the_group_role() -> None:
    base = {"sub": "uuid", "custom:tenant": "acme", "custom:employee_id": "alice"}
    p = principal_from_claims(base)
    assert (p.tenant_id, p.sub, p.role, p.subject) == ("acme", "alice", Role.EMPLOYEE, "uuid")
    assert principal_from_claims({**base, "cognito:groups": ["x", "admin"]}).role is Role.ADMIN
    assert principal_from_claims({**base, "cognito:groups": "[admin]"}).role is Role.ADMIN  # API Gateway's form
    for ignored in ({"role": "admin"}, {"custom:role": "admin"}, {"cognito:groups": ["admins"]}):
        assert principal_from_claims({**base, **ignored}).role is Role.EMPLOYEE
    for bad in ({"custom:tenant": None}, {"custom:employee_id": None}, {"custom:tenant": "a#b"}, {"sub": ""}):
        with pytest.raises(AuthenticationError):
            principal_from_claims({**base, **bad})


@pytest.mark.parametrize("good", ["acme", "e2e1234abcd", "a1", "big-co-2026", "x" * 32])
def test_tenant_ids_accepted(good: str) -> None:
    assert check_tenant_id(good) == good


@pytest.mark.parametrize("bad", ["", "a", "Acme", "a#b", "ac_me", "ac.me", "-acme", "acme-", "x" * 33, "\uff41c", 7])
def test_tenant_ids_refused(bad: Any) -> None:
    with pytest.raises(ValidationError):
        check_tenant_id(bad)


def test_keys_are_fetched_once_and_an_unknown_kid_refetches_at_most_once_a_minute() -> None:
    served = Served(_jwk(KEY, "k1"))
    verifier = TokenVerifier(issuer=ISSUER, client_id="client", jwks=JwksCache("u", fetch=served))
    for _ in range(3):
        assert verifier.verify(_token()).sub == "alice"
    assert served.calls == 1
    for _ in range(5):  # invented kids cannot become a request to Cognito each
        with pytest.raises(AuthenticationError):
            verifier.verify(_token(kid="nope"))
    assert served.calls == 1


def test_a_rotated_key_is_picked_up() -> None:
    new = _key()
    served = Served(_jwk(KEY, "k1"))
    cache = JwksCache("u", fetch=served, min_refetch=0.0)
    verifier = TokenVerifier(issuer=ISSUER, client_id="client", jwks=cache)
    verifier.verify(_token())
    served.keys.append(_jwk(new, "k2"))
    assert verifier.verify(_token(new, "k2")).sub == "alice"
    assert served.calls == 2


@pytest.mark.parametrize(
    "claims",
    [
        {"token_use": "access"},
        {"aud": "other"},
        {"iss": ISSUER + "x"},
        {"exp": int(time.time()) - 1},
        {"token_use": None},
        {"iat": None},
    ],
    ids=["access", "aud", "iss", "expired", "no-token-use", "no-iat"],
)
def test_claim_checks(claims: dict[str, Any]) -> None:
    verifier = TokenVerifier(issuer=ISSUER, client_id="client", jwks=JwksCache("u", fetch=Served(_jwk(KEY, "k1"))))
    with pytest.raises(AuthenticationError):
        verifier.verify(_token(**claims))


def test_another_key_under_the_same_kid_is_refused() -> None:
    verifier = TokenVerifier(issuer=ISSUER, client_id="client", jwks=JwksCache("u", fetch=Served(_jwk(KEY, "k1"))))
    with pytest.raises(AuthenticationError):
        verifier.verify(_token(_key(), "k1"))


def test_no_configured_client_admits_nobody() -> None:
    verifier = TokenVerifier(issuer=ISSUER, client_id="", jwks=JwksCache("u", fetch=Served(_jwk(KEY, "k1"))))
    with pytest.raises(AuthenticationError):
        verifier.verify(_token())

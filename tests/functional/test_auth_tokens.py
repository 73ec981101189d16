"""Only ID tokens of our user pool, for our app client, signed by the pool's key, unexpired,
naming a well-formed tenant and employee that an administrator set, get in. Everything else is
a 401 with the JSON error, and changes nothing."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.moto_tokens import id_token
from ripple.config import DEV_SECRET
from tests.functional.apihelpers import ADMIN, body_of, call


@pytest.fixture
def api(env: tuple[Any, Any]) -> Any:
    api = env[0]
    for emp in ("alice", "e0", "e1", "e2", "e3", "e4"):
        resp = call(api, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp, "team": "t", "region": "r"})
        assert resp.status_code == 200, resp.body
    return api


def _me(api: Any, token: str) -> Any:
    return call(api, "GET", "/me", {"Authorization": f"Bearer {token}"})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_pool_token_gets_in_and_names_the_admin_set_employee(api: Any) -> None:
    resp = _me(api, id_token("acme", "alice", "employee"))
    assert resp.status_code == 200, resp.body
    assert body_of(resp)["employee_id"] == "alice"


def _forged_with_another_key() -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = _claims(id_token("acme", "alice", "employee"))
    return jwt.encode(claims, other, algorithm="RS256", headers={"kid": "dummy"})


BAD_TOKENS: dict[str, Any] = {
    "forged signature (another key, the pool's kid)": _forged_with_another_key,
    "expired": lambda: id_token("acme", "alice", "employee", ttl=-60),
    "wrong audience (another app client)": lambda: id_token("acme", "alice", "employee", client_id="someotherclient"),
    "wrong issuer": lambda: id_token("acme", "alice", "employee", iss="https://evil.example.com/pool"),
    "another user pool of the same account": lambda: id_token(
        "acme", "alice", "employee", pool_id="us-east-1_AnotherPool"
    ),
    "access token instead of the ID token": lambda: id_token(
        "acme", "alice", "employee", token_use="access", aud=None, client_id=None
    ),
    "access token claims with an aud": lambda: id_token("acme", "alice", "employee", token_use="access"),
    "the old HS256 dev secret": lambda: jwt.encode(
        {"sub": "alice", "tenant": "acme", "role": "admin", "exp": int(time.time()) + 600, "iss": "ripple-local"},
        DEV_SECRET,
        algorithm="HS256",
    ),
    "HS256 keyed with the pool's public key": lambda: "x",  # replaced below
    "alg none": lambda: (
        _b64({"alg": "none", "kid": "dummy"}) + "." + _b64(_claims(id_token("acme", "alice", "admin"))) + "."
    ),
    "unknown kid": lambda: id_token("acme", "alice", "employee").replace(
        id_token("acme", "alice", "employee").split(".")[0], _b64({"alg": "RS256", "kid": "nope"}), 1
    ),
    "no tenant (a user no admin set up)": lambda: id_token("acme", "alice", "employee", **{"custom:tenant": None}),
    "no employee id": lambda: id_token("acme", "alice", "employee", **{"custom:employee_id": None}),
    "tenant with a key delimiter": lambda: id_token("ac#me", "alice", "employee"),
    "upper-case tenant": lambda: id_token("ACME", "alice", "employee"),
    "employee id with a key delimiter": lambda: id_token("acme", "al#ice", "employee"),
    "no exp": lambda: id_token("acme", "alice", "employee", exp=None),
    "garbage": lambda: "not.a.jwt",
    "oversized": lambda: "a" * 5000,
}


def _hs256_with_public_key() -> str:
    """The classic RS/HS confusion: HMAC keyed with the published public key."""
    import urllib.request

    with urllib.request.urlopen(os.environ["RIPPLE_JWKS_URL"]) as resp:
        public = resp.read()
    header = _b64({"alg": "HS256", "kid": "dummy", "typ": "JWT"})
    payload = _b64(_claims(id_token("acme", "alice", "admin")))
    import hashlib
    import hmac

    sig = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


BAD_TOKENS["HS256 keyed with the pool's public key"] = _hs256_with_public_key


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_get_401(api: Any, case: str) -> None:
    resp = _me(api, BAD_TOKENS[case]())
    assert resp.status_code == 401, (case, resp.body)
    assert body_of(resp)["error"]["code"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="ripple"'


def test_the_role_comes_from_the_admin_group_not_from_a_claim(api: Any) -> None:
    # a "role" or "custom:role" claim is ignored: only membership of the admin group counts
    token = id_token("acme", "mallory", "employee", role="admin", **{"custom:role": "admin"})
    resp = call(api, "GET", "/admin/employees", {"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403, resp.body
    admin = id_token("acme", "boss", "admin")
    assert call(api, "GET", "/admin/employees", {"Authorization": f"Bearer {admin}"}).status_code == 200


def test_an_offboarded_employee_is_refused_at_once(api: Any) -> None:
    token = id_token("acme", "alice", "employee")
    call(api, "PUT", "/admin/employees/bob", ADMIN, {"name": "B", "team": "t", "region": "r"})
    assert _me(api, token).status_code == 200
    assert call(api, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "bob"}).status_code == 200
    resp = _me(api, token)
    assert resp.status_code == 401
    assert "deactivated" in body_of(resp)["error"]["message"]


def test_the_jwks_is_fetched_once_per_process(api: Any) -> None:
    from ripple import bootstrap

    for n in range(5):
        assert _me(api, id_token("acme", f"e{n}", "employee")).status_code == 200
    assert bootstrap.verifier().jwks.fetches == 1  # the fixture's admin calls fetched it

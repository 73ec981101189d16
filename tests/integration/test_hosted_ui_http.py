"""The Hosted UI's authorization-code flow with PKCE over real HTTP against `ripple dev`'s
stand-in (infra/hosted_ui.py), password sign-in path: the app client's rules (registered
redirect URIs, code flow only, S256 challenge) hold, a code works once and only with its
verifier, and the ID token it yields is accepted by the API."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.integration.conftest import RunningStack
from tests.integration.test_identity_http import _cognito


@pytest.fixture(scope="module")
def hosted(local_stack: RunningStack) -> dict[str, str]:
    state = json.loads(local_stack.state_file.read_text())
    return {
        "url": state["hosted_ui"],
        "client_id": state["pool"]["client_id"],
        "pool_id": state["pool"]["user_pool_id"],
    }


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(hosted: dict[str, str], redirect: str, challenge: str, **extra: str) -> requests.Response:
    params = {
        "response_type": "code",
        "client_id": hosted["client_id"],
        "redirect_uri": redirect,
        "scope": "openid email profile",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return requests.get(hosted["url"] + "/oauth2/authorize", params=params, allow_redirects=False, timeout=10)


def _user(local_stack: RunningStack, hosted: dict[str, str]) -> tuple[str, str]:
    """An employee the admin added (their Cognito user made by the API), with a password."""
    from infra.moto_tokens import id_token

    email, password = f"hu-{secrets.token_hex(3)}@hosted.example.test", "hosted-passw0rd"
    admin = id_token("hosted-itest", "boss", "admin", pool_id=hosted["pool_id"], client_id=hosted["client_id"])
    body = {"name": "Hu", "team": "t", "region": "r", "email": email}
    resp = requests.put(
        local_stack.base + "/admin/employees/hu", json=body, headers={"Authorization": f"Bearer {admin}"}, timeout=10
    )
    assert resp.status_code == 200, resp.text
    _cognito(local_stack).admin_set_user_password(
        UserPoolId=hosted["pool_id"], Username=email, Password=password, Permanent=True
    )
    return email, password


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r"name='([a-z_]+)' value='([^']*)'", page))


def test_code_flow_with_pkce_signs_in_and_a_code_works_once(local_stack: RunningStack, hosted: dict[str, str]) -> None:
    email, password = _user(local_stack, hosted)
    redirect = local_stack.base + "/console"
    verifier, challenge = _pkce()
    page = _authorize(hosted, redirect, challenge)
    assert page.status_code == 200 and "signInFormPassword" in page.text
    form = {**_hidden(page.text), "username": email, "password": "wrong-passw0rd"}
    wrong = requests.post(hosted["url"] + "/login", data=form, allow_redirects=False, timeout=10)
    assert wrong.status_code == 200 and "Incorrect username or password." in wrong.text
    back = requests.post(
        hosted["url"] + "/login", data={**form, "password": password}, allow_redirects=False, timeout=10
    )
    assert back.status_code == 302
    location = urlsplit(back.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    token_form = {
        "grant_type": "authorization_code",
        "client_id": hosted["client_id"],
        "code": query["code"][0],
        "redirect_uri": redirect,
        "code_verifier": "not-the-verifier-" + "x" * 30,
    }
    # the wrong verifier spends the code (a stolen code is worth nothing without the verifier)
    refused = requests.post(hosted["url"] + "/oauth2/token", data=token_form, timeout=10)
    assert refused.status_code == 400 and refused.json() == {"error": "invalid_grant"}
    again = requests.post(
        hosted["url"] + "/login", data={**form, "password": password}, allow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(again.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        hosted["url"] + "/oauth2/token", data={**token_form, "code": code, "code_verifier": verifier}, timeout=10
    )
    assert tokens.status_code == 200, tokens.text
    body: dict[str, Any] = tokens.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"]
    me = requests.get(local_stack.base + "/me", headers={"Authorization": f"Bearer {body['id_token']}"}, timeout=10)
    assert me.status_code == 200 and me.json()["employee_id"] == "hu", me.text
    # and the refresh token is an ordinary one of the app client
    fresh = requests.post(local_stack.base + "/auth/refresh", json={"refresh_token": body["refresh_token"]}, timeout=10)
    assert fresh.status_code == 200 and fresh.json()["id_token"]
    replay = requests.post(
        hosted["url"] + "/oauth2/token", data={**token_form, "code": code, "code_verifier": verifier}, timeout=10
    )
    assert replay.status_code == 400 and replay.json() == {"error": "invalid_grant"}


def test_the_app_clients_rules(local_stack: RunningStack, hosted: dict[str, str]) -> None:
    _, challenge = _pkce()
    good = local_stack.base + "/m"
    # an unregistered redirect URI is an error page, never a redirect (no open redirector)
    for uri in ("https://evil.example/m", local_stack.base + "/m/x", local_stack.base + "/console?x=1"):
        resp = _authorize(hosted, uri, challenge)
        assert resp.status_code == 400 and "Location" not in resp.headers
    cases = [
        ({"response_type": "token"}, "unsupported_response_type"),  # no implicit flow
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"scope": "openid aws.cognito.signin.user.admin"}, "invalid_scope"),
        ({"identity_provider": "Elsewhere"}, "invalid_request"),
    ]
    for extra, error in cases:
        resp = _authorize(hosted, good, challenge, **extra)
        assert resp.status_code == 302, extra
        assert parse_qs(urlsplit(resp.headers["Location"]).query)["error"] == [error], extra
    bad_client = _authorize(hosted, good, challenge, client_id="someone-else")
    assert bad_client.status_code == 400
    logout = requests.get(
        hosted["url"] + "/logout",
        params={"client_id": hosted["client_id"], "logout_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 400

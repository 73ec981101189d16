"""Refresh tokens rotate (template.yaml's app client: RefreshTokenRotation): every refresh
returns a new refresh token and retires the one it was given after the client's grace period,
so a refresh token copied off a device stops working soon after its owner's next refresh.
Cognito's side is moto with ``infra.cognito_patches`` (moto 5.2 has no GetTokensFromRefreshToken)."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from infra import cognito_patches
from infra.cognito import load_template
from tests.functional.apihelpers import ADMIN, body_of, call

EMAIL = "alice@acme.example.test"
PASSWORD = "rotate-passw0rd"


@pytest.fixture
def signed_in(env: tuple[Any, Any]) -> tuple[Any, dict[str, Any]]:
    """The API and alice's tokens from a real sign-in through /auth/sign-in."""
    api = env[0]
    assert (
        call(api, "PUT", "/admin/employees/alice", ADMIN, {"name": "Alice", "team": "t", "region": "r"}).status_code
        == 200
    )
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool = os.environ["RIPPLE_USER_POOL_ID"]
    attributes = {"email": EMAIL, "custom:tenant": "acme", "custom:employee_id": "alice"}
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=EMAIL,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=EMAIL, Password=PASSWORD, Permanent=True)
    resp = call(api, "POST", "/auth/sign-in", None, {"email": EMAIL, "password": PASSWORD})
    assert resp.status_code == 200, resp.body
    return api, body_of(resp)


def _refresh(api: Any, token: str) -> Any:
    return call(api, "POST", "/auth/refresh", None, {"refresh_token": token})


def _grace_seconds() -> int:
    (client,) = [
        r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::Cognito::UserPoolClient"
    ]
    assert "ALLOW_REFRESH_TOKEN_AUTH" not in client["ExplicitAuthFlows"]  # a rotating client must not allow it
    assert client["RefreshTokenRotation"]["Feature"] == "ENABLED"
    return int(client["RefreshTokenRotation"]["RetryGracePeriodSeconds"])


def test_each_refresh_returns_a_new_refresh_token_and_the_old_one_dies_after_the_grace_period(
    signed_in: tuple[Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    api, tokens = signed_in
    grace = _grace_seconds()
    now = [1_000_000.0]
    monkeypatch.setattr(cognito_patches, "clock", lambda: now[0])
    first = tokens["refresh_token"]

    resp = _refresh(api, first)
    assert resp.status_code == 200, resp.body
    second = body_of(resp)["refresh_token"]
    assert second != first
    me = call(api, "GET", "/me", {"Authorization": f"Bearer {body_of(resp)['id_token']}"})
    assert me.status_code == 200 and body_of(me)["employee_id"] == "alice", me.body  # a real ID token of the pool

    # within the grace period the old one still works once more (a retry, a second tab)...
    now[0] += grace - 1
    assert _refresh(api, first).status_code == 200
    # ...and after it, never again; the newest one goes on working and rotating
    now[0] += 2
    resp = _refresh(api, first)
    assert resp.status_code == 401 and body_of(resp)["error"]["code"], resp.body
    resp = _refresh(api, second)
    assert resp.status_code == 200, resp.body
    third = body_of(resp)["refresh_token"]
    assert third not in (first, second)


def test_signing_out_revokes_the_current_refresh_token(signed_in: tuple[Any, dict[str, Any]]) -> None:
    api, tokens = signed_in
    current = body_of(_refresh(api, tokens["refresh_token"]))["refresh_token"]
    assert call(api, "POST", "/auth/sign-out", None, {"refresh_token": current}).status_code == 200
    assert _refresh(api, current).status_code == 401


def test_the_rotating_client_refuses_the_old_refresh_flow(signed_in: tuple[Any, dict[str, Any]]) -> None:
    """What an old client library would do (InitiateAuth REFRESH_TOKEN_AUTH) is refused, as
    Cognito refuses it on a client with rotation enabled."""
    from botocore.exceptions import ClientError

    _, tokens = signed_in
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    with pytest.raises(ClientError) as info:
        cognito.initiate_auth(
            ClientId=os.environ["RIPPLE_USER_POOL_CLIENT_ID"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["refresh_token"]},
        )
    assert info.value.response["Error"]["Code"] == "InvalidParameterException"

"""Federated sign-in (functions/pre_token.py, Cognito's PreTokenGeneration trigger): the
company's provider's user becomes the employee with their e-mail in the federation's tenant,
written into the ID token with the role as ``cognito:groups``; nobody else gets a token.
moto runs no triggers, so the handler is called with the event Cognito sends (V1, a SAML user
of provider "Entra") against moto in-process; the token the API then sees is minted with the
claims the handler answered and verified by the API like any other."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.functional.apihelpers import ADMIN, body_of, call, snapshot

FEDERATED_SUB = "0b5c2b4e-5f4e-4f8c-9d59-000000000001"


def _event(email: str, *, sub: str = FEDERATED_SUB, federated: bool = True, **attributes: str) -> dict[str, Any]:
    user = {"sub": sub, "email": email, "email_verified": "false", "name": "Kenji Sato", **attributes}
    if federated:
        user["identities"] = json.dumps(
            [{"userId": "kenji@corp.example", "providerName": "Entra", "providerType": "SAML", "primary": "true"}]
        )
        user["cognito:user_status"] = "EXTERNAL_PROVIDER"
    return {
        "version": "1",
        "triggerSource": "TokenGeneration_HostedAuth",
        "region": "us-east-1",
        "userPoolId": "us-east-1_x",
        "userName": f"Entra_{email}" if federated else sub,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client"},
        "request": {"userAttributes": user, "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": []}},
        "response": {"claimsOverrideDetails": None},
    }


@pytest.fixture
def trigger(env: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("RIPPLE_FEDERATION_TENANT", "acme")
    monkeypatch.setenv("RIPPLE_FEDERATION_CREATES_EMPLOYEES", "false")
    from functions import pre_token

    return pre_token.handler


def _token(result: dict[str, Any], sub: str = FEDERATED_SUB) -> dict[str, str]:
    """The ID token Cognito would issue with the trigger's answer (moto's signing key)."""
    from infra.moto_tokens import id_token

    claims = result["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]
    groups = result["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"]
    token = id_token(
        claims["custom:tenant"], claims["custom:employee_id"], "admin" if "admin" in groups else "employee", sub=sub
    )
    return {"Authorization": f"Bearer {token}"}


def test_a_password_user_passes_through_unchanged(trigger: Any) -> None:
    event = _event("kenji@corp.example", federated=False)
    assert trigger(copy.deepcopy(event), None) == event


def test_an_employee_the_admin_added_signs_in_with_the_company_account(env: tuple[Any, Any], trigger: Any) -> None:
    api = env[0]
    body = {"name": "Kenji", "team": "sales", "region": "jp", "email": "kenji@corp.example"}
    assert call(api, "PUT", "/admin/employees/kenji", ADMIN, body).status_code == 200
    result = trigger(_event("Kenji@Corp.Example"), None)
    details = result["response"]["claimsOverrideDetails"]
    assert details == {
        "claimsToAddOrOverride": {"custom:tenant": "acme", "custom:employee_id": "kenji"},
        "groupOverrideDetails": {"groupsToOverride": []},
    }
    me = call(api, "GET", "/me", _token(result))
    assert me.status_code == 200 and body_of(me)["employee_id"] == "kenji", me.body
    listed = {e["employee_id"]: e for e in body_of(call(api, "GET", "/admin/employees", ADMIN))["items"]}
    assert listed["kenji"]["status"] == "active" and listed["kenji"]["team"] == "sales"  # the record wins
    # the employee's sign-in is now the federated one: another user's token for kenji is refused
    other = call(api, "GET", "/me", _token(result, sub="0b5c2b4e-5f4e-4f8c-9d59-0000000000ff"))
    assert other.status_code == 401


def test_an_admin_gets_the_admin_group_from_the_record_not_the_provider(env: tuple[Any, Any], trigger: Any) -> None:
    api = env[0]
    body = {"name": "Boss", "team": "hq", "region": "jp", "email": "boss@corp.example", "role": "admin"}
    assert call(api, "PUT", "/admin/employees/boss2", ADMIN, body).status_code == 200
    result = trigger(_event("boss@corp.example", **{"custom:team": "admin"}), None)
    assert result["response"]["claimsOverrideDetails"]["groupOverrideDetails"] == {"groupsToOverride": ["admin"]}
    assert call(api, "GET", "/admin/employees", _token(result)).status_code == 200


@pytest.mark.parametrize(
    ("email", "why"),
    [("stranger@corp.example", "not an employee"), ("", "no usable e-mail"), ("not-an-address", "no usable e-mail")],
)
def test_nobody_else_gets_a_token_and_nothing_is_written(
    env: tuple[Any, Any], aws: Any, trigger: Any, email: str, why: str
) -> None:
    from ripple.domain.errors import AuthenticationError

    before = snapshot(aws)
    with pytest.raises(AuthenticationError, match=why):
        trigger(_event(email), None)
    assert snapshot(aws) == before


def test_an_offboarded_employee_is_refused(env: tuple[Any, Any], trigger: Any) -> None:
    from ripple.domain.errors import AuthenticationError

    api = env[0]
    body = {"name": "Leaver", "team": "t", "region": "r", "email": "leaver@corp.example"}
    assert call(api, "PUT", "/admin/employees/leaver", ADMIN, body).status_code == 200
    assert call(api, "POST", "/admin/employees/leaver/offboard", ADMIN, {"to": "pool"}).status_code == 200
    with pytest.raises(AuthenticationError, match="deactivated"):
        trigger(_event("leaver@corp.example"), None)


def test_with_just_in_time_creation_a_new_person_becomes_an_employee_once(
    env: tuple[Any, Any], trigger: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = env[0]
    monkeypatch.setenv("RIPPLE_FEDERATION_CREATES_EMPLOYEES", "true")
    event = _event("mei.tanaka@corp.example", **{"custom:team": "Sales Japan", "custom:region": "Kanto"})
    first = trigger(copy.deepcopy(event), None)
    claims = first["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]
    assert claims == {"custom:tenant": "acme", "custom:employee_id": "mei.tanaka"}
    assert first["response"]["claimsOverrideDetails"]["groupOverrideDetails"] == {"groupsToOverride": []}
    again = trigger(copy.deepcopy(event), None)  # the next sign-in (or a token refresh): the same employee
    assert again["response"]["claimsOverrideDetails"] == first["response"]["claimsOverrideDetails"]
    listed = [
        e
        for e in body_of(call(api, "GET", "/admin/employees", ADMIN))["items"]
        if e["email"] == event["request"]["userAttributes"]["email"]
    ]
    assert len(listed) == 1
    (mei,) = listed
    assert (mei["team"], mei["region"], mei["role"], mei["name"]) == ("Sales-Japan", "Kanto", "employee", "Kenji Sato")
    me = call(api, "GET", "/me", _token(first))
    assert me.status_code == 200 and body_of(me)["team"] == "Sales-Japan", me.body


def test_offboarding_a_federated_employee_refuses_their_next_token(env: tuple[Any, Any], trigger: Any) -> None:
    from ripple.domain.errors import AuthenticationError

    api = env[0]
    body = {"name": "Kenji", "team": "sales", "region": "jp", "email": "kenji@corp.example"}
    assert call(api, "PUT", "/admin/employees/kenji", ADMIN, body).status_code == 200
    headers = _token(trigger(_event("kenji@corp.example"), None))
    assert call(api, "GET", "/me", headers).status_code == 200
    # no local Cognito user to disable (the sub is the federated user's): still a clean 200
    resp = call(api, "POST", "/admin/employees/kenji/offboard", ADMIN, {"to": "pool"})
    assert resp.status_code == 200, resp.body
    assert call(api, "GET", "/me", headers).status_code == 401
    with pytest.raises(AuthenticationError, match="deactivated"):
        trigger(_event("kenji@corp.example"), None)

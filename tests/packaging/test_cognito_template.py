"""The user pool's settings that keep tenants and roles out of users' hands (issue 11's
critical findings), read from template.yaml: the local stack creates its pool from the same
resources (infra/cognito.py), so these are also what every local test runs against."""

from __future__ import annotations

from typing import Any

import pytest

from infra.template import conditions, resolve


def _props(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (props,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]
    return dict(props)


def test_only_admins_create_users(template: dict[str, Any]) -> None:
    pool = _props(template, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_tenant_and_employee_id_are_immutable_and_no_role_attribute_exists(template: dict[str, Any]) -> None:
    schema = {a["Name"]: a for a in _props(template, "AWS::Cognito::UserPool")["Schema"]}
    # team and region: what a federated provider says (read by the trigger for new employees only)
    assert set(schema) == {"tenant", "employee_id", "team", "region"}
    assert schema["tenant"]["Mutable"] is False and schema["employee_id"]["Mutable"] is False


@pytest.mark.parametrize("federation", ["", "SAML", "OIDC"])
def test_the_app_client_never_writes_tenant_or_employee_id_and_revokes_tokens(
    template: dict[str, Any], federation: str
) -> None:
    params = {"FederationProvider": federation, "HostedUiDomainPrefix": "acme-staff" if federation else ""}
    client = resolve(_props(template, "AWS::Cognito::UserPoolClient"), "s", _APP, conditions(template, params))
    writable = set(client["WriteAttributes"])
    assert writable == ({"name", "email", "custom:team", "custom:region"} if federation else {"name"})
    assert not writable & {"custom:tenant", "custom:employee_id"}
    assert {"custom:tenant", "custom:employee_id"} <= set(client["ReadAttributes"])
    assert client["GenerateSecret"] is False and client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"


def test_the_hosted_ui_offers_only_the_code_flow_back_to_the_pages(template: dict[str, Any]) -> None:
    client = _props(template, "AWS::Cognito::UserPoolClient")
    off = resolve(client, "s", _APP, conditions(template))
    assert "AllowedOAuthFlows" not in off and "CallbackURLs" not in off  # no Hosted UI by default
    on = resolve(client, "s", _APP, conditions(template, {"HostedUiDomainPrefix": "acme-staff"}))
    assert on["AllowedOAuthFlows"] == ["code"] and on["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(on["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert on["CallbackURLs"] == on["LogoutURLs"] == [f"{_APP['AppUrl']}/console", f"{_APP['AppUrl']}/m"]
    assert on["SupportedIdentityProviders"] == ["COGNITO"]


def test_roles_are_a_group_and_every_function_but_the_trigger_knows_the_pool(template: dict[str, Any]) -> None:
    group = _props(template, "AWS::Cognito::UserPoolGroup")
    assert group["GroupName"] == "admin"
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    # not in Globals: the pool's PreTokenGeneration trigger referencing the pool would be a cycle
    assert "RIPPLE_USER_POOL_ID" not in env and "RIPPLE_USER_POOL_CLIENT_ID" not in env
    assert "RIPPLE_JWT_SECRET" not in env and "JwtSecret" not in template["Parameters"]
    functions = {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert "PreTokenFunction" in functions
    for lid, res in functions.items():
        own = res["Properties"].get("Environment", {}).get("Variables", {})
        if lid == "PreTokenFunction":
            assert not {"RIPPLE_USER_POOL_ID", "RIPPLE_USER_POOL_CLIENT_ID"} & set(own)
            continue
        assert own["RIPPLE_USER_POOL_ID"] == {"Ref": "UserPool"}, lid
        assert own["RIPPLE_USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}, lid


_APP = {"AppUrl": "https://go.example.com"}

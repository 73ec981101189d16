"""The user pool's settings that keep tenants and roles out of users' hands (issue 11's
critical findings), read from template.yaml: the local stack creates its pool from the same
resources (infra/cognito.py), so these are also what every local test runs against."""

from __future__ import annotations

from typing import Any


def _props(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (props,) = [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]
    return dict(props)


def test_only_admins_create_users(template: dict[str, Any]) -> None:
    pool = _props(template, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_tenant_and_employee_id_are_immutable_and_no_role_attribute_exists(template: dict[str, Any]) -> None:
    schema = {a["Name"]: a for a in _props(template, "AWS::Cognito::UserPool")["Schema"]}
    assert set(schema) == {"tenant", "employee_id"}
    assert all(a["Mutable"] is False for a in schema.values())


def test_the_app_client_writes_no_custom_attribute_and_revokes_tokens(template: dict[str, Any]) -> None:
    client = _props(template, "AWS::Cognito::UserPoolClient")
    assert client["WriteAttributes"] == ["name"]
    assert {"custom:tenant", "custom:employee_id"} <= set(client["ReadAttributes"])
    assert client["GenerateSecret"] is False and client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert "AllowedOAuthFlows" not in client or "implicit" not in client["AllowedOAuthFlows"]


def test_roles_are_a_group_and_every_function_knows_the_pool(template: dict[str, Any]) -> None:
    group = _props(template, "AWS::Cognito::UserPoolGroup")
    assert group["GroupName"] == "admin"
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["RIPPLE_USER_POOL_ID"] == {"Ref": "UserPool"}
    assert env["RIPPLE_USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}
    assert "RIPPLE_JWT_SECRET" not in env and "JwtSecret" not in template["Parameters"]

"""The API function configured exactly as template.yaml configures it (its environment with the
parameters' defaults, secrets read from Secrets Manager, the user pool's ID tokens as bearer
tokens next to the JWT authorizer's claims, HTTP API payload 1.0 events on prefix routes) works:
links are issued on the API's own URL when
``PublicBaseUrl`` is empty, and that URL redirects."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from tests.packaging._support import functions

DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"


def _resolve(value: Any, template: dict[str, Any]) -> Any:
    """``Ref`` to a parameter (its default) and ``Fn::If`` (conditions at the defaults)."""
    params = template["Parameters"]
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in params:
        return str(params[value["Ref"]].get("Default", ""))
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        # the live pages' WebSocket URL: ${LiveApi} is an API id, known once deployed
        pseudo = {"AWS::Region": "us-east-1", "AWS::URLSuffix": "amazonaws.com"}
        apis = {lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::ApiGatewayV2::Api"}
        text = value["Fn::Sub"]
        for name in re.findall(r"\$\{([\w:]+)\}", text):
            if name not in pseudo and name not in apis:
                return value  # anything else stays unresolved (and fails below)
            text = text.replace("${" + name + "}", pseudo.get(name, "ws123"))
        return text
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        name, yes, no = value["Fn::If"]
        condition = template["Conditions"][name]
        (left, right) = condition["Fn::Not"][0]["Fn::Equals"]  # every condition here is "param is not empty"
        return _resolve(yes if _resolve(left, template) != right else no, template)
    return value


def _deployed_env(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    """The function's environment, parameters at their defaults. Table and bucket names are
    left to tests/conftest.py, which names the moto ones the same way; a function name (the
    poster function the API invokes) is not needed here; secrets: see ``deployed_app``."""
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **((functions(template)[logical_id].get("Environment") or {}).get("Variables") or {}),
    }
    out: dict[str, str] = {}
    for name, value in variables.items():
        value = _resolve(value, template)
        if isinstance(value, str):
            out[name] = value
            continue
        assert isinstance(value, dict) and set(value) == {"Ref"}, f"{name}: cannot resolve {value}"
        kind = template["Resources"][value["Ref"]]["Type"]
        if kind in ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"):
            out[name] = os.environ[name]  # the test pool tests/conftest.py created from the template
            continue
        kinds = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Serverless::Function", "AWS::SecretsManager::Secret")
        assert kind in kinds, name
    return out


def _event(
    method: str, resource: str, path_params: dict[str, str], claims: dict[str, Any] | None, body: Any = None
) -> dict[str, Any]:
    """What the HTTP API sends (payload 1.0): the *route's* resource path (a prefix route or
    ``$default``), not Chalice's; ripple.web.http_api finds the Chalice route."""
    path = resource
    for key, val in path_params.items():
        path = path.replace("{" + key + "}", val)
    first = path.strip("/").split("/")[0]
    route = f"/{first}/{{proxy+}}" if claims is not None and path.count("/") > 1 else path if claims else "$default"
    context: dict[str, Any] = {
        "resourcePath": route,
        "httpMethod": method,
        "path": path,
        "stage": "$default",
        "domainName": DOMAIN,
        "identity": {"sourceIp": "203.0.113.9"},
        "authorizer": {"claims": None, "scopes": None},
    }
    headers = {"Content-Type": "application/json", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}
    if claims is not None:
        # what API Gateway hands on once its authorizer admitted the token; the function
        # verifies the token itself all the same
        context["authorizer"] = {"claims": {k: v for k, v in claims.items() if k != "token"}, "scopes": None}
        headers["Authorization"] = f"Bearer {claims['token']}"
    return {
        "version": "1.0",
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {},
        "multiValueQueryStringParameters": None,
        "queryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": context,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def _claims(sub: str, role: str) -> dict[str, Any]:
    import jwt

    from infra.moto_tokens import id_token

    token = id_token("acme", sub, role)
    return {**jwt.decode(token, options={"verify_signature": False}), "token": token}


@pytest.fixture
def deployed_app(template: dict[str, Any], aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    import boto3

    from app import app
    from ripple import bootstrap

    (api_id,) = [lid for lid, p in functions(template).items() if p["Handler"] == "app.app"]
    env = _deployed_env(template, api_id)
    assert env["RIPPLE_USER_POOL_ID"] and env["RIPPLE_USER_POOL_CLIENT_ID"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    for var, value in template["Globals"]["Function"]["Environment"]["Variables"].items():
        if isinstance(value, dict) and template["Resources"].get(value.get("Ref"), {}).get("Type", "").startswith(
            "AWS::SecretsManager"
        ):
            monkeypatch.setenv(var, sm.create_secret(Name=value["Ref"], SecretString="x" * 64)["ARN"])
            monkeypatch.delenv(var.removesuffix("_ARN"), raising=False)
    bootstrap.reset()
    yield app
    bootstrap.reset()


def test_links_are_issued_on_the_api_url_and_redirect(deployed_app: Any, template: dict[str, Any]) -> None:
    def call(event: dict[str, Any]) -> dict[str, Any]:
        return deployed_app(event, None)

    assert template["Parameters"]["PublicBaseUrl"].get("Default", "") == ""
    admin = _claims("boss", "admin")
    employee = {"name": "A", "team": "t", "region": "r"}
    resp = call(_event("PUT", "/admin/employees/{employee_id}", {"employee_id": "alice"}, admin, employee))
    assert resp["statusCode"] == 200, resp
    campaign = {"name": "C", "destination_url": "https://example.com/p", "points": {"unique_visit": 1}}
    resp = call(_event("POST", "/admin/campaigns", {}, admin, campaign))
    assert resp["statusCode"] == 201, resp
    cid = json.loads(resp["body"])["campaign_id"]

    resp = call(
        _event(
            "POST",
            "/campaigns/{campaign_id}/links",
            {"campaign_id": cid},
            _claims("alice", "employee"),
            {"channel": "wechat"},
        )
    )
    assert resp["statusCode"] == 201, resp
    link = json.loads(resp["body"])
    assert link["short_url"] == f"https://{DOMAIN}/{link['code']}"  # the $default stage has no prefix

    resp = call(_event("GET", "/{code}", {"code": link["code"]}, None))
    assert resp["statusCode"] == 302, resp
    assert resp["headers"]["Location"].startswith("https://example.com/p")

    # without a bearer token the API refuses, and so it does with the authorizer's claims alone
    assert call(_event("GET", "/me", {}, None))["statusCode"] == 401
    claims_only = _event("GET", "/me", {}, _claims("alice", "employee"))
    del claims_only["headers"]["Authorization"]
    assert call(claims_only)["statusCode"] == 401

    # a code nobody issued: a JSON 404 through the public route, not a 500
    assert call(_event("GET", "/{code}", {"code": "nosuchcode"}, None))["statusCode"] == 404

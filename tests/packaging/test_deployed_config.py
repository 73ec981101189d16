"""The API function configured exactly as template.yaml configures it (its environment with the
parameters' defaults, Cognito authorizer claims, API Gateway REST proxy events) works: links are
issued on the API's own URL when ``PublicBaseUrl`` is empty, and that URL redirects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.packaging._support import functions

DOMAIN = "abc123.execute-api.us-east-1.amazonaws.com"


def _deployed_env(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    """The function's environment, parameters at their defaults (secrets: dummies of MinLength).
    Table and bucket names are left to tests/conftest.py, which names the moto ones the same way; a
    function name (the poster function the API invokes) is not needed here."""
    params = template["Parameters"]
    variables = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **((functions(template)[logical_id].get("Environment") or {}).get("Variables") or {}),
    }
    out: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, str):
            out[name] = value
            continue
        assert isinstance(value, dict) and set(value) == {"Ref"}, f"{name}: cannot resolve {value}"
        ref = value["Ref"]
        if ref in params:
            default = params[ref].get("Default")
            out[name] = str(default) if default is not None else "s" * int(params[ref]["MinLength"])
        else:
            kinds = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Serverless::Function")
            assert template["Resources"][ref]["Type"] in kinds, name
    return out


def _event(
    method: str, resource: str, path_params: dict[str, str], claims: dict[str, str] | None, body: Any = None
) -> dict[str, Any]:
    path = resource
    for key, val in path_params.items():
        path = path.replace("{" + key + "}", val)
    context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/prod{path}",
        "stage": "prod",
        "domainName": DOMAIN,
        "identity": {"sourceIp": "203.0.113.9"},
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"},
        "multiValueHeaders": {},
        "multiValueQueryStringParameters": None,
        "queryStringParameters": None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": context,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def _claims(sub: str, role: str) -> dict[str, str]:
    return {"sub": sub, "custom:tenant": "acme", "custom:role": role, "email": f"{sub}@example.com"}


@pytest.fixture
def deployed_app(template: dict[str, Any], aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from app import app
    from ripple import bootstrap

    (api_id,) = [lid for lid, p in functions(template).items() if p["Handler"] == "app.app"]
    env = _deployed_env(template, api_id)
    assert env["RIPPLE_AUTH_MODE"] == "cognito"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
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
    assert link["short_url"] == f"https://{DOMAIN}/prod/{link['code']}"

    resp = call(_event("GET", "/{code}", {"code": link["code"]}, None))
    assert resp["statusCode"] == 302, resp
    assert resp["headers"]["Location"].startswith("https://example.com/p")

    # without the authorizer's claims the API refuses (the Cognito authorizer is what admits)
    assert call(_event("GET", "/me", {}, None))["statusCode"] == 401

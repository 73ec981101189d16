"""Every Chalice route is an API Gateway route of the API function, and only the public ones
skip the Cognito authorizer. Derived from ``app.app.routes`` and template.yaml both ways."""

from __future__ import annotations

from typing import Any

import pytest

from tests.packaging._support import AppRoute, app_routes, functions, is_authenticated

PUBLIC_REDIRECTS = {"/{code}", "/s/{token}"}


def _api_function(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    with_api = [
        (lid, props)
        for lid, props in functions(template).items()
        if any(e["Type"] == "Api" for e in (props.get("Events") or {}).values())
    ]
    assert len(with_api) == 1, "one Lambda serves the whole Chalice app"
    lid, props = with_api[0]
    assert props["Handler"] == "app.app"
    return lid, props


def _api_events(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    _, props = _api_function(template)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for name, event in props["Events"].items():
        if event["Type"] != "Api":
            continue
        p = event["Properties"]
        key = (p["Path"], p["Method"].upper())
        assert key not in out, f"{name} duplicates {key}"
        out[key] = p
    return out


def _rest_api(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    apis = [(lid, r["Properties"]) for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Api"]
    assert len(apis) == 1
    return apis[0]


@pytest.fixture(scope="module")
def routes() -> list[AppRoute]:
    found = app_routes()
    assert found, "app.app has no routes?"
    return found


def test_every_chalice_route_has_an_api_event_and_back(routes: list[AppRoute], template: dict[str, Any]) -> None:
    chalice = {(r.path, r.method) for r in routes}
    sam = set(_api_events(template))
    assert sorted(chalice - sam) == [], "Chalice routes missing from template.yaml"
    assert sorted(sam - chalice) == [], "template.yaml Api events with no Chalice route"


def test_api_events_use_the_one_rest_api(template: dict[str, Any]) -> None:
    api_id, _ = _rest_api(template)
    for key, props in _api_events(template).items():
        assert props.get("RestApiId") == {"Ref": api_id}, key


def test_redirects_are_public_and_admin_routes_are_not(routes: list[AppRoute]) -> None:
    """Sanity of the classification the next test relies on."""
    public = {r.path for r in routes if not is_authenticated(r.view)}
    assert public >= PUBLIC_REDIRECTS
    assert not {p for p in public if p.startswith("/admin") or p == "/me"}
    assert any(is_authenticated(r.view) for r in routes)


def test_public_routes_skip_the_authorizer_and_others_use_cognito(
    routes: list[AppRoute], template: dict[str, Any]
) -> None:
    _, api = _rest_api(template)
    default = api["Auth"]["DefaultAuthorizer"]
    assert "UserPoolArn" in api["Auth"]["Authorizers"][default], "the default authorizer is Cognito"
    events = _api_events(template)
    for route in routes:
        authorizer = (events[(route.path, route.method)].get("Auth") or {}).get("Authorizer", default)
        expected = default if is_authenticated(route.view) else "NONE"
        assert authorizer == expected, f"{route.method} {route.path} (view {route.view})"


def test_transformed_api_matches_the_routes(
    routes: list[AppRoute], template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    """The RestApi body API Gateway gets: same paths and methods, NONE or Cognito security,
    every integration invoking the API function."""
    (body,) = [
        r["Properties"]["Body"] for r in transformed["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"
    ]
    lid, _ = _api_function(template)
    ops = {(path, method.upper()): op for path, methods in body["paths"].items() for method, op in methods.items()}
    assert set(ops) == {(r.path, r.method) for r in routes}
    cognito = {
        name
        for name, d in body["securityDefinitions"].items()
        if d.get("x-amazon-apigateway-authtype") == "cognito_user_pools"
    }
    for route in routes:
        op = ops[(route.path, route.method)]
        (security,) = op["security"]
        if is_authenticated(route.view):
            assert set(security) <= cognito and security, route
        else:
            assert set(security) == {"NONE"}, route
        integration = op["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert f"${{{lid}.Arn}}" in integration["uri"]["Fn::Sub"], route

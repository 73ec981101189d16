"""Every Chalice route is reachable through the HTTP API of template.yaml, through the JWT
authorizer exactly when its view authenticates, and dispatches to that view once the API
Gateway event (a prefix route, payload format 1.0) reaches the function.

Derived from ``app.app.routes`` and template.yaml both ways: a new Chalice route under a new
top-level prefix fails here until the template routes it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.packaging._support import AppRoute, app_routes, functions, is_authenticated

PUBLIC_REDIRECTS = {"/{code}", "/s/{token}"}


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: r["Properties"] for lid, r in template["Resources"].items() if r["Type"] == type_}


def _api_function(template: dict[str, Any]) -> str:
    (lid,) = [lid for lid, p in functions(template).items() if p["Handler"] == "app.app"]
    return lid


def _http_api(template: dict[str, Any]) -> str:
    """The HTTP API's logical id (the WebSocket API of the live pages is the other one)."""
    (lid,) = [lid for lid, p in _of_type(template, "AWS::ApiGatewayV2::Api").items() if p["ProtocolType"] == "HTTP"]
    return lid


def _on_http_api(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    api = {"Ref": _http_api(template)}
    return {lid: p for lid, p in _of_type(template, type_).items() if p.get("ApiId") == api}


def _http_routes(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    routes = _on_http_api(template, "AWS::ApiGatewayV2::Route")
    keys = [r["RouteKey"] for r in routes.values()]
    assert len(keys) == len(set(keys)), "duplicate route keys"
    return {r["RouteKey"]: r for r in routes.values()}


def _concrete(path: str) -> str:
    """A concrete request path for a route template (``{x}`` -> a plausible value)."""
    return re.sub(r"\{[^}]+\}", "Ab3xY9", path)


def _select(route_keys: list[str], method: str, path: str) -> str:
    """API Gateway HTTP API route selection: the most specific match wins -- an exact route,
    then the greedy ``{proxy+}`` route with the longest prefix, then ``$default``."""
    exact = [k for k in route_keys if k in (f"{method} {path}", f"ANY {path}")]
    if exact:
        return sorted(exact, key=lambda k: k.startswith("ANY"))[0]
    greedy = []
    for key in route_keys:
        if key == "$default" or not key.endswith("/{proxy+}"):
            continue
        verb, _, route = key.partition(" ")
        prefix = route[: -len("{proxy+}")]
        if verb in ("ANY", method) and path.startswith(prefix) and len(path) > len(prefix):
            greedy.append((len(prefix), key))
    if greedy:
        return max(greedy)[1]
    assert "$default" in route_keys
    return "$default"


@pytest.fixture(scope="module")
def routes() -> list[AppRoute]:
    found = app_routes()
    assert found, "app.app has no routes?"
    return found


def test_one_api_one_integration_payload_1_0(template: dict[str, Any]) -> None:
    _http_api(template)
    (integration,) = _on_http_api(template, "AWS::ApiGatewayV2::Integration").values()
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["PayloadFormatVersion"] == "1.0", "Chalice reads the REST-shaped (1.0) event"
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [_api_function(template), "Arn"]}
    for key, route in _http_routes(template).items():
        assert route["Target"] == {"Fn::Sub": "integrations/${HttpApiIntegration}"}, key
    assert not any(
        e["Type"] in ("Api", "HttpApi")
        for e in (functions(template)[_api_function(template)].get("Events") or {}).values()
    ), "no SAM API events: each would add its own Lambda permission"


def test_redirects_are_public_and_admin_routes_are_not(routes: list[AppRoute]) -> None:
    """Sanity of the classification the next test relies on."""
    public = {r.path for r in routes if not is_authenticated(r.view)}
    assert public >= PUBLIC_REDIRECTS
    assert not {p for p in public if p.startswith("/admin") or p == "/me"}
    assert any(is_authenticated(r.view) for r in routes)


def test_every_route_reaches_the_function_through_the_right_authorizer(
    routes: list[AppRoute], template: dict[str, Any]
) -> None:
    http = _http_routes(template)
    (authorizer_id,) = _of_type(template, "AWS::ApiGatewayV2::Authorizer")
    authorizer = _of_type(template, "AWS::ApiGatewayV2::Authorizer")[authorizer_id]
    assert authorizer["AuthorizerType"] == "JWT"
    assert "cognito-idp" in authorizer["JwtConfiguration"]["Issuer"]["Fn::Sub"]
    used = set()
    for route in routes:
        key = _select(list(http), route.method, _concrete(route.path))
        used.add(key)
        props = http[key]
        if is_authenticated(route.view):
            assert props["AuthorizationType"] == "JWT", f"{route.method} {route.path} would skip the authorizer ({key})"
            assert props["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert props["AuthorizationType"] == "NONE", f"{route.method} {route.path} is public but hits {key}"
    assert used == set(http), f"routes no Chalice route needs: {sorted(set(http) - used)}"


def test_the_selector_is_not_vacuous(template: dict[str, Any]) -> None:
    keys = list(_http_routes(template))
    assert _select(keys, "GET", "/admin/tenant") == "ANY /admin/{proxy+}"
    assert _select(keys, "GET", "/me") == "ANY /me"
    assert _select(keys, "GET", "/abc123") == "$default"
    assert _select(keys, "HEAD", "/s/tok") == "$default"


def test_one_wildcard_permission_for_the_api(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    lid = _api_function(template)
    permissions = [
        p["Properties"]
        for p in transformed["Resources"].values()
        if p["Type"] == "AWS::Lambda::Permission" and p["Properties"]["FunctionName"] == {"Ref": lid}
    ]
    assert len(permissions) == 1
    (perm,) = permissions
    assert perm["Principal"] == "apigateway.amazonaws.com"
    assert perm["SourceArn"]["Fn::Sub"].endswith(":${HttpApi}/*")


def _http_api_event(method: str, path: str, route_key: str, claims: dict[str, str] | None) -> dict[str, Any]:
    """An HTTP API payload 1.0 event as API Gateway sends it for a prefix route."""
    resource = route_key.partition(" ")[2] if route_key != "$default" else "$default"
    context: dict[str, Any] = {
        "httpMethod": method,
        "path": path,
        "resourcePath": resource,
        "stage": "$default",
        "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
        "identity": {"sourceIp": "203.0.113.9", "userAgent": "Mozilla/5.0 Firefox/140.0"},
        "authorizer": {"claims": claims, "scopes": None},
    }
    proxy = path.split("/", 2)[2] if resource.endswith("{proxy+}") else None
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"user-agent": "Mozilla/5.0 Firefox/140.0"},
        "multiValueHeaders": {"user-agent": ["Mozilla/5.0 Firefox/140.0"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": context,
        "body": None,
        "isBase64Encoded": False,
    }


def test_prefix_routed_events_reach_their_chalice_view(
    routes: list[AppRoute], template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Chalice route, as the HTTP API delivers it, is dispatched to its own view with its
    path parameters (each view is replaced by a recorder, so no AWS is needed)."""
    from app import app

    keys = list(_http_routes(template))
    for route in routes:
        entry = app.routes[route.path][route.method]
        seen: dict[str, Any] = {}

        def recorder(*args: Any, _seen: dict[str, Any] = seen, **kwargs: Any) -> Any:
            from chalice.app import Response

            _seen.update(kwargs)
            return Response(body="{}", status_code=200, headers={"Content-Type": "application/json"})

        monkeypatch.setattr(entry, "view_function", recorder)
        path = _concrete(route.path)
        event = _http_api_event(route.method, path, _select(keys, route.method, path), None)
        event["headers"]["content-type"] = entry.content_types[0]
        resp = app(event, None)
        assert resp["statusCode"] == 200, (route, resp)
        assert seen == {name: "Ab3xY9" for name in entry.view_args}, route


def test_unknown_paths_get_a_json_404_not_a_500() -> None:
    from app import app

    event = _http_api_event("GET", "/no/such/route/here", "$default", None)
    resp = app(event, None)
    assert resp["statusCode"] == 404
    assert json.loads(resp["body"])["error"]["code"] == "not_found"

"""``GET /openapi.json``: every Chalice route with every method, a valid OpenAPI 3.1 document,
public operations (derived from app.py like tests/packaging/test_routes.py) without security."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.packaging._support import app_routes, is_authenticated


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    from app import app
    from ripple.web.openapi import build_document

    return build_document(app.routes)


def test_every_chalice_route_appears_with_every_method(doc: dict[str, Any]) -> None:
    from app import app

    expected = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert expected == documented
    assert ("/openapi.json", "get") in documented and ("/admin/exports", "post") in documented


def test_document_validates_against_the_openapi_31_schema(doc: dict[str, Any]) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    assert doc["openapi"] == "3.1.0"
    validate(doc)
    broken = json.loads(json.dumps(doc))
    broken["paths"]["/me"]["get"]["responses"] = "nope"
    with pytest.raises(OpenAPIValidationError):  # the validator does reject a bad document
        validate(broken)


def test_public_operations_have_empty_security_and_the_rest_inherit_bearer(doc: dict[str, Any]) -> None:
    routes = app_routes()
    public = {(r.path, r.method) for r in routes if not is_authenticated(r.view)}
    assert {("/openapi.json", "GET"), ("/{code}", "GET"), ("/leads", "POST")} <= public
    assert doc["security"] == [{"bearerAuth": []}]
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for r in routes:
        op = doc["paths"][r.path][r.method.lower()]
        if r.path.startswith("/scim/"):  # skips the JWT for the tenant's own SCIM token
            assert (r.path, r.method) in public and op["security"] == [{"scimToken": []}], r
        elif (r.path, r.method) in public:
            assert op["security"] == [], r
        else:
            assert "security" not in op, r


def test_main_endpoints_have_schemas_and_errors_use_the_error_shape(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["Error"]["properties"]["error"]["required"] == ["code", "message"]
    for path, method, status in [
        ("/admin/campaigns", "post", "201"),
        ("/campaigns/{campaign_id}/links", "post", "201"),
        ("/me", "get", "200"),
        ("/leaderboards", "get", "200"),
        ("/rewards/{reward_id}/redeem", "post", "201"),
        ("/admin/exports", "post", "201"),
    ]:
        op = doc["paths"][path][method]
        ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[-1] in schemas
        assert op["responses"]["4XX"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "302" in doc["paths"]["/{code}"]["get"]["responses"]
    params = doc["paths"]["/admin/exports/{export_id}"]["get"]["parameters"]
    id_schema = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}  # what check_id accepts
    assert params == [{"name": "export_id", "in": "path", "required": True, "schema": id_schema}]


def test_summaries_come_from_view_docstrings(doc: dict[str, Any]) -> None:
    from ripple.api.visitors import follow

    assert follow.__doc__
    assert doc["paths"]["/{code}"]["get"]["summary"] == follow.__doc__.strip().splitlines()[0].strip()


def test_get_openapi_json_is_public_json_and_cacheable(aws: Any) -> None:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        resp = client.http.get("/openapi.json")
        again = client.http.get("/openapi.json")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert "max-age" in resp.headers["Cache-Control"]
    body = json.loads(resp.body)
    assert body["openapi"] == "3.1.0" and "/openapi.json" in body["paths"]
    assert again.body == resp.body


def test_chalice_refusals_are_rewritten_to_the_api_error_shape() -> None:
    from ripple.web.http_api import framework_errors_in_api_shape

    chalice = {
        "statusCode": 415,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"Code": "UnsupportedMediaType", "Message": "Unsupported media type: text/plain"}),
        "isBase64Encoded": False,
    }
    shaped = framework_errors_in_api_shape(chalice)
    assert shaped["statusCode"] == 415
    assert json.loads(shaped["body"]) == {
        "error": {"code": "unsupported_media_type", "message": "Unsupported media type: text/plain"}
    }
    ours = {**chalice, "body": json.dumps({"error": {"code": "x", "message": "y"}})}
    assert framework_errors_in_api_shape(ours) is ours  # the API's own errors pass untouched
    ok = {**chalice, "statusCode": 200, "body": json.dumps({"Code": "a", "Message": "b"})}
    assert framework_errors_in_api_shape(ok) is ok


def test_an_unsupported_media_type_answers_415_in_the_error_shape(aws: Any) -> None:
    from chalice.test import Client

    from app import app
    from tests.conftest import auth

    with Client(app) as client:
        headers = {**auth("acme", "boss", "admin"), "Content-Type": "text/plain"}
        resp = client.http.post("/admin/materials", headers=headers, body=b"x")
    assert resp.status_code == 415
    assert json.loads(resp.body)["error"]["code"] == "unsupported_media_type"


def test_every_list_answers_one_page_shape(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    lists = [name for name in schemas if name.endswith("List") and name != "ScimListResponse"] + ["Ledger"]
    assert len(lists) >= 12
    for name in lists:
        assert schemas[name]["required"] == ["items", "next_cursor"], name
        assert schemas[name]["additionalProperties"] is False, name

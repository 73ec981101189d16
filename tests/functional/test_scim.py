"""SCIM 2.0 over moto in-process: the tenant token (shown once, hashed, rotatable), Users ↔
employees through the employee use cases, filters and paging, PATCH incl. ``active: false``
→ offboarding with handover to the pool, Groups ↔ teams, and SCIM's error schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import snapshot

ADMIN = auth("acme", "boss", "admin")
OTHER_ADMIN = auth("globex", "boss", "admin")
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCIM_JSON = "application/scim+json"


@pytest.fixture
def api(aws: Any) -> Any:
    from chalice.test import Client

    from app import app

    return Client(app)


def _token(api: Any, headers: dict[str, str] = ADMIN) -> str:
    resp = api.http.post("/admin/scim/token", headers={**headers, "Content-Type": "application/json"}, body="{}")
    assert resp.status_code == 201, resp.body
    return str(json.loads(resp.body)["token"])


_DOC: dict[str, Any] = {}


def _route(path: str) -> str:
    """/Users/abc?x -> /scim/v2/Users/{user_id}: the OpenAPI path of a SCIM request."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    names = {"Users": "{user_id}", "Groups": "{group_id}", "ResourceTypes": "{name}", "Schemas": "{schema_id}"}
    if len(parts) == 2 and parts[0] in names:
        parts[1] = names[parts[0]]
    elif len(parts) == 1 and parts[0] not in names and parts[0] != "ServiceProviderConfig":
        parts[0] = "{resource}"
    return "/scim/v2/" + "/".join(parts)


def _conforms(api: Any, method: str, path: str, status: int, body: Any) -> None:
    """Every SCIM answer matches what /openapi.json publishes for it (SCIM media type)."""
    import jsonschema

    if not _DOC:
        _DOC.update(json.loads(api.http.get("/openapi.json").body))
    responses = _DOC["paths"][_route(path)][method.lower()]["responses"]
    entry = responses.get(str(status)) or responses[f"{str(status)[0]}XX"]
    if body is None:
        assert "content" not in entry, (method, path, status)
        return
    schema = entry["content"][SCIM_JSON]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": _DOC["components"]}).validate(body)


class Scim:
    def __init__(self, api: Any, token: str) -> None:
        self.api, self.headers = api, {"Authorization": f"Bearer {token}", "Content-Type": SCIM_JSON}

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        resp = getattr(self.api.http, method.lower())("/scim/v2" + path, **kwargs)
        if resp.body:
            assert resp.headers["Content-Type"].startswith(SCIM_JSON), resp.headers
        data = json.loads(resp.body) if resp.body else None
        if resp.status_code >= 400:
            assert data["schemas"] == [ERROR] and data["status"] == str(resp.status_code), data
        _conforms(self.api, method, path, resp.status_code, data)
        return resp.status_code, data


@pytest.fixture
def scim(api: Any) -> Scim:
    return Scim(api, _token(api))


def _user(user_name: str, **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER], "userName": user_name, **extra}


def _employee(api: Any, employee_id: str) -> dict[str, Any] | None:
    resp = api.http.get("/admin/employees", headers=ADMIN)
    return next((e for e in json.loads(resp.body)["items"] if e["employee_id"] == employee_id), None)


def test_the_token_is_shown_once_stored_hashed_and_rotation_revokes_the_old_one(api: Any, aws: Any) -> None:
    first = _token(api)
    status = json.loads(api.http.get("/admin/scim/token", headers=ADMIN).body)
    assert status["configured"] is True and "token" not in status
    dump = json.dumps(snapshot(aws))
    assert first not in dump and first.rsplit(".", 1)[-1] not in dump, "only a hash is stored"
    assert Scim(api, first)("GET", "/Users")[0] == 200
    second = _token(api)
    assert Scim(api, first)("GET", "/Users")[0] == 401
    assert Scim(api, second)("GET", "/Users")[0] == 200
    employee = auth("acme", "alice", "employee")
    resp = api.http.post("/admin/scim/token", headers={**employee, "Content-Type": "application/json"}, body="{}")
    assert resp.status_code == 403


@pytest.mark.parametrize(
    "header",
    ["", "Basic abc", "Bearer nope", "Bearer rpscim1.YWNtZQ.forged", "Bearer rpscim1.!!.x", ADMIN["Authorization"]],
)
def test_anything_but_the_tenants_token_is_401_in_scims_error_schema(api: Any, header: str) -> None:
    _token(api)
    resp = api.http.get("/scim/v2/Users", headers={"Authorization": header} if header else {})
    assert resp.status_code == 401
    body = json.loads(resp.body)
    assert body["schemas"] == [ERROR] and body["status"] == "401"


def test_a_token_only_reaches_its_own_tenant(api: Any) -> None:
    acme, globex = Scim(api, _token(api)), Scim(api, _token(api, OTHER_ADMIN))
    status, created = acme("POST", "/Users", _user("alice@acme.example"))
    assert status == 201
    assert globex("GET", f"/Users/{created['id']}")[0] == 404
    assert globex("GET", "/Users")[1]["totalResults"] == 0


def test_create_get_filter_page_replace_patch_delete(api: Any, aws: Any, scim: Scim) -> None:
    body = _user(
        "Alice@Acme.example",
        name={"givenName": "Alice", "familyName": "Liddell"},
        emails=[{"value": "alice@acme.example", "type": "work", "primary": True}],
        externalId="okta-1",
        active=True,
        **{"schemas": [USER, ENTERPRISE], ENTERPRISE: {"department": "Sales"}},
    )
    status, alice = scim("POST", "/Users", body)
    assert status == 201, alice
    assert alice["id"] == "Alice" and alice["active"] is True and alice["meta"]["resourceType"] == "User"
    assert alice["meta"]["location"].endswith("/scim/v2/Users/Alice")
    assert alice[ENTERPRISE] == {"department": "Sales"} and alice["externalId"] == "okta-1"
    employee = _employee(api, "Alice")
    assert employee is not None
    assert (employee["name"], employee["email"], employee["team"]) == ("Alice Liddell", "alice@acme.example", "Sales")
    assert scim("GET", "/Users/Alice")[1] == alice

    # uniqueness (userName is case-insensitive) -> 409, nothing written
    before = snapshot(aws)
    status, err = scim("POST", "/Users", _user("alice@acme.EXAMPLE"))
    assert status == 409 and err["scimType"] == "uniqueness"
    assert snapshot(aws) == before

    for i in range(5):
        assert scim("POST", "/Users", _user(f"u{i}@acme.example"))[0] == 201
    status, found = scim("GET", "/Users?filter=userName%20eq%20%22ALICE@acme.example%22")
    assert status == 200 and found["totalResults"] == 1 and found["Resources"][0]["id"] == "Alice"
    assert scim("GET", "/Users?filter=userName%20eq%20%22nobody@x.example%22")[1]["totalResults"] == 0
    status, page = scim("GET", "/Users?startIndex=2&count=2")
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (6, 2, 2)
    status, found = scim("GET", "/Users?filter=externalId%20eq%20%22okta-1%22")
    assert [r["id"] for r in found["Resources"]] == ["Alice"]

    # replace: absent attributes are gone, the employee follows
    status, replaced = scim("PUT", "/Users/Alice", _user("alice@acme.example", displayName="Alice L."))
    assert status == 200 and "externalId" not in replaced and replaced["displayName"] == "Alice L."
    assert _employee(api, "Alice")["name"] == "Alice L."  # type: ignore[index]

    # PATCH as Entra ID sends it
    patch = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "displayName", "value": "Alice Liddell"}]}
    status, patched = scim("PATCH", "/Users/Alice", patch)
    assert status == 200 and patched["displayName"] == "Alice Liddell"
    patch = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "add", "path": 'emails[type eq "work"].value', "value": "liddell@acme.example"},
            {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Marketing"},
        ],
    }
    status, patched = scim("PATCH", "/Users/Alice", patch)
    assert status == 200, patched
    assert patched["emails"] == [{"type": "work", "value": "liddell@acme.example"}]
    assert (_employee(api, "Alice") or {})["team"] == "Marketing"
    assert (_employee(api, "Alice") or {})["email"] == "liddell@acme.example"

    assert scim("DELETE", "/Users/Alice") == (204, None)
    assert scim("GET", "/Users/Alice")[0] == 404
    assert (_employee(api, "Alice") or {})["active"] is False


def test_active_false_offboards_with_handover_to_the_pool_and_active_true_reactivates(api: Any, scim: Scim) -> None:
    from ripple import bootstrap

    status, bob = scim("POST", "/Users", _user("bob@acme.example"))
    assert status == 201
    # the ID token Cognito would issue to the sign-in SCIM created (its sub is that user's)
    from infra.moto_tokens import id_token

    subject = bootstrap.services().employees.get("acme", bob["id"]).subject  # type: ignore[union-attr]
    assert subject, "a SCIM user with an e-mail gets a sign-in"
    bob_token = {"Authorization": f"Bearer {id_token('acme', bob['id'], 'employee', sub=subject)}"}
    assert api.http.get("/me", headers=bob_token).status_code == 200
    calls: list[tuple[str, dict[str, Any]]] = []
    import ripple.service.customers as customers

    real = customers.offboard_employee

    def spy(svc: Any, principal: Any, employee_id: str, body: dict[str, Any]) -> Any:
        calls.append((employee_id, body))
        return real(svc, principal, employee_id, body)

    customers.offboard_employee = spy  # type: ignore[assignment]
    try:
        patch = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": "False"}}]}
        status, patched = scim("PATCH", f"/Users/{bob['id']}", patch)
    finally:
        customers.offboard_employee = real  # type: ignore[assignment]
    assert status == 200 and patched["active"] is False
    assert calls == [(bob["id"], {"to": "pool"})], "offboarded through the use case, handover to the pool"
    assert api.http.get("/me", headers=bob_token).status_code == 401
    assert bootstrap.services().employees.get("acme", bob["id"]).active is False  # type: ignore[union-attr]
    patch = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": True}]}
    status, patched = scim("PATCH", f"/Users/{bob['id']}", patch)
    assert status == 200 and patched["active"] is True
    assert api.http.get("/me", headers=bob_token).status_code == 200


def test_a_directory_adopts_the_employee_a_csv_import_created_by_email(api: Any, scim: Scim) -> None:
    resp = api.http.put(
        "/admin/employees/yamada",
        headers={**ADMIN, "Content-Type": "application/json"},
        body=json.dumps({"name": "山田", "team": "sales", "region": "kanto", "email": "yamada@acme.example"}),
    )
    assert resp.status_code == 200
    status, user = scim("POST", "/Users", _user("t.yamada", emails=[{"value": "Yamada@acme.example"}]))
    assert status == 201 and user["id"] == "yamada"
    assert (_employee(api, "yamada") or {})["region"] == "kanto"
    status, err = scim("POST", "/Users", _user("other", emails=[{"value": "yamada@acme.example"}]))
    assert status == 409 and err["scimType"] == "uniqueness"


@pytest.mark.parametrize(
    ("query", "scim_type"),
    [
        ("filter=userName%20eq", "invalidFilter"),
        ("filter=userName%20xx%20%22a%22", "invalidFilter"),
        ("filter=name.familyName%20co%20%22a%22", "invalidFilter"),
        ("filter=userName%20eq%20%22a%22%20and%20active%20eq%20true", "invalidFilter"),
        ("filter=!!", "invalidFilter"),
        ("startIndex=x", "invalidValue"),
        ("sortBy=userName", "invalidValue"),
    ],
)
def test_bad_list_queries_are_400_with_the_scim_type(scim: Scim, query: str, scim_type: str) -> None:
    status, err = scim("GET", f"/Users?{query}")
    assert status == 400 and err["scimType"] == scim_type


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"schemas": [USER]}, "invalidValue"),
        (_user("x", nickName="x"), "invalidSyntax"),
        (_user("x", active="maybe"), "invalidValue"),
        (_user("x", emails="a@b.c"), "invalidValue"),
        ({"schemas": ["urn:other"], "userName": "x"}, "invalidSyntax"),
        ([1, 2], "invalidSyntax"),
    ],
)
def test_bad_users_are_400_and_write_nothing(aws: Any, scim: Scim, body: Any, scim_type: str) -> None:
    before = snapshot(aws)
    status, err = scim("POST", "/Users", body)
    assert status == 400 and err["scimType"] == scim_type
    assert snapshot(aws) == before


def test_malformed_json_unknown_ids_and_endpoints(api: Any, scim: Scim) -> None:
    resp = api.http.post("/scim/v2/Users", headers=scim.headers, body="{not json")
    assert resp.status_code == 400 and json.loads(resp.body)["scimType"] == "invalidSyntax"
    assert scim("GET", "/Users/nobody")[0] == 404
    assert scim("PUT", "/Users/nobody", _user("x"))[0] == 404
    assert scim("GET", "/Nothing")[0] == 404
    assert scim("POST", "/ServiceProviderConfig", {})[0] == 405
    status, _ = scim("PATCH", "/Users/nobody", {"schemas": [PATCH], "Operations": []})
    assert status == 404


def test_groups_are_teams(api: Any, scim: Scim) -> None:
    ids = [scim("POST", "/Users", _user(f"m{i}@acme.example"))[1]["id"] for i in range(3)]
    status, group = scim(
        "POST", "/Groups", {"displayName": "Field Sales", "members": [{"value": ids[0]}, {"value": ids[1]}]}
    )
    assert status == 201 and group["id"] == "Field-Sales"
    assert [(_employee(api, i) or {})["team"] for i in ids] == ["Field-Sales", "Field-Sales", "unassigned"]
    patch = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "add", "path": "members", "value": [{"value": ids[2]}]},
            {"op": "remove", "path": f'members[value eq "{ids[0]}"]'},
        ],
    }
    status, group = scim("PATCH", "/Groups/Field-Sales", patch)
    assert status == 200 and sorted(m["value"] for m in group["members"]) == sorted(ids[1:])
    assert [(_employee(api, i) or {})["team"] for i in ids] == ["unassigned", "Field-Sales", "Field-Sales"]
    assert scim("POST", "/Groups", {"displayName": "Field Sales"})[1]["scimType"] == "uniqueness"
    assert scim("POST", "/Groups", {"displayName": "X", "members": [{"value": "ghost"}]})[0] == 400
    status, listed = scim("GET", "/Groups?filter=displayName%20eq%20%22Field%20Sales%22")
    assert [g["id"] for g in listed["Resources"]] == ["Field-Sales"]
    assert scim("DELETE", "/Groups/Field-Sales") == (204, None)
    assert [(_employee(api, i) or {})["team"] for i in ids] == ["unassigned"] * 3


def test_discovery_documents(scim: Scim) -> None:
    status, spc = scim("GET", "/ServiceProviderConfig")
    assert status == 200 and spc["patch"]["supported"] is True and spc["bulk"]["supported"] is False
    status, types = scim("GET", "/ResourceTypes")
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    status, schemas = scim("GET", "/Schemas")
    assert {s["id"] for s in schemas["Resources"]} == {USER, ENTERPRISE, "urn:ietf:params:scim:schemas:core:2.0:Group"}
    assert scim("GET", f"/Schemas/{ENTERPRISE}")[1]["attributes"][0]["name"] == "department"
    assert scim("GET", "/ResourceTypes/Nope")[0] == 404

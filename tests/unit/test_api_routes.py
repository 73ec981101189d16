"""The API's routes are declared, not inferred: every route goes through ``Area.route``, and
no view authenticates on its own (so the declaration is the only way a token is checked, and
what the OpenAPI document, the template's authorizer test and the role test read is true)."""

from __future__ import annotations

import ast
from pathlib import Path

from ripple.api.routing import Auth, RouteSpec, route_spec

API = Path(__file__).resolve().parents[2] / "layers" / "ripple" / "ripple" / "api"
SELF_AUTH = {"principal", "authenticate", "_principal"}


def _specs() -> dict[tuple[str, str], RouteSpec | None]:
    from app import app

    return {(p, m): route_spec(e.view_function) for p, es in app.routes.items() for m, e in es.items()}


def test_every_route_is_declared() -> None:
    specs = _specs()
    assert len(specs) > 100
    assert [k for k, v in specs.items() if v is None] == []


def test_no_view_checks_a_token_itself() -> None:
    offenders = []
    for path in sorted(API.glob("*.py")):
        if path.name in ("routing.py", "__init__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in SELF_AUTH:
                    offenders.append(f"{path.name}:{node.lineno} {name}()")
    assert offenders == []


def test_admin_routes_are_declared_for_admins() -> None:
    from ripple.domain.model import Role

    for (path, method), spec in _specs().items():
        assert spec is not None
        if path.startswith("/admin/"):
            assert spec.auth is Auth.USER and spec.role is Role.ADMIN, (method, path)
        if path.startswith("/scim/v2/"):
            assert spec.auth is Auth.SCIM, (method, path)


def test_the_area_of_a_route_is_its_module() -> None:
    import inspect

    from app import app

    for entries in app.routes.values():
        for entry in entries.values():
            spec = route_spec(entry.view_function)
            assert spec is not None
            assert inspect.unwrap(entry.view_function).__module__ == f"ripple.api.{spec.area}"

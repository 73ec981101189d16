"""Shared helpers for the packaging tests: the template, the SAM transform, the app's routes.

Everything here is derived from ``template.yaml`` and the app's route declarations so that adding a route, a
function or a layer needs no edit in these tests.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.template import ROOT, load_template

__all__ = [
    "APP_PY",
    "ROOT",
    "AppRoute",
    "app_routes",
    "functions",
    "is_authenticated",
    "layers",
    "lazy_imports",
    "load_template",
    "reachable_functions",
    "sam_transform",
]

APP_PY = ROOT / "app.py"
ROUTING_PY = ROOT / "layers" / "ripple" / "ripple" / "api" / "routing.py"

# Stand-in for ``sam package``: the translator accepts only S3 code locations.
ARTIFACT_BUCKET = "ripple-artifacts-test"


def _resources(template: dict[str, Any], type_: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, res in template["Resources"].items():
        if res.get("Type") == type_:
            yield logical_id, res


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``AWS::Serverless::Function`` properties by logical id."""
    return {lid: res["Properties"] for lid, res in _resources(template, "AWS::Serverless::Function")}


def layers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``AWS::Serverless::LayerVersion`` resources (with Metadata) by logical id."""
    return dict(_resources(template, "AWS::Serverless::LayerVersion"))


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    """Run the SAM translator offline, as ``sam package && sam deploy`` would, on a copy."""
    from samtranslator.translator.transform import transform

    packaged = copy.deepcopy(template)
    for logical_id, res in packaged["Resources"].items():
        props = res.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                local = ROOT / props[key]
                assert local.is_dir(), f"{logical_id}.{key} {props[key]!r} is not a directory of the repo"
                props[key] = f"s3://{ARTIFACT_BUCKET}/{logical_id}.zip"

    class OfflinePolicyLoader:
        """No IAM calls: the template names no managed policies, only SAM policy templates."""

        def load(self) -> dict[str, str]:
            return {}

    params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    transformed: dict[str, Any] = transform(packaged, params, OfflinePolicyLoader())
    return transformed


# ------------------------------------------------------------------ the routes, from their declarations


@dataclass(frozen=True, slots=True)
class AppRoute:
    path: str
    method: str  # upper case
    view: str  # name of the view function (unique across ripple.api's areas)


def _entries() -> dict[str, Any]:
    from app import app

    return {entry.view_name: entry for entries in app.routes.values() for entry in entries.values()}


def app_routes() -> list[AppRoute]:
    """Every (path, method) Chalice routes, from the live ``app.app`` object."""
    from app import app

    out: list[AppRoute] = []
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            out.append(AppRoute(path=path, method=method.upper(), view=entry.view_name))
    assert len({r.view for r in out}) == len({(r.view, r.path) for r in out}), "a view name is used twice"
    return sorted(out, key=lambda r: (r.path, r.method))


def is_authenticated(view: str) -> bool:
    """What the route declares (``auth=Auth.USER`` on ``Area.route``): the decorator then
    verifies the token before the view runs, and no view authenticates on its own
    (tests/unit/test_api_routes.py)."""
    from ripple.api.routing import Auth, route_spec

    spec = route_spec(_entries()[view].view_function)
    assert spec is not None, f"{view} was not declared with Area.route"
    return spec.auth is Auth.USER


def _module_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _called_names(fn: ast.FunctionDef) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def reachable_functions(view: str) -> dict[str, ast.FunctionDef]:
    """``view`` and every module-level function of its area module (and of ripple.api.routing,
    which runs before every view) it calls, transitively."""
    import inspect
    import sys

    fn = inspect.unwrap(_entries()[view].view_function)
    module_file = Path(str(sys.modules[fn.__module__].__file__))
    defs = {**_module_functions(ROUTING_PY), **_module_functions(module_file)}
    assert view in defs, f"view {view!r} is not a module-level function of {module_file.name}"
    seen: dict[str, ast.FunctionDef] = {}
    todo = [view, "principal"] if is_authenticated(view) else [view]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = defs[name]
        todo.extend(n for n in _called_names(defs[name]) if n in defs and n not in seen)
    return seen


def lazy_imports(view: str) -> set[str]:
    """Modules imported inside the functions a view reaches (the imports its first call pays for)."""
    out: set[str] = set()
    for fn in reachable_functions(view).values():
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.add(node.module)
            elif isinstance(node, ast.Import):
                out.update(alias.name for alias in node.names)
    return out

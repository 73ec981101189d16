"""Shared helpers for the packaging tests: the template, the SAM transform, the app's routes.

Everything here is derived from ``template.yaml`` and ``app.py`` so that adding a route, a
function or a layer needs no edit in these tests.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from dataclasses import dataclass
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

# A route is authenticated iff its view reaches one of these (directly or through helpers
# defined in app.py); every other route is public and must have ``Auth: {Authorizer: NONE}``.
AUTH_CALLS = frozenset({"_principal", "authenticate"})

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


# ------------------------------------------------------------------ app.py, statically


@dataclass(frozen=True, slots=True)
class AppRoute:
    path: str
    method: str  # upper case
    view: str  # name of the view function in app.py


def app_routes() -> list[AppRoute]:
    """Every (path, method) Chalice routes, from the live ``app.app`` object."""
    from app import app

    out: list[AppRoute] = []
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            out.append(AppRoute(path=path, method=method.upper(), view=entry.view_name))
    return sorted(out, key=lambda r: (r.path, r.method))


def _module_functions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(APP_PY.read_text(encoding="utf-8"))
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
    """``view`` and every app.py module-level function it calls, transitively."""
    defs = _module_functions()
    assert view in defs, f"view {view!r} is not a module-level function of app.py"
    seen: dict[str, ast.FunctionDef] = {}
    todo = [view]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = defs[name]
        todo.extend(n for n in _called_names(defs[name]) if n in defs and n not in seen)
    return seen


def is_authenticated(view: str) -> bool:
    return any(_called_names(fn) & AUTH_CALLS for fn in reachable_functions(view).values())


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

"""The redirect's cold start stays light: importing ``app`` (and what the public routes import
on their first call) loads none of the heavy libraries, even though the dev venv has some."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.packaging._support import ROOT, app_routes, is_authenticated, lazy_imports

HEAVY = ("PIL", "qrcode", "pydantic", "pandas", "scim2_filter_parser", "sly", "scim2_models", "scim2_client")

PROBE = r"""
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
for name in json.loads(sys.argv[2]):
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_after_importing(modules: list[str]) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(ROOT), json.dumps(modules)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".", 1)[0] in HEAVY)


def test_the_redirect_hot_path_imports_nothing_heavy() -> None:
    public_lazy = sorted({m for r in app_routes() if not is_authenticated(r.view) for m in lazy_imports(r.view)})
    loaded = _loaded_after_importing(["app", *public_lazy])
    assert "app" in loaded and "chalice.app" in loaded
    assert _heavy(loaded) == []


def test_provisioning_code_loads_only_in_its_own_routes() -> None:
    """SCIM and the CSV import are imported inside their views: a cold start of the redirect
    (``import app`` + the redirect's modules) loads none of them, nor the SCIM filter parser."""
    loaded = _loaded_after_importing(["app", "ripple.service.redirect", "ripple.adapters.repositories"])
    provisioning = {"ripple.service.scim", "ripple.domain.scim", "ripple.adapters.scim", "ripple.service.imports"}
    assert loaded & (provisioning | {"ripple.domain.imports", "scim2_filter_parser"}) == set()
    # and the probe can see them when they are imported
    assert "scim2_filter_parser" in _loaded_after_importing(["app", "scim2_filter_parser.parser"])


def test_the_probe_sees_heavy_imports() -> None:
    """Guard against a probe that cannot fail: pydantic is in the dev venv (aws-sam-translator)."""
    assert _heavy(_loaded_after_importing(["app", "pydantic"])) != []

"""The layer rules, executable (issue 16): arrows point inward only.

* ``ripple.domain`` imports the standard library and itself;
* ``ripple.service`` never imports ``ripple.adapters`` or ``ripple.web``;
* ``ripple.adapters`` imports ``ripple.domain``, ``ripple.service.ports`` and itself, never a
  use case;
* nothing but the composition root (``ripple.bootstrap``) imports ``ripple.adapters``.

Read from the source (every ``import``, also inside functions, where this code base keeps
cold-start-heavy imports). What still breaks a rule is listed in ``KNOWN`` with the reason;
the test fails on anything new *and* on a listed entry that is gone, so the list only shrinks.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "ripple" / "ripple"

# (importing module, imported top-level package or ripple layer module) still in breach.
KNOWN: dict[tuple[str, str], str] = {
    # domain -> pure third-party parsers/data (no I/O); to move behind ports or into adapters
    ("ripple.domain.contact", "phonenumbers"): "E.164 parsing",
    ("ripple.domain.scim", "scim2_filter_parser"): "SCIM filter grammar",
    ("ripple.domain.useragents", "crawleruseragents"): "the maintained bot list",
    ("ripple.domain.validation", "idna"): "IDNA 2008 host names",
    # service -> adapters: job/upload/outbox stores used directly by use cases
    ("ripple.service.exports", "ripple.adapters.exports"): "export jobs",
    ("ripple.service.exports", "ripple.adapters.posters"): "S3 of the exports",
    ("ripple.service.imports", "ripple.adapters.imports"): "CSV import jobs",
    ("ripple.service.posters", "ripple.adapters.posters"): "materials, copies, templates",
    ("ripple.service.scim", "ripple.adapters.scim"): "SCIM state",
    ("ripple.service.webhooks", "ripple.adapters.webhooks"): "endpoints and outbox",
    # entry-point helpers outside bootstrap reaching adapters
    ("ripple.cli", "ripple.adapters.stack"): "the CLI's deployed-stack lookup",
}


# the composition root and the adapters themselves (the auth edge, ripple.http, types its
# verifier by the port since issue 16)
_MAY_WIRE = ("adapters", "bootstrap")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _target(name: str) -> str:
    """``ripple.adapters.repositories.x`` -> ``ripple.adapters.repositories``; others: top level."""
    parts = name.split(".")
    return ".".join(parts[:3]) if parts[0] == "ripple" and len(parts) >= 3 else parts[0]


def _breaches() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module(path)
        layer = module.split(".")[1] if module.count(".") else ""
        for name in _imports(path):
            target = _target(name)
            if layer == "domain":
                if name.split(".")[0] not in sys.stdlib_module_names and not name.startswith("ripple.domain"):
                    out[(module, target)] = "domain imports beyond the standard library and itself"
            elif layer == "service" and name.startswith(("ripple.adapters", "ripple.web", "ripple.api")):
                out[(module, target)] = "a use case imports an adapter or the web layer"
            elif layer == "adapters" and name.startswith("ripple.service") and name != "ripple.service.ports":
                out[(module, target)] = "an adapter imports a use case"
            elif layer not in _MAY_WIRE and name.startswith("ripple.adapters"):
                out[(module, target)] = "only the composition root wires adapters"
    # the entry points outside the package (the API's app.py, the functions)
    for path in [ROOT / "app.py", *sorted((ROOT / "functions").glob("*.py"))]:
        module = path.stem if path.parent == ROOT else f"functions.{path.stem}"
        for name in _imports(path):
            if name.startswith("ripple.adapters"):
                out[(module, _target(name))] = "only the composition root wires adapters"
    return out


def test_the_layers_point_inward() -> None:
    found = _breaches()
    new = {k: v for k, v in found.items() if k not in KNOWN}
    assert new == {}, "new imports against the layer rules:\n" + "\n".join(
        f"  {a} -> {b}: {why}" for (a, b), why in new.items()
    )


def test_the_known_breaches_only_shrink() -> None:
    gone = sorted(set(KNOWN) - set(_breaches()))
    assert gone == [], f"fixed, so take them off KNOWN: {gone}"

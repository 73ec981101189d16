"""The versions that bite are pinned exactly, and the venv runs what the files pin."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.packaging._support import ROOT

DEV = ROOT / "requirements-dev.txt"
DEPS = ROOT / "layers" / "deps" / "requirements.txt"

MUST_PIN = {DEV: ("moto", "boto3", "botocore"), DEPS: ("chalice",)}


def _read(path: Path, *, follow: bool) -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            if follow:
                out.update(_read(path.parent / line[3:].strip(), follow=True))
            continue
        assert not line.startswith("-"), f"{path.name}: unexpected option {line!r}"
        req = Requirement(line)
        out[canonicalize_name(req.name)] = req
    return out


def _exact(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        return specs[0].version
    return None


@pytest.mark.parametrize("path", list(MUST_PIN), ids=lambda p: p.name)
def test_required_pins_are_exact(path: Path) -> None:
    reqs = _read(path, follow=False)
    for name in MUST_PIN[path]:
        assert name in reqs, f"{name} is not listed in {path.name}"
        assert _exact(reqs[name]), f"{path.name}: {reqs[name]} is not an exact == pin"


def test_dev_requirements_include_the_runtime_layer() -> None:
    assert set(_read(DEPS, follow=False)) <= set(_read(DEV, follow=True))


def test_installed_versions_equal_every_exact_pin() -> None:
    pins = {name: _exact(req) for name, req in _read(DEV, follow=True).items()}
    assert {"moto", "boto3", "botocore", "chalice"} <= {n for n, v in pins.items() if v}
    mismatched = {
        name: (version, metadata.version(name))
        for name, version in pins.items()
        if version and metadata.version(name) != version
    }
    assert mismatched == {}, "venv out of date: `make install` (pinned, installed)"

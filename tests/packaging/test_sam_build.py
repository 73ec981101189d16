"""What the real ``sam build`` produced (``make deploy-check``: aws-sam-cli as pinned in
requirements-deploy.txt, no container) is what Lambda can run:

* every function's handler imports from ``.aws-sam/build/<Function>`` plus its built layers,
  in an isolated interpreter (``-I -S``: no site-packages), with only the runtime's own boto3
  closure added, and nothing else loaded from anywhere;
* every distribution in a layer is a wheel for the runtime: pure, or ``cp311`` for the
  function architecture with a manylinux tag the runtime's glibc (Amazon Linux 2: 2.26)
  satisfies, and every shared object is an ELF for that machine whose GLIBC symbol versions
  stay within it (that is how the arm64 poster layer is checked on an x86_64 host, where it
  cannot be imported; there its one binary package is replaced by this venv's build of the
  same version, so the rest of the poster function still imports from the build);
* layers hold only what runs: no boto3/botocore (the runtime's must not be shadowed), none of
  Chalice's CLI dependencies; every module is shipped byte-compiled for the runtime's Python.

Skipped unless ``RIPPLE_SAM_BUILD`` names the build directory (``make deploy-check`` sets it).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from infra.template import load_template
from tests.packaging._support import ROOT

BUILD = (ROOT / (os.environ.get("RIPPLE_SAM_BUILD") or ".aws-sam/build")).resolve()
pytestmark = pytest.mark.skipif(
    not os.environ.get("RIPPLE_SAM_BUILD"), reason="needs a real `sam build` (make deploy-check)"
)

RUNTIME_GLIBC = (2, 26)  # python3.11 runs on Amazon Linux 2
RUNTIME_PROVIDED = ("boto3",)  # with its closure (botocore, s3transfer, jmespath, urllib3, dateutil, six)
NOT_AT_RUNTIME = {"boto3", "botocore", "s3transfer", "click", "pyyaml", "inquirer", "pip", "setuptools", "wheel"}
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
HOST_MACHINE = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "x86_64", "AMD64": "x86_64"}[platform.machine()]

PROBE = r"""
import importlib, json, sys, sysconfig
sys.path[:0] = json.loads(sys.argv[1])
module_name, attr = sys.argv[2].rsplit(".", 1)
module = importlib.import_module(module_name)
obj = getattr(module, attr)
files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
print(json.dumps({"callable": callable(obj), "module_file": module.__file__, "files": files,
                  "stdlib": [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]]}))
"""


def _built() -> dict[str, Any]:
    return load_template(BUILD / "template.yaml")


def _functions() -> dict[str, dict[str, Any]]:
    if not (BUILD / "template.yaml").exists():
        return {}
    return {
        lid: res["Properties"]
        for lid, res in _built()["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def _layer_dirs(props: dict[str, Any], template: dict[str, Any]) -> list[Path]:
    """Layer content in the order Lambda applies it (``/opt/python`` per layer)."""
    refs = [*template["Globals"]["Function"].get("Layers", []), *props.get("Layers", [])]
    return [BUILD / template["Resources"][ref["Ref"]]["Properties"]["ContentUri"] / "python" for ref in refs]


def _dists(layer: Path) -> list[Path]:
    return sorted(layer.glob("*.dist-info"))


def _runtime_closure(tmp: Path) -> Path:
    """The runtime's boto3 and its dependencies (this venv's copies), as their own directory."""
    from tests.packaging.test_lambda_package import _distribution_closure, _link_distributions

    out = tmp / "runtime"
    out.mkdir()
    _link_distributions(_distribution_closure(list(RUNTIME_PROVIDED)), out)
    return out


def _binary_dists(layer: Path) -> list[Path]:
    return [d for d in _dists(layer) if any(t.endswith(("_aarch64", "_x86_64")) for t in _wheel_tags(d))]


def _host_stand_ins(layers: list[Path], tmp: Path) -> list[Path]:
    """Where the host cannot execute the layer's binaries: this venv's build of the very same
    version of each binary distribution, put in front (everything else still comes from the build)."""
    from tests.packaging.test_lambda_package import _link_distributions

    (arch,) = load_template()["Globals"]["Function"]["Architectures"]
    if arch == HOST_MACHINE:
        return []
    stand_in = tmp / "host-binaries"
    stand_in.mkdir()
    for layer in layers:
        for dist in _binary_dists(layer):
            name, version = dist.name.removesuffix(".dist-info").rsplit("-", 1)
            assert metadata.version(name) == version, f"the venv's {name} is not the built {version}"
            _link_distributions({name: metadata.distribution(name)}, stand_in)
    return [stand_in] if any(stand_in.iterdir()) else []


@pytest.mark.parametrize("logical_id", sorted(_functions()) or ["(no build)"])
def test_every_handler_imports_from_the_build(logical_id: str, tmp_path: Path) -> None:
    template = _built()
    props = template["Resources"][logical_id]["Properties"]
    task = BUILD / props["CodeUri"]
    layers = _layer_dirs(props, template)
    assert all(layer.is_dir() for layer in layers), layers
    stand_ins = _host_stand_ins(layers, tmp_path)
    runtime = _runtime_closure(tmp_path)
    path = [str(task), *(str(p) for p in stand_ins), *(str(p) for p in reversed(layers)), str(runtime)]
    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, json.dumps(path), props["Handler"]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["callable"]
    assert Path(result["module_file"]).parent == task
    venv = Path(sys.prefix).resolve()
    allowed = [BUILD.resolve(), tmp_path, *(Path(p) for p in result["stdlib"])]
    leaked = []
    for file in result["files"]:
        resolved = Path(file).resolve()
        if any(Path(file).is_relative_to(a) or resolved.is_relative_to(a) for a in allowed):
            continue
        leaked.append(file)
    assert leaked == [], "modules loaded from outside the build (and the runtime's boto3)"
    assert not any(Path(f).resolve().is_relative_to(venv) and "ripple" in Path(f).parts for f in result["files"])


def _wheel_tags(dist: Path) -> list[str]:
    wheel = dist / "WHEEL"
    assert wheel.exists(), f"{dist.name} was not installed from a wheel"
    return [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]


def _tag_ok(tag: str, arch: str) -> bool:
    py, abi, plat = tag.split("-")
    if plat == "any":
        return py.startswith(("py3", "py2.py3", "cp311"))
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
    if not plat.endswith("_" + machine):
        return False
    legacy = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
    m = re.match(r"manylinux_(\d+)_(\d+)_", plat)
    glibc = (int(m.group(1)), int(m.group(2))) if m else legacy.get(plat.rsplit("_", 1)[0].removesuffix("_aarch64"))
    if glibc is None:
        return False
    return glibc <= RUNTIME_GLIBC and (py in ("cp311", "py3") or abi == "abi3")


def _all_layers() -> list[Path]:
    if not (BUILD / "template.yaml").exists():
        return []
    return [
        BUILD / res["Properties"]["ContentUri"] / "python"
        for res in _built()["Resources"].values()
        if res["Type"] == "AWS::Serverless::LayerVersion"
    ]


@pytest.mark.parametrize("layer", _all_layers() or [Path("(no build)")], ids=lambda p: p.parent.name)
def test_layer_wheels_fit_the_runtime(layer: Path) -> None:
    (arch,) = load_template()["Globals"]["Function"]["Architectures"]
    for dist in _dists(layer):
        tags = _wheel_tags(dist)
        assert any(_tag_ok(t, arch) for t in tags), f"{dist.name}: {tags} do not run on python3.11/{arch}/glibc 2.26"


def _elf_machine_and_glibc(path: Path) -> tuple[int, tuple[int, int]]:
    data = path.read_bytes()[:64]
    assert data[:4] == b"\x7fELF", path
    machine = int.from_bytes(data[18:20], "little")
    out = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    versions = [(int(a), int(b)) for a, b in re.findall(r"Name: GLIBC_(\d+)\.(\d+)", out)]
    return machine, max(versions, default=(0, 0))


@pytest.mark.parametrize("layer", _all_layers() or [Path("(no build)")], ids=lambda p: p.parent.name)
def test_shared_objects_are_for_the_runtime_machine_and_glibc(layer: Path) -> None:
    (arch,) = load_template()["Globals"]["Function"]["Architectures"]
    objects = [p for p in layer.rglob("*.so*") if p.is_file()]
    for obj in objects:
        machine, glibc = _elf_machine_and_glibc(obj)
        assert machine == ELF_MACHINE[arch], f"{obj.relative_to(layer)} is not {arch}"
        assert glibc <= RUNTIME_GLIBC, f"{obj.relative_to(layer)} needs GLIBC_{glibc[0]}.{glibc[1]}"
    if layer.parent.name == "PosterLayer":
        assert objects, "Pillow's extension modules should be here"


@pytest.mark.parametrize("layer", _all_layers() or [Path("(no build)")], ids=lambda p: p.parent.name)
def test_layers_hold_only_what_runs_byte_compiled(layer: Path) -> None:
    names = {d.name.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("_", "-") for d in _dists(layer)}
    assert not names & NOT_AT_RUNTIME, f"not needed at run time (or shadowing the runtime's): {names & NOT_AT_RUNTIME}"
    assert not (layer / "bin").exists()
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    assert tag == "cpython-311", "byte-compiled by the runtime's Python"
    missing = [
        str(py.relative_to(layer))
        for py in layer.rglob("*.py")
        if not (py.parent / "__pycache__" / f"{py.stem}.{tag}.pyc").exists()
    ]
    assert missing == [], f"{len(missing)} modules without .pyc, e.g. {missing[:3]}"


def test_functions_ship_byte_compiled() -> None:
    for logical_id, props in _functions().items():
        task = BUILD / props["CodeUri"]
        for py in task.glob("*.py"):
            assert (task / "__pycache__" / f"{py.stem}.cpython-311.pyc").exists(), (logical_id, py.name)


def test_the_built_template_is_the_source_template() -> None:
    """Same resources and handlers: the build changed code locations only."""
    source, built = load_template(), _built()
    assert set(source["Resources"]) == set(built["Resources"])
    for lid, props in _functions().items():
        assert props["Handler"] == source["Resources"][lid]["Properties"]["Handler"]

"""Every template Handler resolves from what ``sam build`` would deploy, and from nothing else.

Per function, a Lambda file system is laid out in tmp_path the way SAM builds it:

* ``var/task``: the function's CodeUri, copied with aws-lambda-builders' python_pip excludes;
* ``opt/python``: every layer (``BuildMethod: python3.11`` puts a layer's content under
  ``python/``): the core layer's source, and for the deps layer the installed distributions
  that ``layers/deps/requirements.txt`` needs (transitively, from this venv's metadata,
  symlinked instead of pip-installed), plus boto3's closure, which the Lambda runtime ships.

A ``python -I -S`` subprocess (no site-packages, hence no ``.pth`` files and no editable
finder pointing back into the repo) then gets exactly those directories on ``sys.path``,
imports the handler and checks that every module it loaded came from the package or stdlib.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.packaging._support import ROOT, functions, layers, load_template

# aws-lambda-builders' PythonPipWorkflow.EXCLUDED_FILES (what `sam build` leaves out of a CodeUri).
SAM_EXCLUDES = (
    ".aws-sam",
    ".chalice",
    ".git",
    ".gitignore",
    "*.pyc",
    "__pycache__",
    "*.so",
    ".Python",
    "*.egg-info",
    "*.egg",
    "pip-log.txt",
    "pip-delete-this-directory.txt",
    "htmlcov",
    ".tox",
    ".nox",
    ".coverage",
    ".cache",
    ".pytest_cache",
    ".python-version",
    ".mypy_cache",
    ".dmypy.json",
    ".pyre",
    ".env",
    ".venv",
    "venv",
    "venv.bak",
    "env.bak",
    "ENV",
    "env",
    ".vscode",
    ".idea",
)
# Not deployable anyway and possibly large or in flux while tests run; irrelevant to imports.
LOCAL_ONLY = (".hypothesis", ".ruff_cache", ".local", "tests", "bench")
RUNTIME_PROVIDED = ("boto3",)  # the python3.11 Lambda runtime ships boto3 and its dependencies

PROBE = r"""
import importlib, json, sys, sysconfig
sys.path[:0] = json.loads(sys.argv[1])
module_name, attr = sys.argv[2].rsplit(".", 1)
module = importlib.import_module(module_name)
obj = getattr(module, attr)
import ripple
kind = None
if sys.argv[2] == "app.app":
    from chalice.app import Chalice
    kind = "chalice" if isinstance(obj, Chalice) else type(obj).__name__
files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
print(json.dumps({
    "callable": callable(obj),
    "kind": kind,
    "module_file": module.__file__,
    "ripple_file": ripple.__file__,
    "files": files,
    "stdlib": [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]],
}))
"""


def _distribution_closure(roots: list[str]) -> dict[str, metadata.Distribution]:
    """Installed distributions needed by ``roots`` (requirement strings), markers evaluated."""
    out: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in out:
            continue
        dist = metadata.distribution(req.name)
        out[name] = dist
        for sub in dist.requires or []:
            sub_req = Requirement(sub)
            if sub_req.marker is None or any(sub_req.marker.evaluate({"extra": e}) for e in ["", *req.extras]):
                sub_req.marker = None
                todo.append(sub_req)
    return out


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _link_distributions(dists: dict[str, metadata.Distribution], target: Path) -> None:
    """Symlink each distribution's top-level packages/modules (from its RECORD) into ``target``."""
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for dist in dists.values():
        for file in dist.files or []:
            located = Path(str(dist.locate_file(file))).resolve()
            if site not in located.parents or file.name.endswith(".pth"):
                continue
            top = located.relative_to(site).parts[0]
            if not (target / top).exists() and top != "__pycache__":
                (target / top).symlink_to(site / top)


@pytest.fixture(scope="module")
def opt_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``/opt/python``: every layer of template.yaml, merged as Lambda merges them."""
    opt = tmp_path_factory.mktemp("opt") / "python"
    opt.mkdir()
    for logical_id, layer in layers(load_template()).items():
        assert layer["Metadata"]["BuildMethod"] == "makefile", logical_id
        source = ROOT / layer["Properties"]["ContentUri"]
        requirements = source / "requirements.txt"
        if requirements.exists():
            # `make build-<Layer>` pip-installs arm64 wheels (tests/packaging/test_sam_build.py,
            # `make deploy-check`, imports those); here this venv's copies stand in, so that
            # `make test` needs no download. The closure is the layer's pins, not pip's resolution.
            pins = _requirements(requirements)
            if (source / "closure.txt").exists():
                pins += _requirements(source / "closure.txt")
            _link_distributions(_distribution_closure(pins), opt)
        else:  # pure source: the real build, it is quick
            built = tmp_path_factory.mktemp(logical_id)
            _make(logical_id, built)
            shutil.copytree(built / "python", opt, dirs_exist_ok=True)
    _link_distributions(_distribution_closure(list(RUNTIME_PROVIDED)), opt)
    return opt


def _make(logical_id: str, artifacts: Path) -> None:
    """What `sam build` runs for a ``BuildMethod: makefile`` resource."""
    made = subprocess.run(
        ["make", "-s", "-C", str(ROOT), f"build-{logical_id}", f"ARTIFACTS_DIR={artifacts}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr


def _handlers() -> list[tuple[str, str, str]]:
    return [(lid, p["CodeUri"], p["Handler"]) for lid, p in functions(load_template()).items()]


@pytest.mark.parametrize(("logical_id", "code_uri", "handler"), _handlers(), ids=[h[0] for h in _handlers()])
def test_handler_resolves_from_the_deployed_package(
    logical_id: str, code_uri: str, handler: str, opt_python: Path, tmp_path: Path
) -> None:
    task = tmp_path / "var" / "task"
    source = (ROOT / code_uri).resolve()
    assert (source / "requirements.txt").exists() is False, "would pip-install into the function; use the layer"
    build_method = (load_template()["Resources"][logical_id].get("Metadata") or {}).get("BuildMethod")
    assert build_method == "makefile", logical_id
    task.mkdir(parents=True)
    _make(logical_id, task)  # what `sam build` does for it: make build-<LogicalId>
    shipped = sorted(p.name for p in task.iterdir() if p.name != "__pycache__")
    if handler == "app.app":
        assert shipped == ["app.py"], "the API package is app.py alone"
    else:
        assert shipped == sorted(p.name for p in source.glob("*.py")), "a function package is its CodeUri's modules"
    assert (task / "__pycache__").is_dir(), "shipped byte-compiled"

    env = {"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    env["LAMBDA_TASK_ROOT"] = str(task)
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, json.dumps([str(task), str(opt_python)]), handler],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)

    assert result["callable"], f"{logical_id}: {handler} is not callable"
    if handler == "app.app":
        assert result["kind"] == "chalice"
    assert Path(result["module_file"]).parent == task
    assert Path(result["ripple_file"]).is_relative_to(opt_python), "ripple must come from the core layer"
    allowed = [tmp_path, opt_python.parent, *(Path(p) for p in result["stdlib"])]
    leaked = [f for f in result["files"] if not any(Path(f).is_relative_to(a) for a in allowed)]
    assert leaked == [], "modules loaded from outside the deployed package"


def test_probe_fails_when_a_dependency_is_missing(opt_python: Path, tmp_path: Path) -> None:
    """The layout is strict: a module in neither the package nor the layers does not import."""
    task = tmp_path / "task"
    task.mkdir()
    (task / "needs_dev_dep.py").write_text("import moto  # dev-only, not in layers/deps\nhandler = print\n")
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, json.dumps([str(task), str(opt_python)]), "needs_dev_dep.handler"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert re.search(r"No module named '?moto", proc.stderr)


def test_the_core_layer_ships_the_web_pages(opt_python: Path) -> None:
    """GET /console, /m and /assets/{name} read ripple/web/static from the core layer."""
    from ripple.web.console import ASSETS, PAGES, STATIC_DIR

    static = opt_python / "ripple" / "web" / "static"
    for name in [*ASSETS, *PAGES.values()]:
        shipped = static / name
        assert shipped.is_file(), f"{name} is not in the core layer"
        assert shipped.read_bytes() == (STATIC_DIR / name).read_bytes()


def test_an_installed_ripple_ships_the_web_pages() -> None:
    """pyproject's package-data globs cover every file the pages serve (a wheel would carry them)."""
    import fnmatch
    import tomllib

    from ripple.web.console import ASSETS, PAGES

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    for name in [*ASSETS, *PAGES.values()]:
        assert any(fnmatch.fnmatch(f"web/static/{name}", g) for g in globs["ripple"]), name

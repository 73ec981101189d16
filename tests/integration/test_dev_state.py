"""The dev stack's state: per stack, kept across Ctrl-C, gone with ``--fresh``.

Two real ``ripple dev`` in one checkout (``RIPPLE_LOCAL_DIR`` stands in for its ``.local/``)
each get ``.local/<port>/``; the CLI finds the one it is told (``--port``) or the only one
running; stopping one leaves the other reachable; Ctrl-C and a restart on the same port
continue where it stopped; ``--fresh`` starts empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import auth
from tests.integration.devstack import DevStack

TENANT = "twostacks"
ADMIN = auth(TENANT, "boss", "admin")


def _employees(stack: DevStack) -> list[str]:
    resp = requests.get(stack.base + "/admin/employees", headers=ADMIN, timeout=30)
    assert resp.status_code == 200, resp.text
    page: dict[str, Any] = resp.json()
    return sorted(e["employee_id"] for e in page.get("items", page.get("employees", [])))


def _hire(stack: DevStack, employee: str) -> None:
    resp = requests.put(
        f"{stack.base}/admin/employees/{employee}",
        headers=ADMIN,
        json={"name": employee, "team": "t", "region": "r"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[tuple[DevStack, DevStack]]:
    local = tmp_path / "checkout-local"
    first, second = DevStack(tmp_path / "a", local_dir=local), DevStack(tmp_path / "b", local_dir=local)
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def test_two_stacks_share_nothing_and_each_keeps_its_state(stacks: tuple[DevStack, DevStack]) -> None:
    a, b = stacks
    assert a.local_dir is not None
    a.start()
    b.start()
    _hire(a, "amy")
    _hire(b, "ben")
    assert (_employees(a), _employees(b)) == (["amy"], ["ben"])
    for stack in (a, b):
        state = json.loads((a.local_dir / str(stack.port) / "stack.json").read_text())
        assert state["api"] == stack.base and state["port"] == stack.port

    ambiguous = a.cli("reconcile")
    assert ambiguous.returncode != 0 and "several local stacks" in ambiguous.stderr, ambiguous.stderr
    assert a.cli("reconcile", "--port", str(b.port)).returncode == 0

    b.stop()  # Ctrl-C on one stack...
    assert not (a.local_dir / str(b.port) / "stack.json").exists()
    settle = a.cli("settle", "--tenant", TENANT, "--period", "2020-01")  # ...the other still answers
    assert settle.returncode == 0, settle.stderr
    assert json.loads(settle.stdout)["period"] == "2020-01"
    assert a.cli("reconcile").returncode == 0  # the only one running now: no --port needed
    gone = a.cli("reconcile", "--port", str(b.port))
    assert gone.returncode != 0 and f"on port {b.port}" in gone.stderr

    a.stop()
    a.start()  # make run again: where it stopped
    assert _employees(a) == ["amy"]
    _hire(a, "ann")
    a.stop()
    b.start()
    assert _employees(b) == ["ben"]
    a.start(0.05, "--fresh")
    assert _employees(a) == []
    a.stop()
    a.start()  # --fresh forgot the old state for good, and keeps the new one
    assert _employees(a) == []

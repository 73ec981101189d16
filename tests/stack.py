"""The local stack as a pytest fixture: one real ``ripple dev --no-seed`` in a subprocess
(moto server, tables and bucket from template.yaml, Chalice's local server, stream poller,
scheduler) for the whole run, shared by tests/integration and tests/e2e. Registered in
tests/conftest.py so both folders get the same session-scoped instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.moto_server import free_port

ROOT = Path(__file__).resolve().parents[1]
SSO_TENANT = "sso-e2e"


@dataclass(frozen=True)
class RunningStack:
    base: str
    proc: subprocess.Popen[str]
    state_file: Path

    @property
    def pool(self) -> dict[str, str]:
        """The user pool and app client the stack created in its moto (infra/cognito.py)."""
        import json

        return dict(json.loads(self.state_file.read_text())["pool"])

    @property
    def mailbox(self) -> Path:
        """Every message the stack's Cognito would have sent (infra/cognito_patches.py)."""
        import json

        return Path(json.loads(self.state_file.read_text())["mailbox"])

    @property
    def live(self) -> str:
        """The WebSocket URL of the stack's live-page gateway (infra/websocket.py)."""
        import json

        return str(json.loads(self.state_file.read_text())["live"])

    def cli_env(self) -> dict[str, str]:
        """Environment for `ripple reconcile|settle` against this stack (and no other)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
        env["RIPPLE_STACK_STATE"] = str(self.state_file)
        return env


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    port = free_port()
    state = tmp_path_factory.mktemp("stack") / "stack.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env["RIPPLE_STACK_STATE"] = str(state)
    # whose staff the Hosted UI stand-in's company provider signs in (tests/e2e/test_sso.py)
    env["RIPPLE_FEDERATION_TENANT"] = SSO_TENANT
    # The stack's output goes to a file, never to a pipe nobody reads: a full pipe would block
    # every thread that logs (the server's request log, the consumer's) and hang the stack.
    log_path = ROOT / "test-artifacts" / "local-stack.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w", encoding="utf-8")
    env["RIPPLE_MOTO_LOG"] = str(log_path.with_name("moto.log"))
    log_path.with_name("moto.log").unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ripple.cli", "dev", "--no-seed", "--port", str(port), "--poll-interval", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"ripple dev exited early:\n{log_path.read_text(encoding='utf-8')[-5000:]}")
        try:
            # the state file (pool ids, mailbox) is written once everything is up
            if requests.get(base + "/", timeout=1).status_code == 404 and state.exists():
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("local stack did not come up in 90 s")
        time.sleep(0.2)
    try:
        yield RunningStack(base, proc, state)
    finally:
        # The consumer swallows nothing silently: a batch it could not apply (reported for
        # retry) is a bug somewhere in the stack, even if a later retry succeeded.
        failures = [line for line in log_path.read_text(encoding="utf-8").splitlines() if "batch failed" in line]
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("ripple dev did not stop cleanly on SIGINT")
        finally:
            log_file.close()
        if failures:
            pytest.fail(f"the points consumer failed {len(failures)} batch(es); first:\n{failures[0][:3000]}")


def wait_for(fetch: Callable[[], Any], expected: Any, timeout: float) -> tuple[Any, float]:
    """Poll until ``fetch()`` equals ``expected``; returns (last value, seconds waited)."""
    start = time.monotonic()
    while True:
        value = fetch()
        elapsed = time.monotonic() - start
        if value == expected or elapsed > timeout:
            return value, elapsed
        time.sleep(0.05)

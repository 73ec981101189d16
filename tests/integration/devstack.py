"""A ``ripple dev`` of a test's own (state directory, port, process group), for the tests
that stop, kill and restart stacks; the shared session stack is tests/stack.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infra.moto_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DevStack:
    state_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    # None: RIPPLE_STACK_STATE names state_dir/stack.json; else RIPPLE_LOCAL_DIR, as if this
    # were the checkout's .local/ (the stack then lives in local_dir/<port>/)
    local_dir: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
        if self.local_dir is None:
            env["RIPPLE_STACK_STATE"] = str(self.state_dir / "stack.json")
        else:
            env["RIPPLE_LOCAL_DIR"] = str(self.local_dir)
        return env

    def start(self, poll_interval: float = 0.05, *extra: str) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = (self.state_dir / "stack.log").open("ab")
        env = self.env()
        env["RIPPLE_MOTO_LOG"] = str(self.state_dir / "moto.log")
        interval = ["--poll-interval", str(poll_interval)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ripple.cli", "dev", "--no-seed", "--port", str(self.port), *interval, *extra],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches moto too
        )
        deadline = time.monotonic() + 180
        while True:
            assert self.proc.poll() is None, (self.state_dir / "stack.log").read_text()[-3000:]
            try:
                if requests.get(self.base + "/", timeout=2).status_code == 404:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the stack did not come up in 180 s"
            time.sleep(0.2)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``ripple <args>`` as a developer would run it next to this stack."""
        return subprocess.run(
            [sys.executable, "-m", "ripple.cli", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """What Ctrl-C does."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise

    def call(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
        resp = requests.request(method, self.base + path, headers=headers, json=body, timeout=120)
        assert resp.status_code < 300, (method, path, resp.status_code, resp.text)
        return resp.json()

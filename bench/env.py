"""One moto server subprocess for the whole run, and the environment pointing at it.

The environment is set *before* any ripple module is imported: PynamoDB models read their
table names at import time, as they do in Lambda. The server is stopped on every exit path
(normal return, exception, SIGTERM/SIGINT) and, on Linux, dies with this process even if
it is killed outright.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

from infra.moto_server import free_port, wait_until_up
from infra.stack import local_env
from infra.template import ROOT

__all__ = ["STACK", "moto_stack"]

STACK = "ripple-bench"


def _die_with_parent() -> Callable[[], None] | None:
    """preexec_fn asking Linux to SIGTERM the child when this process dies (best effort)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return None

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def moto_stack() -> Iterator[dict[str, str]]:
    """Start ``python -m infra.moto_server`` (moto_patches applied) on a free port, export
    the local environment, create every table of template.yaml; yield the environment."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.moto_server", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent(),  # only asks Linux to signal the child when we die
    )

    def _on_signal(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        wait_until_up(url + "/moto-api/")
        for var in list(os.environ):
            if var.startswith("AWS_ENDPOINT_URL") or var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
                del os.environ[var]
        env = local_env(url, STACK)
        os.environ.update(env)
        os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # the bench drives poison-free batches only
        import boto3

        from infra.cognito import create_user_pool, pool_env
        from infra.secrets import create_secrets
        from infra.tables import create_tables

        create_tables(boto3.client("dynamodb"), STACK)
        create_secrets(boto3.client("secretsmanager"), STACK)  # the functions read theirs from moto
        env.update(pool_env(create_user_pool(boto3.client("cognito-idp"), STACK)))
        os.environ.update(env)
        yield env
    finally:
        _stop(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)

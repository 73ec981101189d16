"""The whole local stack in one process tree: ``ripple dev`` / ``make run``.

moto server (subprocess) -> tables from template.yaml -> Chalice API on 127.0.0.1:PORT ->
stream pollers for every DynamoDB event in template.yaml -> scheduler for every schedule
in template.yaml -> optional demo tenant. Ctrl-C (or SIGTERM) stops everything.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.buckets import bucket_env
from infra.moto_server import free_port, wait_until_up
from infra.template import ROOT, load_template, stream_mappings, table_definitions, table_env

__all__ = ["LocalStack", "local_env"]

log = logging.getLogger("ripple.stack")
STACK_NAME = "ripple-local"


def state_file() -> Path:
    """Where a running ``ripple dev`` tells other commands (``ripple reconcile``, ``ripple
    settle``) how to reach it; ``RIPPLE_STACK_STATE`` overrides it, so stacks started by
    tests never collide with the one a developer is running."""
    return Path(os.environ.get("RIPPLE_STACK_STATE") or ROOT / ".local" / "stack.json")


def _local_server(app: Any, config: Any, host: str, port: int) -> Any:
    """Chalice's local server (what ``chalice.local.create_local_server`` builds), whose
    handler also answers methods Chalice has no handler for (TRACE, CONNECT, PROPFIND...):
    Python's base handler would send a 501 HTML page, where API Gateway never reaches the
    function; here they get a 405 JSON error like every other method a route lacks."""
    from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

    class Handler(ChaliceRequestHandler):
        def _not_allowed(self) -> None:
            body = json.dumps(
                {"error": {"code": "method_not_allowed", "message": f"Unsupported method: {self.command}"}}
            ).encode()
            self.send_response(405)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def __getattr__(self, name: str) -> Any:
            # http.server dispatches on ``do_<METHOD>``; methods Chalice lacks (TRACE, CONNECT,
            # PROPFIND, anything) land here instead of on a 501
            if name.startswith("do_"):
                return self._not_allowed
            raise AttributeError(name)

    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=Handler)


def local_env(moto_url: str, stack_name: str = STACK_NAME) -> dict[str, str]:
    """Everything the product code needs to talk to moto instead of AWS."""
    return {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": moto_url,
        "AWS_ENDPOINT_URL_S3": moto_url,
        "RIPPLE_ENV": "local",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        **table_env(stack_name),
        **bucket_env(stack_name),
    }


def _import_handler(code_uri: str, handler: str) -> Any:
    path = str((ROOT / code_uri).resolve())
    if path not in sys.path:
        sys.path.insert(0, path)
    module_name, _, attr = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


@dataclass
class LocalStack:
    port: int = 8000
    host: str = "127.0.0.1"
    moto_port: int = 0
    poll_interval: float = 0.1
    stack_name: str = STACK_NAME
    stop_event: threading.Event = field(default_factory=threading.Event)
    pollers: list[Any] = field(default_factory=list)
    _moto: subprocess.Popen[bytes] | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _server: Any = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    def start(self) -> None:
        self.moto_port = self.moto_port or free_port()
        # RIPPLE_MOTO_LOG: where moto's own log goes (its tracebacks explain a 500 from moto)
        moto_log = os.environ.get("RIPPLE_MOTO_LOG")
        sink: Any = open(moto_log, "ab") if moto_log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as moto
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "infra.moto_server", "--port", str(self.moto_port)],
            cwd=ROOT,
            stdout=sink,
            stderr=sink,
        )
        wait_until_up(self.moto_url + "/moto-api/")
        os.environ.update(local_env(self.moto_url, self.stack_name))
        os.environ.setdefault("RIPPLE_PUBLIC_BASE_URL", self.api_url)

        import boto3

        from infra.buckets import create_buckets
        from infra.tables import create_tables

        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb, self.stack_name)
        create_buckets(boto3.client("s3"), self.stack_name)
        self._start_api()
        self._start_pollers(dynamodb)
        self._start_scheduler()
        state_file().parent.mkdir(parents=True, exist_ok=True)
        state_file().write_text(
            json.dumps({"api": self.api_url, "moto": self.moto_url, "stack": self.stack_name, "pid": os.getpid()})
        )

    def _start_api(self) -> None:
        from chalice.config import Config

        from ripple import bootstrap

        bootstrap.reset()
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        app_module = importlib.import_module("app")
        config = Config(chalice_stage="local", config_from_disk={"app_name": "ripple"})
        self._server = _local_server(app_module.app, config, self.host, self.port)
        thread = threading.Thread(target=self._server.server.serve_forever, name="api", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _start_pollers(self, dynamodb: Any) -> None:
        import boto3

        from infra.poller import StreamPoller

        template = load_template()
        names = {lid: kw["TableName"] for lid, kw in table_definitions(self.stack_name, template).items()}
        for mapping in stream_mappings(template):
            poller = StreamPoller(
                streams=boto3.client("dynamodbstreams"),
                dynamodb=dynamodb,
                table_name=names[mapping.table],
                handler=_import_handler(mapping.code_uri, mapping.handler),
                function_name=mapping.function,
                batch_size=mapping.batch_size,
                report_batch_item_failures=mapping.report_batch_item_failures,
                bisect_on_error=mapping.bisect_on_error,
                maximum_retry_attempts=mapping.maximum_retry_attempts,
                starting_position=mapping.starting_position,
                dead_letter_path=ROOT / ".local" / "dlq" / f"{mapping.function}.jsonl",
                interval=self.poll_interval,
            )
            self.pollers.append(poller)
            thread = threading.Thread(target=poller.run, args=(self.stop_event,), name=mapping.function, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _start_scheduler(self) -> None:
        from infra.scheduler import Scheduler, schedules_from_template

        self.scheduler = Scheduler(schedules_from_template(), lambda s: _import_handler(s.code_uri, s.handler))
        thread = threading.Thread(target=self.scheduler.run, args=(self.stop_event,), name="scheduler", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        if self._server is not None:
            self._server.server.shutdown()
        if self._moto is not None and self._moto.poll() is None:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._moto.kill()
        if state_file().exists():
            state_file().unlink()

    def wait(self) -> None:
        def _stop(signum: int, frame: Any) -> None:
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.stop_event.wait()


def run_dev(port: int, *, seed: bool = True, moto_port: int = 0, poll_interval: float = 0.1) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stack = LocalStack(port=port, moto_port=moto_port, poll_interval=poll_interval)
    try:
        stack.start()
        print(f"Ripple local stack: API {stack.api_url}  (moto {stack.moto_url})", flush=True)
        if seed:
            from infra.demo import seed_demo

            print(seed_demo(stack.api_url), flush=True)
        print("Ready. Ctrl-C stops everything.", flush=True)
        stack.wait()
    finally:
        stack.stop()
        print("stopped.", flush=True)

"""The whole local stack in one process tree: ``ripple dev`` / ``make run``.

moto server (subprocess) -> tables from template.yaml -> Chalice API on 127.0.0.1:PORT ->
stream pollers for every DynamoDB event in template.yaml -> scheduler for every schedule
in template.yaml -> optional demo tenant. Ctrl-C (or SIGTERM) stops everything.

State lives in the stack's own directory, ``.local/<port>/`` (``RIPPLE_STACK_STATE`` names
its ``stack.json`` instead): ``stack.json`` (how ``ripple settle|reconcile`` reach it),
``moto.journal`` (every mutating request to moto, replayed on start: see ``infra.journal``)
and ``dlq/``. Ctrl-C and ``ripple dev`` again continue where they stopped, a SIGKILL too;
``ripple dev --fresh`` starts empty. Two stacks in one checkout (two ports) share nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.buckets import bucket_env
from infra.moto_server import free_port
from infra.secrets import secret_env
from infra.ses import SENDER
from infra.template import ROOT, load_template, stream_mappings, table_definitions, table_env

__all__ = ["LocalStack", "local_env", "running_stacks", "stack_dir", "state_file"]

log = logging.getLogger("ripple.stack")
STACK_NAME = "ripple-local"


def local_dir() -> Path:
    """Where this checkout's stacks keep their state (``RIPPLE_LOCAL_DIR`` overrides it)."""
    return Path(os.environ.get("RIPPLE_LOCAL_DIR") or ROOT / ".local")


def stack_dir(port: int) -> Path:
    """The state directory of the stack serving ``port``: one per stack, so two stacks in one
    checkout never share a state file or a journal; ``RIPPLE_STACK_STATE`` (a ``stack.json``
    path) puts it elsewhere, so stacks started by tests never touch a developer's."""
    explicit = os.environ.get("RIPPLE_STACK_STATE")
    return Path(explicit).parent if explicit else local_dir() / str(port)


def state_file(port: int) -> Path:
    """Where a running ``ripple dev`` tells other commands (``ripple reconcile``, ``ripple
    settle``) how to reach it."""
    explicit = os.environ.get("RIPPLE_STACK_STATE")
    return Path(explicit) if explicit else stack_dir(port) / "stack.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_stacks() -> list[dict[str, Any]]:
    """The state of every live ``ripple dev`` of this checkout (a SIGKILL'd one leaves a
    ``stack.json`` whose pid is gone: not listed)."""
    explicit = os.environ.get("RIPPLE_STACK_STATE")
    files = [Path(explicit)] if explicit else sorted(local_dir().glob("*/stack.json"))
    found = []
    for path in files:
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(state, dict) and _alive(int(state.get("pid", 0))):
            found.append(state)
    return found


def local_env(moto_url: str, stack_name: str = STACK_NAME, pool: dict[str, str] | None = None) -> dict[str, str]:
    """Everything the product code needs to talk to moto instead of AWS (``pool``: the ids
    of the user pool and app client the stack created, see ``infra.cognito``)."""
    from infra.cognito import pool_env

    return {
        **(pool_env(pool) if pool else {}),
        "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": moto_url,
        "AWS_ENDPOINT_URL_S3": moto_url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
        "AWS_ENDPOINT_URL_SESV2": moto_url,
        "RIPPLE_MAIL_FROM": SENDER,
        "RIPPLE_ENV": "local",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        **table_env(stack_name),
        **bucket_env(stack_name),
        **secret_env(stack_name),
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
    fresh: bool = False  # forget the saved state (the journal) before starting
    restored: bool = False  # started from a saved state
    stop_event: threading.Event = field(default_factory=threading.Event)
    pollers: list[Any] = field(default_factory=list)
    _moto: subprocess.Popen[bytes] | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _server: Any = None
    live: Any = None  # infra.websocket.LiveGateway: the WebSocket API's stand-in
    hosted_ui: Any = None  # infra.hosted_ui.HostedUi: the Cognito Hosted UI's stand-in
    mailbox_page: Any = None  # infra.mailbox.MailboxPage: what SES and Cognito "sent"
    _lock: Any = None
    pool: dict[str, str] = field(default_factory=dict)
    mailbox: Path = field(default_factory=Path)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def state_dir(self) -> Path:
        return stack_dir(self.port)

    @property
    def journal(self) -> Path:
        return self.state_dir / "moto.journal"

    def _claim_state_dir(self) -> None:
        """One ``ripple dev`` per state directory (and so per journal)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = (self.state_dir / "lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another `ripple dev` is using {self.state_dir}") from None
        if self.fresh:
            self.journal.unlink(missing_ok=True)
            shutil.rmtree(self.state_dir / "dlq", ignore_errors=True)
        self.restored = self.journal.exists() and self.journal.stat().st_size > 0

    def _start_moto(self) -> None:
        self.moto_port = self.moto_port or free_port()
        # RIPPLE_MOTO_LOG: where moto's own log goes (its tracebacks explain a 500 from moto)
        moto_log = os.environ.get("RIPPLE_MOTO_LOG")
        sink: Any = open(moto_log, "ab") if moto_log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as moto
        # every message Cognito would send (invitations, password reset codes), see
        # infra/cognito_patches.py; `ripple dev` prints them as they arrive
        self.mailbox = self.state_dir / "mailbox.jsonl"
        self.mailbox.parent.mkdir(parents=True, exist_ok=True)
        self.mailbox.touch()
        self._moto = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.moto_server",
                "--port",
                str(self.moto_port),
                "--journal",
                str(self.journal),
                "--exit-with-parent",
            ],
            cwd=ROOT,
            stdout=sink,
            stderr=sink,
            env={**os.environ, "RIPPLE_MAILBOX": str(self.mailbox)},
        )
        # replaying a long journal takes a while: wait as long as moto is alive
        import urllib.error
        import urllib.request

        while True:
            try:
                with urllib.request.urlopen(self.moto_url + "/moto-api/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self._moto.poll() is not None:
                    raise RuntimeError(f"moto server exited with {self._moto.returncode}") from None
                time.sleep(0.05)

    def start(self) -> None:
        self._claim_state_dir()
        self._start_moto()
        os.environ.update(local_env(self.moto_url, self.stack_name))
        os.environ.setdefault("RIPPLE_PUBLIC_BASE_URL", self.api_url)

        import boto3

        from infra.buckets import create_buckets
        from infra.cognito import create_user_pool
        from infra.secrets import create_secrets
        from infra.ses import create_sender
        from infra.tables import create_tables

        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb, self.stack_name)
        create_buckets(boto3.client("s3"), self.stack_name)
        create_secrets(boto3.client("secretsmanager"), self.stack_name)
        create_sender(boto3.client("sesv2"))
        # as deployed with HostedUiDomainPrefix set: the app client allows the code flow back
        # to this stack's pages, served by the Hosted UI stand-in (infra/hosted_ui.py)
        self.pool = create_user_pool(
            boto3.client("cognito-idp"),
            self.stack_name,
            app_url=self.api_url,
            parameters={"HostedUiDomainPrefix": "local"},
        )
        os.environ.update(local_env(self.moto_url, self.stack_name, self.pool))
        self._start_hosted_ui()
        self._start_mailbox_page()
        self._start_live()
        self._start_api()
        self._start_pollers(dynamodb)
        self._start_scheduler()
        state = {
            "api": self.api_url,
            "moto": self.moto_url,
            "stack": self.stack_name,
            "pid": os.getpid(),
            "pool": self.pool,
            "mailbox": str(self.mailbox),
            "live": self.live.url,
            "hosted_ui": self.hosted_ui.url,
            "mailbox_url": self.mailbox_page.url,
            "live_endpoint": self.live.endpoint,
        }
        tmp = state_file(self.port).with_suffix(".tmp")
        tmp.write_text(json.dumps({**state, "port": self.port, "dir": str(self.state_dir)}))
        tmp.replace(state_file(self.port))

    def _start_live(self) -> None:
        """The WebSocket API's stand-in, invoking the template's handler; the pages connect to
        its URL, the consumer pushes through its management endpoint (as on AWS)."""
        from infra.template import websocket_function
        from infra.websocket import LiveGateway

        self.live = LiveGateway(_import_handler(*websocket_function()), host=self.host)
        self.live.start()
        os.environ["RIPPLE_LIVE_URL"] = self.live.url
        os.environ["RIPPLE_LIVE_ENDPOINT"] = self.live.endpoint

    def _start_mailbox_page(self) -> None:
        from infra.mailbox import MailboxPage

        self.mailbox_page = MailboxPage(self.mailbox, host=self.host)
        self.mailbox_page.start()

    def _start_hosted_ui(self) -> None:
        """The Hosted UI's stand-in, and behind it the company's provider for the tenant
        ``RIPPLE_FEDERATION_TENANT`` (default: the demo tenant), whose sign-ins run the
        template's PreTokenGeneration handler as Cognito would."""
        import boto3

        from infra.demo import DEMO_TENANT
        from infra.hosted_ui import HostedUi, LocalProvider

        os.environ.setdefault("RIPPLE_FEDERATION_TENANT", DEMO_TENANT)
        name = os.environ.setdefault("RIPPLE_FEDERATION_PROVIDER", "Company")
        provider = LocalProvider(name, _import_handler("functions/", "pre_token.handler"))
        self.hosted_ui = HostedUi(
            boto3.client("cognito-idp"),
            self.pool["user_pool_id"],
            self.pool["client_id"],
            provider=provider,
            host=self.host,
        )
        self.hosted_ui.start()
        os.environ["RIPPLE_HOSTED_UI_URL"] = self.hosted_ui.url

    def _start_api(self) -> None:
        from chalice.config import Config

        from infra.local_server import create_server
        from ripple import bootstrap

        bootstrap.reset()
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        app_module = importlib.import_module("app")
        config = Config(chalice_stage="local", config_from_disk={"app_name": "ripple"})
        self._server = create_server(app_module.app, config, self.host, self.port)
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
                batching_window_s=mapping.batching_window_s,
                parallelization_factor=mapping.parallelization_factor,
                dead_letter_path=self.state_dir / "dlq" / f"{mapping.function}.jsonl",
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

    def print_mail(self) -> None:
        """Print each message Cognito would have sent, as it arrives (the local mailbox)."""
        thread = threading.Thread(target=self._follow_mailbox, name="mailbox", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _follow_mailbox(self) -> None:
        offset = self.mailbox.stat().st_size  # what a restored stack's earlier runs sent is in the file
        while not self.stop_event.wait(0.3):
            with self.mailbox.open(encoding="utf-8") as fh:
                fh.seek(offset)
                for line in fh:
                    msg = json.loads(line)
                    body = msg.get("text") or msg["body"]
                    print(f"[mailbox] to {msg['to']}: {msg['subject']}: {body}", flush=True)
                offset = fh.tell()

    def stop(self) -> None:
        self.stop_event.set()
        if self._server is not None:
            self._server.server.shutdown()
        if self.live is not None:
            self.live.stop()
        if self.hosted_ui is not None:
            self.hosted_ui.stop()
        if self.mailbox_page is not None:
            self.mailbox_page.stop()
        if self._moto is not None and self._moto.poll() is None:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._moto.kill()
        path = state_file(self.port)
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == os.getpid():  # ours, not another stack's
                path.unlink()
        if self._lock is not None:
            self._lock.close()

    def wait(self) -> None:
        def _stop(signum: int, frame: Any) -> None:
            self.stop_event.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        self.stop_event.wait()


def run_dev(
    port: int, *, seed: bool = True, moto_port: int = 0, poll_interval: float = 0.1, fresh: bool = False
) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stack = LocalStack(port=port, moto_port=moto_port, poll_interval=poll_interval, fresh=fresh)
    try:
        stack.start()
        print(f"Ripple local stack: API {stack.api_url}  (moto {stack.moto_url})", flush=True)
        print(f"Live pages (WebSocket): {stack.live.url}  (management API {stack.live.endpoint})", flush=True)
        print(f"Cognito user pool {stack.pool['user_pool_id']}, messages in {stack.mailbox}", flush=True)
        print(f"Dev mailbox (every e-mail SES and Cognito sent): {stack.mailbox_page.url}", flush=True)
        stack.print_mail()
        if stack.restored:
            print(f"State restored from {stack.state_dir} (`ripple dev --fresh` starts empty).", flush=True)
        elif seed:
            from infra.demo import seed_demo

            print(seed_demo(stack.api_url), flush=True)
        print("Ready. Ctrl-C stops everything.", flush=True)
        stack.wait()
    finally:
        stack.stop()
        print("stopped.", flush=True)

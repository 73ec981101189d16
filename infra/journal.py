"""Durable state for the local moto server: a journal of every mutating request, replayed
on start, and the reader-writer lock that makes each request atomic.

moto keeps its state in memory and has no persistence of its own (its "recorder" appends
every request, reads included, unordered and without fsync, and replays over HTTP), so the
dev stack forgot everything on restart and visits recorded before a crash were never paid.
This WSGI middleware, in front of moto's own app in ``infra.moto_server``:

* runs every mutating request (any service: DynamoDB writes, S3 PUT/POST/DELETE, Cognito,
  ...) alone, under the write side of a reader-writer lock, and appends it (method, path,
  headers, body) to an append-only journal *in the order it was applied* (unless it was
  refused with a 4xx: it changed nothing); its response leaves only once the journal is
  fsync'ed past it (group commit: one fsync serves every writer that appended meanwhile).
  What a client was told happened survives a crash. (A read may see a write whose fsync is
  still under way; a SIGKILL cannot lose it, since it is in the kernel already, only a
  machine crash could);
* runs reads (DynamoDB Get/Query/Scan, Streams, S3 GET/HEAD, ``Describe*``/``List*``)
  concurrently with each other and never during a write, so no reader ever sees part of
  one request (with ``infra.moto_patches``: no part of a transaction, no rolled-back item);
* seeds moto's random source before each mutating request with its journal position, so
  replaying the journal recreates the same generated ids (stream shard ids, Cognito pool
  and client ids, S3 version ids);
* on start, replays the journal through moto in order, dropping a torn last line (a crash
  mid-append: that request was never acknowledged).

Stream records are recreated by the replayed writes with the same sequence numbers; the
stream poller starts again from TRIM_HORIZON and the points consumer's exactly-once ledger
turns the redelivery into "pay what was not paid yet". Timestamps moto generates itself
(``CreationDateTime``, a stream record's ``ApproximateCreationDateTime``, S3 ``LastModified``)
are those of the replay; everything the product stores carries its own times.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import io
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

__all__ = ["REPLAYING", "JournaledApp", "ReadWriteLock", "is_read"]

log = logging.getLogger("ripple.journal")
#: set while a journal is being replayed: stand-ins that deliver somewhere outside moto
#: (the SES mailbox) must not deliver a restored stack's old messages a second time
REPLAYING = threading.Event()

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# JSON-protocol (X-Amz-Target) and query-protocol (Action=) operations that change nothing;
# anything else is journaled. A read journaled by mistake costs a replay step, a write
# not journaled would be lost: when in doubt, it is a write.
_READ_ACTION = re.compile(r"(Get|Describe|List|Query|Scan|BatchGet|TransactGet)([A-Z]|$)")
_WRITE_GETS = frozenset({"GetId", "GetOpenIdToken", "GetOpenIdTokenForDeveloperIdentity", "GetCredentialsForIdentity"})
_KEPT_ENVIRON = frozenset(
    {"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "REQUEST_URI", "RAW_URI"}
)


def _action(environ: dict[str, Any], body: bytes) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rpartition(".")[2]
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return str(query["Action"][0])
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded") and body:
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return form["Action"][0]
    return None


def is_read(environ: dict[str, Any], body: bytes) -> bool:
    """Whether this request to moto changes nothing (so it need not be journaled)."""
    action = _action(environ, body)
    if action is not None:
        return action not in _WRITE_GETS and _READ_ACTION.match(action) is not None
    # REST protocols (S3, moto's own API): reads by method
    return environ.get("REQUEST_METHOD", "GET") in ("GET", "HEAD", "OPTIONS")


class ReadWriteLock:
    """Many readers or one writer, granted in arrival order: consecutive readers share it, a
    writer waits for the readers before it, readers after a writer wait for it. Neither side
    starves (a writer-preferring lock let the points consumer's stream of transactions hold
    API reads back indefinitely)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._queue: collections.deque[object] = collections.deque()

    def _acquire(self, write: bool) -> None:
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            while self._queue[0] is not ticket or self._writer or (write and self._readers):
                self._cond.wait()
            self._queue.popleft()
            if write:
                self._writer = True
            else:
                self._readers += 1
            self._cond.notify_all()  # the next in line may be a reader that can join

    def _release(self, write: bool) -> None:
        with self._cond:
            if write:
                self._writer = False
            else:
                self._readers -= 1
            self._cond.notify_all()

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        self._acquire(write=False)
        try:
            yield
        finally:
            self._release(write=False)

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        self._acquire(write=True)
        try:
            yield
        finally:
            self._release(write=True)


def _seed(position: int) -> None:
    from moto.moto_api._internal import mock_random

    mock_random.seed(position)


def _run(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call the app to completion (the whole body is produced inside the caller's lock)."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], body


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(stream.read(int(length)))
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())
    return b""


class JournaledApp:
    """moto's WSGI app behind the lock and the journal (see the module docstring)."""

    def __init__(self, app: WSGIApp, path: Path | None) -> None:
        self.app = app
        self.path = path
        self.lock = ReadWriteLock()
        self.position = 0  # mutating requests applied (journaled) so far
        self.replayed = 0
        self.replay_diverged = 0  # replayed requests whose status differs from the original's
        self._fd: int | None = None
        self._sync = threading.Lock()
        self._synced = 0

    # ------------------------------------------------------------ start

    def open(self) -> None:
        """Replay the journal (dropping a torn tail), then open it for appending."""
        if self.path is None:
            return
        REPLAYING.set()
        try:
            self._open()
        finally:
            REPLAYING.clear()

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(exist_ok=True)
        data = self.path.read_bytes()
        good = 0
        started = time.monotonic()
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn by a crash mid-append: never acknowledged
            try:
                record = json.loads(line)
            except ValueError:
                log.error("journal %s: unreadable entry at byte %d; replay stops there", self.path, good)
                break
            self._replay(record)
            good += len(line)
        if good != len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(good)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._synced = self.position
        if self.replayed:
            log.warning(
                "journal %s: replayed %d requests in %.1fs (%d answered differently)",
                self.path,
                self.replayed,
                time.monotonic() - started,
                self.replay_diverged,
            )

    def _replay(self, record: dict[str, Any]) -> None:
        body = base64.b64decode(record["b"])
        environ: dict[str, Any] = {
            **record["e"],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "0",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
        }
        _seed(self.position)
        try:
            status = _run(self.app, environ)[0]
        except Exception:
            log.exception("journal: replaying entry %d raised", self.position)
            status = "500"
        self.position += 1
        self.replayed += 1
        if status.split()[0] != str(record.get("s")):
            self.replay_diverged += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # ------------------------------------------------------------ serving

    def _append(self, environ: dict[str, Any], body: bytes, status: str) -> None:
        kept = {k: v for k, v in environ.items() if k in _KEPT_ENVIRON or k.startswith("HTTP_")}
        line = json.dumps(
            {"e": kept, "b": base64.b64encode(body).decode("ascii"), "s": int(status.split()[0])},
            separators=(",", ":"),
        )
        assert self._fd is not None
        os.write(self._fd, line.encode("utf-8") + b"\n")

    def _durable(self, position: int) -> None:
        """Return once the journal is on disk up to ``position`` (group commit)."""
        if self._fd is None:
            return
        with self._sync:
            if self._synced >= position:
                return  # another writer's fsync covered it
            target = self.position
            os.fdatasync(self._fd)
            self._synced = target

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
        if is_read(environ, body):
            with self.lock.read():
                status, headers, out = _run(self.app, environ)
        else:
            with self.lock.write():
                _seed(self.position)
                status = "500 Internal Server Error"
                try:
                    status, headers, out = _run(self.app, environ)
                finally:
                    # A refusal (4xx: a failed condition, a cancelled transaction, bad input)
                    # changed nothing, so replaying it would do nothing: not journaled. That
                    # keeps restarts from growing the journal with the duplicate-ledger
                    # cancellations a stream replay causes. Anything else is, 5xx included
                    # (replay then reproduces whatever moto did).
                    if not status.startswith("4"):
                        if self._fd is not None:
                            self._append(environ, body, status)
                        self.position += 1
                    written = self.position  # a refusal too waits for the state it was judged on
            self._durable(written)
        start_response(status, headers)
        return [out]

"""Run moto in server mode on loopback, with ``infra.moto_patches`` applied.

``python -m infra.moto_server --port 5005`` serves DynamoDB, DynamoDB Streams and S3 on one
HTTP endpoint; the product code reaches it through ``AWS_ENDPOINT_URL_*`` only. Every request
goes through ``infra.journal`` (one write at a time, reads never during one); with
``--journal PATH`` the mutating ones are also journaled there and replayed on the next start,
so the local stack keeps its state across restarts and crashes.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["free_port", "main", "wait_until_up"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up within {timeout:.0f}s") from None
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--journal", type=Path, help="journal mutating requests here and replay it on start")
    parser.add_argument("--exit-with-parent", action="store_true", help="exit when the parent process dies")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.exit_with_parent:
        _exit_with_parent()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from infra import moto_patches
    from infra.journal import JournaledApp

    moto_patches.apply()
    app = JournaledApp(DomainDispatcherApplication(create_backend_app), args.journal)
    if args.journal is not None:
        _lock(args.journal)
    app.open()  # replays the journal before the port opens: nobody sees a half-restored state
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"moto server on http://{args.host}:{args.port} ({app.replayed} journaled requests replayed)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    app.close()


def _lock(journal: Path, timeout: float = 15.0) -> None:
    """One moto per journal: a previous one (orphaned by a SIGKILL'd ``ripple dev``) may still
    be exiting; wait for it, never append to a journal another process appends to."""
    journal.parent.mkdir(parents=True, exist_ok=True)
    fh = journal.with_name(journal.name + ".lock").open("w")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                sys.exit(f"another moto server holds {journal}")
            time.sleep(0.1)
        else:
            _held.append(fh)  # held until this process exits
            return


_held: list[object] = []


def _exit_with_parent() -> None:
    """Die with ``ripple dev``, even when it was SIGKILL'd and could not stop us."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    main()

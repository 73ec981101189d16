"""Run pytest with the wall clock moved to other dates (libfaketime, preloaded).

Why: points, periods, settlement and analytics all read "now". A test that quietly relies on
today's date passes for months and then turns CI red on the first day of a new month (it
happened: a settlement day hard-coded in a test went into the past). Running the suite at
dates chosen for their edges — a new year minutes after midnight, a DST switch in Europe, a
leap day, the last minute of a half-year — finds such tests before the calendar does.

The clock is moved by an *offset* (``FAKETIME=+N``), not to a fixed start time: with a
start time every child process (the moto server, ``ripple dev``) would start its own clock
at that instant, and the processes of one test would disagree about what time it is. An
offset keeps every process on one ticking clock, as on a real machine.

Only the wall clock moves (``FAKETIME_DONT_FAKE_MONOTONIC=1``): CPython waits on locks and
events with ``sem_clockwait(CLOCK_MONOTONIC, deadline)``, which libfaketime does not wrap, so
a faked monotonic clock turns ``Event.wait(0.05)`` into a wait of the whole offset (the stack's
stream poller hung that way). The library is the one the ``libfaketime`` PyPI package ships
(libfaketime 0.9.10 built with FAKE_SLEEP): Debian's build of the same version answers
``time.sleep`` with EINVAL once the monotonic clock is left alone (its ``clock_nanosleep``
wrapper still shifts absolute monotonic deadlines by the offset).

CPython's GIL waits with ``pthread_cond_timedwait`` on a CLOCK_MONOTONIC condition variable
(5 ms switch interval). On glibc ≥ 2.30 libfaketime applies its "forced monotonic fix" to that
call by default, which with the monotonic clock left alone makes every such wait time out at
once: threads hand the GIL over constantly (≈100,000 timed waits in a 10⁷-step loop), ten
threads creating botocore clients took 1.05 s instead of 0.14 s, and the local stack's
concurrent HTTP tests ran past their 30 s timeouts (the "faked HTTP hang" of stop 17).
``FAKETIME_FORCE_MONOTONIC_FIX=0`` passes the deadline through unchanged, which is right
exactly because monotonic time is not faked.

Each run exports ``RIPPLE_FAKED_NOW`` (epoch seconds it should be at start); ``tests/conftest``
refuses to run if the clock inside pytest is not there, so a broken ``faketime`` cannot make
this a run that silently tested today again.

Usage: ``python -m tests.fakedates "2027-01-01T00:05 UTC" "2028-02-29T12:00 Asia/Tokyo" -- -q tests/unit``
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["FakeDateError", "main", "parse_moment", "preload_library"]


class FakeDateError(ValueError):
    """A moment that cannot be parsed, or no libfaketime on the machine."""


def parse_moment(text: str) -> tuple[float, str]:
    """``"2027-03-28T01:30 Europe/Berlin"`` -> (epoch seconds, zone name)."""
    try:
        stamp, zone = text.rsplit(" ", 1)
        moment = datetime.fromisoformat(stamp).replace(tzinfo=ZoneInfo(zone))
    except (ValueError, KeyError) as exc:
        raise FakeDateError(f"expected 'YYYY-MM-DDTHH:MM ZONE', got {text!r}") from exc
    return moment.timestamp(), zone


def preload_library() -> str:
    """Path of ``libfaketime.so.1`` as the ``libfaketime`` package installs it."""
    try:
        import libfaketime  # type: ignore[import-untyped]
    except ImportError as exc:
        raise FakeDateError("the libfaketime package is not installed (requirements-dev.txt)") from exc
    path = os.path.join(os.path.dirname(libfaketime.__file__), "vendor", "libfaketime", "src", "libfaketime.so.1")
    if not os.path.exists(path):
        raise FakeDateError(f"no {path}")
    return path


def main(argv: list[str]) -> int:
    if "--" in argv:
        cut = argv.index("--")
        moments, pytest_args = argv[:cut], argv[cut + 1 :]
    else:
        moments, pytest_args = argv, []
    if not moments:
        raise FakeDateError("name at least one moment")
    library = preload_library()
    worst = 0
    for text in moments:
        target, zone = parse_moment(text)
        offset = int(target - time.time())
        preload = ":".join(p for p in (library, os.environ.get("LD_PRELOAD")) if p)
        env = {
            **os.environ,
            "TZ": zone,
            "LD_PRELOAD": preload,
            "FAKETIME": f"{offset:+d}",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_FORCE_MONOTONIC_FIX": "0",
            "RIPPLE_FAKED_NOW": str(int(target)),
        }
        print(f"== pytest at {text} (clock offset {offset:+d} s)", flush=True)
        code = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], env=env)
        print(f"== {text}: pytest exit {code}", flush=True)
        worst = worst or code
    return worst


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FakeDateError as exc:
        print(f"fakedates: {exc}", file=sys.stderr)
        sys.exit(2)

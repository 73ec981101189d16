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

Which tests run at which date is a *plan* (``PLANS``). ``ci`` (what ``make test`` runs) puts
unit, functional and integration tests at the night Europe switches to summer time and at the
leap day in Tokyo, and the unit tests also at the other two; ``full`` puts everything at all
four. A plan's runs are independent pytest processes (own ``--basetemp``, own clock offset
taken when the run starts), so ``--jobs 2`` runs two at a time in the plan's order, longest
first: each functional run keeps one core busy for ~10 minutes, and CI has 90 minutes in all
(run one after another, the ``ci`` plan took ~26 minutes; two at a time ~13).

Usage: ``python -m tests.fakedates --plan ci --jobs 2 -- -q`` or, by hand,
``python -m tests.fakedates "2027-01-01T00:05 UTC" "2028-02-29T12:00 Asia/Tokyo" -- -q tests/unit``
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["PLANS", "FakeDateError", "Run", "main", "parse_moment", "preload_library", "run_plan"]


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


# The local stand-ins' own tests (HTTP framing, moto's locking and journal, crash and restart)
# read no clock of ours and are left out of the integration runs.
NO_CLOCK_TESTS = (
    "test_local_server.py",
    "test_moto_atomicity.py",
    "test_moto_journal.py",
    "test_crash_recovery.py",
    "test_dev_state.py",
)
INTEGRATION = ("tests/integration", *(f"--ignore=tests/integration/{name}" for name in NO_CLOCK_TESTS))
UNIT_FUNCTIONAL = ("tests/unit", "tests/functional")
UNIT = ("tests/unit",)

DST_NIGHT = "2027-03-28T01:30 Europe/Berlin"  # 02:00 does not exist that night
LEAP_DAY = "2028-02-29T12:00 Asia/Tokyo"  # UTC+9: the local day starts the UTC day before
NEW_YEAR = "2027-01-01T00:05 UTC"  # minutes into a new year, month, week and day
HALF_YEAR = "2030-06-30T23:59 UTC"  # the last minute of a month, quarter and half-year

#: plan name -> (moment, pytest arguments) runs, started in this order (longest first)
PLANS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "ci": (
        (DST_NIGHT, UNIT_FUNCTIONAL),
        (LEAP_DAY, UNIT_FUNCTIONAL),
        (DST_NIGHT, INTEGRATION),
        (NEW_YEAR, UNIT),
        (HALF_YEAR, UNIT),
        (LEAP_DAY, INTEGRATION),
    ),
    "full": tuple(
        (moment, args)
        for args in (INTEGRATION, UNIT_FUNCTIONAL)
        for moment in (DST_NIGHT, LEAP_DAY, NEW_YEAR, HALF_YEAR)
    ),
}

_COUNT = re.compile(r"(\d+) (passed|failed|errors?)\b")


@dataclass
class Run:
    """One pytest process at one moment; its output is kept in a file and printed whole."""

    moment: str
    args: tuple[str, ...]
    code: int = -1
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        shown = " ".join(a for a in self.args if not a.startswith("--ignore"))
        return f"{self.moment} {shown}" if shown else self.moment

    def execute(self, library: str, common: tuple[str, ...], workdir: str) -> None:
        target, zone = parse_moment(self.moment)
        offset = int(target - time.time())  # taken when the run starts: a queued run is not stale
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
        basetemp = tempfile.mkdtemp(prefix="run-", dir=workdir)
        print(f"== start  {self.title} (clock offset {offset:+d} s)", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as out:
            self.code = subprocess.call(
                [sys.executable, "-m", "pytest", f"--basetemp={basetemp}", *common, *self.args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            out.seek(0)
            text = out.read()
        self.seconds = time.monotonic() - started
        for number, kind in _COUNT.findall(text.strip().splitlines()[-1] if text.strip() else ""):
            self.counts[kind.rstrip("s") if kind.startswith("error") else kind] = int(number)
        with _PRINT:
            print(f"== output {self.title}", flush=True)
            sys.stdout.write(text)
            print(f"== done   {self.title}: pytest exit {self.code} in {self.seconds:.0f} s", flush=True)


_PRINT = threading.Lock()


def run_plan(runs: list[Run], common: tuple[str, ...], jobs: int) -> int:
    """Run ``runs`` ``jobs`` at a time; exit code 0 only if every run passed."""
    library = preload_library()
    with tempfile.TemporaryDirectory(prefix="fakedates-") as workdir, ThreadPoolExecutor(max(1, jobs)) as pool:
        for future in [pool.submit(run.execute, library, common, workdir) for run in runs]:
            future.result()
    print("== summary", flush=True)
    for run in runs:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(run.counts.items())) or "no closing line"
        print(f"   exit {run.code:>2}  {run.seconds:6.0f} s  {run.title}: {counts}", flush=True)
    passed = sum(run.counts.get("passed", 0) for run in runs)
    failed = sum(run.counts.get("failed", 0) + run.counts.get("error", 0) for run in runs)
    print(f"fakedates: {passed} passed, {failed} failed", flush=True)
    return next((run.code for run in runs if run.code != 0), 0)


def main(argv: list[str]) -> int:
    common: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, common = argv[:cut], argv[cut + 1 :]
    plan, jobs, moments = None, 1, []
    items = iter(argv)
    for item in items:
        if item == "--plan":
            plan = next(items, "")
            if plan not in PLANS:
                raise FakeDateError(f"--plan is one of {', '.join(PLANS)}, got {plan!r}")
        elif item == "--jobs":
            value = next(items, "")
            if not value.isdigit() or int(value) < 1:
                raise FakeDateError(f"--jobs takes a positive number, got {value!r}")
            jobs = int(value)
        else:
            parse_moment(item)
            moments.append(item)
    if plan is not None and moments:
        raise FakeDateError("name a plan or moments, not both")
    if plan is not None:
        runs = [Run(moment, args) for moment, args in PLANS[plan]]
    elif moments:  # by hand: the same pytest arguments (after --) at each moment
        runs = [Run(moment, ()) for moment in moments]
    else:
        raise FakeDateError("name a plan (--plan ci|full) or at least one moment")
    return run_plan(runs, tuple(common), jobs)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FakeDateError as exc:
        print(f"fakedates: {exc}", file=sys.stderr)
        sys.exit(2)

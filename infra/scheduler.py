"""EventBridge Scheduler stand-in: runs the template's Schedule/ScheduleV2 events locally.

Supports ``rate(N minute|minutes|hour|hours|day|days)`` and six-field ``cron(...)`` with
``*``, ``?``, lists, ranges and steps, evaluated in ``ScheduleExpressionTimezone``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infra.lambda_context import LocalContext
from infra.template import load_template

__all__ = ["Schedule", "Scheduler", "cron_matches", "schedules_from_template"]

log = logging.getLogger("ripple.scheduler")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_DOW = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


@dataclass(frozen=True)
class Schedule:
    name: str
    function: str
    handler: str
    code_uri: str
    expression: str
    timezone: str
    payload: dict[str, Any]

    def interval(self) -> timedelta | None:
        m = _RATE.match(self.expression)
        if not m:
            return None
        n, unit = int(m[1]), m[2].rstrip("s")
        return timedelta(**{f"{unit}s": n})


def _field_matches(spec: str, value: int, low: int, high: int) -> bool:
    if spec in ("*", "?"):
        return True
    for part in spec.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/", 1)
            step = int(step_s)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = int(_DOW.get(a, a)), int(_DOW.get(b, b))
        else:
            start = int(_DOW.get(part, part))
            end = start if step == 1 else high
        if start <= value <= end and (value - start) % step == 0:
            return True
    return False


def cron_matches(expression: str, when: datetime) -> bool:
    """Whether ``when`` (already in the schedule's time zone) is a firing minute."""
    m = _CRON.match(expression)
    if not m:
        return False
    minute, hour, dom, month, dow, year = m[1].split()
    aws_dow = (when.isoweekday() % 7) + 1  # AWS: 1 = Sunday
    return (
        _field_matches(minute, when.minute, 0, 59)
        and _field_matches(hour, when.hour, 0, 23)
        and _field_matches(dom, when.day, 1, 31)
        and _field_matches(month, when.month, 1, 12)
        and _field_matches(dow, aws_dow, 1, 7)
        and _field_matches(year, when.year, 1970, 2199)
    )


def schedules_from_template(template: dict[str, Any] | None = None) -> list[Schedule]:
    template = template or load_template()
    out: list[Schedule] = []
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        for name, event in (props.get("Events") or {}).items():
            if event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            ep = event["Properties"]
            out.append(
                Schedule(
                    name=name,
                    function=logical_id,
                    handler=props["Handler"],
                    code_uri=props["CodeUri"],
                    expression=ep["ScheduleExpression"],
                    timezone=ep.get("ScheduleExpressionTimezone", "UTC"),
                    payload=json.loads(ep.get("Input") or "{}"),
                )
            )
    return out


class Scheduler:
    def __init__(self, schedules: list[Schedule], resolve: Callable[[Schedule], Callable[..., Any]]) -> None:
        self.schedules = schedules
        self.resolve = resolve
        self.runs: list[tuple[str, datetime]] = []
        self._last: dict[str, datetime] = {}

    def fire(self, schedule: Schedule) -> Any:
        handler = self.resolve(schedule)
        log.info("schedule %s fires %s", schedule.name, schedule.function)
        self.runs.append((schedule.name, datetime.now(UTC)))
        return handler(dict(schedule.payload), LocalContext(function_name=schedule.function))

    def due(self, now: datetime) -> list[Schedule]:
        due: list[Schedule] = []
        minute = now.replace(second=0, microsecond=0)
        for s in self.schedules:
            interval = s.interval()
            last = self._last.get(s.name)
            if interval is not None:
                if last is None:
                    self._last[s.name] = now  # first run one interval after start, as AWS does
                elif now - last >= interval:
                    self._last[s.name] = now
                    due.append(s)
            elif cron_matches(s.expression, minute.astimezone(ZoneInfo(s.timezone))) and last != minute:
                self._last[s.name] = minute
                due.append(s)
        return due

    def run(self, stop: threading.Event, tick: float = 1.0) -> None:
        while not stop.is_set():
            for schedule in self.due(datetime.now(UTC)):
                try:
                    self.fire(schedule)
                except Exception:
                    log.exception("scheduled job %s failed", schedule.name)
            stop.wait(tick)

"""Benchmark 17: notifications per event, under replays and two dispatchers at once.

Against the moto server (SES included): ``visits // 5`` lead events for ``employees``
people, each event announced twice (a replayed cause); one employee offboarded, every tenth
opted out of lead e-mails. Two dispatchers run at once, then again, moving the clock an hour
whenever the hourly limit holds messages back, until nothing is due. Counted from the stored
messages (``sent`` once each, or ``skipped`` with the reason): the target is exactly one
e-mail per event for those who should get it and none for the others.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from bench.report import Row
from bench.world import Sizes

__all__ = ["run"]

TENANT = "benchnotify"
HOUR = 3_600_000


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    import boto3

    from infra.ses import create_sender
    from ripple import bootstrap
    from ripple.domain.model import Employee
    from ripple.domain.notifications import KINDS, Preferences
    from ripple.service.notifications import announce, dispatch

    create_sender(boto3.client("sesv2"))
    bootstrap.reset()
    svc = bootstrap.services()
    people = [f"e{i:03d}" for i in range(sizes.employees)]
    for i, emp in enumerate(people):
        svc.employees.put(Employee(TENANT, emp, f"E {i}", "t", "r", active=i != 0, email=f"{emp}@bench.example.com"))
    opted_out = set(people[1::10])
    for emp in opted_out:
        svc.notifications.save_preferences(TENANT, emp, Preferences(email=frozenset(KINDS) - {"lead.assigned"}))
    events = max(20, sizes.visits // 5)
    owner = {f"L{k:05d}": people[k % len(people)] for k in range(events)}
    for _ in range(2):  # the second pass is the replay: it must write nothing
        for key, emp in owner.items():
            announce(svc, TENANT, "lead.assigned", key, [emp], {"customer_id": "c" + key, "name": "Lead " + key})

    started = time.perf_counter()
    totals: Counter[str] = Counter()
    offset = 0
    real = svc.clock
    results: list[dict[str, int]] = []

    def one() -> None:
        results.append(dispatch(svc, limit=500))

    for _ in range(48):
        svc.clock = lambda shift=offset: real() + shift  # type: ignore[misc]
        results.clear()
        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            totals.update(r)
        if not svc.notifications.due_messages(svc.clock(), 1) and not svc.notifications.due_events(svc.clock(), 1):
            break
        offset += HOUR  # the hourly limit held some back
    elapsed = time.perf_counter() - started
    svc.clock = real

    sent_per_event: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for emp in people:
        for m in svc.notifications.messages_of(TENANT, emp, 1000):
            states[m["state"]] += 1
            if m["state"] == "sent":
                sent_per_event[m["key"]] += 1
    eligible = [k for k, emp in owner.items() if emp != people[0] and emp not in opted_out]
    others = [k for k in owner if k not in set(eligible)]
    exact = sum(1 for k in eligible if sent_per_event[k] == 1)
    wrong_others = sum(sent_per_event[k] for k in others)
    rows = [
        Row(
            f"17. e-mails per event, {len(eligible)} eligible of {events} (each announced twice)",
            f"{exact / len(eligible):.3f} ({exact} exactly once, {sum(sent_per_event.values()) - exact} extra)",
            "exactly 1",
            exact == len(eligible) and sum(sent_per_event[k] for k in eligible) == len(eligible),
        ),
        Row(
            "17. e-mails per event, opted out or offboarded",
            f"{wrong_others / max(1, len(others)):.3f} ({len(others)} events)",
            "0",
            wrong_others == 0,
        ),
        Row(
            "17. notification dispatch (2 dispatchers)",
            f"{states['sent'] / elapsed:.1f} e-mails/s, {totals['lost_claims']} lost claims, "
            f"{totals['deferred']} deferred by the hourly limit",
        ),
    ]
    return rows, [f"notification messages by state: {dict(states)}"]

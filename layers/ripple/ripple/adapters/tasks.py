"""Promotion tasks in the main table (issue 5).

Items (all ``MainItem`` subclasses, each its own partition):

* ``TASK#tenant#task``                      the task (GSI by-tenant ``tenant#TASKS``, newest first)
* ``TASKA#tenant#task#employee``            one assignment: links, copy variant, status, outcome
                                            counters (GSI by-tenant ``tenant#MYTASKS#employee``)
* ``TASKP#tenant#task#dim#member``          progress rows: dim ``all`` (member ``-``), ``team``, ``region``
* ``TASKCAMP#tenant#campaign``              which tasks a campaign has (the consumer's cheap filter)
* ``TASKM#tenant#task#employee#source_key`` idempotency marker of one counted ledger entry (TTL 7 days:
                                            longer than a stream record can be redelivered)
* ``TASKPROOF#tenant#task#employee``        proof of posting (GSI by-tenant ``tenant#TASKPROOFS#task``)
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Sequence
from typing import Any

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import MainItem
from ripple.adapters.repositories import _connection
from ripple.domain.tasks import AssignmentState, Audience, Copy, OutcomeConflict, OutcomeDelta, progress_keys

__all__ = [
    "Assignment",
    "CampaignTasksItem",
    "DynamoTasks",
    "Task",
    "TaskAssignmentItem",
    "TaskItem",
    "TaskMarkerItem",
    "TaskProgressItem",
    "TaskProofItem",
]

MARKER_TTL_SECONDS = 7 * 24 * 3600
COUNTERS = ("delivered", "opened", "shared", "unique_visits", "forwards", "leads")


class TaskItem(MainItem):
    tenant = UnicodeAttribute()
    task_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    title = UnicodeAttribute()
    copies = UnicodeAttribute()  # JSON list of {"lang", "text"}
    channels = ListAttribute[str](default=list)
    materials = ListAttribute[str](default=list)
    poster_template_id = UnicodeAttribute(null=True)
    audience = UnicodeAttribute()  # JSON of the request's audience
    deadline = NumberAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute(default="")
    audience_size = NumberAttribute(default=0)
    teams = ListAttribute[str](default=list)
    regions = ListAttribute[str](default=list)

    @staticmethod
    def key(tenant_id: str, task_id: str) -> str:
        return f"TASK#{tenant_id}#{task_id}"


class TaskAssignmentItem(MainItem):
    tenant = UnicodeAttribute()
    task_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    team = UnicodeAttribute(default="")
    region = UnicodeAttribute(default="")
    copy_index = NumberAttribute(default=0)
    links = MapAttribute[str, Any](default=dict)  # channel -> short code
    delivered_at = NumberAttribute()
    opened_at = NumberAttribute(null=True)
    shared_at = NumberAttribute(null=True)
    unique_visits = NumberAttribute(default=0)
    forwards = NumberAttribute(default=0)
    leads = NumberAttribute(default=0)
    proof_url = UnicodeAttribute(null=True)
    proof_material_id = UnicodeAttribute(null=True)
    proof_at = NumberAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, task_id: str, employee_id: str) -> str:
        return f"TASKA#{tenant_id}#{task_id}#{employee_id}"

    @staticmethod
    def mine(tenant_id: str, employee_id: str) -> str:
        return f"{tenant_id}#MYTASKS#{employee_id}"


class TaskProgressItem(MainItem):
    delivered = NumberAttribute(default=0)
    opened = NumberAttribute(default=0)
    shared = NumberAttribute(default=0)
    unique_visits = NumberAttribute(default=0)
    forwards = NumberAttribute(default=0)
    leads = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, task_id: str, dim: str, member: str) -> str:
        return f"TASKP#{tenant_id}#{task_id}#{dim}#{member}"


class CampaignTasksItem(MainItem):
    tasks = UnicodeSetAttribute(null=True)  # "<created_at:013d>#<task_id>"

    @staticmethod
    def key(tenant_id: str, campaign_id: str) -> str:
        return f"TASKCAMP#{tenant_id}#{campaign_id}"


class TaskMarkerItem(MainItem):
    @staticmethod
    def key(tenant_id: str, task_id: str, employee_id: str, source_key: str) -> str:
        return f"TASKM#{tenant_id}#{task_id}#{employee_id}#{source_key}"


class TaskProofItem(MainItem):
    tenant = UnicodeAttribute()
    task_id = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    url = UnicodeAttribute(null=True)
    material_id = UnicodeAttribute(null=True)
    at = NumberAttribute()

    @staticmethod
    def key(tenant_id: str, task_id: str, employee_id: str) -> str:
        return f"TASKPROOF#{tenant_id}#{task_id}#{employee_id}"

    @staticmethod
    def listing(tenant_id: str, task_id: str) -> str:
        return f"{tenant_id}#TASKPROOFS#{task_id}"


# ------------------------------------------------------------------ plain records


class Task:
    __slots__ = (
        "audience",
        "audience_size",
        "campaign_id",
        "channels",
        "copies",
        "created_at",
        "created_by",
        "deadline",
        "materials",
        "poster_template_id",
        "regions",
        "task_id",
        "teams",
        "tenant_id",
        "title",
    )

    def __init__(self, item: TaskItem) -> None:
        self.tenant_id = item.tenant
        self.task_id = item.task_id
        self.campaign_id = item.campaign_id
        self.title = item.title
        self.copies = tuple(Copy(c["text"], c.get("lang")) for c in json.loads(item.copies))
        self.channels = tuple(item.channels or ())
        self.materials = tuple(item.materials or ())
        self.poster_template_id = item.poster_template_id
        self.audience = json.loads(item.audience)
        self.deadline = int(item.deadline)
        self.created_at = int(item.created_at)
        self.created_by = item.created_by
        self.audience_size = int(item.audience_size or 0)
        self.teams = tuple(item.teams or ())
        self.regions = tuple(item.regions or ())


class Assignment:
    __slots__ = (
        "campaign_id",
        "copy_index",
        "delivered_at",
        "employee_id",
        "forwards",
        "leads",
        "links",
        "opened_at",
        "proof_at",
        "proof_material_id",
        "proof_url",
        "region",
        "shared_at",
        "task_id",
        "team",
        "tenant_id",
        "unique_visits",
    )

    def __init__(self, item: TaskAssignmentItem) -> None:
        def opt(v: Any) -> int | None:
            return int(v) if v is not None else None

        self.tenant_id = item.tenant
        self.task_id = item.task_id
        self.campaign_id = item.campaign_id
        self.employee_id = item.employee_id
        self.team = item.team
        self.region = item.region
        self.copy_index = int(item.copy_index or 0)
        raw = item.links.as_dict() if hasattr(item.links, "as_dict") else dict(item.links or {})
        self.links = {str(k): str(v) for k, v in raw.items()}
        self.delivered_at = int(item.delivered_at)
        self.opened_at = opt(item.opened_at)
        self.shared_at = opt(item.shared_at)
        self.unique_visits = int(item.unique_visits or 0)
        self.forwards = int(item.forwards or 0)
        self.leads = int(item.leads or 0)
        self.proof_url = item.proof_url
        self.proof_material_id = item.proof_material_id
        self.proof_at = opt(item.proof_at)

    def state(self) -> AssignmentState:
        return AssignmentState(
            self.tenant_id, self.task_id, self.employee_id, self.team, self.region, self.delivered_at, self.shared_at
        )


class DynamoTasks:
    max_items = 100  # TransactWriteItems limit

    # -- distribution

    def create(
        self,
        *,
        tenant_id: str,
        task_id: str,
        spec_json: dict[str, Any],
        audience: Audience,
        assignments: Sequence[dict[str, Any]],
        now: int,
        created_by: str,
    ) -> None:
        """Write a distributed task. Order: the campaign's task index, the assignments and
        progress rows (batch writes of 25), then the task item last: the task exists for
        readers only once everything it points at does."""
        campaign_id = spec_json["campaign_id"]
        CampaignTasksItem(CampaignTasksItem.key(tenant_id, campaign_id)).update(
            actions=[CampaignTasksItem.tasks.add({f"{now:013d}#{task_id}"})]
        )
        progress: dict[tuple[str, str], int] = {}
        with TaskAssignmentItem.batch_write() as batch:
            for a in assignments:
                batch.save(
                    TaskAssignmentItem(
                        TaskAssignmentItem.key(tenant_id, task_id, a["employee_id"]),
                        gsi1pk=TaskAssignmentItem.mine(tenant_id, a["employee_id"]),
                        gsi1sk=f"{now:013d}#{task_id}",
                        tenant=tenant_id,
                        task_id=task_id,
                        campaign_id=campaign_id,
                        employee_id=a["employee_id"],
                        team=a["team"],
                        region=a["region"],
                        copy_index=a["copy_index"],
                        links=a["links"],
                        delivered_at=now,
                    )
                )
                for key in progress_keys(a["team"], a["region"]):
                    progress[key] = progress.get(key, 0) + 1
        with TaskProgressItem.batch_write() as batch:
            for (dim, member), n in progress.items():
                batch.save(TaskProgressItem(TaskProgressItem.key(tenant_id, task_id, dim, member), delivered=n))
        TaskItem(
            TaskItem.key(tenant_id, task_id),
            gsi1pk=f"{tenant_id}#TASKS",
            gsi1sk=f"{now:013d}#{task_id}",
            tenant=tenant_id,
            task_id=task_id,
            campaign_id=campaign_id,
            title=spec_json["title"],
            copies=json.dumps(spec_json["copies"], ensure_ascii=False),
            channels=list(spec_json["channels"]),
            materials=list(spec_json["materials"]),
            poster_template_id=spec_json["poster_template_id"],
            audience=json.dumps(audience.to_dict()),
            deadline=spec_json["deadline"],
            created_at=now,
            created_by=created_by,
            audience_size=len(assignments),
            teams=sorted({m for d, m in progress if d == "team"}),
            regions=sorted({m for d, m in progress if d == "region"}),
        ).save(condition=TaskItem.pk.does_not_exist())

    # -- reads

    def get(self, tenant_id: str, task_id: str) -> Task | None:
        try:
            return Task(TaskItem.get(TaskItem.key(tenant_id, task_id)))
        except DoesNotExist:
            return None

    def tasks(self, tenant_id: str, task_ids: Iterable[str]) -> dict[str, Task]:
        keys = sorted({TaskItem.key(tenant_id, t) for t in task_ids})
        return {item.task_id: Task(item) for item in TaskItem.batch_get(keys)} if keys else {}

    def recent(self, tenant_id: str, limit: int, after: str | None = None) -> tuple[list[Task], str | None]:
        """One page of the tenant's tasks, newest first (GSI by-tenant ``<tenant>#TASKS``).
        ``after`` is the sort key ``<created_at:013d>#<task_id>`` the previous page ended at."""
        partition = f"{tenant_id}#TASKS"
        start = None
        if after:
            start = {
                "pk": {"S": TaskItem.key(tenant_id, after.split("#", 1)[1])},
                "gsi1pk": {"S": partition},
                "gsi1sk": {"S": after},
            }
        out: list[Task] = []
        results: Iterable[TaskItem] = TaskItem.by_tenant.query(  # type: ignore[assignment]
            partition, scan_index_forward=False, last_evaluated_key=start, page_size=limit + 1
        )
        for item in results:
            if len(out) == limit:
                last = out[-1]
                return out, f"{last.created_at:013d}#{last.task_id}"
            out.append(Task(item))
        return out, None

    def totals(self, tenant_id: str, task_ids: Iterable[str]) -> dict[str, dict[str, int]]:
        """The ``all`` progress row of each task (one BatchGet)."""
        wanted = {TaskProgressItem.key(tenant_id, t, "all", "-"): t for t in set(task_ids)}
        out = {t: dict.fromkeys(COUNTERS, 0) for t in wanted.values()}
        if wanted:
            for item in TaskProgressItem.batch_get(sorted(wanted), consistent_read=True):
                out[wanted[item.pk]] = {c: int(getattr(item, c) or 0) for c in COUNTERS}
        return out

    def assignment(self, tenant_id: str, task_id: str, employee_id: str) -> Assignment | None:
        try:
            item = TaskAssignmentItem.get(TaskAssignmentItem.key(tenant_id, task_id, employee_id), consistent_read=True)
        except DoesNotExist:
            return None
        return Assignment(item)

    def mine(self, tenant_id: str, employee_id: str, limit: int) -> list[Assignment]:
        """Newest first."""
        results: Iterable[TaskAssignmentItem] = TaskAssignmentItem.by_tenant.query(  # type: ignore[assignment]
            TaskAssignmentItem.mine(tenant_id, employee_id), scan_index_forward=False, limit=limit, page_size=limit
        )
        return [Assignment(item) for item in results]

    def progress(self, tenant_id: str, task: Task) -> dict[tuple[str, str], dict[str, int]]:
        rows = [("all", "-")] + [("team", t) for t in task.teams] + [("region", r) for r in task.regions]
        wanted = {TaskProgressItem.key(tenant_id, task.task_id, d, m): (d, m) for d, m in rows}
        out = {row: dict.fromkeys(COUNTERS, 0) for row in rows}
        for item in TaskProgressItem.batch_get(list(wanted), consistent_read=True):
            out[wanted[item.pk]] = {c: int(getattr(item, c) or 0) for c in COUNTERS}
        return out

    def proofs(self, tenant_id: str, task_id: str, limit: int = 100) -> list[dict[str, Any]]:
        results: Iterable[TaskProofItem] = TaskProofItem.by_tenant.query(  # type: ignore[assignment]
            TaskProofItem.listing(tenant_id, task_id), scan_index_forward=False, limit=limit, page_size=limit
        )
        return [
            {"employee_id": p.employee_id, "url": p.url, "screenshot_material_id": p.material_id, "at": int(p.at)}
            for p in results
        ]

    # -- employee actions

    def mark_opened(self, a: Assignment, now: int) -> bool:
        """First opening only: the assignment's ``opened_at`` and the progress rows move in
        one transaction conditional on it not being opened yet."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(
                    TaskAssignmentItem(TaskAssignmentItem.key(a.tenant_id, a.task_id, a.employee_id)),
                    actions=[TaskAssignmentItem.opened_at.set(now)],
                    condition=TaskAssignmentItem.pk.exists() & TaskAssignmentItem.opened_at.does_not_exist(),
                )
                for dim, member in progress_keys(a.team, a.region):
                    tx.update(
                        TaskProgressItem(TaskProgressItem.key(a.tenant_id, a.task_id, dim, member)),
                        actions=[TaskProgressItem.opened.add(1)],
                    )
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            raise
        return True

    def save_proof(self, a: Assignment, url: str | None, material_id: str | None, now: int) -> None:
        with TransactWrite(connection=_connection()) as tx:
            tx.update(
                TaskAssignmentItem(TaskAssignmentItem.key(a.tenant_id, a.task_id, a.employee_id)),
                actions=[
                    TaskAssignmentItem.proof_url.set(url) if url else TaskAssignmentItem.proof_url.remove(),
                    TaskAssignmentItem.proof_material_id.set(material_id)
                    if material_id
                    else TaskAssignmentItem.proof_material_id.remove(),
                    TaskAssignmentItem.proof_at.set(now),
                ],
                condition=TaskAssignmentItem.pk.exists(),
            )
            tx.save(
                TaskProofItem(
                    TaskProofItem.key(a.tenant_id, a.task_id, a.employee_id),
                    gsi1pk=TaskProofItem.listing(a.tenant_id, a.task_id),
                    gsi1sk=f"{now:013d}#{a.employee_id}",
                    tenant=a.tenant_id,
                    task_id=a.task_id,
                    employee_id=a.employee_id,
                    url=url,
                    material_id=material_id,
                    at=now,
                )
            )

    # -- stream consumer

    def campaign_tasks(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[int, str]]]:
        """(tenant, campaign) -> [(created_at, task_id)] for campaigns that have tasks."""
        wanted: dict[str, tuple[str, str]] = {CampaignTasksItem.key(t, c): (t, c) for t, c in set(keys)}
        out: dict[tuple[str, str], list[tuple[int, str]]] = {}
        if not wanted:
            return out
        for item in CampaignTasksItem.batch_get(list(wanted), consistent_read=True):
            tasks = []
            for raw in item.tasks or ():
                ts, _, task_id = raw.partition("#")
                tasks.append((int(ts), task_id))
            out[wanted[item.pk]] = sorted(tasks)
        return out

    def states(self, pairs: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], AssignmentState]:
        """Assignments of (tenant, task, employee), read consistently; absent ones are left out."""
        keys = sorted({TaskAssignmentItem.key(t, task, e) for t, task, e in pairs})
        out: dict[tuple[str, str, str], AssignmentState] = {}
        if keys:
            for item in TaskAssignmentItem.batch_get(keys, consistent_read=True):
                state = Assignment(item).state()
                out[(state.tenant_id, state.task_id, state.employee_id)] = state
        return out

    def apply(self, deltas: Sequence[OutcomeDelta], now: int) -> int:
        """One transaction: a marker per counted ledger entry (``attribute_not_exists``), the
        assignments' counters (and ``shared_at`` where this moves them, conditional on it
        not being set), and the summed progress rows. Returns the items written; raises
        ``OutcomeConflict`` when cancelled by a marker or a shared-state race."""
        progress: dict[tuple[str, str, str, str], dict[str, int]] = {}
        for d in deltas:
            s = d.state
            for dim, member in progress_keys(s.team, s.region):
                row = progress.setdefault((s.tenant_id, s.task_id, dim, member), {})
                for name, n in d.counters().items():
                    row[name] = row.get(name, 0) + n
        slots: list[tuple[str, Any]] = []  # what each transaction item is, to read cancellation reasons
        expires = now // 1000 + MARKER_TTL_SECONDS
        for attempt in range(8):
            slots.clear()
            try:
                with TransactWrite(connection=_connection()) as tx:
                    for d in deltas:
                        s = d.state
                        for key in d.source_keys:
                            tx.save(
                                TaskMarkerItem(
                                    TaskMarkerItem.key(s.tenant_id, s.task_id, s.employee_id, key), expires_at=expires
                                ),
                                condition=TaskMarkerItem.pk.does_not_exist(),
                            )
                            slots.append(("marker", (s.tenant_id, s.task_id, s.employee_id, key)))
                    for d in deltas:
                        s = d.state
                        actions: list[Any] = [
                            getattr(TaskAssignmentItem, name).add(n)
                            for name, n in d.counters().items()
                            if n and name != "shared"
                        ]
                        condition = TaskAssignmentItem.pk.exists()
                        if d.shared_at is not None:
                            actions.append(TaskAssignmentItem.shared_at.set(d.shared_at))
                            condition = condition & TaskAssignmentItem.shared_at.does_not_exist()
                        if not actions:
                            continue
                        tx.update(
                            TaskAssignmentItem(TaskAssignmentItem.key(s.tenant_id, s.task_id, s.employee_id)),
                            actions=actions,
                            condition=condition,
                        )
                        slots.append(("assignment", (s.tenant_id, s.task_id, s.employee_id)))
                    for (tenant, task, dim, member), row in sorted(progress.items()):
                        adds = [getattr(TaskProgressItem, name).add(n) for name, n in sorted(row.items()) if n]
                        if adds:
                            tx.update(TaskProgressItem(TaskProgressItem.key(tenant, task, dim, member)), actions=adds)
                            slots.append(("progress", None))
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                failed = [
                    slots[i]
                    for i, r in enumerate(reasons[: len(slots)])
                    if r is not None and r.code == "ConditionalCheckFailed"
                ]
                if failed:
                    raise OutcomeConflict(
                        {v for k, v in failed if k == "marker"}, {v for k, v in failed if k == "assignment"}
                    ) from exc
                codes = {r.code for r in reasons if r is not None}
                retryable = exc.cause_response_code in ("TransactionConflictException", "ThrottlingException") or (
                    codes & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
                )
                if not retryable or attempt == 7:
                    raise
                time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
                continue
            return len(slots)
        return 0  # pragma: no cover - the loop either returns or raises

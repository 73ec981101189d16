"""Repository implementations over the PynamoDB models."""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar, cast

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import (
    BalanceItem,
    BoardRowItem,
    CampaignItem,
    ChainNodeItem,
    EmailClaimItem,
    EmployeeItem,
    LedgerItem,
    LinkItem,
    LinkOwnerItem,
    PendingItem,
    PointsItem,
    PointsRulesMap,
    TenantItem,
    VisitItem,
    tenant_day_key,
)
from ripple.domain.errors import ConflictError, NotFoundError
from ripple.domain.model import (
    Campaign,
    Decision,
    Employee,
    LedgerEntry,
    Link,
    PointsRules,
    RulesVersion,
    Tenant,
    Visit,
)
from ripple.domain.points import (
    NodeDelta,
    NodeKey,
    aggregate,
    aggregate_keys,
    node_deltas,
    node_keys,
    pack_transactions,
)
from ripple.service.ports import ChainNode, ChainPage, CodeTakenError, RecordResult

__all__ = [
    "DynamoCampaigns",
    "DynamoChains",
    "DynamoEmployees",
    "DynamoLinks",
    "DynamoPoints",
    "DynamoTenants",
    "DynamoVisits",
    "TransactionLimit",
    "add_spend",
    "ledger_item",
    "transact_once",
]

VISIT_RETENTION_SECONDS = 400 * 24 * 3600
T = TypeVar("T")
TransactionLimit = 100  # DynamoDB's maximum number of items in one TransactWriteItems


@functools.cache
def _connection() -> Connection:
    """One PynamoDB connection per process for transactions (a botocore session is costly)."""
    return Connection(region=PointsItem.Meta.region)


def _segment_settings(raw: str | None) -> dict[str, int]:
    parts = (raw or "").split(",")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return {}
    window, medium, heavy, reach = (int(p) for p in parts)
    return {"segment_window_days": window, "segment_medium": medium, "segment_heavy": heavy, "reach_days": reach}


class DynamoTenants:
    def get(self, tenant_id: str) -> Tenant:
        try:
            item = TenantItem.get(TenantItem.key(tenant_id))
        except DoesNotExist:
            return Tenant(tenant_id)
        return Tenant(
            tenant_id,
            item.name,
            item.timezone,
            attribution_mode=item.attribution_mode or "first_touch",
            attribution_days=int(item.attribution_days or 30),
            recycle_after_days=int(item.recycle_after_days) if item.recycle_after_days else None,
            phone_region=item.phone_region or "CN",
            pool_claim_price=int(item.pool_claim_price or 0),
            burst_links=int(item.burst_links) if item.burst_links else None,
            velocity_per_hour=int(item.velocity_per_hour) if item.velocity_per_hour else None,
            ended_url=item.ended_url or "",
            **_segment_settings(item.segments),
        )

    def all_ids(self) -> list[str]:
        """Every registered tenant (registered by settings or its first campaign)."""
        return [str(item.attribute_values.get("gsi1sk", "")) for item in TenantItem.by_tenant.query("TENANTS")]

    def put(self, tenant: Tenant) -> None:
        TenantItem(
            TenantItem.key(tenant.tenant_id),
            name=tenant.name,
            timezone=tenant.timezone,
            attribution_mode=tenant.attribution_mode,
            attribution_days=tenant.attribution_days,
            recycle_after_days=tenant.recycle_after_days,
            phone_region=tenant.phone_region,
            burst_links=tenant.burst_links,
            velocity_per_hour=tenant.velocity_per_hour,
            pool_claim_price=tenant.pool_claim_price,
            segments=f"{tenant.segment_window_days},{tenant.segment_medium},{tenant.segment_heavy},{tenant.reach_days}",
            ended_url=tenant.ended_url or None,
            gsi1pk="TENANTS",
            gsi1sk=tenant.tenant_id,
        ).save()


def _employee(item: EmployeeItem) -> Employee:
    return Employee(
        tenant_id=item.tenant,
        employee_id=item.employee_id,
        name=item.name,
        team=item.team,
        region=item.region,
        active=bool(item.active),
        updated_at=int(item.updated_at or 0),
        email=item.email or "",
        role=item.role or "employee",
        subject=item.subject or "",
        signed_in=bool(item.signed_in),
    )


class DynamoEmployees:
    def get(self, tenant_id: str, employee_id: str) -> Employee | None:
        try:
            return _employee(EmployeeItem.get(EmployeeItem.key(tenant_id, employee_id)))
        except DoesNotExist:
            return None

    def put(self, employee: Employee) -> None:
        """Save the employee; with an e-mail, also claim it (``EMAIL#…``) in the same
        transaction, conditional on nobody else holding it (409 otherwise), and release the
        address the employee had before."""
        item = EmployeeItem(
            EmployeeItem.key(employee.tenant_id, employee.employee_id),
            gsi1pk=f"{employee.tenant_id}#EMP",
            gsi1sk=employee.employee_id,
            tenant=employee.tenant_id,
            employee_id=employee.employee_id,
            name=employee.name,
            team=employee.team,
            region=employee.region,
            active=employee.active,
            updated_at=employee.updated_at,
            email=employee.email or None,
            role=employee.role,
            subject=employee.subject or None,
            signed_in=employee.signed_in or None,
        )
        previous = self.get(employee.tenant_id, employee.employee_id)
        old_email = previous.email if previous else ""
        if not employee.email and not old_email:
            item.save()
            return
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item)
                if employee.email and employee.email != old_email:
                    claim = EmailClaimItem(
                        EmailClaimItem.key(employee.tenant_id, employee.email), employee_id=employee.employee_id
                    )
                    tx.save(
                        claim,
                        condition=EmailClaimItem.pk.does_not_exist()
                        | (EmailClaimItem.employee_id == employee.employee_id),
                    )
                if old_email and old_email != employee.email:
                    tx.delete(
                        EmailClaimItem(EmailClaimItem.key(employee.tenant_id, old_email)),
                        condition=EmailClaimItem.employee_id == employee.employee_id,
                    )
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed":
                owner = self.owner_of_email(employee.tenant_id, employee.email)
                raise ConflictError(
                    f"{employee.email} already belongs to employee {owner}", details={"field": "email"}
                ) from exc
            raise

    def owner_of_email(self, tenant_id: str, email: str) -> str | None:
        try:
            return str(EmailClaimItem.get(EmailClaimItem.key(tenant_id, email)).employee_id)
        except DoesNotExist:
            return None

    def owners_of_emails(self, tenant_id: str, emails: Iterable[str]) -> dict[str, str]:
        """address → employee id for the addresses that are taken (BatchGetItem)."""
        keys = {EmailClaimItem.key(tenant_id, e): e for e in set(emails)}
        return {keys[item.pk]: str(item.employee_id) for item in EmailClaimItem.batch_get(list(keys))}

    def mark_signed_in(self, tenant_id: str, employee_id: str) -> None:
        """Set only the flag (never a whole-record put): a concurrent offboarding or edit stays."""
        from pynamodb.exceptions import UpdateError

        item = EmployeeItem(EmployeeItem.key(tenant_id, employee_id))
        try:
            item.update(actions=[EmployeeItem.signed_in.set(True)], condition=EmployeeItem.pk.exists())
        except UpdateError as exc:
            if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                raise

    def batch_get(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Employee]:
        wanted = [EmployeeItem.key(t, e) for t, e in set(keys)]
        out: dict[tuple[str, str], Employee] = {}
        for item in EmployeeItem.batch_get(wanted):
            emp = _employee(item)
            out[(emp.tenant_id, emp.employee_id)] = emp
        return out

    def in_tenant(self, tenant_id: str) -> list[Employee]:
        """Every employee of a tenant, active or not (GSI by-tenant ``<tenant>#EMP``)."""
        items: Iterable[EmployeeItem] = EmployeeItem.by_tenant.query(f"{tenant_id}#EMP")  # type: ignore[assignment]
        return [_employee(item) for item in items]


def _points_map(rules: PointsRules) -> PointsRulesMap:
    return PointsRulesMap(unique_visit=rules.unique_visit, forward=rules.forward, lead=rules.lead)


def rules_to_json(versions: Sequence[RulesVersion]) -> str:
    return json.dumps(
        [
            {
                "version": v.version,
                "effective_from": v.effective_from,
                "rules": {**v.rules.to_dict(), "conversion": v.rules.conversion, **v.rules.limits_dict()},
            }
            for v in versions
        ],
        sort_keys=True,
    )


def _versions(raw: str | None) -> tuple[RulesVersion, ...]:
    if not raw:
        return ()
    return tuple(
        RulesVersion(int(v["version"]), int(v["effective_from"]), PointsRules(**v["rules"])) for v in json.loads(raw)
    )


def _campaign(item: CampaignItem) -> Campaign:
    pts = item.points
    return Campaign(
        tenant_id=item.tenant,
        campaign_id=item.campaign_id,
        name=item.name,
        destination_url=item.destination_url,
        points=PointsRules(int(pts.unique_visit or 0), int(pts.forward or 0), int(pts.lead or 0)),
        starts_at=int(item.starts_at) if item.starts_at is not None else None,
        ends_at=int(item.ends_at) if item.ends_at is not None else None,
        created_at=int(item.created_at or 0),
        created_by=item.created_by or "",
        share_param=item.share_param or "rp",
        max_chain_depth=int(item.max_chain_depth or 10),
        landing=json.loads(item.landing) if item.landing else None,
        rules_history=_versions(item.rules_history),
        archived_at=int(item.archived_at) if item.archived_at is not None else None,
        links_cursor=item.links_cursor,
        links_revision=int(item.links_revision or 0),
    ).with_current_rules()


def _campaign_links(tenant_id: str, campaign_id: str) -> str:
    return f"{tenant_id}#CLINKS#{campaign_id}"


class DynamoCampaigns:
    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        try:
            return _campaign(CampaignItem.get(CampaignItem.key(tenant_id, campaign_id)))
        except DoesNotExist:
            return None

    def create(self, campaign: Campaign) -> None:
        item = CampaignItem(
            CampaignItem.key(campaign.tenant_id, campaign.campaign_id),
            gsi1pk=f"{campaign.tenant_id}#CAMP",
            gsi1sk=campaign.campaign_id,
            tenant=campaign.tenant_id,
            campaign_id=campaign.campaign_id,
            name=campaign.name,
            destination_url=campaign.destination_url,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            created_at=campaign.created_at,
            created_by=campaign.created_by,
            share_param=campaign.share_param,
            max_chain_depth=campaign.max_chain_depth,
            landing=json.dumps(campaign.landing, ensure_ascii=False, sort_keys=True) if campaign.landing else None,
            rules_history=rules_to_json(campaign.rules_history) if campaign.rules_history else None,
        )
        item.points = _points_map(campaign.points)
        item.save(condition=CampaignItem.pk.does_not_exist())

    def add_rules_version(self, campaign: Campaign, version: RulesVersion) -> Campaign:
        """Append a rules version, conditional on nobody else having added one meanwhile."""
        history = (*campaign.rules_history, version)
        item = CampaignItem(CampaignItem.key(campaign.tenant_id, campaign.campaign_id))
        previous = rules_to_json(campaign.rules_history) if campaign.rules_history else None
        condition = (
            CampaignItem.rules_history == previous
            if previous is not None
            else CampaignItem.rules_history.does_not_exist()
        )
        try:
            item.update(
                actions=[
                    CampaignItem.rules_history.set(rules_to_json(history)),
                    CampaignItem.points.set(_points_map(version.rules)),
                ],
                condition=CampaignItem.pk.exists() & condition,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConflictError("the campaign's rules changed meanwhile; read them again") from exc
            raise
        return replace(campaign, points=version.rules, rules_history=history)

    def save_lifecycle(self, campaign: Campaign) -> None:
        item = CampaignItem(CampaignItem.key(campaign.tenant_id, campaign.campaign_id))
        landing = json.dumps(campaign.landing, ensure_ascii=False, sort_keys=True) if campaign.landing else None
        values: list[tuple[Any, Any]] = [
            (CampaignItem.name, campaign.name),
            (CampaignItem.destination_url, campaign.destination_url),
            (CampaignItem.landing, landing),
            (CampaignItem.starts_at, campaign.starts_at),
            (CampaignItem.ends_at, campaign.ends_at),
            (CampaignItem.archived_at, campaign.archived_at),
            (CampaignItem.links_cursor, campaign.links_cursor),
            (CampaignItem.links_revision, campaign.links_revision or None),
        ]
        actions: list[Action] = [attr.set(value) if value is not None else attr.remove() for attr, value in values]
        try:
            item.update(actions=actions, condition=CampaignItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise NotFoundError(f"campaign {campaign.campaign_id} not found") from exc
            raise

    def save_links_cursor(self, campaign: Campaign, cursor: str | None) -> bool:
        item = CampaignItem(CampaignItem.key(campaign.tenant_id, campaign.campaign_id))
        action = CampaignItem.links_cursor.set(cursor) if cursor is not None else CampaignItem.links_cursor.remove()
        revision = campaign.links_revision or None
        same = (
            CampaignItem.links_revision == revision
            if revision is not None
            else CampaignItem.links_revision.does_not_exist()
        )
        try:
            item.update(actions=[action], condition=CampaignItem.pk.exists() & same)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def batch_get(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Campaign]:
        wanted = [CampaignItem.key(t, c) for t, c in set(keys)]
        out: dict[tuple[str, str], Campaign] = {}
        for item in CampaignItem.batch_get(wanted):
            c = _campaign(item)
            out[(c.tenant_id, c.campaign_id)] = c
        return out

    def in_tenant(self, tenant_id: str, limit: int, after: str | None = None) -> tuple[list[Campaign], str | None]:
        """One page of a tenant's campaigns in id order (GSI by-tenant ``<tenant>#CAMP``, no Scan).
        ``after`` is the last campaign id of the previous page; returns (page, last id or None)."""
        partition = f"{tenant_id}#CAMP"
        start = None
        if after:
            start = {
                "pk": {"S": CampaignItem.key(tenant_id, after)},
                "gsi1pk": {"S": partition},
                "gsi1sk": {"S": after},
            }
        out: list[Campaign] = []
        results: Iterable[CampaignItem] = CampaignItem.by_tenant.query(  # type: ignore[assignment]
            partition, last_evaluated_key=start, page_size=limit + 1
        )
        for item in results:
            if len(out) == limit:
                return out, out[-1].campaign_id
            out.append(_campaign(item))
        return out, None


def _link(item: LinkItem) -> Link:
    return Link(
        code=item.code,
        tenant_id=item.tenant,
        campaign_id=item.campaign_id,
        employee_id=item.employee_id,
        channel=item.channel,
        destination_url=item.destination_url,
        starts_at=int(item.starts_at) if item.starts_at is not None else None,
        ends_at=int(item.ends_at) if item.ends_at is not None else None,
        created_at=int(item.created_at or 0),
        share_param=item.share_param or "rp",
        max_chain_depth=int(item.max_chain_depth or 10),
    )


class DynamoLinks:
    def get(self, code: str) -> Link | None:
        try:
            return _link(LinkItem.get(code))
        except DoesNotExist:
            return None

    def find_for_owner(self, tenant_id: str, campaign_id: str, employee_id: str, channel: str) -> Link | None:
        try:
            owner = LinkOwnerItem.get(LinkOwnerItem.key(tenant_id, campaign_id, employee_id, channel))
        except DoesNotExist:
            return None
        return self.get(owner.code)

    def create(self, link: Link) -> Link:
        owner_key = LinkOwnerItem.key(link.tenant_id, link.campaign_id, link.employee_id, link.channel)
        item = LinkItem(
            link.code,
            tenant=link.tenant_id,
            campaign_id=link.campaign_id,
            employee_id=link.employee_id,
            channel=link.channel,
            destination_url=link.destination_url,
            starts_at=link.starts_at,
            ends_at=link.ends_at,
            created_at=link.created_at,
            share_param=link.share_param,
            max_chain_depth=link.max_chain_depth,
        )
        owner = LinkOwnerItem(
            owner_key,
            code=link.code,
            gsi1pk=f"{link.tenant_id}#LINK#{link.employee_id}",
            gsi1sk=f"{link.campaign_id}#{link.channel}",
            gsi2pk=_campaign_links(link.tenant_id, link.campaign_id),
            gsi2sk=link.code,
        )
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(owner, condition=LinkOwnerItem.pk.does_not_exist())
                tx.save(item, condition=LinkItem.code.does_not_exist())
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                existing = self.find_for_owner(link.tenant_id, link.campaign_id, link.employee_id, link.channel)
                if existing is not None:
                    return existing
            if len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed":
                raise CodeTakenError(link.code) from exc
            raise
        return link

    def reassign(self, link: Link, employee_id: str) -> Link:
        """Credit an existing link to another employee from now on (offboarding)."""
        item = LinkItem(link.code)
        item.update(
            actions=[LinkItem.employee_id.set(employee_id)],
            condition=LinkItem.code.exists() & (LinkItem.tenant == link.tenant_id),
        )
        LinkOwnerItem(
            f"LINKREASSIGNED#{link.tenant_id}#{link.code}",
            code=link.code,
            gsi1pk=f"{link.tenant_id}#LINK#{employee_id}",
            gsi1sk=f"{link.campaign_id}#{link.channel}#{link.code}",
        ).save()
        return _link(LinkItem.get(link.code, consistent_read=True))

    def owned_by(self, tenant_id: str, employee_id: str) -> list[Link]:
        """Every link issued to (or reassigned to) this employee."""
        codes = [o.code for o in LinkOwnerItem.by_tenant.query(f"{tenant_id}#LINK#{employee_id}")]  # type: ignore[attr-defined]
        links = [self.get(code) for code in codes]
        return [link for link in links if link is not None and link.employee_id == employee_id]

    def codes_in_campaign(
        self, tenant_id: str, campaign_id: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """``after`` is opaque: ``<code>|<owner item key>`` of the last link of the previous page."""
        partition = _campaign_links(tenant_id, campaign_id)
        start = None
        if after:
            code, _, owner_pk = after.partition("|")
            start = {"pk": {"S": owner_pk}, "gsi2pk": {"S": partition}, "gsi2sk": {"S": code}}
        page = LinkOwnerItem.by_owner.query(partition, limit=limit, last_evaluated_key=start)
        owners = [cast(LinkOwnerItem, o) for o in page]  # the index of this class yields its rows
        if page.last_evaluated_key is None or not owners:
            return [o.code for o in owners], None
        return [o.code for o in owners], f"{owners[-1].code}|{owners[-1].pk}"

    def copy_campaign(self, code: str, campaign: Campaign) -> bool:
        revision = campaign.links_revision
        actions: list[Action] = [
            LinkItem.destination_url.set(campaign.destination_url),
            LinkItem.starts_at.set(campaign.starts_at)
            if campaign.starts_at is not None
            else LinkItem.starts_at.remove(),
            LinkItem.ends_at.set(campaign.ends_at) if campaign.ends_at is not None else LinkItem.ends_at.remove(),
            LinkItem.campaign_revision.set(revision),
        ]
        condition = (
            (LinkItem.tenant == campaign.tenant_id)
            & (LinkItem.campaign_id == campaign.campaign_id)
            & (LinkItem.campaign_revision.does_not_exist() | (LinkItem.campaign_revision <= revision))
        )
        try:
            LinkItem(code).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


class DynamoVisits:
    def earlier_eligible(self, visit: Visit) -> bool:
        return earlier_eligible(visit.tenant_id, visit.visitor, visit.campaign_id, visit.ts, visit.visit_id)

    def record(self, visit: Visit) -> None:
        item = VisitItem(
            tenant_day_key(visit.tenant_id, visit.ts, visit.visit_id),
            visit.visit_id,
            tenant=visit.tenant_id,
            code=visit.code,
            campaign_id=visit.campaign_id,
            employee_id=visit.employee_id,
            channel=visit.channel,
            visitor=visit.visitor,
            ts=visit.ts,
            decision=visit.decision.value,
            ua=visit.user_agent_class,
            country=visit.country or None,
            expires_at=visit.ts // 1000 + VISIT_RETENTION_SECONDS,
            via=visit.via or "-",
            via_parent=visit.via_parent or None,
            depth=visit.depth,
            token_rejected=True if visit.token_rejected else None,
            kind=visit.kind if visit.kind != "visit" else None,
            customer_id=visit.customer_id or None,
            node=visit.node or None,
            amount=visit.amount or None,
            viewer=visit.viewer or None,
            vk=f"{visit.tenant_id}#{visit.visitor}" if visit.kind == "visit" else None,
            sf=visit.surface if visit.surface != "link" else None,
            dev=visit.device or None,
            os=visit.os or None,
            subdivision=visit.subdivision or None,
            city=visit.city or None,
            action=visit.action or None,
        )
        try:
            item.save(condition=VisitItem.pk.does_not_exist())
        except PutError as exc:
            # Same visit id already stored: a retried request; recording it once is enough.
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise


def _chain_node(data: dict[str, Any]) -> ChainNode:
    return ChainNode(
        node=str(data.get("node", "")),
        parent=data.get("parent"),
        depth=int(data["depth"]) if data.get("depth") is not None else None,
        first_seen=int(data["first_seen"]) if data.get("first_seen") is not None else None,
        visitors=int(data.get("visitors", 0)),
        forwards=int(data.get("forwards", 0)),
        leads=int(data.get("leads", 0)),
    )


def earlier_eligible(tenant_id: str, visitor: str, campaign_id: str, ts: int, visit_id: str) -> bool:
    """Whether this visitor has an eligible visit to this campaign before (ts, visit_id).

    Every visit is written before the stream delivers it, so at processing time this is a
    fact about the past, not about delivery order (GSI ``by-visitor``; one small Query)."""
    for item in VisitItem.by_visitor.query(
        f"{tenant_id}#{visitor}",
        VisitItem.ts <= ts,
        filter_condition=(VisitItem.campaign_id == campaign_id) & (VisitItem.decision == Decision.ELIGIBLE.value),
    ):
        if (int(item.ts), item.pk) < (ts, visit_id):
            return True
    return False


class DynamoChains:
    def tree(self, tenant_id: str, campaign_id: str, root_employee: str) -> ChainPage:
        nodes: list[ChainNode] = []
        results = ChainNodeItem.by_tenant.query(ChainNodeItem.tree(tenant_id, campaign_id, root_employee))
        for item in results:
            nodes.append(_chain_node(item.attribute_values))
        return ChainPage(nodes, len(nodes))

    def node(self, tenant_id: str, campaign_id: str, node: str) -> ChainNode | None:
        try:
            item = ChainNodeItem.get(ChainNodeItem.key(tenant_id, campaign_id, node))
        except DoesNotExist:
            return None
        return _chain_node(item.attribute_values)


def visit_from_image(image: dict[str, Any]) -> Visit:
    """Build a Visit from a DynamoDB stream NewImage (typed attribute values)."""

    def s(name: str, default: str = "") -> str:
        value = image.get(name)
        return value["S"] if isinstance(value, dict) and "S" in value else default

    def n(name: str) -> int:
        value = image.get(name)
        if not isinstance(value, dict) or "N" not in value:
            raise ValueError(f"visit image lacks numeric {name}")
        return int(value["N"])

    for required in ("pk", "tenant", "campaign_id", "employee_id", "visitor", "decision"):
        if not s(required):
            raise ValueError(f"visit image lacks {required}")
    return Visit(
        visit_id=s("pk"),
        tenant_id=s("tenant"),
        code=s("code"),
        campaign_id=s("campaign_id"),
        employee_id=s("employee_id"),
        channel=s("channel"),
        visitor=s("visitor"),
        ts=n("ts"),
        decision=Decision(s("decision")),
        user_agent_class=s("ua", "browser"),
        country=s("country"),
        via=s("via", "-"),
        via_parent=s("via_parent"),
        depth=int(image["depth"]["N"]) if "N" in (image.get("depth") or {}) else 1,
        kind=s("kind", "visit"),
        customer_id=s("customer_id"),
        node=s("node"),
        amount=s("amount"),
        viewer=s("viewer"),
        surface=s("sf", "link"),
        device=s("dev"),
        os=s("os"),
        subdivision=s("subdivision"),
        city=s("city"),
        action=s("action"),
    )


def _node_actions(key: NodeKey, delta: NodeDelta) -> list[Any]:
    item = ChainNodeItem
    actions: list[Any] = [
        item.gsi1pk.set(ChainNodeItem.tree(key.tenant_id, key.campaign_id, delta.root)),
        item.gsi1sk.set(key.node),
        item.tenant.set(key.tenant_id),
        item.campaign_id.set(key.campaign_id),
        item.root.set(delta.root),
        item.node.set(key.node),
    ]
    if delta.parent is not None:
        actions.append(item.parent.set(delta.parent))
    if delta.depth is not None:
        actions.append(item.depth.set(delta.depth))
    if delta.first_seen is not None:
        actions.append(item.first_seen.set(delta.first_seen))
    for name in ("visitors", "forwards", "leads"):
        value = getattr(delta, name)
        if value:
            actions.append(getattr(item, name).add(value))
    return actions


def ledger_item(e: LedgerEntry) -> LedgerItem:
    """The stored form of a ledger entry; put it with ``LedgerItem.pk.does_not_exist()``
    so a replay of the same source key is rejected instead of counted twice."""
    return LedgerItem(
        LedgerItem.key(e.tenant_id, e.source_key),
        tenant=e.tenant_id,
        source_key=e.source_key,
        employee_id=e.employee_id,
        owner=f"{e.tenant_id}#{e.employee_id}",
        sort=f"{e.ts:013d}#{e.source_key}",
        kind=e.kind,
        points=e.points,
        ts=e.ts,
        campaign_id=e.campaign_id,
        team=e.team,
        region=e.region,
        day=e.day,
        week=e.week,
        month=e.month,
        source_id=e.source_id,
        meta=dict(e.meta),
        node=e.node or None,
        via=e.via or None,
        depth=e.depth or None,
        status=e.status if e.status != "available" else None,
        release_at=e.release_at,
        rules_version=e.rules_version or None,
    )


def _add_everywhere(tx: TransactWrite, entry: LedgerEntry, part: Any) -> None:
    """Add to ``tx`` an admin's entry (a reversal, a release) on the balance (its ``balance``
    and ``part``: pending or available) and on every leaderboard row it counts on."""
    for key, delta in sorted((k, v) for k, v in aggregate([entry]).items() if v):
        if key.dim == "balance":
            tx.update(
                BalanceItem(BalanceItem.key(key.tenant_id, key.member)),
                actions=[BalanceItem.balance.add(delta), part.add(delta)],
            )
        else:
            tx.update(
                BoardRowItem(BoardRowItem.key(key.board, key.member)),
                actions=[
                    BoardRowItem.board.set(key.board),
                    BoardRowItem.member.set(key.member),
                    BoardRowItem.score.add(delta),
                ],
            )


def pending_item(e: LedgerEntry) -> PendingItem:
    release_at = e.release_at if e.release_at is not None else e.ts
    return PendingItem(
        PendingItem.key(e.tenant_id, e.source_key),
        tenant=e.tenant_id,
        employee_id=e.employee_id,
        campaign_id=e.campaign_id,
        source_key=e.source_key,
        points=e.points,
        release_at=release_at,
        threshold=e.threshold,
        state="pending",
        owner=PendingItem.due_owner(e.tenant_id),
        sort=f"{release_at:013d}#{e.source_key}",
        updated_at=e.ts,
    )


def add_spend(tx: TransactWrite, entry: LedgerEntry) -> None:
    """Add to ``tx`` a spend (``entry.points`` < 0) or refund (> 0) of *available* points:
    the ledger entry (unique source key) and the balance change, conditional on the
    available points never going below zero. A cancelled transaction reports the reason
    per item: index 0 = duplicate source key, index 1 = insufficient points."""
    tx.save(ledger_item(entry), condition=LedgerItem.pk.does_not_exist())
    bal = BalanceItem(BalanceItem.key(entry.tenant_id, entry.employee_id))
    condition = BalanceItem.available >= -entry.points if entry.points < 0 else None
    tx.update(
        bal,
        actions=[BalanceItem.balance.add(entry.points), BalanceItem.available.add(entry.points)],
        condition=condition,
    )


def transact_once(
    chunk: Sequence[T], transact: Callable[[Sequence[T]], int], max_conflict_retries: int = 8
) -> tuple[list[T], list[T], int]:
    """Write a chunk whose transaction starts with one put per element, each conditional on
    its key being absent (the element's "done" marker). A put cancelled by its condition means
    that element was written before (a redelivery): it is set aside and the rest retried.
    Conflicts and throttling are retried with jittered backoff. Returns (written,
    duplicates, items written)."""
    pending = list(chunk)
    duplicates: list[T] = []
    conflicts = 0
    while pending:
        try:
            return pending, duplicates, transact(pending)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            dup = {
                i for i, r in enumerate(reasons[: len(pending)]) if r is not None and r.code == "ConditionalCheckFailed"
            }
            if dup:
                duplicates.extend(pending[i] for i in sorted(dup))
                pending = [e for i, e in enumerate(pending) if i not in dup]
                continue
            codes = {r.code for r in reasons if r is not None}
            if exc.cause_response_code in ("TransactionConflictException", "ThrottlingException") or (
                codes & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
            ):
                conflicts += 1
                if conflicts > max_conflict_retries:
                    raise
                time.sleep(min(1.0, 0.02 * 2**conflicts) * random.random())
                continue
            raise
    return [], duplicates, 0


class DynamoPoints:
    """Ledger, balances and leaderboards, kept consistent by transactions.

    Each TransactWriteItems call holds a chunk of new ledger entries (each a Put that
    fails if its source key exists) and the *summed* deltas of every counter those entries
    move. Either all of it lands or none does, so balances always equal the sum of the
    ledger and a redelivered event can only ever be rejected as a duplicate.
    """

    def __init__(self, max_items: int = TransactionLimit, max_conflict_retries: int = 8) -> None:
        self.max_items = max_items
        self.max_conflict_retries = max_conflict_retries

    # -- writes

    def _chunks(self, entries: Sequence[LedgerEntry]) -> list[list[LedgerEntry]]:
        """Split entries so each transaction holds its entries plus every distinct counter
        and chain node they move, within DynamoDB's item limit."""

        def touches(entry: LedgerEntry) -> set[object]:
            keys: set[object] = set(aggregate_keys(entry)) | set(node_keys(entry))
            if entry.status == "pending" and entry.points > 0:
                keys.add(("pending", entry.tenant_id, entry.source_key))
            return keys

        # Entries of one employee (then team, then region) share most counters, so packing
        # them together lets one summed update serve many entries: about 4x fewer items and
        # transactions than packing in arrival order (``make bench`` prints the figures).
        ordered = sorted(entries, key=lambda e: (e.tenant_id, e.region, e.team, e.employee_id, e.campaign_id, e.ts))
        return pack_transactions(ordered, touches, self.max_items)

    def _transact(self, entries: Sequence[LedgerEntry]) -> int:
        totals = {k: v for k, v in aggregate(entries).items() if v}
        nodes = node_deltas(entries)
        pending_by_owner: dict[tuple[str, str], int] = {}
        held = [e for e in entries if e.status == "pending" and e.points > 0]
        for e in entries:
            if e.status == "pending":
                owner = (e.tenant_id, e.employee_id)
                pending_by_owner[owner] = pending_by_owner.get(owner, 0) + e.points
        with TransactWrite(connection=_connection()) as tx:
            for e in entries:
                tx.save(ledger_item(e), condition=LedgerItem.pk.does_not_exist())
            for key, delta in sorted(totals.items()):
                if key.dim == "balance":
                    bal = BalanceItem(BalanceItem.key(key.tenant_id, key.member))
                    held_delta = pending_by_owner.get((key.tenant_id, key.member), 0)
                    tx.update(
                        bal,
                        actions=[
                            BalanceItem.balance.add(delta),
                            BalanceItem.available.add(delta - held_delta),
                            BalanceItem.pending.add(held_delta),
                            BalanceItem.earned.add(max(delta, 0)),
                        ],
                    )
                else:
                    row = BoardRowItem(BoardRowItem.key(key.board, key.member))
                    tx.update(
                        row,
                        actions=[
                            BoardRowItem.board.set(key.board),
                            BoardRowItem.member.set(key.member),
                            BoardRowItem.score.add(delta),
                        ],
                    )
            for nkey, nd in sorted(nodes.items()):
                tx.update(
                    ChainNodeItem(ChainNodeItem.key(nkey.tenant_id, nkey.campaign_id, nkey.node)),
                    actions=_node_actions(nkey, nd),
                )
            for e in held:
                tx.save(pending_item(e), condition=PendingItem.pk.does_not_exist())
        return len(entries) + len(totals) + len(nodes) + len(held)

    def record(self, entries: Sequence[LedgerEntry]) -> RecordResult:
        result = RecordResult()
        for chunk in self._chunks(entries):
            written, duplicates, items = transact_once(chunk, self._transact, self.max_conflict_retries)
            result.inserted.extend(written)
            result.duplicates.extend(duplicates)
            result.items_written += items
            result.transactions += 1 if written else 0
        return result

    def snapshot(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        """Every balance and every owner's ledger sum (a full scan: for the reconcile job only)."""
        balances: dict[tuple[str, str], int] = {}
        sums: dict[tuple[str, str], int] = {}
        # Scan through the concrete models: the PointsItem base knows only ``pk`` and would
        # drop every other attribute (balances read as 0, ledger entries without owner).
        for bal in BalanceItem.scan(BalanceItem.pk.startswith("BAL#")):
            tenant, _, employee = bal.pk[4:].partition("#")
            balances[(tenant, employee)] = int(bal.balance or 0)
        for entry in LedgerItem.scan(LedgerItem.pk.startswith("L#")):
            key = (entry.tenant, entry.employee_id)
            sums[key] = sums.get(key, 0) + int(entry.points or 0)
        return balances, sums

    def split_snapshot(self) -> dict[tuple[str, str], dict[str, int]]:
        """Per owner: stored balance, available, pending, and the sum of still-held entries
        (for the reconcile job: balance = available + pending, pending = held, none < 0)."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        for bal in BalanceItem.scan(BalanceItem.pk.startswith("BAL#")):
            tenant, _, employee = bal.pk[4:].partition("#")
            out[(tenant, employee)] = {
                "balance": int(bal.balance or 0),
                "available": int(bal.available or 0),
                "pending": int(bal.pending or 0),
                "held": 0,
            }
        for held in PendingItem.scan(PendingItem.pk.startswith("P#") & (PendingItem.state == "pending")):
            row = out.setdefault(
                (held.tenant, held.employee_id), {"balance": 0, "available": 0, "pending": 0, "held": 0}
            )
            row["held"] += int(held.points or 0)
        return out

    # -- holds, releases, reversals

    def existing(self, tenant_id: str, source_keys: Iterable[str]) -> set[str]:
        """Which of these source keys are already in the ledger (BatchGet, keys only)."""
        wanted = {LedgerItem.key(tenant_id, k): k for k in set(source_keys)}
        found: set[str] = set()
        if wanted:
            for item in LedgerItem.batch_get(list(wanted), attributes_to_get=["pk"]):
                found.add(wanted[item.pk])
        return found

    def sources(self, tenant_id: str, source_keys: Iterable[str]) -> dict[str, str]:
        """Which of these source keys are in the ledger, and the event that earned each
        (one BatchGet per 100 keys, two small attributes: no Query)."""
        wanted = {LedgerItem.key(tenant_id, k): k for k in set(source_keys)}
        found: dict[str, str] = {}
        if wanted:
            for item in LedgerItem.batch_get(list(wanted), attributes_to_get=["pk", "source_id"]):
                found[wanted[item.pk]] = str(item.source_id or "")
        return found

    def scores(self, rows: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Current score of (board, member) rows; absent rows are 0."""
        wanted = {BoardRowItem.key(b, m): (b, m) for b, m in set(rows)}
        out = dict.fromkeys(wanted.values(), 0)
        if wanted:
            for item in BoardRowItem.batch_get(list(wanted), consistent_read=True):
                out[wanted[item.pk]] = int(item.score or 0)
        return out

    def due(self, tenant_id: str, now: int) -> list[PendingItem]:
        """Pending entries whose holding period has ended (threshold checked by the caller)."""
        return list(PendingItem.due.query(PendingItem.due_owner(tenant_id), PendingItem.sort <= f"{now:013d}~"))

    def pending(self, tenant_id: str, source_key: str) -> PendingItem | None:
        try:
            return PendingItem.get(PendingItem.key(tenant_id, source_key), consistent_read=True)
        except DoesNotExist:
            return None

    def release(self, item: PendingItem, now: int) -> bool:
        """Move one held entry's points from pending to available; False if it was
        released or reversed meanwhile (the state condition makes this exactly once)."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(
                    PendingItem(item.pk),
                    actions=[
                        PendingItem.state.set("released"),
                        PendingItem.updated_at.set(now),
                        PendingItem.owner.remove(),
                        PendingItem.sort.remove(),
                    ],
                    condition=PendingItem.state == "pending",
                )
                tx.update(
                    BalanceItem(BalanceItem.key(item.tenant, item.employee_id)),
                    actions=[BalanceItem.pending.add(-int(item.points)), BalanceItem.available.add(int(item.points))],
                )
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            raise
        return True

    def reverse(self, item: PendingItem, reversal: LedgerEntry, reason: str, now: int) -> bool:
        """Reverse a held entry: mark it reversed, add the negative ledger entry and take
        its points off the balance (pending) and every leaderboard row it counted on, in
        one transaction conditional on the entry still being pending."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(
                    PendingItem(item.pk),
                    actions=[
                        PendingItem.state.set("reversed"),
                        PendingItem.updated_at.set(now),
                        PendingItem.reason.set(reason),
                        PendingItem.owner.remove(),
                        PendingItem.sort.remove(),
                    ],
                    condition=PendingItem.state == "pending",
                )
                tx.save(ledger_item(reversal), condition=LedgerItem.pk.does_not_exist())
                _add_everywhere(tx, reversal, BalanceItem.pending)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons[:2]):
                return False
            raise
        return True

    def release_withheld(self, release: LedgerEntry) -> bool:
        """Pay a withheld outcome after review: the ``rl#`` ledger entry (unique: a second
        release is refused) with its points added to the balance (available) and to every
        leaderboard row the original would have counted on, in one transaction."""
        return self.award(release) is True

    def award(self, entry: LedgerEntry, *, cap_scope: str | None = None, cap: int = 0) -> bool | None:
        """Pay an admin-decided entry once (a release, an approved story): the ledger entry
        (unique by its key), the balance (available) and every leaderboard row, in one
        transaction. With ``cap_scope``, the employee's counter for it, raised in the same
        transaction, must stay at most ``cap``. True: paid; False: this key was paid before;
        None: over the cap, nothing paid."""
        from ripple.adapters.models import StoryCapItem

        cap_key = StoryCapItem.key(entry.tenant_id, entry.employee_id, cap_scope) if cap_scope else None
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(ledger_item(entry), condition=LedgerItem.pk.does_not_exist())
                _add_everywhere(tx, entry, BalanceItem.available)
                if cap_key is not None:
                    tx.update(
                        StoryCapItem(cap_key),
                        actions=[StoryCapItem.n.add(1)],
                        condition=StoryCapItem.n.does_not_exist() | (StoryCapItem.n < cap),
                    )
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if reasons and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed":
                return False
            last = reasons[-1] if reasons else None
            if cap_key is not None and last is not None and last.code == "ConditionalCheckFailed":
                return None
            raise
        return True

    def withheld_at(self, tenant_id: str, employee_id: str, ts: int, source_id: str) -> LedgerEntry | None:
        """The withheld entry an anti-fraud signal names: the employee's entries at the
        signal's instant (one Query on the owner index), the one paid for ``source_id``."""
        for item in LedgerItem.by_owner.query(f"{tenant_id}#{employee_id}", LedgerItem.sort.startswith(f"{ts:013d}#")):
            entry = _ledger_entry(item)
            if entry.source_id == source_id and entry.meta.get("withheld"):
                return entry
        return None

    def entry(self, tenant_id: str, source_key: str) -> LedgerEntry | None:
        try:
            return _ledger_entry(LedgerItem.get(LedgerItem.key(tenant_id, source_key), consistent_read=True))
        except DoesNotExist:
            return None

    def ledger_page(
        self, tenant_id: str, employee_id: str, limit: int, cursor: str | None
    ) -> tuple[list[LedgerEntry], str | None]:
        """Newest first; ``cursor`` is the opaque value this returned last time."""
        start = None
        if cursor:
            start = {
                "pk": {"S": LedgerItem.key(tenant_id, cursor.split("#", 1)[1])},
                "owner": {"S": f"{tenant_id}#{employee_id}"},
                "sort": {"S": cursor},
            }
        out: list[LedgerEntry] = []
        last: str | None = None
        results = LedgerItem.by_owner.query(
            f"{tenant_id}#{employee_id}", scan_index_forward=False, last_evaluated_key=start, page_size=limit + 1
        )
        for item in results:
            if len(out) == limit:
                return out, last
            out.append(_ledger_entry(item))
            last = item.sort
        return out, None

    # -- reads

    def balance(self, tenant_id: str, employee_id: str) -> int:
        return self.balances(tenant_id, employee_id)["balance"]

    def balances(self, tenant_id: str, employee_id: str) -> dict[str, int]:
        """``{"balance", "available", "pending"}`` (balance = available + pending)."""
        try:
            item = BalanceItem.get(BalanceItem.key(tenant_id, employee_id), consistent_read=True)
        except DoesNotExist:
            return {"balance": 0, "available": 0, "pending": 0}
        return {
            "balance": int(item.balance or 0),
            "available": int(item.available or 0),
            "pending": int(item.pending or 0),
        }

    def top(self, board: str, limit: int) -> list[tuple[str, int]]:
        rows: dict[str, int] = {}
        last_score: int | None = None
        for item in BoardRowItem.by_score.query(board, scan_index_forward=False, limit=limit, page_size=limit):
            rows[item.member] = int(item.score)
            last_score = int(item.score)
        if last_score is not None and len(rows) >= limit:
            # Fetch every row tied with the lowest score shown, so ties order stably by id.
            for item in BoardRowItem.by_score.query(board, BoardRowItem.score == last_score):
                rows[item.member] = int(item.score)
        return list(rows.items())

    def ledger(self, tenant_id: str, employee_id: str) -> list[LedgerEntry]:
        return [
            _ledger_entry(item)
            for item in LedgerItem.by_owner.query(f"{tenant_id}#{employee_id}", scan_index_forward=False)
        ]


def _ledger_entry(item: LedgerItem) -> LedgerEntry:
    meta = item.meta.as_dict() if hasattr(item.meta, "as_dict") else dict(item.meta or {})
    return LedgerEntry(
        tenant_id=item.tenant,
        source_key=item.source_key,
        employee_id=item.employee_id,
        kind=item.kind,
        points=int(item.points),
        ts=int(item.ts),
        campaign_id=item.campaign_id,
        team=item.team,
        region=item.region,
        day=item.day,
        week=item.week,
        month=item.month,
        source_id=item.source_id,
        meta={k: str(v) for k, v in meta.items()},
        node=item.node or "",
        via=item.via or "",
        depth=int(item.depth or 0),
        status=item.status or "available",
        release_at=int(item.release_at) if item.release_at is not None else None,
        rules_version=int(item.rules_version or 0),
    )

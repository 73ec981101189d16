"""Notification persistence (main table) and the SES mailer.

* ``NSET#<tenant>``: the tenant's channel configuration; ``NPREF#<tenant>#<employee>``: one
  employee's preferences.
* ``NEV#<tenant>#<kind>#<key>``: one business event (written once, conditional put), with
  its recipients. Until expanded it is in a sparse due-time queue (``by-tenant`` GSI,
  ``NEQ#<shard>`` / ``<due ms>#<pk>``), like the webhook outbox; a task's deadline reminder
  is written at distribution time with a due time in the future.
* ``NMSG#<tenant>#<kind>#<key>#<employee>#<channel>``: one message, the unit of "exactly
  once": expansion writes it with ``attribute_not_exists`` (a replayed event finds it and
  writes nothing). Due messages sit in ``NMQ#<shard>``; each person's messages are listed
  newest first through ``by-owner`` (``<tenant>#NMSG#<employee>``).
* ``NRATE#<tenant>#<employee>#<hour>``: messages sent to a person in one clock hour.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from ripple.adapters.models import MainItem, due_items, due_sort_key, queue_shard
from ripple.domain.notifications import Preferences
from ripple.service.ports import DueEvent, DueMessage, MailError, OutgoingMail

__all__ = [
    "SHARDS",
    "DynamoNotifications",
    "NotificationEventItem",
    "NotificationMessageItem",
    "SesMailer",
]

SHARDS = 4
_MESSAGE_TTL_S = 180 * 86_400


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _failed(exc: PutError | UpdateError) -> bool:
    return exc.cause_response_code == "ConditionalCheckFailedException"


def _queue(prefix: str, pk: str) -> str:
    return queue_shard(prefix, pk, SHARDS)


class NotificationSettingsItem(MainItem):
    tenant = UnicodeAttribute()
    settings = UnicodeAttribute()  # JSON

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"NSET#{tenant_id}"


class NotificationPrefsItem(MainItem):
    tenant = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    email_kinds = ListAttribute[str](default=list)
    quiet_start = NumberAttribute(null=True)
    quiet_end = NumberAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, employee_id: str) -> str:
        return f"NPREF#{tenant_id}#{employee_id}"


class NotificationEventItem(MainItem):
    tenant = UnicodeAttribute()
    kind = UnicodeAttribute()
    event_key = UnicodeAttribute()
    recipients = ListAttribute[str](default=list)
    data = UnicodeAttribute()  # JSON
    created_at = NumberAttribute()
    due_at = NumberAttribute()
    state = UnicodeAttribute(default="pending")  # pending | expanded
    attempts = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, kind: str, event_key: str) -> str:
        return f"NEV#{tenant_id}#{kind}#{event_key}"


class NotificationMessageItem(MainItem):
    tenant = UnicodeAttribute()
    kind = UnicodeAttribute()
    event_key = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    data = UnicodeAttribute()  # JSON
    created_at = NumberAttribute()
    state = UnicodeAttribute(default="pending")  # pending | sending | sent | skipped | failed | unknown
    reason = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    sent_at = NumberAttribute(null=True)
    provider_id = UnicodeAttribute(null=True)
    lease = UnicodeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, kind: str, event_key: str, employee_id: str, channel: str) -> str:
        return f"NMSG#{tenant_id}#{kind}#{event_key}#{employee_id}#{channel}"

    @staticmethod
    def listing(tenant_id: str, employee_id: str) -> str:
        return f"{tenant_id}#NMSG#{employee_id}"


class NotificationRateItem(MainItem):
    sent = NumberAttribute(default=0, attr_name="n")

    @staticmethod
    def key(tenant_id: str, employee_id: str, hour: int) -> str:
        return f"NRATE#{tenant_id}#{employee_id}#{hour}"


def _event(item: NotificationEventItem) -> DueEvent:
    return DueEvent(
        pk=item.pk,
        tenant_id=item.tenant,
        kind=item.kind,
        key=item.event_key,
        recipients=tuple(item.recipients or ()),
        data=json.loads(item.data),
        due_at=int(item.due_at),
        attempts=int(item.attempts or 0),
        due_key=item.gsi1sk or "",
    )


def _message(item: NotificationMessageItem) -> DueMessage:
    return DueMessage(
        pk=item.pk,
        tenant_id=item.tenant,
        kind=item.kind,
        key=item.event_key,
        employee_id=item.employee_id,
        channel=item.channel,
        data=json.loads(item.data),
        state=item.state,
        attempts=int(item.attempts or 0),
        due_key=item.gsi1sk or "",
    )


def _public_message(item: NotificationMessageItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "key": item.event_key,
        "channel": item.channel,
        "state": item.state,
        "reason": item.reason,
        "created_at": int(item.created_at),
        "sent_at": None if item.sent_at is None else int(item.sent_at),
        "data": json.loads(item.data),
    }


class DynamoNotifications:
    # -- configuration

    def settings(self, tenant_id: str) -> dict[str, Any]:
        try:
            item = NotificationSettingsItem.get(NotificationSettingsItem.key(tenant_id))
        except DoesNotExist:
            return {}
        value = json.loads(item.settings)
        return value if isinstance(value, dict) else {}

    def save_settings(self, tenant_id: str, settings: dict[str, Any]) -> None:
        NotificationSettingsItem(
            NotificationSettingsItem.key(tenant_id), tenant=tenant_id, settings=_dumps(settings)
        ).save()

    def preferences(self, tenant_id: str, employee_id: str) -> Preferences:
        try:
            item = NotificationPrefsItem.get(NotificationPrefsItem.key(tenant_id, employee_id))
        except DoesNotExist:
            return Preferences()
        return Preferences(
            email=frozenset(item.email_kinds or ()),
            quiet_start=None if item.quiet_start is None else int(item.quiet_start),
            quiet_end=None if item.quiet_end is None else int(item.quiet_end),
            timezone=item.timezone,
            language=item.language,
        )

    def save_preferences(self, tenant_id: str, employee_id: str, prefs: Preferences) -> None:
        NotificationPrefsItem(
            NotificationPrefsItem.key(tenant_id, employee_id),
            tenant=tenant_id,
            employee_id=employee_id,
            email_kinds=sorted(prefs.email),
            quiet_start=prefs.quiet_start,
            quiet_end=prefs.quiet_end,
            timezone=prefs.timezone,
            language=prefs.language,
        ).save()

    # -- events

    def put_event(
        self,
        tenant_id: str,
        kind: str,
        key: str,
        recipients: Sequence[str],
        data: dict[str, Any],
        *,
        now: int,
        due_at: int,
    ) -> bool:
        """Write the event once; False if it is already there (a replayed cause)."""
        pk = NotificationEventItem.key(tenant_id, kind, key)
        try:
            NotificationEventItem(
                pk,
                tenant=tenant_id,
                kind=kind,
                event_key=key,
                recipients=list(dict.fromkeys(recipients)),
                data=_dumps(data),
                created_at=now,
                due_at=due_at,
                gsi1pk=_queue("NEQ", pk),
                gsi1sk=due_sort_key(due_at, pk),
                expires_at=max(now, due_at) // 1000 + _MESSAGE_TTL_S,
            ).save(condition=NotificationEventItem.pk.does_not_exist())
        except PutError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def due_events(self, now: int, limit: int) -> list[DueEvent]:
        return [_event(i) for i in due_items(NotificationEventItem, "NEQ", SHARDS, now, limit)]

    def claim_event(self, event: DueEvent, lease_until: int) -> bool:
        try:
            NotificationEventItem(event.pk).update(
                actions=[
                    NotificationEventItem.gsi1sk.set(due_sort_key(lease_until, event.pk)),
                    NotificationEventItem.attempts.set(event.attempts + 1),
                ],
                condition=(NotificationEventItem.gsi1sk == event.due_key) & (NotificationEventItem.state == "pending"),
            )
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def put_messages(self, event: DueEvent, employee_ids: Iterable[str], channel: str, now: int) -> int:
        """One message per recipient, each written only if absent; returns how many are new.
        (A conditional put per message: a batch write cannot be conditional, and an
        unconditional one would turn a sent message back into a pending one on a replay.)"""
        written = 0
        for employee_id in employee_ids:
            pk = NotificationMessageItem.key(event.tenant_id, event.kind, event.key, employee_id, channel)
            try:
                NotificationMessageItem(
                    pk,
                    tenant=event.tenant_id,
                    kind=event.kind,
                    event_key=event.key,
                    employee_id=employee_id,
                    channel=channel,
                    data=_dumps(event.data),
                    created_at=now,
                    gsi1pk=_queue("NMQ", pk),
                    gsi1sk=due_sort_key(now, pk),
                    gsi2pk=NotificationMessageItem.listing(event.tenant_id, employee_id),
                    gsi2sk=f"{now:013d}#{pk}",
                    expires_at=now // 1000 + _MESSAGE_TTL_S,
                ).save(condition=NotificationMessageItem.pk.does_not_exist())
            except PutError as exc:
                if _failed(exc):
                    continue
                raise
            written += 1
        return written

    def finish_event(self, event: DueEvent) -> None:
        NotificationEventItem(event.pk).update(
            actions=[
                NotificationEventItem.state.set("expanded"),
                NotificationEventItem.gsi1pk.remove(),
                NotificationEventItem.gsi1sk.remove(),
            ]
        )

    # -- messages

    def due_messages(self, now: int, limit: int) -> list[DueMessage]:
        return [_message(i) for i in due_items(NotificationMessageItem, "NMQ", SHARDS, now, limit)]

    def claim_message(self, message: DueMessage, token: str, lease_until: int) -> bool:
        """pending -> sending, on condition nobody moved it since we read it. A message still
        ``sending`` when its lease runs out belongs to a dispatcher that died mid-send."""
        try:
            NotificationMessageItem(message.pk).update(
                actions=[
                    NotificationMessageItem.gsi1sk.set(due_sort_key(lease_until, message.pk)),
                    NotificationMessageItem.state.set("sending"),
                    NotificationMessageItem.lease.set(token),
                ],
                condition=(NotificationMessageItem.gsi1sk == message.due_key)
                & (NotificationMessageItem.state == message.state),
            )
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def settle_message(
        self,
        message: DueMessage,
        token: str,
        *,
        state: str,
        reason: str | None,
        at: int,
        retry_at: int | None = None,
        provider_id: str | None = None,
    ) -> bool:
        """Record the outcome of our claim: ``retry_at`` puts it back in the queue as pending."""
        actions: list[Any] = [
            NotificationMessageItem.state.set("pending" if retry_at is not None else state),
            NotificationMessageItem.lease.remove(),
            NotificationMessageItem.attempts.set(message.attempts + (1 if state in ("sent", "failed") else 0)),
            NotificationMessageItem.reason.set(reason) if reason else NotificationMessageItem.reason.remove(),
        ]
        if state == "sent":
            actions.append(NotificationMessageItem.sent_at.set(at))
        if provider_id:
            actions.append(NotificationMessageItem.provider_id.set(provider_id))
        if retry_at is not None:
            actions.append(NotificationMessageItem.gsi1sk.set(due_sort_key(retry_at, message.pk)))
        else:
            actions += [NotificationMessageItem.gsi1pk.remove(), NotificationMessageItem.gsi1sk.remove()]
        try:
            NotificationMessageItem(message.pk).update(
                actions=actions, condition=NotificationMessageItem.lease == token
            )
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def abandon(self, message: DueMessage, at: int) -> bool:
        """A ``sending`` message whose dispatcher died: we cannot know whether the provider got
        it, and a second e-mail is worse than none, so it leaves the queue as ``unknown``."""
        try:
            NotificationMessageItem(message.pk).update(
                actions=[
                    NotificationMessageItem.state.set("unknown"),
                    NotificationMessageItem.reason.set("dispatcher stopped while sending"),
                    NotificationMessageItem.lease.remove(),
                    NotificationMessageItem.gsi1pk.remove(),
                    NotificationMessageItem.gsi1sk.remove(),
                ],
                condition=(NotificationMessageItem.gsi1sk == message.due_key)
                & (NotificationMessageItem.state == "sending"),
            )
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def take_rate(self, tenant_id: str, employee_id: str, hour: int, limit: int) -> bool:
        """Count one message against the person's hour; False (and no count) when full."""
        try:
            NotificationRateItem(NotificationRateItem.key(tenant_id, employee_id, hour)).update(
                actions=[
                    NotificationRateItem.sent.add(1),
                    NotificationRateItem.expires_at.set(hour // 1000 + 2 * 3600),
                ],
                condition=NotificationRateItem.sent.does_not_exist() | (NotificationRateItem.sent < limit),
            )
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def messages_of(self, tenant_id: str, employee_id: str, limit: int) -> list[dict[str, Any]]:
        query = NotificationMessageItem.by_owner.query(
            NotificationMessageItem.listing(tenant_id, employee_id), scan_index_forward=False, limit=limit
        )
        return [_public_message(i) for i in query if isinstance(i, NotificationMessageItem)]


# ------------------------------------------------------------------ e-mail


class SesMailer:
    """Amazon SES (SESv2 ``SendEmail`` with raw MIME: text + HTML alternatives and the
    List-Unsubscribe headers RFC 8058 one-click unsubscribe needs, which SES's simple
    content cannot carry in every region). Locally the same call goes to moto's SES."""

    def __init__(self, sender: str, configuration_set: str = "") -> None:
        self.sender = sender  # the verified address (or an address at a verified domain)
        self.configuration_set = configuration_set
        self._client: Any = None

    def send(self, mail: OutgoingMail) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        msg = EmailMessage()
        msg["From"] = formataddr((mail.from_name, self.sender)) if mail.from_name else self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        for name, value in mail.headers.items():
            msg[name] = value
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        params: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {"Raw": {"Data": msg.as_bytes()}},
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            response = self._sesv2().send_email(**params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            permanent = code in (
                "MessageRejected",
                "MailFromDomainNotVerifiedException",
                "BadRequestException",
                "AccountSuspendedException",
                "SendingPausedException",
                "NotFoundException",
            )
            raise MailError(f"{code}: {exc}", permanent=permanent) from exc
        except BotoCoreError as exc:
            raise MailError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        return str(response.get("MessageId", ""))

    def _sesv2(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2")
        return self._client

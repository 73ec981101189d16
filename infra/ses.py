"""Amazon SES locally: moto's SESv2 with every accepted message also delivered to the local
mailbox (``infra.cognito_patches.deliver``: the JSON-lines file ``ripple dev`` prints and the
dev mailbox page shows), and the sender identity the template would create.

moto keeps sent messages in memory only; a developer (and a browser test) needs to read
them, click their links and see their headers, so the raw MIME message is parsed into
to/subject/text/html/headers here. Never part of the product: applied by
``infra.moto_patches.apply``.
"""

from __future__ import annotations

import email
import email.policy
import functools
from typing import Any

__all__ = ["SENDER", "apply", "create_sender", "parse_message"]

SENDER = "notifications@ripple.test"


def create_sender(client: Any, sender: str = SENDER) -> None:
    """The sender's SES identity (what ``NotificationSenderIdentity`` creates on AWS)."""
    identities = {i.get("IdentityName") for i in client.list_email_identities().get("EmailIdentities", [])}
    if sender not in identities:
        client.create_email_identity(EmailIdentity=sender)


def parse_message(raw: str) -> dict[str, Any]:
    """A raw MIME message as the mailbox stores it."""
    msg = email.message_from_string(raw, policy=email.policy.default)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    return {
        "from": str(msg.get("From", "")),
        "subject": str(msg.get("Subject", "")),
        "text": text_part.get_content() if text_part is not None else "",
        "html": html_part.get_content() if html_part is not None else "",
        "headers": {k: str(v) for k, v in msg.items()},
    }


def apply() -> None:
    import moto.ses.models as models

    backend = models.SESBackend
    if getattr(backend, "_ripple_patched", False):
        return
    original = backend.send_raw_email

    @functools.wraps(original)
    def send_raw_email(self: Any, source: str, destinations: list[str], raw_data: str) -> Any:
        message = original(self, source, destinations, raw_data)
        from infra.cognito_patches import deliver
        from infra.journal import REPLAYING

        if not REPLAYING.is_set():
            from email.utils import getaddresses

            parsed = parse_message(raw_data)
            extra = {k: v for k, v in parsed.items() if k != "subject"}
            # moto lists the To header's addresses again after the envelope's: one copy each
            for to in dict.fromkeys(address for _, address in getaddresses(message.destinations)):
                deliver(to, parsed["subject"], parsed["text"], "ses", **extra, id=message.id)
        return message

    backend.send_raw_email = send_raw_email  # type: ignore[method-assign]
    backend._ripple_patched = True  # type: ignore[attr-defined]

"""Invitations: the link an invited employee opens to choose their password.

An invitation is the identity provider's temporary password, carried in the fragment of a link
to the phone page: ``<app>/m#invite=<e-mail>&code=<temporary password>``. The fragment never
reaches a server (no access log holds it) and the page removes it from the address bar before
it does anything else. Cognito's invitation e-mail builds the same link from its
``{username}`` and ``{####}`` placeholders (template.yaml), so an e-mailed link and the
console's QR code are one mechanism: each works once (the first sign-in must replace the
password), expires after the pool's ``TemporaryPasswordValidityDays`` and is revoked by
setting a password nobody knows.

Temporary passwords are made here, of URL-safe characters only, so that a link survives every
mail client and QR reader without any escaping the e-mail template could not do.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import quote

__all__ = ["INVITATION_VALID_DAYS", "invitation_expiry", "invitation_url", "temporary_password"]

#: the user pool's ``TemporaryPasswordValidityDays`` (template.yaml; a packaging test keeps them equal)
INVITATION_VALID_DAYS = 7


def temporary_password() -> str:
    """A fresh temporary password: 120 random bits in the URL-safe alphabet plus one lower
    case letter, one upper case letter, one digit and a ``-``, which meets every password
    policy Cognito can be given."""
    return secrets.token_urlsafe(15) + "aA1-"


def invitation_url(app_url: str, email: str, password: str) -> str:
    """The invitation link for ``email`` (``password`` must be one of ``temporary_password``'s)."""
    return f"{app_url.rstrip('/')}/m#invite={quote(email, safe='@')}&code={password}"


def invitation_expiry(issued: datetime) -> datetime:
    return issued + timedelta(days=INVITATION_VALID_DAYS)

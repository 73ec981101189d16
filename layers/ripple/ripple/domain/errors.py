"""Domain errors.

Every error a client can provoke is a ``RippleError`` carrying the HTTP status it maps to,
so entry points never need to guess and nothing a client sends ends as a 500.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CampaignEndedError",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RippleError",
    "TooManyRequestsError",
    "ValidationError",
]


class RippleError(Exception):
    """Base of every client-visible error; ``status`` is the HTTP status it maps to."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequestError(RippleError):
    """The request could not be parsed at all (malformed JSON, bad query syntax)."""

    status = 400
    code = "bad_request"


class AuthenticationError(RippleError):
    """No credentials, or credentials that are invalid or expired."""

    status = 401
    code = "unauthorized"


class ForbiddenError(RippleError):
    """Valid credentials, but the role or the account may not do this."""

    status = 403
    code = "forbidden"


class NotFoundError(RippleError):
    """The thing does not exist *in the caller's tenant* (other tenants' ids look absent)."""

    status = 404
    code = "not_found"


class ConflictError(RippleError):
    """The request conflicts with the current state (already exists, lost a race)."""

    status = 409
    code = "conflict"


class GoneError(RippleError):
    """The thing existed but is over (an ended campaign's link)."""

    status = 410
    code = "gone"


class CampaignEndedError(GoneError):
    """An ended campaign's link: the visitor's page names the company (``tenant_id``, never
    sent in an API error body) and offers its fallback website."""

    def __init__(self, message: str, *, tenant_id: str) -> None:
        super().__init__(message)
        self.tenant_id = tenant_id


class PayloadTooLargeError(RippleError):
    """The body exceeds what any endpoint accepts."""

    status = 413
    code = "payload_too_large"


class ValidationError(RippleError):
    """Well-formed JSON whose fields are missing, of the wrong type, out of range or unknown."""

    status = 422
    code = "validation_error"


class TooManyRequestsError(RippleError):
    """A public endpoint's rate limit was hit; ``retry_after`` is in seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after

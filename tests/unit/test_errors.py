"""errors.py: every client-visible error maps to one HTTP status and one JSON shape."""

from __future__ import annotations

import pytest

from ripple.domain.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    PayloadTooLargeError,
    RippleError,
    ValidationError,
)


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (BadRequestError, 400, "bad_request"),
        (AuthenticationError, 401, "unauthorized"),
        (ForbiddenError, 403, "forbidden"),
        (NotFoundError, 404, "not_found"),
        (ConflictError, 409, "conflict"),
        (GoneError, 410, "gone"),
        (PayloadTooLargeError, 413, "payload_too_large"),
        (ValidationError, 422, "validation_error"),
    ],
)
def test_status_and_code(cls: type[RippleError], status: int, code: str) -> None:
    err = cls("boom")
    assert isinstance(err, RippleError)
    assert (err.status, err.code, err.message, str(err)) == (status, code, "boom", "boom")
    assert err.to_dict() == {"error": {"code": code, "message": "boom"}}


def test_to_dict_includes_details_only_when_given() -> None:
    err = ValidationError("name is required", details={"field": "name"})
    assert err.to_dict() == {
        "error": {"code": "validation_error", "message": "name is required", "details": {"field": "name"}}
    }
    assert "details" not in ValidationError("x", details={}).to_dict()["error"]


def test_statuses_are_distinct_client_errors() -> None:
    # the canonical classes only: a protocol's own error (SCIM's) carries a status per
    # instance and may subclass RippleError from another module
    classes = [c for c in RippleError.__subclasses__() if c.__module__ == RippleError.__module__]
    assert len(classes) >= 9
    statuses = [c.status for c in classes]
    assert len(set(statuses)) == len(statuses)
    assert all(400 <= s < 500 for s in statuses)

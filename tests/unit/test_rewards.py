"""domain/rewards.py: catalog validation, redemption transitions, limit periods, idempotency."""

from __future__ import annotations

from typing import Any

import pytest

from ripple.domain.errors import ConflictError, RippleError, ValidationError
from ripple.domain.rewards import (
    KINDS,
    InsufficientPointsError,
    Redemption,
    RedemptionStatus,
    Reward,
    fingerprint,
    limit_period_key,
    shortfall,
    transition,
    validate_cancel,
    validate_fulfil,
    validate_idempotency_key,
    validate_redeem_body,
    validate_reward,
    validate_reward_update,
)

GOOD = {"name": "Mug", "price": 30, "kind": "physical"}


def field_of(fn: Any, *args: Any) -> Any:
    with pytest.raises(ValidationError) as exc:
        fn(*args)
    assert exc.value.status == 422
    return exc.value.details.get("field", exc.value.details.get("fields"))


def test_minimal_reward_defaults_to_unlimited_and_no_limit() -> None:
    fields = validate_reward(dict(GOOD))
    assert fields["stock"] is None and fields["per_employee_limit"] is None and fields["limit_period"] == "all"
    assert fields["active"] is True and fields["description"] == "" and fields["image_url"] == ""


def test_every_kind_and_period_is_accepted() -> None:
    for kind in KINDS:
        assert validate_reward({**GOOD, "kind": kind})["kind"] == kind
    for period in ("day", "week", "month", "all"):
        fields = validate_reward({**GOOD, "per_employee_limit": 3, "limit_period": period})
        assert (fields["per_employee_limit"], fields["limit_period"]) == (3, period)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": 0}, "price"),
        ({"price": -1}, "price"),
        ({"price": 1.5}, "price"),
        ({"price": True}, "price"),
        ({"price": None}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": "3"}, "stock"),
        ({"kind": "cash"}, "kind"),
        ({"kind": None}, "kind"),
        ({"name": "  "}, "name"),
        ({"name": 5}, "name"),
        ({"image_url": "http://example.com/a.png"}, "image_url"),
        ({"image_url": "https://user:pw@example.com/a.png"}, "image_url"),
        ({"image_url": "https:///nohost"}, "image_url"),
        ({"image_url": "https://example.com/a b.png"}, "image_url"),
        ({"description": 3}, "description"),
        ({"description": "x" * 2001}, "description"),
        ({"per_employee_limit": 0}, "per_employee_limit"),
        ({"per_employee_limit": 1, "limit_period": "year"}, "limit_period"),
        ({"limit_period": "day"}, "limit_period"),
        ({"active": 1}, "active"),
        ({"colour": "red"}, ["colour"]),
    ],
)
def test_invalid_rewards_name_the_field(change: dict[str, Any], field: Any) -> None:
    assert field_of(validate_reward, {**GOOD, **change}) == field


def test_missing_required_fields() -> None:
    for name in ("name", "price", "kind"):
        body = {k: v for k, v in GOOD.items() if k != name}
        assert field_of(validate_reward, body) == name


def test_https_image_urls_are_kept() -> None:
    url = "https://cdn.example.com/r/mug.png?v=2"
    assert validate_reward({**GOOD, "image_url": url})["image_url"] == url


def test_update_is_partial_and_strict() -> None:
    assert validate_reward_update({"price": 5}) == {"price": 5}
    assert validate_reward_update({"stock": None, "active": False}) == {"stock": None, "active": False}
    assert field_of(validate_reward_update, {"kind": "perk"}) == ["kind"]
    assert field_of(validate_reward_update, {"per_employee_limit": 2}) == ["per_employee_limit"]
    with pytest.raises(ValidationError):
        validate_reward_update({})


def test_redeem_body_has_no_fields_and_keys_are_bounded() -> None:
    assert validate_redeem_body({}) == {}
    assert field_of(validate_redeem_body, {"qty": 2}) == ["qty"]
    for good in ("a", "A-b_9", "x" * 64):
        assert validate_idempotency_key(good) == good
    for bad in (None, "", "x" * 65, "a b", "a/b", "é", "a\n"):
        assert field_of(validate_idempotency_key, bad) == "Idempotency-Key"


def test_fingerprint_binds_reward_and_body() -> None:
    assert fingerprint("w1", {}) == fingerprint("w1", {})
    assert fingerprint("w1", {}) != fingerprint("w2", {})
    assert fingerprint("w1", {"a": 1, "b": 2}) == fingerprint("w1", {"b": 2, "a": 1})


def _redemption(status: RedemptionStatus) -> Redemption:
    return Redemption("t", "r1", "w1", "alice", 30, "physical", status=status)


def test_transitions_from_requested_only() -> None:
    for to in (RedemptionStatus.FULFILLED, RedemptionStatus.CANCELLED):
        assert transition(_redemption(RedemptionStatus.REQUESTED), to) is to
    for current in (RedemptionStatus.FULFILLED, RedemptionStatus.CANCELLED):
        for to in RedemptionStatus:
            with pytest.raises(ConflictError) as exc:
                transition(_redemption(current), to)
            assert exc.value.status == 409 and exc.value.details == {"status": current.value}
    with pytest.raises(ConflictError):
        transition(_redemption(RedemptionStatus.REQUESTED), RedemptionStatus.REQUESTED)


def test_limit_periods_are_tenant_local() -> None:
    ts = 1_767_193_200_000  # 2025-12-31T15:00Z = 2026-01-01 00:00 in Tokyo
    assert limit_period_key("day", ts, "UTC") == "2025-12-31"
    assert limit_period_key("day", ts, "Asia/Tokyo") == "2026-01-01"
    assert limit_period_key("month", ts, "Asia/Tokyo") == "2026-01"
    assert limit_period_key("week", ts, "UTC") == "2026-W01"  # ISO week of Wed 31 Dec 2025
    assert limit_period_key("all", ts, "Asia/Tokyo") == "all"


def test_shortfall_and_its_error() -> None:
    assert shortfall(30, 20) == 10 and shortfall(30, 0) == 30 and shortfall(30, 50) == 0 and shortfall(30, -5) == 30
    err = InsufficientPointsError(10, price=30, available=20)
    assert isinstance(err, RippleError) and err.status == 409 and err.code == "insufficient_points"
    assert err.to_dict()["error"]["details"] == {"shortfall": 10, "price": 30, "available": 20}


def test_fulfil_code_only_for_virtual_codes_and_cancel_needs_a_reason() -> None:
    assert validate_fulfil({}, "physical") == ""
    assert validate_fulfil({"code": " GC-1 "}, "virtual_code") == "GC-1"
    assert field_of(validate_fulfil, {"code": "GC-1"}, "physical") == "code"
    assert field_of(validate_fulfil, {"code": "x" * 257}, "virtual_code") == "code"
    assert field_of(validate_fulfil, {"note": "x"}, "virtual_code") == ["note"]
    assert validate_cancel({"reason": "out of print"}) == "out of print"
    assert field_of(validate_cancel, {}) == "reason"
    assert field_of(validate_cancel, {"reason": "x" * 501}) == "reason"


def test_public_shapes() -> None:
    reward = Reward("t", "w1", "Mug", 30, "physical", stock=3, per_employee_limit=1, limit_period="week")
    view = reward.to_public()
    assert view["per_employee_limit"] == {"count": 1, "period": "week"} and view["unlimited"] is False
    assert Reward("t", "w2", "Leave", 500, "perk").to_public()["unlimited"] is True
    shown = _redemption(RedemptionStatus.REQUESTED).to_public()
    assert shown["status"] == "requested" and shown["code"] is None and "limit_key" not in shown

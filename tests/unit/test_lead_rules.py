"""Lead integrity rules (issue 12), pure: who a share token was minted for, the one earn
decision for visits and leads, what a repeat lead may change, and whose notes stay private."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ripple.domain.chains import (
    HOLDER_COLLEAGUE,
    HOLDER_OWNER,
    HOLDER_VISITOR,
    ROOT,
    ChainPosition,
    InvalidShareTokenError,
    child_token,
    mint_token,
    position_for_visit,
    read_token,
    verify_token,
)
from ripple.domain.customers import (
    DAY_MS,
    POOL,
    Attribution,
    Customer,
    LeadTouch,
    apply_lead,
    lead_pays,
    notes_hidden_until,
)
from ripple.domain.model import Decision, Link
from ripple.domain.tracking import decide

SECRET = b"unit-test-chain-secret"
CODE = "Ab3xYz9"
N1 = "abcdefghijklmnop"
N2 = "qrstuvwxyz234567"
LINK = Link(code=CODE, tenant_id="t", campaign_id="c", employee_id="alice", channel="x", destination_url="https://e/")


@pytest.mark.parametrize("holder", [HOLDER_VISITOR, HOLDER_OWNER, HOLDER_COLLEAGUE])
def test_a_token_says_who_it_was_minted_for(holder: str) -> None:
    token = mint_token(SECRET, code=CODE, node=N1, parent=ROOT, depth=1, holder=holder)
    read = read_token(SECRET, code=CODE, token=token)
    assert (read.node, read.parent, read.depth, read.holder) == (N1, ROOT, 1, holder)
    assert read.staff is (holder != HOLDER_VISITOR)
    assert verify_token(SECRET, code=CODE, token=token) == (N1, ROOT, 1)  # still a genuine token


def test_visitor_tokens_keep_their_signature_and_staff_tokens_differ() -> None:
    """Tokens already in circulation stay valid; the holder cannot be edited away (it is
    only in the signature, so a staff token is not a visitor token with a flag removed)."""
    visitor = mint_token(SECRET, code=CODE, node=N1, parent=ROOT, depth=1)
    assert visitor == f"{CODE}.1.{N1}.-.{visitor.rsplit('.', 1)[1]}"
    owner = mint_token(SECRET, code=CODE, node=N1, parent=ROOT, depth=1, holder=HOLDER_OWNER)
    assert owner.rsplit(".", 1)[0] == visitor.rsplit(".", 1)[0] and owner != visitor
    assert read_token(SECRET, code=CODE, token=visitor).holder == HOLDER_VISITOR
    with pytest.raises(ValueError):
        mint_token(SECRET, code=CODE, node=N1, parent=ROOT, depth=1, holder="admin")
    with pytest.raises(InvalidShareTokenError):
        read_token(b"another key", code=CODE, token=owner)


def test_a_visit_through_a_staff_token_is_a_plain_visit_not_a_forward() -> None:
    position = ChainPosition(via=N1, via_parent=ROOT, depth=2)
    staff = child_token(SECRET, code=CODE, visitor_key=N2 + "abcdefghij", position=position, holder=HOLDER_OWNER)
    assert position_for_visit(SECRET, code=CODE, token=staff) == (ChainPosition(), False)  # genuine, not rejected
    public = child_token(SECRET, code=CODE, visitor_key=N2 + "abcdefghij", position=position)
    moved, rejected = position_for_visit(SECRET, code=CODE, token=public)
    assert not rejected and moved.is_forward and (moved.via, moved.depth) == (N2, 3)


def test_one_decision_for_visits_and_leads() -> None:
    def d(**kw: bool) -> Decision:
        args = {"bot": False, "is_owner": False, "owner_active": True, "is_colleague": False, **kw}
        return decide(link=LINK, now_ms=5, **args)

    assert d() is Decision.ELIGIBLE
    assert d(is_colleague=True) is Decision.COLLEAGUE
    assert d(is_owner=True, is_colleague=True) is Decision.OWNER
    assert d(bot=True, is_owner=True) is Decision.BOT
    assert d(owner_active=False, is_colleague=True) is Decision.INACTIVE_OWNER
    late = replace(LINK, starts_at=10)
    assert decide(link=late, bot=False, is_owner=False, owner_active=True, now_ms=5, is_colleague=True) is (
        Decision.NOT_STARTED
    )


def _touch(employee: str = "bob", *, ts: int = 10 * DAY_MS, eligible: bool = True) -> LeadTouch:
    return LeadTouch(
        employee_id=employee,
        employee_active=True,
        campaign_id="c2",
        channel="line",
        code="B0b",
        node=N2,
        via=ROOT,
        depth=1,
        ts=ts,
        name="Mallory",
        phone="+8613800138000",
        email="mallory@example.com",
        consent_text="I agree to anything",
        consent_lang="en",
        eligible=eligible,
    )


def _existing(owner: str = "alice") -> Customer:
    first = replace(
        _touch("alice", ts=DAY_MS),
        name="Bai",
        email="bai@example.com",
        consent_text="同意",
        consent_lang="zh-Hans",
        campaign_id="c",
    )
    customer, _ = apply_lead(None, first, customer_id="cu1", tenant_id="t", rule=Attribution())
    customer.owner = owner
    return customer


def test_a_repeat_lead_never_changes_contacts_or_consent() -> None:
    existing = _existing()
    after, moved = apply_lead(existing, _touch(), customer_id="cu1", tenant_id="t", rule=Attribution("last_touch"))
    assert (after.name, after.phone, after.email) == ("Bai", "+8613800138000", "bai@example.com")
    assert (after.consent_text, after.consent_lang, after.consent_at) == ("同意", "zh-Hans", DAY_MS)
    assert after.leads == 2 and after.campaigns == ["c", "c2"]
    assert moved == "alice" and after.owner == "bob"  # last touch: the documented move
    assert lead_pays(after, _touch())


def test_only_an_eligible_lead_touches_and_the_pool_is_left_only_by_a_claim() -> None:
    existing = _existing()
    rule = Attribution("last_touch")
    staff, moved = apply_lead(existing, _touch(eligible=False), customer_id="cu1", tenant_id="t", rule=rule)
    assert moved is None and staff.owner == "alice" and staff.last_touch_employee == "alice"
    assert not lead_pays(staff, _touch(eligible=False))
    pooled = _existing(POOL)
    after, moved = apply_lead(pooled, _touch(), customer_id="cu1", tenant_id="t", rule=rule)
    assert moved is None and after.in_pool and not lead_pays(after, _touch())
    kept, moved = apply_lead(existing, _touch(ts=2 * DAY_MS), customer_id="cu1", tenant_id="t", rule=Attribution())
    assert moved is None and kept.owner == "alice" and not lead_pays(kept, _touch())  # first touch keeps it


def test_notes_are_hidden_up_to_the_last_move_that_did_not_pass_the_work_on() -> None:
    assert notes_hidden_until([("lead", "public", 1), ("note", "alice", 2)]) == 0
    assert notes_hidden_until([("note", "alice", 2), ("handover", "attribution", 5)]) == 5
    assert notes_hidden_until([("handover", "attribution", 5), ("handover", "boss", 9)]) == 5  # offboarding
    assert notes_hidden_until([("recycle", "scheduler", 3), ("claim", "carol", 7)]) == 7

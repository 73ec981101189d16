"""chains.py: signed per-viewer share tokens bound to one link, with a depth cap."""

from __future__ import annotations

import pytest

from ripple.domain.chains import (
    ROOT,
    ChainPosition,
    InvalidShareTokenError,
    child_token,
    mint_token,
    node_id,
    position_for_visit,
    token_code,
    verify_token,
)

SECRET = b"unit-test-chain-secret"
CODE = "Ab3xYz9"
N1 = "abcdefghijklmnop"
N2 = "qrstuvwxyz234567"
VISITOR = "mnopqrstuvwxyz234567abcdef"  # a 26-character visitor key


def test_mint_verify_round_trip() -> None:
    token = mint_token(SECRET, code=CODE, node=N1, parent=ROOT, depth=1)
    assert token.startswith(f"{CODE}.1.{N1}.-.")
    assert token_code(token) == CODE
    assert verify_token(SECRET, code=CODE, token=token) == (N1, ROOT, 1)
    deep = mint_token(SECRET, code=CODE, node=N2, parent=N1, depth=255)
    assert verify_token(SECRET, code=CODE, token=deep) == (N2, N1, 255)


def _flip(ch: str) -> str:
    return "A" if ch != "A" else "B"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + _flip(t[-1]),  # signature edited
        lambda t: t.replace(f".{N2}.", ".abcdefghijklmnoq."),  # node edited
        lambda t: t.replace(f".{N1}.", ".-."),  # parent forged to the root
        lambda t: t.replace(".3.", ".2.", 1),  # depth lowered
        lambda t: t.replace(".3.", ".0.", 1),  # depth 0
        lambda t: t.rsplit(".", 1)[0],  # signature dropped
        lambda t: t + "x",
        lambda t: "garbage",
    ],
)
def test_tampered_token_rejected_and_counted_as_plain_visit(tamper: object) -> None:
    good = mint_token(SECRET, code=CODE, node=N2, parent=N1, depth=3)
    bad = tamper(good)  # type: ignore[operator]
    assert bad != good
    with pytest.raises(InvalidShareTokenError):
        verify_token(SECRET, code=CODE, token=bad)
    position, rejected = position_for_visit(SECRET, code=CODE, token=bad)
    assert rejected
    assert position == ChainPosition(via=ROOT, via_parent="", depth=1)
    assert not position.is_forward


def test_token_of_another_link_is_rejected() -> None:
    """Link codes are global, so a token from another tenant's or campaign's link fails too."""
    foreign = mint_token(SECRET, code="OtherLnk", node=N1, parent=ROOT, depth=1)
    assert token_code(foreign) == "OtherLnk"
    with pytest.raises(InvalidShareTokenError):
        verify_token(SECRET, code=CODE, token=foreign)
    relabelled = CODE + foreign[len("OtherLnk") :]  # same signature, our code
    with pytest.raises(InvalidShareTokenError):
        verify_token(SECRET, code=CODE, token=relabelled)
    assert position_for_visit(SECRET, code=CODE, token=foreign) == (ChainPosition(), True)


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = mint_token(b"someone else's key", code=CODE, node=N1, parent=ROOT, depth=1)
    assert position_for_visit(SECRET, code=CODE, token=token)[1]


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_a_direct_visit_not_a_rejection(token: str | None) -> None:
    assert position_for_visit(SECRET, code=CODE, token=token) == (ChainPosition(), False)


def test_position_after_a_genuine_token() -> None:
    token = mint_token(SECRET, code=CODE, node=N2, parent=N1, depth=3)
    position, rejected = position_for_visit(SECRET, code=CODE, token=token)
    assert not rejected
    assert position == ChainPosition(via=N2, via_parent=N1, depth=4)
    assert position.is_forward


@pytest.mark.parametrize(("token_depth", "max_depth", "expected"), [(1, 10, 2), (9, 10, 10), (10, 10, 10), (40, 10, 10),
                                                                    (1, 1, 1), (49, 50, 50)])  # fmt: skip
def test_depth_cap(token_depth: int, max_depth: int, expected: int) -> None:
    token = mint_token(SECRET, code=CODE, node=N1, parent=ROOT, depth=token_depth)
    position, _ = position_for_visit(SECRET, code=CODE, token=token, max_depth=max_depth)
    assert position.depth == expected
    assert position.via == N1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"node": "short", "parent": ROOT, "depth": 1},
        {"node": N1.upper(), "parent": ROOT, "depth": 1},
        {"node": N1, "parent": "not-a-node", "depth": 1},
        {"node": N1, "parent": ROOT, "depth": 0},
        {"node": N1, "parent": ROOT, "depth": 256},
    ],
)
def test_mint_rejects_invalid_nodes(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        mint_token(SECRET, code=CODE, **kwargs)  # type: ignore[arg-type]


def test_child_token_is_deterministic_and_extends_the_chain() -> None:
    # The employee's own link: the visitor becomes a depth-1 child of the root.
    direct = ChainPosition()
    t1 = child_token(SECRET, code=CODE, visitor_key=VISITOR, position=direct)
    assert t1 == child_token(SECRET, code=CODE, visitor_key=VISITOR, position=direct)
    assert verify_token(SECRET, code=CODE, token=t1) == (node_id(VISITOR), ROOT, 1)
    # A friend opens t1: they sit under the first visitor, one level deeper.
    pos2, rejected = position_for_visit(SECRET, code=CODE, token=t1)
    assert (pos2, rejected) == (ChainPosition(via=node_id(VISITOR), via_parent=ROOT, depth=2), False)
    friend = "234567abcdefghijklmnopqrst"
    t2 = child_token(SECRET, code=CODE, visitor_key=friend, position=pos2)
    assert verify_token(SECRET, code=CODE, token=t2) == (node_id(friend), node_id(VISITOR), 2)
    assert position_for_visit(SECRET, code=CODE, token=t2)[0].depth == 3
    # Different visitors, different tokens.
    assert t1 != child_token(SECRET, code=CODE, visitor_key=friend, position=direct)


def test_node_id_is_a_prefix_of_the_visitor_key() -> None:
    assert node_id(VISITOR) == VISITOR[:16] and len(node_id(VISITOR)) == 16

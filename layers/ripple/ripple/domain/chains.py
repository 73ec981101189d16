"""Forward chains: signed per-viewer share tokens, derived, never stored at mint time.

WeChat, LINE, Douyin and Xiaohongshu never tell a page it was shared, so a forward can
only be observed when someone opens a link carrying a per-viewer token. Every non-bot
visitor gets their own child token; minting it is a pure function of (link code, the
visitor's node id, their parent, their depth) plus an HMAC, so the redirect writes nothing
extra. A chain node is persisted only when the stream consumer sees someone arrive.

Node ids are the tenant-scoped visitor keys shortened to 16 characters; the root of every
chain is the employee who owns the link (``ROOT``). A token binds to one link code, so a
token lifted onto another link, or edited, fails verification and the visit counts as a
plain visit to the link's owner (logged, never an error to the visitor).

A token also says *who* it was minted for: an ordinary visitor, or the company's own staff
(the link's owner, or a signed-in colleague) previewing the link. The holder is bound into
the signature, so it cannot be edited away: a lead posted through a staff token is the
staff member's own and earns nothing, and a visit arriving through one is a plain visit
(the owner forwarding their own preview is not a customer's forward).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_SHARE_PARAM",
    "HOLDER_COLLEAGUE",
    "HOLDER_OWNER",
    "HOLDER_VISITOR",
    "ROOT",
    "ChainPosition",
    "InvalidShareTokenError",
    "ShareToken",
    "mint_token",
    "node_id",
    "position_for_visit",
    "read_token",
    "verify_token",
]

ROOT = "-"  # the employee who owns the link (URL-safe: it travels in tokens)
DEFAULT_SHARE_PARAM = "rp"
DEFAULT_MAX_DEPTH = 10
# Who a token was minted for. Visitors' tokens keep the original signature (tokens already
# in circulation stay valid); staff tokens sign the holder too.
HOLDER_VISITOR = ""
HOLDER_OWNER = "owner"
HOLDER_COLLEAGUE = "colleague"
_HOLDERS = (HOLDER_VISITOR, HOLDER_OWNER, HOLDER_COLLEAGUE)
NODE_LEN = 16
_NODE = re.compile(r"^[a-z2-7]{16}$")
_TOKEN = re.compile(r"^([A-Za-z0-9]{1,32})\.([0-9a-f]{1,2})\.([a-z2-7]{16})\.([a-z2-7]{16}|-)\.([A-Za-z0-9_-]{16})$")


class InvalidShareTokenError(ValueError):
    """A share token that is malformed, tampered with, or minted for another link."""


@dataclass(frozen=True, slots=True)
class ChainPosition:
    """Where a visit sits in its campaign's spread tree.

    ``via`` is the node whose token was opened (``ROOT`` for the employee's own link),
    ``via_parent`` that node's parent, ``depth`` the visitor's depth (1 = arrived straight
    from the employee's link).
    """

    via: str = ROOT
    via_parent: str = ""
    depth: int = 1

    @property
    def is_forward(self) -> bool:
        """Arrived through a customer's token rather than the employee's own link."""
        return self.via != ROOT


@dataclass(frozen=True, slots=True)
class ShareToken:
    """A verified share token: the holder's node, its parent, depth, and who holds it."""

    node: str
    parent: str
    depth: int
    holder: str = HOLDER_VISITOR

    @property
    def staff(self) -> bool:
        """Minted for the owner's or a colleague's own visit, not for a member of the public."""
        return self.holder != HOLDER_VISITOR


def node_id(visitor_key: str) -> str:
    return visitor_key[:NODE_LEN]


def _sig(secret: bytes, code: str, depth: int, node: str, parent: str, holder: str = HOLDER_VISITOR) -> str:
    message = f"chain:{code}:{depth}:{node}:{parent}" + (f":{holder}" if holder else "")
    mac = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:12]).decode("ascii")


def mint_token(secret: bytes, *, code: str, node: str, parent: str, depth: int, holder: str = HOLDER_VISITOR) -> str:
    """The share token of ``node`` (at ``depth``, child of ``parent``) on link ``code``.

    The token starts with the link code so a destination site can build the child link
    (``{base}/s/{token}``) from the query parameter alone. ``holder`` (signed, not visible)
    marks tokens minted for the company's own staff.
    """
    if not _NODE.match(node) or not (parent == ROOT or _NODE.match(parent)) or not 1 <= depth <= 255:
        raise ValueError("invalid chain node")
    if holder not in _HOLDERS:
        raise ValueError("invalid token holder")
    return f"{code}.{depth:x}.{node}.{parent}.{_sig(secret, code, depth, node, parent, holder)}"


def token_code(token: str) -> str | None:
    """The link code a token claims (unverified; ``verify_token`` checks it)."""
    m = _TOKEN.match(token or "")
    return m[1] if m else None


def read_token(secret: bytes, *, code: str, token: str) -> ShareToken:
    """The genuine token for ``code``, with its holder; raises ``InvalidShareTokenError``."""
    m = _TOKEN.match(token or "")
    if not m:
        raise InvalidShareTokenError("malformed share token")
    token_link, depth, node, parent, sig = m[1], int(m[2], 16), m[3], m[4], m[5]
    if token_link == code and depth >= 1:
        for holder in _HOLDERS:
            if hmac.compare_digest(_sig(secret, code, depth, node, parent, holder), sig):
                return ShareToken(node, parent, depth, holder)
    raise InvalidShareTokenError("share token does not belong to this link")


def verify_token(secret: bytes, *, code: str, token: str) -> tuple[str, str, int]:
    """Return ``(node, parent, depth)`` of a genuine token for ``code`` (any holder)."""
    t = read_token(secret, code=code, token=token)
    return t.node, t.parent, t.depth


def position_for_visit(
    secret: bytes, *, code: str, token: str | None, max_depth: int = DEFAULT_MAX_DEPTH
) -> tuple[ChainPosition, bool]:
    """Where a visit arriving with ``token`` (or none) sits; second value: token rejected.

    Beyond ``max_depth`` the visitor is attached at the cap (their arrival still counts,
    the tree just stops growing deeper). A staff member's own token is genuine but no
    customer's share: the visit counts as a plain visit to the link (not rejected).
    """
    if not token:
        return ChainPosition(), False
    try:
        t = read_token(secret, code=code, token=token)
    except InvalidShareTokenError:
        return ChainPosition(), True
    if t.staff:
        return ChainPosition(), False
    return ChainPosition(via=t.node, via_parent=t.parent, depth=min(t.depth + 1, max_depth)), False


def child_token(
    secret: bytes, *, code: str, visitor_key: str, position: ChainPosition, holder: str = HOLDER_VISITOR
) -> str:
    """The token a visitor at ``position`` shares onward (deterministic: no write needed)."""
    return mint_token(
        secret, code=code, node=node_id(visitor_key), parent=position.via, depth=position.depth, holder=holder
    )


__all__ += ["child_token", "token_code"]

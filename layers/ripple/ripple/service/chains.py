"""Reading a campaign's spread tree (forward chains)."""

from __future__ import annotations

from typing import Any

from ripple.domain.errors import ForbiddenError, NotFoundError, ValidationError
from ripple.domain.model import Role
from ripple.domain.points import root_node
from ripple.domain.timeutil import ms_to_iso
from ripple.domain.validation import check_id, reject_unknown_params
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["chain_tree"]


def chain_tree(svc: Services, principal: Principal, campaign_id: str, params: dict[str, str]) -> dict[str, Any]:
    """The tree rooted at one employee: admins may read any, employees only their own.

    Nodes are visitors (pseudonymous ids), placed where they first arrived; counters are
    maintained by the stream consumer in the same transaction as the points they explain.
    """
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    check_id(campaign_id, "campaign_id")
    reject_unknown_params(params, {"root"})
    root = params.get("root") or (principal.sub if principal.role is Role.EMPLOYEE else "")
    if not root:
        raise ValidationError("root (an employee id) is required", details={"field": "root"})
    check_id(root, "root")
    if principal.role is Role.EMPLOYEE and root != principal.sub:
        raise ForbiddenError("employees may only read their own spread tree")
    if svc.campaigns.get(principal.tenant_id, campaign_id) is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    page = svc.chains.tree(principal.tenant_id, campaign_id, root)
    root_id = root_node(root)
    nodes = sorted(page.nodes, key=lambda n: (n.depth or 0, n.first_seen or 0, n.node))
    root_stats = next((n for n in nodes if n.node == root_id), None)
    people = [n for n in nodes if n.node != root_id]
    return {
        "campaign_id": campaign_id,
        "root": {
            "employee_id": root,
            "node": root_id,
            "visitors": root_stats.visitors if root_stats else 0,
        },
        "totals": {
            "nodes": len(people),
            "max_depth": max((n.depth or 0 for n in people), default=0),
            "forwards": sum(n.forwards for n in people),
            "leads": sum(n.leads for n in people),
        },
        "nodes": [
            {
                "node": n.node,
                "parent": n.parent,
                "depth": n.depth,
                "first_seen": ms_to_iso(n.first_seen),
                "visitors": n.visitors,
                "forwards": n.forwards,
                "leads": n.leads,
            }
            for n in people
        ],
        "items_read": page.items_read,
    }

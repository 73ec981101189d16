"""Setting up tenants, employees, campaigns and links for the benchmarks.

Redirect benchmarks go through the real HTTP API (Chalice's in-process test client); bulk
data (thousands of board rows or chain nodes) is written straight through PynamoDB batch
writes, which is the fast path and is not what is being measured.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from infra.template import ROOT

__all__ = ["Sizes", "api_client", "api_link", "auth", "bench_campaign", "import_consumer"]

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.{n} bench"


@dataclass(frozen=True, slots=True)
class Sizes:
    redirects: int = 300  # per side, per variant
    rounds: int = 10  # interleaved rounds the redirects are split into
    visits: int = 1_000
    employees: int = 50
    import_runs: int = 5
    board_rows: int = 10_000
    chain_nodes: int = 5_000
    analytics_visits: int = 1_000_000


QUICK = Sizes(
    redirects=30,
    rounds=3,
    visits=100,
    employees=10,
    import_runs=3,
    board_rows=500,
    chain_nodes=300,
    analytics_visits=20_000,
)


def _paths() -> None:
    for path in (str(ROOT), str(ROOT / "functions")):
        if path not in sys.path:
            sys.path.insert(0, path)


def auth(tenant: str, sub: str, role: str) -> dict[str, str]:
    from infra.moto_tokens import id_token

    return {"Authorization": f"Bearer {id_token(tenant, sub, role, ttl=12 * 3600)}"}


def api_client() -> Any:
    _paths()
    from chalice.test import Client

    from app import app

    return Client(app)


def _call(client: Any, method: str, path: str, headers: dict[str, str], body: Any) -> dict[str, Any]:
    resp = getattr(client.http, method)(
        path, headers={**headers, "Content-Type": "application/json"}, body=json.dumps(body)
    )
    if resp.status_code not in (200, 201):
        raise RuntimeError(f"{method.upper()} {path} -> {resp.status_code}: {resp.body!r}")
    result: dict[str, Any] = json.loads(resp.body)
    return result


def api_link(client: Any, tenant: str, employee: str, *, points: dict[str, int] | None = None) -> tuple[str, str]:
    """Employee, campaign and link through the HTTP API; returns (campaign_id, code)."""
    admin = auth(tenant, "boss", "admin")
    _call(client, "put", f"/admin/employees/{employee}", admin, {"name": employee, "team": "t1", "region": "r1"})
    campaign = _call(
        client,
        "post",
        "/admin/campaigns",
        admin,
        {
            "name": "Bench",
            "destination_url": "https://example.com/landing?ref=bench",
            "points": points or {"unique_visit": 10, "forward": 5, "lead": 50},
        },
    )
    cid = str(campaign["campaign_id"])
    link = _call(client, "post", f"/campaigns/{cid}/links", auth(tenant, employee, "employee"), {"channel": "wechat"})
    return cid, str(link["code"])


def bench_campaign(tenant: str, campaign_id: str, *, unique_visit: int = 10, forward: int = 5) -> None:
    """A campaign written through the repository (no HTTP needed)."""
    from ripple import bootstrap
    from ripple.domain.model import Campaign, PointsRules

    bootstrap.services().campaigns.create(
        Campaign(
            tenant_id=tenant,
            campaign_id=campaign_id,
            name="Bench",
            destination_url="https://example.com/",
            points=PointsRules(unique_visit, forward, 0),
        )
    )


def import_consumer() -> Any:
    _paths()
    import points_consumer

    return points_consumer.handler

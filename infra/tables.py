"""Create (or recreate) every table of template.yaml against an endpoint (moto here)."""

from __future__ import annotations

from typing import Any

from infra.template import table_definitions

__all__ = ["create_tables"]


def create_tables(client: Any, stack_name: str, *, recreate: bool = False) -> dict[str, str]:
    """Create missing tables; returns logical id -> table name."""
    existing = set(client.list_tables().get("TableNames", []))
    names: dict[str, str] = {}
    for logical_id, kwargs in table_definitions(stack_name).items():
        kwargs = dict(kwargs)
        ttl = kwargs.pop("_ttl", None)
        name = kwargs["TableName"]
        names[logical_id] = name
        if name in existing and recreate:
            client.delete_table(TableName=name)
            existing.discard(name)
        if name in existing:
            continue
        client.create_table(**kwargs)
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return names

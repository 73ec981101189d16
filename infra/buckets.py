"""Create every S3 bucket of template.yaml against an endpoint (moto here), and name them.

On AWS the buckets get CloudFormation's generated names and the functions receive them as
``!Ref`` environment variables; locally each is ``<stack>-<logical id, lower case>``.
"""

from __future__ import annotations

from typing import Any

from infra.template import load_template

__all__ = ["bucket_env", "bucket_names", "create_buckets"]


def bucket_names(stack_name: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    """Logical id -> local bucket name, for every ``AWS::S3::Bucket`` of the template."""
    template = template or load_template()
    return {
        lid: f"{stack_name}-{lid.lower()}"
        for lid, res in template["Resources"].items()
        if res.get("Type") == "AWS::S3::Bucket"
    }


def bucket_env(stack_name: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    """Environment variables the functions get on AWS (``!Ref Bucket``), resolved locally."""
    template = template or load_template()
    names = bucket_names(stack_name, template)
    env_vars = template["Globals"]["Function"]["Environment"]["Variables"]
    return {
        var: names[value["Ref"]]
        for var, value in env_vars.items()
        if isinstance(value, dict) and value.get("Ref") in names
    }


def create_buckets(client: Any, stack_name: str) -> dict[str, str]:
    """Create missing buckets (us-east-1 style, no location constraint); logical id -> name."""
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    names = bucket_names(stack_name)
    for name in names.values():
        if name not in existing:
            client.create_bucket(Bucket=name)
    return names

"""A deployed Ripple stack, from its CloudFormation outputs: the URLs to open after
``sam deploy`` and the environment that points this process at the stack's resources (for
admin commands run from a laptop, e.g. creating the first tenant).

Only the ``ripple`` command uses this (never a function): it needs the caller's AWS
credentials and ``cloudformation:DescribeStacks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OUTPUT_ENV", "deployed_env", "deployed_urls", "stack_outputs"]

# template.yaml output -> the environment variable the functions get for the same resource
OUTPUT_ENV = {
    "MainTableName": "RIPPLE_MAIN_TABLE",
    "LinksTableName": "RIPPLE_LINKS_TABLE",
    "VisitsTableName": "RIPPLE_VISITS_TABLE",
    "PointsTableName": "RIPPLE_POINTS_TABLE",
    "AnalyticsTableName": "RIPPLE_ANALYTICS_TABLE",
    "ConnectionsTableName": "RIPPLE_CONNECTIONS_TABLE",
    "MaterialsBucketName": "RIPPLE_BUCKET",
    "VisitorSigningSecretArn": "RIPPLE_VISITOR_SECRET_ARN",
    "UserPoolId": "RIPPLE_USER_POOL_ID",
    "UserPoolClientId": "RIPPLE_USER_POOL_CLIENT_ID",
    "NotificationSender": "RIPPLE_MAIL_FROM",
}


def stack_outputs(stack_name: str, *, region: str | None = None, client: Any = None) -> dict[str, str]:
    """``{OutputKey: OutputValue}`` of a deployed stack."""
    if client is None:
        import boto3

        client = boto3.client("cloudformation", region_name=region)
    (stack,) = client.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deployed_urls(outputs: Mapping[str, str]) -> dict[str, str]:
    """What to open: the API (and short-link) base, the web console, the employee page."""
    base = outputs["ApiUrl"].rstrip("/")
    urls = {"api": base, "console": f"{base}/console", "employee_page": f"{base}/m", "openapi": f"{base}/openapi.json"}
    if "CustomDomainTarget" in outputs:
        urls["dns_cname_target"] = outputs["CustomDomainTarget"]
        urls["until_dns_works"] = outputs.get("ExecuteApiUrl", base)
    return urls


def deployed_env(outputs: Mapping[str, str], *, stage: str = "prod") -> dict[str, str]:
    """Environment variables that make ripple's adapters use the stack's resources."""
    env = {var: outputs[key] for key, var in OUTPUT_ENV.items() if key in outputs}
    env["RIPPLE_ENV"] = stage
    return env

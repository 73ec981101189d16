"""Shared fixtures.

The environment is fixed *before* any ripple module is imported, because PynamoDB models
read their table names at import time (as they do in Lambda).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

STACK = "ripple-test"
for _var in list(os.environ):
    if _var.startswith("AWS_ENDPOINT_URL"):
        del os.environ[_var]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "RIPPLE_ENV": "test",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
)
from infra.buckets import bucket_env
from infra.template import table_env

os.environ.update(table_env(STACK))
os.environ.update(bucket_env(STACK))

import boto3
import pytest
from moto import mock_aws

from tests.stack import local_stack  # noqa: F401  (session fixture of tests/integration and tests/e2e)


@pytest.fixture
def aws() -> Iterator[Any]:
    """moto in-process with every table of template.yaml created; a clean slate per test."""
    from infra.buckets import create_buckets
    from infra.tables import create_tables
    from ripple import bootstrap

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, STACK)
        create_buckets(boto3.client("s3", region_name="us-east-1"), STACK)
        bootstrap.reset()
        yield client
        bootstrap.reset()


def token(tenant: str, sub: str, role: str) -> str:
    from ripple.adapters.auth import issue_token
    from ripple.config import DEV_SECRET

    return issue_token(DEV_SECRET, tenant=tenant, sub=sub, role=role)


def auth(tenant: str, sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(tenant, sub, role)}"}

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
        # the same template gives the same pool and client ids in every moto (tokens minted
        # at import time stay valid for every test's fresh pool)
        "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
        "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
    }
)
from infra.buckets import bucket_env
from infra.template import table_env

os.environ.update(table_env(STACK))
os.environ.update(bucket_env(STACK))

import boto3
import pytest
from moto import mock_aws

from infra.cognito import create_user_pool, pool_env
from tests.stack import local_stack  # noqa: F401  (session fixture of tests/integration and tests/e2e)

# The pool is created under the local stack's name, so its hashed ids are also those of the
# pool `ripple dev` creates for tests/integration and tests/e2e: one set of test tokens fits all.
POOL_STACK = "ripple-local"
with mock_aws():
    os.environ.update(pool_env(create_user_pool(boto3.client("cognito-idp", region_name="us-east-1"), POOL_STACK)))


@pytest.fixture(scope="session", autouse=True)
def pool_jwks() -> Iterator[str]:
    """moto's Cognito JWKS endpoint over HTTP (the API fetches the pool's keys from it, as
    it fetches Cognito's on AWS); the in-process moto of each test holds the pool itself."""
    from moto.server import ThreadedMotoServer

    from infra.moto_server import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}/{os.environ['RIPPLE_USER_POOL_ID']}/.well-known/jwks.json"
    os.environ["RIPPLE_JWKS_URL"] = url
    yield url
    server.stop()


def pytest_configure(config: pytest.Config) -> None:
    """Under ``tests.fakedates`` the clock must really have moved, or the run proves nothing."""
    import time

    faked = os.environ.get("RIPPLE_FAKED_NOW")
    if faked and abs(time.time() - int(faked)) > 3600:
        raise pytest.UsageError(
            f"RIPPLE_FAKED_NOW={faked} but the clock says {int(time.time())}: faketime is not working"
        )


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
        ids = create_user_pool(boto3.client("cognito-idp", region_name="us-east-1"), POOL_STACK)
        assert pool_env(ids).items() <= os.environ.items(), "the pool ids are the hashed ones"
        bootstrap.reset()
        yield client
        bootstrap.reset()


def token(tenant: str, sub: str, role: str) -> str:
    """An ID token of the test pool for ``sub`` (employee id) of ``tenant`` (infra/moto_tokens.py)."""
    from infra.moto_tokens import id_token

    return id_token(tenant, sub, role, ttl=12 * 3600)


def auth(tenant: str, sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(tenant, sub, role)}"}

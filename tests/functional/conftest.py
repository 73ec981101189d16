"""Fixtures shared by the in-process functional tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.conftest import STACK


def make_poller(dynamodb: Any) -> Any:
    """The local stand-in for the visits-stream event source mapping, feeding the real
    points consumer (batches, ReportBatchItemFailures, retries) from moto's stream."""
    import points_consumer

    from infra.poller import StreamPoller

    return StreamPoller(
        streams=boto3.client("dynamodbstreams", region_name="us-east-1"),
        dynamodb=dynamodb,
        table_name=f"{STACK}-visits",
        handler=points_consumer.handler,
        interval=0,
    )


@pytest.fixture
def env(aws: Any) -> tuple[Any, Any]:
    """(Chalice test client, stream poller) over moto in-process, with moto's transactions
    made item-level (thread-safe, as on AWS) by ``infra.moto_patches``."""
    from chalice.test import Client

    from app import app
    from infra.moto_patches import apply

    apply()
    return Client(app), make_poller(aws)


@pytest.fixture(autouse=True)
def openapi_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every in-process exchange of every functional test checked against ``/openapi.json``
    (tests/contract.py): a response, or an accepted request, the document does not describe
    fails the test that made it."""
    from tests.contract import install

    if request.node.get_closest_marker("no_contract"):
        yield
        return
    with install():
        yield

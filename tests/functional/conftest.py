"""Fixtures shared by the in-process functional tests."""

from __future__ import annotations

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

"""moto server mode with ``--journal``: what it acknowledged survives a SIGKILL, for every
service (DynamoDB and its stream, S3 bodies byte for byte, Cognito with the same generated
ids), a torn last entry is dropped, and reads are never journaled."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.journal import is_read
from infra.moto_server import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]


class Moto:
    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RIPPLE_"))}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.moto_server", "--port", str(port), "--journal", str(self.journal)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        wait_until_up(self.url + "/moto-api/", timeout=120)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[Moto]:
    server = Moto(tmp_path / "moto.journal")
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()


def test_what_moto_acknowledged_survives_a_sigkill_for_every_service(moto: Moto) -> None:
    moto.start()
    ddb = moto.client("dynamodb")
    ddb.create_table(
        TableName="t",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for i in range(20):
        ddb.put_item(TableName="t", Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    ddb.transact_write_items(
        TransactItems=[
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "k0"}}, "UpdateExpression": "SET n = :v",
                        "ExpressionAttributeValues": {":v": {"N": "100"}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "k1"}}}},
        ]
    )  # fmt: skip
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="journal-test")
    blob = bytes(range(256)) * 1000
    s3.put_object(Bucket="journal-test", Key="poster.png", Body=blob, ContentType="image/png")
    cognito = moto.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="staff")["UserPool"]["Id"]
    app_client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="console")["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="alice")
    before_reads = moto.journal.read_bytes().count(b"\n")
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):  # refused: changed nothing
        ddb.put_item(TableName="t", Item={"pk": {"S": "k2"}}, ConditionExpression="attribute_not_exists(pk)")
    for _ in range(10):  # reads change nothing and are not journaled
        ddb.scan(TableName="t")
        s3.get_object(Bucket="journal-test", Key="poster.png")["Body"].read()
        cognito.list_users(UserPoolId=pool)
    assert moto.journal.read_bytes().count(b"\n") == before_reads
    arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    streams = moto.client("dynamodbstreams")

    def stream() -> list[tuple[str, str]]:
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=it["ShardIterator"], Limit=1000)["Records"]
        return [(r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in records]

    records = stream()
    moto.kill()
    with moto.journal.open("ab") as fh:  # a crash in the middle of appending the next entry
        fh.write(b'{"e": {"REQUEST_METHOD": "PUT", "PATH_INFO": "/journal-test/torn"')
    moto.start()

    ddb = moto.client("dynamodb")
    items = {i["pk"]["S"]: int(i["n"]["N"]) for i in ddb.scan(TableName="t")["Items"]}
    assert items == {**{f"k{i}": i for i in range(2, 20)}, "k0": 100}
    arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]  # its label is the replay's time
    streams = moto.client("dynamodbstreams")
    assert stream() == records  # same records, same sequence numbers: a poller's replay is exact
    s3 = moto.client("s3")
    got = s3.get_object(Bucket="journal-test", Key="poster.png")
    assert got["Body"].read() == blob and got["ContentType"] == "image/png"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="journal-test")["Contents"]] == ["poster.png"]
    cognito = moto.client("cognito-idp")
    assert [p["Id"] for p in cognito.list_user_pools(MaxResults=10)["UserPools"]] == [pool]
    assert cognito.describe_user_pool_client(UserPoolId=pool, ClientId=app_client)["UserPoolClient"]["ClientName"]
    assert [u["Username"] for u in cognito.list_users(UserPoolId=pool)["Users"]] == ["alice"]
    assert moto.journal.read_bytes().endswith(b"\n")  # the torn entry is gone
    lines = [json.loads(line) for line in moto.journal.read_bytes().splitlines()]
    assert len(lines) == before_reads


@pytest.mark.parametrize(
    ("environ", "body", "read"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, b"", True),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, b"", True),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactGetItems"}, b"", True),
        ({"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, b"", True),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ExecuteStatement"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.InitiateAuth"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityService.GetId"}, b"", False),  # creates an identity
        ({"REQUEST_METHOD": "GET"}, b"", True),
        ({"REQUEST_METHOD": "HEAD"}, b"", True),
        ({"REQUEST_METHOD": "PUT"}, b"", False),
        ({"REQUEST_METHOD": "DELETE"}, b"", False),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=ListQueues", True),
        ({"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded"}, b"Action=SendMessage", False),
    ],
)
def test_only_requests_that_change_nothing_skip_the_journal(environ: dict[str, str], body: bytes, read: bool) -> None:
    assert is_read({"REQUEST_METHOD": "POST", **environ}, body) is read

"""What makes the first ``sam deploy`` in a fresh account succeed and a failed one retryable
(issue 10), checked on template.yaml and on what the SAM transform makes of it:

* every function's resource policy stays far below Lambda's 20,480-byte limit, with room for
  50% more routes;
* every stateful resource says what happens to it on delete and replace, the data-holding ones
  are retained (and dropped only when a first create fails), none has a fixed name;
* nothing secret travels in an environment variable;
* default quotas suffice (no reserved concurrency unless asked), logs expire, X-Ray samples,
  and the alarms watch the consumer's lag, its failure queue and the API's 5xx.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tests.packaging._support import functions, sam_transform

ROUTE_ARN = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RippleApi}"
POLICY_LIMIT = 20_480  # bytes, Lambda's resource-based policy limit per function
# long but valid values, so the estimate errs high: a 64-character function name, the longest
# region name, a 10-character API id
PLACEHOLDERS = {
    "AWS::Region": "ap-southeast-2",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}
FUNCTION_ARN = "arn:aws:lambda:ap-southeast-2:123456789012:function:" + "f" * 64
API_ID = "a1b2c3d4e5"

STATEFUL = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Cognito::UserPool": None,  # UserPoolName is not unique: a retry never collides on it
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}
RETAINED = {"Retain", "RetainExceptOnCreate", "Snapshot"}
SECRET_LOOKING = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|API_?KEY|CREDENTIAL|SALT", re.I)


# ------------------------------------------------------------------ resource policy size


def _sub(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        text = re.sub(r"\$\{(AWS::[A-Za-z]+)\}", lambda m: PLACEHOLDERS[m.group(1)], text)
        return re.sub(r"\$\{[A-Za-z0-9.]+\}", API_ID, text)
    if isinstance(value, dict) and ("Ref" in value or "Fn::GetAtt" in value):
        return FUNCTION_ARN
    raise AssertionError(f"cannot size {value!r}")


def _statement(sid: str, props: dict[str, Any]) -> dict[str, Any]:
    """The statement Lambda's AddPermission stores for an ``AWS::Lambda::Permission``."""
    statement: dict[str, Any] = {
        "Sid": sid + "-" + "x" * 24,  # CloudFormation appends a random suffix
        "Effect": "Allow",
        "Principal": {"Service": props["Principal"]},
        "Action": props["Action"],
        "Resource": FUNCTION_ARN,
    }
    condition: dict[str, Any] = {}
    if "SourceArn" in props:
        condition["ArnLike"] = {"AWS:SourceArn": _sub(props["SourceArn"])}
    if "SourceAccount" in props:
        condition["StringEquals"] = {"AWS:SourceAccount": PLACEHOLDERS["AWS::AccountId"]}
    if condition:
        statement["Condition"] = condition
    return statement


def policy_bytes(statements: list[dict[str, Any]]) -> int:
    return len(json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements}))


def _permissions(transformed: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for lid, res in transformed["Resources"].items():
        if res["Type"] == "AWS::Lambda::Permission":
            target = res["Properties"]["FunctionName"]
            fn = target.get("Ref") or target.get("Fn::GetAtt", [""])[0]
            out.setdefault(fn, []).append((lid, res["Properties"]))
    return out


def test_every_resource_policy_has_room_for_half_again_as_many_routes(transformed: dict[str, Any]) -> None:
    """A permission scoped to one route (its SourceArn names a method and path) is one more
    statement per route; a wildcard one covers any number. Project the per-route ones x1.5."""
    permissions = _permissions(transformed)
    assert permissions, "the API function needs API Gateway's permission"
    for fn, perms in permissions.items():
        statements = [_statement(lid, props) for lid, props in perms]
        per_route = [
            s
            for s in statements
            if not s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn", "").endswith("/*")
        ]
        grown = statements + per_route[: (len(per_route) + 1) // 2]
        size = policy_bytes(grown)
        assert size < POLICY_LIMIT, f"{fn}: {size} bytes with 50% more routes ({len(statements)} statements today)"


def test_the_size_estimate_catches_one_permission_per_route() -> None:
    """Guard against an estimate that cannot fail: 78 route-scoped statements (what one SAM
    ``Api`` event per Chalice route produced) exceed the limit, as the real deploy did."""
    statements = [
        _statement(
            f"ApiFunctionRoute{i}Permission",
            {
                "Principal": "apigateway.amazonaws.com",
                "Action": "lambda:InvokeFunction",
                "SourceArn": {"Fn::Sub": ROUTE_ARN + f"/*/GET/admin/route{i}/{{id}}"},
            },
        )
        for i in range(78)
    ]
    assert policy_bytes(statements) > POLICY_LIMIT


# ------------------------------------------------------------------ deletion and names


def stateful_problems(template: dict[str, Any]) -> list[str]:
    problems = []
    for lid, res in template["Resources"].items():
        if res["Type"] not in STATEFUL:
            continue
        for key in ("DeletionPolicy", "UpdateReplacePolicy"):
            if key not in res:
                problems.append(f"{lid}: no {key}")
        if res["Type"] != "AWS::Logs::LogGroup":  # logs expire by retention; data must survive
            if res.get("DeletionPolicy") not in RETAINED:
                problems.append(f"{lid}: DeletionPolicy {res.get('DeletionPolicy')} would delete its data")
            if res.get("UpdateReplacePolicy") not in RETAINED:
                problems.append(f"{lid}: UpdateReplacePolicy {res.get('UpdateReplacePolicy')} would delete its data")
        name_key = STATEFUL[res["Type"]]
        if name_key and name_key in (res.get("Properties") or {}):
            problems.append(f"{lid}: fixed {name_key} collides when a retained copy exists")
    return problems


def test_stateful_resources_are_retained_and_unnamed(template: dict[str, Any]) -> None:
    assert any(r["Type"] == "AWS::Cognito::UserPool" for r in template["Resources"].values())
    assert stateful_problems(template) == []
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SecretsManager::Secret"} <= kinds


def test_the_stateful_check_can_fail(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    table = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    table["DeletionPolicy"] = "Delete"
    table["Properties"]["TableName"] = "fixed"
    queue = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::SQS::Queue")
    del queue["DeletionPolicy"]
    assert len(stateful_problems(broken)) == 4  # Delete, a fixed name, no policy (and so not retained)


# ------------------------------------------------------------------ secrets


def secret_env_problems(template: dict[str, Any], transformed: dict[str, Any]) -> list[str]:
    """Secret-looking variables must carry a Secrets Manager ARN (``<NAME>_ARN: !Ref Secret``);
    no variable may carry a NoEcho parameter."""
    params = template.get("Parameters", {})
    problems = []
    for lid, res in transformed["Resources"].items():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        variables = (res["Properties"].get("Environment") or {}).get("Variables") or {}
        for name, value in variables.items():
            ref = value.get("Ref") if isinstance(value, dict) else None
            if ref in params and params[ref].get("NoEcho"):
                problems.append(f"{lid}.{name}: a NoEcho parameter in plain text")
            if SECRET_LOOKING.search(name):
                target = transformed["Resources"].get(ref or "", {}).get("Type")
                if not (name.endswith("_ARN") and target == "AWS::SecretsManager::Secret"):
                    problems.append(f"{lid}.{name}: looks secret and is not a Secrets Manager ARN")
    return problems


def test_no_function_has_a_secret_in_its_environment(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    assert secret_env_problems(template, transformed) == []
    assert not any(p.get("NoEcho") for p in template.get("Parameters", {}).values()), "no secret is typed in"


def test_the_secret_check_can_fail(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    broken["Parameters"]["LeakySecret"] = {"Type": "String", "NoEcho": True, "MinLength": 32}
    broken["Globals"]["Function"]["Environment"]["Variables"]["RIPPLE_JWT_SECRET"] = {"Ref": "LeakySecret"}
    problems = secret_env_problems(broken, sam_transform(broken))
    assert len(problems) == 2 * len(functions(broken))


# ------------------------------------------------------------------ quotas, logs, tracing, alarms


def test_no_reserved_concurrency_by_default(template: dict[str, Any]) -> None:
    """New accounts may have a concurrency quota of 10: reserving any is opt-in."""
    for lid, props in functions(template).items():
        reserved = props.get("ReservedConcurrentExecutions")
        if reserved is None:
            continue
        condition, _, otherwise = reserved["Fn::If"]
        assert otherwise == {"Ref": "AWS::NoValue"}, lid
        (param, empty) = template["Conditions"][condition]["Fn::Not"][0]["Fn::Equals"]
        assert empty == "" and template["Parameters"][param["Ref"]]["Default"] == "", lid


def test_every_function_logs_to_a_group_with_retention(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    retention = {"Ref": "LogRetentionDays"}
    assert "Default" in template["Parameters"]["LogRetentionDays"]
    for lid in functions(template):
        config = transformed["Resources"][lid]["Properties"]["LoggingConfig"]
        group = template["Resources"][config["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup" and group["Properties"]["RetentionInDays"] == retention, lid
        assert config["SystemLogLevel"] == "WARN", lid  # no per-invocation START/END/REPORT lines billed


def test_tracing_samples(template: dict[str, Any], transformed: dict[str, Any]) -> None:
    """Active tracing on Lambda records the first request each second and 5% of the rest; the
    API function (every redirect) has its own switch, off by default for cost (bench/cost.py)."""
    params = template["Parameters"]
    assert template["Globals"]["Function"]["Tracing"] == {"Ref": "TracingMode"}
    assert params["TracingMode"]["Default"] == "Active"
    assert params["ApiTracingMode"]["Default"] == "PassThrough"
    for lid, props in functions(template).items():
        mode = transformed["Resources"][lid]["Properties"]["TracingConfig"]["Mode"]
        expected = "ApiTracingMode" if props["Handler"] == "app.app" else "TracingMode"
        assert mode == {"Ref": expected}, lid
        assert set(params[expected]["AllowedValues"]) == {"Active", "PassThrough"}


@pytest.mark.parametrize(
    ("namespace", "metric", "target_type"),
    [
        ("AWS/Lambda", "IteratorAge", "AWS::Serverless::Function"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "AWS::SQS::Queue"),
        ("AWS/ApiGateway", "5xx", "AWS::ApiGatewayV2::Api"),
    ],
)
def test_alarms_watch_what_breaks(template: dict[str, Any], namespace: str, metric: str, target_type: str) -> None:
    alarms = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and (r["Properties"]["Namespace"], r["Properties"]["MetricName"]) == (namespace, metric)
    ]
    assert len(alarms) == 1
    (alarm,) = alarms
    first = alarm["Dimensions"][0]["Value"]
    target = first.get("Ref") or first["Fn::GetAtt"][0]
    assert template["Resources"][target]["Type"] == target_type
    assert alarm["AlarmActions"], "an alarm nobody hears"
    if metric == "IteratorAge":
        assert "Events" in template["Resources"][target]["Properties"]  # the stream consumer


def test_the_wheel_tag_rule_rejects_what_the_runtime_cannot_load() -> None:
    """The rule tests/packaging/test_sam_build.py applies to every built layer (issue 10:
    Pillow 13 ships only manylinux_2_28 wheels, newer than Amazon Linux 2's glibc 2.26)."""
    from tests.packaging.test_sam_build import _tag_ok

    assert _tag_ok("cp311-cp311-manylinux2014_aarch64", "arm64")
    assert _tag_ok("cp310-abi3-manylinux_2_17_aarch64", "arm64")
    assert _tag_ok("py3-none-any", "arm64")
    assert not _tag_ok("cp311-cp311-manylinux_2_28_aarch64", "arm64")
    assert not _tag_ok("cp311-cp311-manylinux2014_x86_64", "arm64")
    assert not _tag_ok("cp312-cp312-manylinux2014_aarch64", "arm64")

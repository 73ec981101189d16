"""After ``sam deploy``: the stack's outputs give the URLs to open and the environment that
points an admin command at the stack's resources (ripple.adapters.stack), for every output
template.yaml declares."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from infra.template import load_template


@pytest.fixture
def outputs(aws: Any) -> dict[str, str]:
    """A stack in moto's CloudFormation carrying template.yaml's output names."""
    keys = [k for k, v in load_template()["Outputs"].items() if "Condition" not in v]
    body = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": f"value-of-{k}"} for k in keys},
    }
    body["Outputs"]["ApiUrl"] = {"Value": "https://abc123.execute-api.us-east-1.amazonaws.com"}
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="ripple", TemplateBody=json.dumps(body))
    from ripple.adapters.stack import stack_outputs

    return stack_outputs("ripple", region="us-east-1")


def test_urls_to_open(outputs: dict[str, str]) -> None:
    from ripple.adapters.stack import deployed_urls

    urls = deployed_urls(outputs)
    assert urls["console"] == "https://abc123.execute-api.us-east-1.amazonaws.com/console"
    assert urls["employee_page"].endswith("/m")


def test_every_resource_the_functions_get_is_an_output(outputs: dict[str, str]) -> None:
    """The admin environment covers every table/bucket/secret variable of template.yaml."""
    from ripple.adapters.stack import deployed_env

    env = deployed_env(outputs)
    template = load_template()
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    resource_vars = {
        k
        for k, v in globals_env.items()
        if isinstance(v, dict) and "Ref" in v and v["Ref"] not in template["Parameters"]
    }
    assert resource_vars <= set(env), sorted(resource_vars - set(env))
    assert env["RIPPLE_MAIN_TABLE"] == "value-of-MainTableName"


def test_the_cli_prints_them(outputs: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    from ripple.cli import main

    main(["deployed-urls", "--stack", "ripple", "--region", "us-east-1"])
    assert json.loads(capsys.readouterr().out)["console"].endswith("/console")

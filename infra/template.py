"""Read ``template.yaml`` (CloudFormation short-form tags included) without AWS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ROOT", "StreamMapping", "load_template", "resolve", "stream_mappings", "table_definitions", "table_env"]

ROOT = Path(__file__).resolve().parent.parent


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct(tag: str) -> Any:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def build(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return build


for _tag in (
    "Ref",
    "Sub",
    "GetAtt",
    "If",
    "Not",
    "Equals",
    "Join",
    "Select",
    "Split",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "Base64",
    "Condition",
    "GetAZs",
):
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path | None = None) -> dict[str, Any]:
    with open(path or ROOT / "template.yaml", encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)


def resolve(value: Any, stack_name: str) -> Any:
    """Resolve the few intrinsics table definitions use (``!Sub ${AWS::StackName}-x``)."""
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"].replace("${AWS::StackName}", stack_name)
    if isinstance(value, dict):
        return {k: resolve(v, stack_name) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, stack_name) for v in value]
    return value


def table_definitions(stack_name: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``create_table`` kwargs per logical id, straight from the template."""
    template = template or load_template()
    out: dict[str, dict[str, Any]] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resolve(res["Properties"], stack_name)
        kwargs: dict[str, Any] = {
            "TableName": props["TableName"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        kwargs["_ttl"] = props.get("TimeToLiveSpecification")
        out[logical_id] = kwargs
    return out


def table_env(stack_name: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    """Environment variables the functions get on AWS (``!Ref Table``), resolved locally."""
    template = template or load_template()
    tables = table_definitions(stack_name, template)
    env_vars = template["Globals"]["Function"]["Environment"]["Variables"]
    out: dict[str, str] = {}
    for var, value in env_vars.items():
        if isinstance(value, dict) and "Ref" in value and value["Ref"] in tables:
            out[var] = tables[value["Ref"]]["TableName"]
    return out


@dataclass(frozen=True, slots=True)
class StreamMapping:
    function: str  # logical id
    handler: str  # module.attr, relative to CodeUri
    code_uri: str
    table: str  # logical id of the table whose stream feeds it
    batch_size: int
    batching_window_s: float
    starting_position: str
    report_batch_item_failures: bool
    bisect_on_error: bool
    maximum_retry_attempts: int


def stream_mappings(template: dict[str, Any] | None = None) -> list[StreamMapping]:
    template = template or load_template()
    params = template.get("Parameters", {})
    out: list[StreamMapping] = []
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "DynamoDB":
                continue
            ep = event["Properties"]
            stream = ep["Stream"]["Fn::GetAtt"]
            batch = ep.get("BatchSize", 100)
            if isinstance(batch, dict) and "Ref" in batch:
                batch = params[batch["Ref"]]["Default"]
            out.append(
                StreamMapping(
                    function=logical_id,
                    handler=props["Handler"],
                    code_uri=props["CodeUri"],
                    table=stream[0],
                    batch_size=int(batch),
                    batching_window_s=float(ep.get("MaximumBatchingWindowInSeconds", 0)),
                    starting_position=ep.get("StartingPosition", "TRIM_HORIZON"),
                    report_batch_item_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                    bisect_on_error=bool(ep.get("BisectBatchOnFunctionError", False)),
                    maximum_retry_attempts=int(ep.get("MaximumRetryAttempts", -1)),
                )
            )
    return out

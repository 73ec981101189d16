"""Read ``template.yaml`` (CloudFormation short-form tags included) without AWS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ROOT",
    "StreamMapping",
    "load_template",
    "local_table_name",
    "resolve",
    "stream_mappings",
    "table_definitions",
    "table_env",
    "websocket_function",
]

ROOT = Path(__file__).resolve().parent.parent


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
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
            value = loader.construct_mapping(node, deep=True)
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
        template: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)
        return template


_NO_VALUE = object()


def conditions(template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, bool]:
    """The template's Conditions evaluated for ``parameters`` (the rest at their defaults):
    what a stack deployed with those parameters would have (``Fn::Equals/Not/And/Or``,
    ``Ref`` of a parameter, ``Condition`` of another condition)."""
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    raw = template.get("Conditions", {})
    done: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return values[node["Ref"]]
        if isinstance(node, dict) and "Condition" in node:
            return truth(node["Condition"])
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return str(value(left)) == str(value(right))
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        if isinstance(node, dict) and "Fn::And" in node:
            return all(value(n) for n in node["Fn::And"])
        if isinstance(node, dict) and "Fn::Or" in node:
            return any(value(n) for n in node["Fn::Or"])
        return node

    def truth(name: str) -> bool:
        if name not in done:
            done[name] = bool(value(raw[name]))
        return done[name]

    return {name: truth(name) for name in raw}


def resolve(
    value: Any, stack_name: str, variables: dict[str, str] | None = None, when: dict[str, bool] | None = None
) -> Any:
    """Resolve the few intrinsics the local stack reads: ``!Sub ${AWS::StackName}-x``; the
    list form ``!Sub [text, {Name: ...}]`` with the local values of ``variables`` (e.g. the
    invitation message's ``AppUrl``) in place of the deployed expression; ``!If`` by the
    conditions ``when`` (``conditions()``; by default the template's parameter defaults),
    with ``!Ref AWS::NoValue`` leaving the property out."""
    if when is None:
        when = conditions(load_template())
    out = _resolve(value, stack_name, variables or {}, when)
    return None if out is _NO_VALUE else out


def _resolve(value: Any, stack_name: str, variables: dict[str, str], when: dict[str, bool]) -> Any:
    if isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}:
        return _NO_VALUE
    if isinstance(value, dict) and "Fn::If" in value:
        name, yes, no = value["Fn::If"]
        return _resolve(yes if when[name] else no, stack_name, variables, when)
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, names = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
        for name in names:
            if name not in variables:
                raise KeyError(f"no local value for ${{{name}}} in {text[:60]!r}")
            text = text.replace("${" + name + "}", variables[name])
        return text.replace("${AWS::StackName}", stack_name)
    if isinstance(value, dict):
        items = {k: _resolve(v, stack_name, variables, when) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not _NO_VALUE}
    if isinstance(value, list):
        return [v for v in (_resolve(v, stack_name, variables, when) for v in value) if v is not _NO_VALUE]
    return value


def local_table_name(stack_name: str, logical_id: str) -> str:
    """``<stack>-<logical id without "Table", lower case>`` (``MainTable`` -> ``ripple-local-main``).
    On AWS the tables have no ``TableName``: CloudFormation generates one, so a retried or
    second stack never collides with a retained table; locally they need a stable name."""
    base = logical_id[: -len("Table")] if logical_id.endswith("Table") else logical_id
    return f"{stack_name}-{base.lower()}"


def table_definitions(stack_name: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``create_table`` kwargs per logical id, straight from the template."""
    template = template or load_template()
    out: dict[str, dict[str, Any]] = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resolve(res["Properties"], stack_name)
        kwargs: dict[str, Any] = {
            "TableName": props.get("TableName") or local_table_name(stack_name, logical_id),
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
    parallelization_factor: int = 1


def _param(value: Any, params: dict[str, Any]) -> Any:
    """A property's value, or the default of the parameter it ``!Ref``s."""
    if isinstance(value, dict) and "Ref" in value:
        return params[value["Ref"]]["Default"]
    return value


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
            batch = _param(ep.get("BatchSize", 100), params)
            out.append(
                StreamMapping(
                    function=logical_id,
                    handler=props["Handler"],
                    code_uri=props["CodeUri"],
                    table=stream[0],
                    batch_size=int(batch),
                    batching_window_s=float(_param(ep.get("MaximumBatchingWindowInSeconds", 0), params)),
                    starting_position=ep.get("StartingPosition", "TRIM_HORIZON"),
                    report_batch_item_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                    bisect_on_error=bool(ep.get("BisectBatchOnFunctionError", False)),
                    maximum_retry_attempts=int(ep.get("MaximumRetryAttempts", -1)),
                    parallelization_factor=int(_param(ep.get("ParallelizationFactor", 1), params)),
                )
            )
    return out


def websocket_function(template: dict[str, Any] | None = None) -> tuple[str, str]:
    """``(CodeUri, Handler)`` of the function behind the WebSocket API's integration (what
    ``infra.websocket`` invokes locally, as API Gateway does on AWS)."""
    import re

    template = template or load_template()
    resources = template["Resources"]
    apis = {
        lid
        for lid, r in resources.items()
        if r["Type"] == "AWS::ApiGatewayV2::Api" and r["Properties"].get("ProtocolType") == "WEBSOCKET"
    }
    for res in resources.values():
        props = res.get("Properties") or {}
        if res["Type"] != "AWS::ApiGatewayV2::Integration" or props.get("ApiId", {}).get("Ref") not in apis:
            continue
        uri = props["IntegrationUri"]
        found = re.search(r"\$\{(\w+)\.Arn\}", uri["Fn::Sub"] if isinstance(uri, dict) else str(uri))
        if found:
            fn = resources[found.group(1)]["Properties"]
            return fn["CodeUri"], fn["Handler"]
    raise LookupError("template.yaml has no WebSocket API integration")

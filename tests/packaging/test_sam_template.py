"""template.yaml through the SAM translator and cfn-lint, offline, plus the structure that the
exactly-once pipeline and the local stack rely on."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from tests.packaging._support import ROOT, functions, layers

# cfn-lint findings tolerated, by rule id, each with its reason. Errors are never tolerated.
IGNORED_RULES: dict[str, str] = {}


def _lint(path: Path) -> list[str]:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(path, config=ManualArgs(regions=["us-east-1"]))
    return [
        f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})"
        for m in matches
        if m.rule.id[0] == "E" or m.rule.id not in IGNORED_RULES
    ]


def _getatt(value: Any) -> list[str]:
    assert isinstance(value, dict) and "Fn::GetAtt" in value, value
    target = value["Fn::GetAtt"]
    return target.split(".", 1) if isinstance(target, str) else list(target)


def _of_type(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in template["Resources"].items() if res.get("Type") == type_}


def _env_table(template: dict[str, Any], var: str) -> str:
    """Logical id of the table an environment variable of every function names."""
    ref = template["Globals"]["Function"]["Environment"]["Variables"][var]
    assert isinstance(ref, dict) and "Ref" in ref, f"{var} should be !Ref <Table>"
    assert template["Resources"][ref["Ref"]]["Type"] == "AWS::DynamoDB::Table"
    return str(ref["Ref"])


# ------------------------------------------------------------------ parsing and linting


def test_local_loader_agrees_with_the_sam_parser(template: dict[str, Any]) -> None:
    """infra.template (which creates the local tables and pollers) reads the short tags exactly
    as the SAM CLI's parser does."""
    from samtranslator.yaml_helper import intrinsics_multi_constructor

    class SamLoader(yaml.SafeLoader):  # a subclass, so the global SafeLoader stays untouched
        pass

    SamLoader.add_multi_constructor("!", intrinsics_multi_constructor)
    with open(ROOT / "template.yaml", encoding="utf-8") as fh:
        assert yaml.load(fh, Loader=SamLoader) == template


def test_sam_template_lints_clean() -> None:
    assert _lint(ROOT / "template.yaml") == []


def test_transformed_template_lints_clean(transformed: dict[str, Any], tmp_path: Path) -> None:
    """What CloudFormation would actually receive: catches what only exists after the
    transform (e.g. dependency cycles through the generated RestApi body)."""
    out = tmp_path / "transformed.json"
    out.write_text(json.dumps(transformed, indent=1), encoding="utf-8")
    assert _lint(out) == []


def test_transform_yields_the_expected_resource_kinds(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    assert not any(res["Type"].startswith("AWS::Serverless::") for res in transformed["Resources"].values())
    lambdas = _of_type(transformed, "AWS::Lambda::Function")
    assert set(lambdas) == set(functions(template))
    assert len(_of_type(transformed, "AWS::Lambda::LayerVersion")) == len(layers(template))


# ------------------------------------------------------------------ streams and the consumer


def test_visits_and_points_tables_have_streams(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    for var in ("RIPPLE_VISITS_TABLE", "RIPPLE_POINTS_TABLE"):
        table = transformed["Resources"][_env_table(template, var)]
        assert table["Properties"]["StreamSpecification"]["StreamViewType"] in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")


def test_every_stream_source_has_a_stream_with_new_images(transformed: dict[str, Any]) -> None:
    mappings = _of_type(transformed, "AWS::Lambda::EventSourceMapping")
    assert mappings
    for mapping in mappings.values():
        table, attr = _getatt(mapping["Properties"]["EventSourceArn"])
        assert attr == "StreamArn"
        spec = transformed["Resources"][table]["Properties"]["StreamSpecification"]
        assert spec["StreamViewType"] in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")  # the consumer reads NewImage


def test_points_consumer_mapping_is_retry_safe(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    visits = _env_table(template, "RIPPLE_VISITS_TABLE")
    mappings = [
        m["Properties"]
        for m in _of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
        if _getatt(m["Properties"]["EventSourceArn"])[0] == visits
    ]
    assert len(mappings) == 1, "exactly one consumer of the visits stream"
    props = mappings[0]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    retries = props["MaximumRetryAttempts"]
    assert isinstance(retries, int) and 0 <= retries <= 10_000  # -1 would retry forever and block the shard
    queue, attr = _getatt(props["DestinationConfig"]["OnFailure"]["Destination"])
    assert (transformed["Resources"][queue]["Type"], attr) == ("AWS::SQS::Queue", "Arn")

    # the consumer may actually send to that queue
    function = props["FunctionName"]["Ref"]
    role = _getatt(transformed["Resources"][function]["Properties"]["Role"])[0]
    statements = [
        st
        for pol in transformed["Resources"][role]["Properties"]["Policies"]
        for st in pol["PolicyDocument"]["Statement"]
    ]
    assert any(
        "sqs:SendMessage" in json.dumps(st["Action"]) and queue in json.dumps(st["Resource"]) for st in statements
    )


def test_points_consumer_is_the_local_pollers_mapping(template: dict[str, Any]) -> None:
    """The local stack's poller reads the same mapping (infra.template.stream_mappings)."""
    from infra.template import stream_mappings

    visits = _env_table(template, "RIPPLE_VISITS_TABLE")
    (mapping,) = [m for m in stream_mappings(template) if m.table == visits]
    assert mapping.report_batch_item_failures and mapping.bisect_on_error
    assert 0 <= mapping.maximum_retry_attempts <= 10_000


# ------------------------------------------------------------------ schedules


def test_schedules_target_the_settlement_function(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    schedules = _of_type(transformed, "AWS::Scheduler::Schedule")
    jobs: dict[str, str] = {}
    for sched in schedules.values():
        target = sched["Properties"]["Target"]
        function, attr = _getatt(target["Arn"])
        assert (transformed["Resources"][function]["Type"], attr) == ("AWS::Lambda::Function", "Arn")
        role = _getatt(target["RoleArn"])[0]
        assert "lambda:InvokeFunction" in json.dumps(transformed["Resources"][role]["Properties"]["Policies"])
        jobs[json.loads(target["Input"])["job"]] = function
    assert {"settle", "reconcile"} <= set(jobs)
    settlement = jobs["settle"]
    assert functions(template)[settlement]["Handler"].split(".")[0] == "scheduled"


def test_every_scheduled_input_is_a_job_its_handler_knows(template: dict[str, Any], aws: Any) -> None:
    import importlib

    for props in functions(template).values():
        for event in (props.get("Events") or {}).values():
            if event["Type"] not in ("Schedule", "ScheduleV2"):
                continue
            module, attr = props["Handler"].rsplit(".", 1)
            handler = getattr(importlib.import_module(module), attr)
            context = SimpleNamespace(
                function_name="t", memory_limit_in_mb=128, invoked_function_arn="arn", aws_request_id="r"
            )
            result = handler(json.loads(event["Properties"]["Input"]), context)
            assert result.get("status") != "unknown_job", event


# ------------------------------------------------------------------ layers


def test_every_function_uses_every_layer(transformed: dict[str, Any], template: dict[str, Any]) -> None:
    layer_ids = set(_of_type(transformed, "AWS::Lambda::LayerVersion"))
    assert len(layer_ids) == len(layers(template)) >= 2  # deps + core (+ function-specific, e.g. poster)
    globals_ = {ref["Ref"] for ref in template["Globals"]["Function"]["Layers"]}
    shared = {lid for lid in layer_ids if any(lid.startswith(g) for g in globals_)}  # hashed by the transform
    assert len(shared) == len(globals_)
    for logical_id in functions(template):
        props = transformed["Resources"][logical_id]["Properties"]
        refs = {ref["Ref"] for ref in props.get("Layers", [])}
        assert shared <= refs <= layer_ids, logical_id
        for layer in refs:
            lp = transformed["Resources"][layer]["Properties"]
            assert props["Runtime"] in lp["CompatibleRuntimes"], (logical_id, layer)
            assert set(props["Architectures"]) <= set(lp["CompatibleArchitectures"]), (logical_id, layer)


def _make_var(name: str) -> str:
    import re

    found = re.search(rf"^{name}\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert found, f"{name} is not set in the Makefile"
    return found.group(1)


def test_layers_are_built_for_the_function_runtime(template: dict[str, Any]) -> None:
    """Every layer is built by the Makefile (pinned wheels for the runtime's platform, no
    resolution, byte-compiled) for exactly the functions' runtime and architecture."""
    glob = template["Globals"]["Function"]
    runtime, (arch,) = glob["Runtime"], glob["Architectures"]
    assert runtime == f"python{_make_var('LAMBDA_PYTHON')}"
    platform = _make_var("LAMBDA_PLATFORM")
    assert platform.endswith({"arm64": "_aarch64", "x86_64": "_x86_64"}[arch])
    for logical_id, res in layers(template).items():
        meta = res["Metadata"]
        assert (meta["BuildMethod"], meta["BuildArchitecture"], meta["ContextPath"]) == ("makefile", arch, "."), (
            logical_id
        )
        assert f"build-{logical_id}:" in (ROOT / "Makefile").read_text(encoding="utf-8"), logical_id

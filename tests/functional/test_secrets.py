"""Signing secrets come from Secrets Manager (moto here), once per process, never from the
environment outside local runs; the local stack's secrets are created from template.yaml."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.conftest import STACK

VISITOR = "v" * 48


@pytest.fixture
def deployed_env(aws: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Secrets as template.yaml makes them: generated values, ARNs in the environment."""
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    arns = {
        "RIPPLE_VISITOR_SECRET_ARN": sm.create_secret(Name="visitor", SecretString=VISITOR)["ARN"],
    }
    monkeypatch.setenv("RIPPLE_ENV", "prod")
    monkeypatch.delenv("RIPPLE_VISITOR_SECRET", raising=False)
    for name, arn in arns.items():
        monkeypatch.setenv(name, arn)
    return arns


def test_config_reads_the_secrets_from_secrets_manager(deployed_env: dict[str, str]) -> None:
    from ripple import bootstrap

    bootstrap.reset()
    cfg = bootstrap.config()
    assert cfg.visitor_secret == VISITOR.encode()


def test_secrets_are_read_once_per_process(deployed_env: dict[str, str]) -> None:
    """A warm container keeps what its cold start read: changing the secret does not reach it,
    a new process (reset) does."""
    from ripple import bootstrap

    bootstrap.reset()
    assert bootstrap.config().visitor_secret == VISITOR.encode()
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.put_secret_value(SecretId=deployed_env["RIPPLE_VISITOR_SECRET_ARN"], SecretString="k" * 48)
    bootstrap._config = None  # a new config object in the same process: the secret cache still holds
    assert bootstrap.config().visitor_secret == VISITOR.encode()
    bootstrap.reset()
    assert bootstrap.config().visitor_secret == b"k" * 48


def test_outside_local_a_missing_secret_is_a_config_error(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ripple import bootstrap
    from ripple.config import ConfigError

    monkeypatch.setenv("RIPPLE_ENV", "prod")
    for name in ("RIPPLE_VISITOR_SECRET", "RIPPLE_VISITOR_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.reset()
    with pytest.raises(ConfigError):
        bootstrap.config()


def test_the_local_stack_creates_the_template_secrets(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """infra.secrets makes one secret per secret of template.yaml, under the variable the
    functions read, holding the development value; the product code then reads it back."""
    from infra.secrets import LOCAL_VALUES, create_secrets
    from infra.template import load_template
    from ripple import bootstrap

    env = create_secrets(boto3.client("secretsmanager", region_name="us-east-1"), STACK)
    secrets = [lid for lid, r in load_template()["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"]
    assert len(env) == len(secrets) == len(LOCAL_VALUES)
    for var, name in env.items():
        monkeypatch.setenv(var, name)
    monkeypatch.setenv("RIPPLE_ENV", "prod")  # no development fallback: the values must come from moto
    bootstrap.reset()
    cfg = bootstrap.config()
    assert cfg.visitor_secret == LOCAL_VALUES["RIPPLE_VISITOR_SECRET"].encode()

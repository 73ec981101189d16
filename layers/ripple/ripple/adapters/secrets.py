"""Signing secrets from AWS Secrets Manager, read once per process (cold start) and cached.

template.yaml hands every function the secrets' ARNs (``RIPPLE_<NAME>_ARN``), never their
values: a value in an environment variable is visible to anyone who may read the function's
configuration, and in every deployment log. Locally the same code reads the secrets the
local stack created in moto (``AWS_ENDPOINT_URL_SECRETS_MANAGER``, honoured by botocore).

botocore directly rather than boto3: PynamoDB already loaded botocore, so the redirect's cold
start pays one small client, not boto3's import.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["SECRET_NAMES", "read_secrets", "reset"]

# configuration names whose values live in Secrets Manager; ``<name>_ARN`` points at each
SECRET_NAMES = ("RIPPLE_VISITOR_SECRET",)

_lock = threading.Lock()
_cache: dict[str, str] = {}


def _client() -> Any:
    import botocore.session

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return botocore.session.get_session().create_client("secretsmanager", region_name=region)


def read_secrets(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{name: value}`` for every ``SECRET_NAMES`` entry whose ``<name>_ARN`` is set; each
    secret is fetched at most once per process."""
    env = os.environ if environ is None else environ
    wanted = {name: env[f"{name}_ARN"] for name in SECRET_NAMES if env.get(f"{name}_ARN")}
    with _lock:
        missing = [arn for arn in wanted.values() if arn not in _cache]
        if missing:
            client = _client()
            for arn in missing:
                _cache[arn] = str(client.get_secret_value(SecretId=arn)["SecretString"])
        return {name: _cache[arn] for name, arn in wanted.items()}


def reset() -> None:
    """Forget cached values (tests; a rotated secret is picked up by the next cold start)."""
    with _lock:
        _cache.clear()

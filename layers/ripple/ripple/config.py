"""Configuration from the environment (set by template.yaml on AWS, by the local stack here)."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["DEV_SECRET", "Config", "ConfigError", "load_config"]

DEV_SECRET = "ripple-local-dev-secret-not-for-production"


class ConfigError(RuntimeError):
    """The deployment is misconfigured (never a client's fault)."""


@dataclass(frozen=True, slots=True)
class Config:
    env: str
    jwt_secret: str
    visitor_secret: bytes
    public_base_url: str
    auth_mode: str  # "jwt": verify HS256 ourselves; "cognito": trust API Gateway's authorizer claims


def load_config() -> Config:
    env = os.environ.get("RIPPLE_ENV", "local")
    jwt_secret = os.environ.get("RIPPLE_JWT_SECRET") or ""
    visitor_secret = os.environ.get("RIPPLE_VISITOR_SECRET") or ""
    if env in ("local", "test"):
        jwt_secret = jwt_secret or DEV_SECRET
        visitor_secret = visitor_secret or DEV_SECRET + "-visitor"
    elif len(jwt_secret) < 32 or len(visitor_secret) < 32:
        raise ConfigError("RIPPLE_JWT_SECRET and RIPPLE_VISITOR_SECRET must be set (32+ chars) outside local")
    auth_mode = os.environ.get("RIPPLE_AUTH_MODE", "jwt")
    if auth_mode not in ("jwt", "cognito"):
        raise ConfigError(f"RIPPLE_AUTH_MODE must be jwt or cognito, not {auth_mode!r}")
    return Config(
        env=env,
        jwt_secret=jwt_secret,
        visitor_secret=visitor_secret.encode(),
        public_base_url=os.environ.get("RIPPLE_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        auth_mode=auth_mode,
    )

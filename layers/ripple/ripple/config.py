"""Configuration from the environment (set by template.yaml on AWS, by the local stack here)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEV_SECRET", "Config", "ConfigError", "load_config"]

DEV_SECRET = "ripple-local-dev-secret-not-for-production"


class ConfigError(RuntimeError):
    """The deployment is misconfigured (never a client's fault)."""


@dataclass(frozen=True, slots=True)
class Config:
    env: str
    visitor_secret: bytes
    public_base_url: str
    region: str
    user_pool_id: str  # the Cognito user pool whose ID tokens the API accepts
    user_pool_client_id: str  # the app client: the token's `aud`
    jwks_url: str  # where the pool's signing keys are (Cognito's, or moto's locally)
    # Live pages (WebSocket): the URL pages connect to (wss://… on AWS), and the management
    # endpoint the consumer pushes through (https://…/{stage}); empty = pages poll only
    live_url: str = ""
    live_endpoint: str = ""
    # The Cognito Hosted UI (template.yaml's HostedUiDomainPrefix): its base URL, and the
    # federated provider its button goes to; empty = the pages' own sign-in form only
    hosted_ui_url: str = ""
    federation_provider: str = ""
    # Notifications by e-mail (SES): the verified sender address and an optional SES
    # configuration set (bounce/complaint events); empty sender = no e-mail is sent
    mail_from: str = ""
    mail_configuration_set: str = ""

    @property
    def private_receivers(self) -> bool:
        """Local and test stacks only: webhooks and chat bots may post to loopback receivers
        over plain http (every other stack only to public https hosts)."""
        return self.env in ("local", "test")

    @property
    def issuer(self) -> str:
        """Cognito's issuer is always the AWS URL of the pool, locally too (moto signs so)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def load_config(secrets: Mapping[str, str] | None = None) -> Config:
    """``secrets``: values read from the secret store (ripple.adapters.secrets, by the
    composition root); they win over same-named environment variables, which only local
    runs and tests set."""
    env = os.environ.get("RIPPLE_ENV", "local")
    secrets = secrets or {}
    visitor_secret = secrets.get("RIPPLE_VISITOR_SECRET") or os.environ.get("RIPPLE_VISITOR_SECRET") or ""
    if env in ("local", "test"):
        visitor_secret = visitor_secret or DEV_SECRET + "-visitor"
    elif len(visitor_secret) < 32:
        raise ConfigError("the visitor secret must be set (32+ chars, RIPPLE_VISITOR_SECRET_ARN) outside local")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    pool = os.environ.get("RIPPLE_USER_POOL_ID", "")
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    # Locally AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER points at moto, which serves the pool's JWKS at
    # the same path under its own URL; RIPPLE_JWKS_URL overrides both (functional tests).
    endpoint = os.environ.get("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "").rstrip("/")
    jwks_url = os.environ.get("RIPPLE_JWKS_URL") or (
        f"{endpoint}/{pool}/.well-known/jwks.json" if endpoint else f"{issuer}/.well-known/jwks.json"
    )
    return Config(
        env=env,
        visitor_secret=visitor_secret.encode(),
        public_base_url=os.environ.get("RIPPLE_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        region=region,
        user_pool_id=pool,
        user_pool_client_id=os.environ.get("RIPPLE_USER_POOL_CLIENT_ID", ""),
        jwks_url=jwks_url,
        live_url=os.environ.get("RIPPLE_LIVE_URL", ""),
        live_endpoint=os.environ.get("RIPPLE_LIVE_ENDPOINT", ""),
        hosted_ui_url=os.environ.get("RIPPLE_HOSTED_UI_URL", "").rstrip("/"),
        federation_provider=os.environ.get("RIPPLE_FEDERATION_PROVIDER", ""),
        mail_from=os.environ.get("RIPPLE_MAIL_FROM", ""),
        mail_configuration_set=os.environ.get("RIPPLE_MAIL_CONFIGURATION_SET", ""),
    )

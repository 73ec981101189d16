"""Composition root: the one place that wires real adapters, lazily and once per process.

Importing this module costs nothing; the first ``services()`` call builds the bundle.
Tests that need a clean slate (new env, new tables) call ``reset()``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ripple.config import Config, load_config
from ripple.service.context import Services, Settings

if TYPE_CHECKING:
    from ripple.adapters.auth import TokenVerifier
    from ripple.domain.model import Visit

__all__ = ["config", "reset", "services", "verifier", "visit_from_stream_image"]

_lock = threading.Lock()
_services: Services | None = None
_config: Config | None = None
_verifier: TokenVerifier | None = None


def verifier() -> TokenVerifier:
    """The user pool's ID-token verifier, with its JWKS cache (one per process)."""
    global _verifier
    if _verifier is None:
        from ripple.adapters.auth import JwksCache, TokenVerifier

        cfg = config()
        _verifier = TokenVerifier(issuer=cfg.issuer, client_id=cfg.user_pool_client_id, jwks=JwksCache(cfg.jwks_url))
    return _verifier


def visit_from_stream_image(image: dict[str, Any]) -> Visit:
    """A visits-table stream record's ``NewImage`` as a domain ``Visit`` (the points
    consumer's parser; the image's shape is the adapter's business)."""
    from ripple.adapters.repositories import visit_from_image

    return visit_from_image(image)


def config() -> Config:
    global _config
    if _config is None:
        from ripple.adapters.secrets import read_secrets

        _config = load_config(read_secrets())  # once per cold start; nothing secret in the environment
    return _config


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                from ripple.adapters.analytics import DynamoAnalytics
                from ripple.adapters.cards import DynamoCards
                from ripple.adapters.customers import DynamoCustomers, DynamoRateLimiter
                from ripple.adapters.directory import Cognito
                from ripple.adapters.fraud import DynamoFraud
                from ripple.adapters.live import ApiGatewayPublisher, DynamoConnections
                from ripple.adapters.notifications import DynamoNotifications, SesMailer
                from ripple.adapters.repositories import (
                    DynamoCampaigns,
                    DynamoChains,
                    DynamoEmployees,
                    DynamoLinks,
                    DynamoPoints,
                    DynamoTenants,
                    DynamoVisits,
                )
                from ripple.adapters.rewards import DynamoRewards
                from ripple.adapters.settlement import DynamoSettlements
                from ripple.adapters.stories import DynamoStories
                from ripple.adapters.tasks import DynamoTasks
                from ripple.adapters.webhooks import DynamoWebhooks
                from ripple.service.live import Live

                cfg = config()
                _services = Services(
                    settings=Settings(public_base_url=cfg.public_base_url, visitor_secret=cfg.visitor_secret),
                    tenants=DynamoTenants(),
                    employees=DynamoEmployees(),
                    campaigns=DynamoCampaigns(),
                    links=DynamoLinks(),
                    visits=DynamoVisits(),
                    points=DynamoPoints(),
                    chains=DynamoChains(),
                    customers=DynamoCustomers(),
                    rate_limits=DynamoRateLimiter(),
                    notifications=DynamoNotifications(),
                    mailer=SesMailer(cfg.mail_from, cfg.mail_configuration_set) if cfg.mail_from else None,
                    rewards=DynamoRewards(),
                    settlements=DynamoSettlements(),
                    fraud=DynamoFraud(),
                    webhooks=DynamoWebhooks(),
                    tasks=DynamoTasks(),
                    analytics=DynamoAnalytics(),
                    cards=DynamoCards(),
                    stories=DynamoStories(),
                    directory=Cognito(cfg.user_pool_id, cfg.user_pool_client_id) if cfg.user_pool_id else None,
                    live=Live(
                        DynamoConnections(),
                        ApiGatewayPublisher(cfg.live_endpoint) if cfg.live_endpoint else None,
                    ),
                )
    return _services


def reset() -> None:
    """Forget cached config, services and the link cache (tests and the local stack)."""
    global _services, _config, _verifier
    from ripple.adapters import secrets
    from ripple.service.accounts import account_cache
    from ripple.service.cards import card_cache
    from ripple.service.landing import landing_cache
    from ripple.service.ledger import _known_devices
    from ripple.service.redirect import link_cache
    from ripple.service.stories import story_cache

    with _lock:
        _services = None
        _config = None
        _verifier = None
    secrets.reset()
    account_cache.clear()
    link_cache.clear()
    landing_cache.clear()
    card_cache.clear()
    story_cache.clear()
    _known_devices.clear()

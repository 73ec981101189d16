"""Composition root: the one place that wires real adapters, lazily and once per process.

Importing this module costs nothing; the first ``services()`` call builds the bundle.
Tests that need a clean slate (new env, new tables) call ``reset()``.
"""

from __future__ import annotations

import threading

from ripple.config import Config, load_config
from ripple.service.context import Services, Settings

__all__ = ["config", "reset", "services"]

_lock = threading.Lock()
_services: Services | None = None
_config: Config | None = None


def config() -> Config:
    global _config
    if _config is None:
        _config = load_config()
    return _config


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                from ripple.adapters.analytics import DynamoAnalytics
                from ripple.adapters.customers import DynamoCustomers, DynamoRateLimiter
                from ripple.adapters.fraud import DynamoFraud
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
                from ripple.adapters.tasks import DynamoTasks
                from ripple.adapters.webhooks import DynamoWebhooks

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
                    rewards=DynamoRewards(),
                    settlements=DynamoSettlements(),
                    fraud=DynamoFraud(),
                    webhooks=DynamoWebhooks(),
                    tasks=DynamoTasks(),
                    analytics=DynamoAnalytics(),
                )
    return _services


def reset() -> None:
    """Forget cached config, services and the link cache (tests and the local stack)."""
    global _services, _config
    from ripple.service.landing import landing_cache
    from ripple.service.ledger import _known_devices
    from ripple.service.redirect import link_cache

    with _lock:
        _services = None
        _config = None
    link_cache.clear()
    landing_cache.clear()
    _known_devices.clear()

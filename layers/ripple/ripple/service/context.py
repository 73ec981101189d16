"""The bundle of collaborators every use case receives (built by ``ripple.bootstrap``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ripple.service.ports import (
    CampaignRepository,
    ChainRepository,
    CustomerRepository,
    EmployeeRepository,
    LinkRepository,
    Mailer,
    NotificationStore,
    PointsRepository,
    RateLimiter,
    TenantRepository,
    VisitRepository,
)

__all__ = ["Services", "Settings", "new_id"]

_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/l/I


def new_id(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Settings:
    public_base_url: str
    visitor_secret: bytes
    code_length: int = 7


@dataclass(slots=True)
class Services:
    settings: Settings
    tenants: TenantRepository
    employees: EmployeeRepository
    campaigns: CampaignRepository
    links: LinkRepository
    visits: VisitRepository
    points: PointsRepository
    chains: ChainRepository
    customers: CustomerRepository
    rate_limits: RateLimiter
    notifications: NotificationStore
    clock: Callable[[], int] = field(default=_now_ms)
    ids: Callable[[int], str] = field(default=new_id)
    rewards: Any = None  # service.rewards.RewardRepository (points mall)
    settlements: Any = None
    fraud: Any = None  # adapters.fraud.DynamoFraud (anti-fraud signals)
    webhooks: Any = None  # adapters.webhooks.DynamoWebhooks (endpoints, outbox, delivery log)
    tasks: Any = None  # adapters.tasks.DynamoTasks (promotion tasks)
    analytics: Any = None  # adapters.analytics.DynamoAnalytics (share analytics counters)
    cards: Any = None  # service.cards.CardRepository (business cards and the card radar)
    stories: Any = None  # service.stories.StoryRepository (employees' stories, content policy)
    directory: Any = None  # ports.Directory: the identity provider (Cognito); None = no sign-ins
    mailer: Mailer | None = None  # ports.Mailer (SES); None = no sender configured: no e-mail
    live: Any = None  # service.live.Live: WebSocket subscriptions and the publisher; None = no push

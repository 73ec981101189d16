"""Group chat bots by incoming webhook (issue 15), pure: which products, how a bot is
configured, each product's documented payload and signature, and how each says "accepted".

A tenant adds a bot for a team's group (WeCom 企业微信群机器人, DingTalk 自定义机器人,
Feishu/Lark 自定义机器人, Slack incoming webhooks, Microsoft Teams Workflows) and picks the
events it posts: a new task goes to the group with its link, a closed task says so. The
messages travel through the webhook outbox (leased, retried with backoff, logged); only
the body, the signature and the success check differ per product:

* WeCom: ``{"msgtype": "markdown", "markdown": {"content"}}`` (content at most 4096 bytes);
  the key in the URL is the credential; HTTP 200 with ``errcode`` 0 means sent.
* DingTalk: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with 加签 the URL gets
  ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"));
  ``errcode`` 0 means sent.
* Feishu/Lark: ``{"msg_type": "post", "content": {"post": {<lang>: {"title", "content"}}}}``;
  with signature verification the body gets ``timestamp`` (s) and ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")); ``code`` 0 means sent.
* Slack: ``{"text", "blocks": [...]}`` (mrkdwn section + a button); the body ``ok``.
* Teams: a Workflows "post to a chat when a webhook request is received" URL taking
  ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": <Adaptive Card 1.4>}]}``; 2xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from ripple.domain.errors import ValidationError
from ripple.domain.webhooks import check_events, check_url

__all__ = [
    "BOT_EVENTS",
    "FANOUT_AT_DISPATCH",
    "MAX_BOTS",
    "PROVIDERS",
    "ChatMessage",
    "ChatRequest",
    "accepted",
    "bot_message",
    "chat_request",
    "mask_url",
    "settlement_text",
    "validate_bot",
]

PROVIDERS: tuple[str, ...] = ("wecom", "dingtalk", "feishu", "slack", "teams")
BOT_EVENTS: tuple[str, ...] = ("task.created", "task.completed", "settlement.completed")
# bot events a use case writes inside its own transaction (no ``emit``): the dispatcher
# writes their bot items when it meets the event in the outbox
FANOUT_AT_DISPATCH: frozenset[str] = frozenset({"settlement.completed"})
MAX_BOTS = 10
_LANGS = ("en", "ja", "zh-Hans", "zh-Hant")
_BOT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}\Z")
# the hosts each product's incoming webhooks live on (a typo'd or foreign host is refused)
_HOSTS: dict[str, tuple[str, ...]] = {
    "wecom": ("qyapi.weixin.qq.com",),
    "dingtalk": ("oapi.dingtalk.com",),
    "feishu": ("open.feishu.cn", "open.larksuite.com"),
    "slack": ("hooks.slack.com",),
    "teams": (".logic.azure.com", ".powerplatform.com", ".webhook.office.com"),
}
_SIGNED = ("dingtalk", "feishu")  # products with an optional signing secret
WECOM_MAX_BYTES = 4096


def _host_ok(provider: str, host: str) -> bool:
    return any(host == h or (h.startswith(".") and host.endswith(h)) for h in _HOSTS[provider])


def validate_bot(bot_id: str, body: Mapping[str, Any], *, allow_private: bool) -> dict[str, Any]:
    """``{"provider", "url", "events", "secret"?, "name"?, "language"?, "active"?}`` -> clean.

    Outside local/test stacks the URL must be https on the product's own host; locally a
    loopback receiver stands in (the tests' checker of each documented payload)."""
    if not isinstance(bot_id, str) or not _BOT_ID.match(bot_id):
        raise ValidationError("bot_id must be 1-32 of a-z, 0-9 and -", details={"field": "bot_id"})
    unknown = sorted(set(body) - {"provider", "url", "events", "secret", "name", "language", "active"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    provider = body.get("provider")
    if provider not in PROVIDERS:
        raise ValidationError(f"provider must be one of {', '.join(PROVIDERS)}", details={"field": "provider"})
    url = check_url(body.get("url"), allow_private=allow_private)
    host = (urlsplit(url).hostname or "").lower()
    loopback = allow_private and (host in ("localhost", "::1") or host.startswith("127."))
    if not loopback and not _host_ok(provider, host):
        raise ValidationError(
            f"a {provider} webhook URL is on {' or '.join(h.lstrip('.') for h in _HOSTS[provider])}",
            details={"field": "url"},
        )
    events = check_events(body.get("events"), BOT_EVENTS)
    secret = body.get("secret")
    if secret is not None:
        if provider not in _SIGNED:
            raise ValidationError(f"{provider} webhooks take no signing secret", details={"field": "secret"})
        if not isinstance(secret, str) or not 1 <= len(secret) <= 200 or not secret.isascii():
            raise ValidationError("secret must be 1-200 ASCII characters", details={"field": "secret"})
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 64:
        raise ValidationError("name must be at most 64 characters", details={"field": "name"})
    language = body.get("language", "en")
    if language not in _LANGS:
        raise ValidationError(f"language must be one of {', '.join(_LANGS)}", details={"field": "language"})
    active = body.get("active", True)
    if not isinstance(active, bool):
        raise ValidationError("active must be a boolean", details={"field": "active"})
    return {
        "bot_id": bot_id,
        "provider": provider,
        "url": url,
        "events": events,
        "secret": secret,
        "name": name.strip(),
        "language": language,
        "active": active,
    }


def mask_url(url: str) -> str:
    """The URL without what makes it a credential (WeCom's key, DingTalk's token, the path
    of Slack/Feishu/Teams hooks): safe for the delivery log and the console."""
    parts = urlsplit(url)
    path = parts.path
    if len(path) > 12:
        path = path[: len(path) // 2] + "…"
    return f"{parts.scheme}://{parts.netloc}{path}" + ("?…" if parts.query else "")


# ------------------------------------------------------------------ messages


@dataclass(frozen=True, slots=True)
class ChatMessage:
    title: str
    text: str
    link: str
    link_label: str


_COPY: dict[str, dict[str, tuple[str, str, str]]] = {
    "task.created": {
        "en": ("New task: {title}", "{audience_size} colleagues are asked to share it by {deadline}.", "Open the task"),
        "ja": (
            "新しいタスク: {title}",
            "{audience_size}人に{deadline}までのシェアをお願いしています。",
            "タスクを開く",
        ),
        "zh-Hans": ("新任务：{title}", "请 {audience_size} 位同事在 {deadline} 前分享。", "打开任务"),
        "zh-Hant": ("新任務：{title}", "請 {audience_size} 位同事在 {deadline} 前分享。", "開啟任務"),
    },
    "task.completed": {
        "en": ("Task closed: {title}", "The task has reached its deadline. Thank you for sharing!", "See the results"),
        "ja": ("タスク終了: {title}", "締め切りになりました。シェアありがとうございました!", "結果を見る"),
        "zh-Hans": ("任务结束：{title}", "任务已到截止时间，感谢大家的分享！", "查看结果"),
        "zh-Hant": ("任務結束：{title}", "任務已到截止時間，感謝大家的分享！", "查看結果"),
    },
    # a period's leaderboard, posted when it is settled (daily, weekly and monthly)
    "settlement.completed": {
        "en": ("Leaderboard {period}", "{leaders}{teams}{prizes}", "See the leaderboard"),
        "ja": ("ランキング {period}", "{leaders}{teams}{prizes}", "ランキングを見る"),
        "zh-Hans": ("排行榜 {period}", "{leaders}{teams}{prizes}", "查看排行榜"),
        "zh-Hant": ("排行榜 {period}", "{leaders}{teams}{prizes}", "查看排行榜"),
    },
}

# the parts of a settlement's message: leaders, teams, prizes paid; "nobody" when empty
_BOARD_WORDS: dict[str, tuple[str, str, str, str]] = {
    "en": ("Top: ", " Teams: ", " Prizes: {points} points to {winners}.", "No points this period."),
    "ja": ("上位: ", " チーム: ", " 賞: {winners}人に{points}ポイント。", "この期間のポイントはありません。"),
    "zh-Hans": ("前列：", " 团队：", " 奖励：{winners} 人共 {points} 积分。", "本期没有积分。"),
    "zh-Hant": ("前列：", " 團隊：", " 獎勵：{winners} 人共 {points} 積分。", "本期沒有積分。"),
}
LEADERS_IN_MESSAGE = 3


def _leaders(rows: Any, names: Mapping[str, str]) -> str:
    """ "1. Alice Wang 120 · 2. Bob 90" from a payload's ranked rows (ids named where known)."""
    if not isinstance(rows, list):
        return ""
    parts = []
    for row in rows[:LEADERS_IN_MESSAGE]:
        if isinstance(row, Mapping):
            member = str(row.get("id", ""))
            parts.append(f"{row.get('rank', '')}. {names.get(member) or member} {row.get('score', '')}")
    return " · ".join(parts)


def settlement_text(payload: Mapping[str, Any], lang: str, names: Mapping[str, str]) -> dict[str, str]:
    """The values of a settlement's message: the period and its leaders, teams and prizes."""
    top, summary = payload.get("top") or {}, payload.get("summary") or {}
    words = _BOARD_WORDS.get(lang) or _BOARD_WORDS["en"]
    people = _leaders(top.get("employee") if isinstance(top, Mapping) else None, names)
    teams = _leaders(top.get("team") if isinstance(top, Mapping) else None, {})
    points = summary.get("points_awarded", 0) if isinstance(summary, Mapping) else 0
    winners = summary.get("winners", 0) if isinstance(summary, Mapping) else 0
    return {
        "period": str(summary.get("period", "")) if isinstance(summary, Mapping) else "",
        "leaders": (words[0] + people + ".") if people else words[3],
        "teams": (words[1] + teams + ".") if teams else "",
        "prizes": words[2].format(points=points, winners=winners) if points else "",
    }


def bot_message(
    event_type: str,
    payload: Mapping[str, Any],
    lang: str,
    *,
    base_url: str,
    deadline: str,
    names: Mapping[str, str] | None = None,
) -> ChatMessage:
    """What a group sees for one event (``deadline``: already formatted in the tenant's zone;
    ``names``: employees' names by id, for a leaderboard)."""
    copy = _COPY[event_type].get(lang) or _COPY[event_type]["en"]
    values: dict[str, Any] = {
        "title": str(payload.get("title", "")),
        "audience_size": payload.get("audience_size", ""),
        "deadline": deadline,
    }
    if event_type == "settlement.completed":
        values.update(settlement_text(payload, lang, names or {}))
    task_id = str(payload.get("task_id", ""))
    link = {
        "task.created": f"{base_url}/m#/task/{task_id}",
        "settlement.completed": f"{base_url}/m#/boards",
    }.get(event_type, f"{base_url}/console#/tasks")
    return ChatMessage(
        title=" ".join(copy[0].format(**values).split())[:200],
        text=copy[1].format(**values),
        link=link,
        link_label=copy[2],
    )


def _md(text: str) -> str:
    """Text inside Markdown: no markup of its own (a title with ``*`` or ``[`` stays text)."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", text)


def _truncate_utf8(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    url: str
    body: bytes


def _hmac_b64(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def chat_request(provider: str, message: ChatMessage, *, url: str, secret: str | None, now_ms: int) -> ChatRequest:
    """The exact request each product documents for a titled message with one link."""
    body: dict[str, Any]
    if provider == "wecom":
        content = f"**{_md(message.title)}**\n{_md(message.text)}\n[{_md(message.link_label)}]({message.link})"
        body = {"msgtype": "markdown", "markdown": {"content": _truncate_utf8(content, WECOM_MAX_BYTES)}}
    elif provider == "dingtalk":
        text = f"### {_md(message.title)}\n\n{_md(message.text)}\n\n[{_md(message.link_label)}]({message.link})"
        body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": text}}
        if secret:
            sign = _hmac_b64(secret.encode(), f"{now_ms}\n{secret}".encode())
            url += ("&" if "?" in url else "?") + f"timestamp={now_ms}&sign={quote(sign, safe='')}"
    elif provider == "feishu":
        post = {
            "title": message.title,
            "content": [
                [{"tag": "text", "text": message.text}],
                [{"tag": "a", "text": message.link_label, "href": message.link}],
            ],
        }
        body = {"msg_type": "post", "content": {"post": {"zh_cn": post, "en_us": post}}}
        if secret:
            ts = str(now_ms // 1000)
            body = {"timestamp": ts, "sign": _hmac_b64(f"{ts}\n{secret}".encode(), b""), **body}
    elif provider == "slack":
        escaped = {
            k: getattr(message, k).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            for k in ("title", "text", "link_label")
        }
        body = {
            "text": f"{message.title}: {message.link}",  # notifications and clients without blocks
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escaped['title']}*\n{escaped['text']}"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": message.link_label},
                            "url": message.link,
                        }
                    ],
                },
            ],
        }
    elif provider == "teams":
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "wrap": True},
                {"type": "TextBlock", "text": message.text, "wrap": True},
            ],
            "actions": [{"type": "Action.OpenUrl", "title": message.link_label, "url": message.link}],
        }
        body = {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
            ],
        }
    else:
        raise ValueError(f"unknown provider {provider}")
    return ChatRequest(url, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())


def accepted(provider: str, status: int | None, body: bytes) -> tuple[bool, str | None]:
    """Whether the product took the message, and its reason if not: WeCom and DingTalk
    answer HTTP 200 with ``errcode``, Feishu with ``code``; a 2xx alone is not enough."""
    if status is None or not 200 <= status < 300:
        return False, f"HTTP {status}" if status is not None else "no response"
    if provider in ("wecom", "dingtalk", "feishu"):
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            return False, "the answer is not JSON"
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode"))) if isinstance(answer, dict) else None
        if code != 0:
            msg = answer.get("errmsg") or answer.get("msg") if isinstance(answer, dict) else None
            return False, f"{provider} refused: {code} {msg or ''}".strip()
    return True, None

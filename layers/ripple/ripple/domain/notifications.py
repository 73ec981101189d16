"""Notifications to employees (issue 15), pure: kinds, preferences, quiet hours, the hourly
rate limit, the messages in four languages and the signed unsubscribe token.

A notification is caused by one business event (a task distributed, a lead assigned, a
reward fulfilled, a task's deadline coming up) and goes to each recipient at most once per
channel: the message's key is ``(kind, event key, recipient, channel)``, so a redelivered
stream batch or a retried job writes nothing new. Whether it is *sent* is decided when it
is due, not when it is written: an employee offboarded in between gets nothing, a turned
off kind is skipped, quiet hours and the rate limit move it later instead of dropping it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ripple.domain.errors import ValidationError
from ripple.domain.timeutil import validate_timezone

__all__ = [
    "ADMIN_KINDS",
    "CHANNELS",
    "DEFAULT_DUE_HOURS",
    "DIGEST_HOUR",
    "KINDS",
    "LANGUAGES",
    "RATE_PER_HOUR",
    "SUMMARY_HOUR",
    "Decision",
    "Preferences",
    "Rendered",
    "decide",
    "digest_due",
    "hour_window",
    "quiet_until",
    "rank_of",
    "read_unsubscribe_token",
    "render",
    "summary_due",
    "top_names",
    "unsubscribe_token",
    "validate_notification_settings",
    "validate_preferences",
]

KINDS: tuple[str, ...] = (
    "task.assigned",
    "task.due",
    "lead.assigned",
    "reward.fulfilled",
    "digest.weekly",
    "summary.daily",
)
# kinds only admins receive (and are offered in their preferences)
ADMIN_KINDS: frozenset[str] = frozenset({"summary.daily"})
CHANNELS: tuple[str, ...] = ("email",)
LANGUAGES: tuple[str, ...] = ("en", "ja", "zh-Hans", "zh-Hant")
# More than this many messages to one person in one clock hour wait for the next hour: a
# burst of leads must not turn into a burst of e-mails.
RATE_PER_HOUR = 6
DEFAULT_DUE_HOURS = 24
MAX_DUE_HOURS = 24 * 14
_HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Preferences:
    """One employee's choices. Defaults: every kind by e-mail, no quiet hours, the tenant's
    zone and the language the message data suggests."""

    email: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    quiet_start: int | None = None  # minutes after local midnight
    quiet_end: int | None = None
    timezone: str | None = None
    language: str | None = None

    def wants(self, kind: str, channel: str) -> bool:
        return channel == "email" and kind in self.email

    def to_public(self) -> dict[str, Any]:
        quiet = None
        if self.quiet_start is not None and self.quiet_end is not None:
            quiet = {"start": _hhmm(self.quiet_start), "end": _hhmm(self.quiet_end)}
        return {
            "email": {kind: kind in self.email for kind in KINDS},
            "quiet_hours": quiet,
            "timezone": self.timezone,
            "language": self.language,
        }


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value: object, what: str) -> int:
    bad = ValidationError(f"{what} must be HH:MM (24-hour)", details={"field": "quiet_hours", "part": what})
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        raise bad
    hh, mm = value[:2], value[3:]
    if not (hh.isdigit() and mm.isdigit() and hh.isascii() and mm.isascii()) or int(hh) > 23 or int(mm) > 59:
        raise bad
    return int(hh) * 60 + int(mm)


def validate_preferences(body: Mapping[str, Any], current: Preferences) -> Preferences:
    """A partial update: only the fields given change. ``{"email": {"task.due": false},
    "quiet_hours": {"start": "22:00", "end": "08:00"} | null, "timezone": "Asia/Tokyo" | null,
    "language": "ja" | null}``."""
    unknown = sorted(set(body) - {"email", "quiet_hours", "timezone", "language"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    email = set(current.email)
    if "email" in body:
        given = body["email"]
        if not isinstance(given, dict):
            raise ValidationError("email must be an object of kind: boolean", details={"field": "email"})
        bad = sorted(set(given) - set(KINDS))
        if bad:
            raise ValidationError(
                f"unknown notification kind(s): {', '.join(bad)}; known: {', '.join(KINDS)}",
                details={"field": "email", "unknown": bad},
            )
        for kind, on in given.items():
            if not isinstance(on, bool):
                raise ValidationError(f"email.{kind} must be a boolean", details={"field": f"email.{kind}"})
            (email.add if on else email.discard)(kind)
    quiet_start, quiet_end = current.quiet_start, current.quiet_end
    if "quiet_hours" in body:
        quiet = body["quiet_hours"]
        if quiet is None:
            quiet_start = quiet_end = None
        elif not isinstance(quiet, dict) or set(quiet) != {"start", "end"}:
            raise ValidationError(
                'quiet_hours must be {"start": "HH:MM", "end": "HH:MM"} or null', details={"field": "quiet_hours"}
            )
        else:
            quiet_start = _minutes(quiet["start"], "quiet_hours.start")
            quiet_end = _minutes(quiet["end"], "quiet_hours.end")
            if quiet_start == quiet_end:
                raise ValidationError("quiet_hours.start and end must differ", details={"field": "quiet_hours"})
    timezone = current.timezone
    if "timezone" in body:
        timezone = body["timezone"]
        if timezone is not None:
            if not isinstance(timezone, str) or not timezone or len(timezone) > 64:
                raise ValidationError("timezone must be an IANA time zone name", details={"field": "timezone"})
            validate_timezone(timezone)
    language = current.language
    if "language" in body:
        language = body["language"]
        if language is not None and language not in LANGUAGES:
            raise ValidationError(
                f"language must be one of {', '.join(LANGUAGES)} or null", details={"field": "language"}
            )
    return Preferences(frozenset(email), quiet_start, quiet_end, timezone, language)


def validate_notification_settings(body: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The tenant's channel configuration: ``{"email": bool, "from_name": str, "due_hours": int}``
    (partial update). ``due_hours``: how long before a task's deadline the reminder goes to
    those who have not shared yet."""
    unknown = sorted(set(body) - {"email", "from_name", "due_hours"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    out = {"email": True, "from_name": "", "due_hours": DEFAULT_DUE_HOURS, **current}
    if "email" in body:
        if not isinstance(body["email"], bool):
            raise ValidationError("email must be a boolean", details={"field": "email"})
        out["email"] = body["email"]
    if "from_name" in body:
        name = body["from_name"]
        if not isinstance(name, str) or len(name) > 64 or any(c in name for c in '\r\n<>"'):
            raise ValidationError(
                'from_name must be at most 64 characters without line breaks, <, > or "',
                details={"field": "from_name"},
            )
        out["from_name"] = name.strip()
    if "due_hours" in body:
        hours = body["due_hours"]
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= MAX_DUE_HOURS:
            raise ValidationError(f"due_hours must be an integer 1..{MAX_DUE_HOURS}", details={"field": "due_hours"})
        out["due_hours"] = hours
    return out


# ------------------------------------------------------------------ when


def quiet_until(prefs: Preferences, zone: str, now_ms: int) -> int | None:
    """The end of the quiet window ``now_ms`` falls in (epoch ms), or None if it is not in
    one. The window is in the employee's zone and may wrap midnight (22:00-08:00)."""
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return None
    tz = validate_timezone(prefs.timezone or zone)
    local = datetime.fromtimestamp(now_ms / 1000, tz)
    minute = local.hour * 60 + local.minute
    start, end = prefs.quiet_start, prefs.quiet_end
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    wall = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=tz)
    # fold/gap: zoneinfo resolves a wall time in a DST gap forward, never into the past
    return max(int(wall.timestamp() * 1000), now_ms + 60_000)


def hour_window(now_ms: int) -> tuple[int, int]:
    """(the clock hour ``now_ms`` is in, the start of the next one), both epoch ms."""
    start = now_ms - now_ms % _HOUR_MS
    return start, start + _HOUR_MS


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one due message: ``send``, ``skip`` (with the reason, final) or
    ``later`` (``at`` epoch ms)."""

    action: str
    reason: str = ""
    at: int | None = None


def decide(
    *,
    kind: str,
    channel: str,
    active: bool,
    has_address: bool,
    tenant_enabled: bool,
    prefs: Preferences,
    zone: str,
    now_ms: int,
) -> Decision:
    """Shlink-style single place for "should this message go out now"."""
    if not active:
        return Decision("skip", "offboarded")
    if not tenant_enabled:
        return Decision("skip", "channel_off")
    if not prefs.wants(kind, channel):
        return Decision("skip", "preference")
    if not has_address:
        return Decision("skip", "no_address")
    until = quiet_until(prefs, zone, now_ms)
    if until is not None:
        return Decision("later", "quiet_hours", until)
    return Decision("send")


# ------------------------------------------------------------------ the weekly digest

DIGEST_HOUR = 9  # Monday, in the tenant's zone: the week that ended on Sunday


def digest_due(zone: str, now_ms: int) -> str | None:
    """The ISO week a digest is due for at ``now_ms`` (Monday from 09:00 local, the week
    before), else None. Every hourly run of the day names the same week: the event's key,
    so the first run announces it and the others write nothing."""
    local = datetime.fromtimestamp(now_ms / 1000, validate_timezone(zone))
    if local.isoweekday() != 1 or local.hour < DIGEST_HOUR:
        return None
    iso = (local - timedelta(days=7)).isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


SUMMARY_HOUR = 8  # every day, in the tenant's zone: the day before


def summary_due(zone: str, now_ms: int) -> str | None:
    """The day (YYYY-MM-DD, the tenant's) an admin's daily summary is due for at ``now_ms``:
    from 08:00 local, yesterday; else None. Every hourly run of the day names the same day,
    the event's key, so the summary is announced once."""
    local = datetime.fromtimestamp(now_ms / 1000, validate_timezone(zone))
    if local.hour < SUMMARY_HOUR:
        return None
    return (local.date() - timedelta(days=1)).isoformat()


def top_names(rows: list[tuple[str, int]], names: Mapping[str, str], n: int = 3) -> str:
    """ "Alice (40), Bob (25), …": the ``n`` best rows with a score, by name where known."""
    best = sorted((r for r in rows if r[1] > 0), key=lambda r: (-r[1], r[0]))[:n]
    return ", ".join(f"{names.get(member) or member} ({score})" for member, score in best)


def rank_of(rows: list[tuple[str, int]], member: str) -> tuple[int | None, int]:
    """(1-based competition rank of ``member`` in a board's top rows or None, its score)."""
    score = dict(rows).get(member)
    if score is None:
        return None, 0
    return 1 + sum(1 for _, s in rows if s > score), int(score)


# ------------------------------------------------------------------ what


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


# subject, first line, button label (str.format fields from the message data)
_COPY: dict[str, dict[str, tuple[str, str, str]]] = {
    "task.assigned": {
        "en": ("New task: {title}", "You have a new task to share: {title}.", "Open the task"),
        "ja": ("新しいタスク: {title}", "シェアする新しいタスクがあります: {title}", "タスクを開く"),
        "zh-Hans": ("新任务：{title}", "你有一个新的分享任务：{title}", "打开任务"),
        "zh-Hant": ("新任務：{title}", "你有一個新的分享任務：{title}", "開啟任務"),
    },
    "task.due": {
        "en": (
            "{hours} h left: {title}",
            "The task “{title}” closes in {hours} hours and you have not shared it yet.",
            "Share now",
        ),
        "ja": (
            "残り{hours}時間: {title}",
            "タスク「{title}」はあと{hours}時間で締め切られます。まだシェアされていません。",
            "今すぐシェア",
        ),
        "zh-Hans": ("还剩 {hours} 小时：{title}", "任务「{title}」将在 {hours} 小时后截止，你还没有分享。", "立即分享"),
        "zh-Hant": ("還剩 {hours} 小時：{title}", "任務「{title}」將在 {hours} 小時後截止，你還沒有分享。", "立即分享"),
    },
    "lead.assigned": {
        "en": (
            "New lead: {name}",
            "{name} left their details through your link. Contact them soon.",
            "Open my customers",
        ),
        "ja": (
            "新しいリード: {name}",
            "{name} さんがあなたのリンクから連絡先を残しました。早めに連絡しましょう。",
            "顧客を開く",
        ),
        "zh-Hans": ("新线索：{name}", "{name} 通过你的链接留下了联系方式，请尽快联系。", "打开我的客户"),
        "zh-Hant": ("新線索：{name}", "{name} 透過你的連結留下了聯絡方式，請儘快聯繫。", "開啟我的客戶"),
    },
    "digest.weekly": {
        "en": (
            "Your week {week}: {points} points, #{rank}",
            "Last week you earned {points} points (rank {rank} of {ranked}); your balance is {balance}. "
            "Team {team}: {team_points} points, rank {team_rank}.",
            "See my points",
        ),
        "ja": (
            "週次まとめ {week}: {points}ポイント・{rank}位",
            "先週は{points}ポイントを獲得しました({ranked}人中{rank}位)。残高は{balance}ポイントです。"
            "チーム{team}: {team_points}ポイント・{team_rank}位。",
            "ポイントを見る",
        ),
        "zh-Hans": (
            "每周小结 {week}：{points} 积分，第 {rank} 名",
            "上周你获得 {points} 积分(共 {ranked} 人，第 {rank} 名)，当前余额 {balance}。"
            "团队 {team}：{team_points} 积分，第 {team_rank} 名。",
            "查看我的积分",
        ),
        "zh-Hant": (
            "每週小結 {week}：{points} 積分，第 {rank} 名",
            "上週你獲得 {points} 積分(共 {ranked} 人，第 {rank} 名)，目前餘額 {balance}。"
            "團隊 {team}：{team_points} 積分，第 {team_rank} 名。",
            "查看我的積分",
        ),
    },
    "summary.daily": {
        "en": (
            "Program {day}: {visits} visits, {leads} leads",
            "On {day}: {visits} visits ({unique_visitors} people), {forwards} forwards, {leads} leads, "
            "{conversions} deals and {points} points; {earners} of {staff} employees earned points. "
            "Top: {top}. Anti-fraud signals to review: {signals}.",
            "Open the dashboard",
        ),
        "ja": (
            "プログラム日報 {day}: 訪問{visits}・リード{leads}",
            "{day}: 訪問{visits}回({unique_visitors}人)、転送{forwards}回、リード{leads}件、成約{conversions}件、"
            "{points}ポイント。社員{staff}人中{earners}人がポイントを獲得しました。上位: {top}。"
            "レビュー待ちの不正シグナル: {signals}件。",
            "ダッシュボードを開く",
        ),
        "zh-Hans": (
            "项目日报 {day}：访问 {visits}，线索 {leads}",
            "{day}：访问 {visits} 次({unique_visitors} 人)，转发 {forwards} 次，线索 {leads} 条，"
            "成交 {conversions} 单，积分 {points}；{staff} 名员工中有 {earners} 人获得积分。"
            "前列：{top}。待审核的风控信号：{signals} 条。",
            "打开数据看板",
        ),
        "zh-Hant": (
            "專案日報 {day}：訪問 {visits}，線索 {leads}",
            "{day}：訪問 {visits} 次({unique_visitors} 人)，轉發 {forwards} 次，線索 {leads} 條，"
            "成交 {conversions} 筆，積分 {points}；{staff} 名員工中有 {earners} 人獲得積分。"
            "前列：{top}。待審核的風控訊號：{signals} 條。",
            "開啟數據看板",
        ),
    },
    "reward.fulfilled": {
        "en": (
            "Your reward is on its way: {reward}",
            "Your redemption of {reward} has been fulfilled.",
            "Open the mall",
        ),
        "ja": ("特典を発送しました: {reward}", "{reward} の交換が完了しました。", "ポイントモールを開く"),
        "zh-Hans": ("你的奖励已发放：{reward}", "你兑换的 {reward} 已发放。", "打开积分商城"),
        "zh-Hant": ("你的獎勵已發放：{reward}", "你兌換的 {reward} 已發放。", "開啟積分商城"),
    },
}
_FOOTER = {
    "en": ("You receive this because you are part of {company}'s advocacy program.", "Unsubscribe from these e-mails"),
    "ja": (
        "{company} のアンバサダープログラムに参加しているため、このメールをお送りしています。",
        "このメールの配信を停止",
    ),
    "zh-Hans": ("你收到这封邮件是因为你参加了 {company} 的全员营销计划。", "退订此类邮件"),
    "zh-Hant": ("你收到這封郵件是因為你參加了 {company} 的全員行銷計畫。", "取消訂閱此類郵件"),
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, lang: str, data: Mapping[str, Any], *, url: str, unsubscribe_url: str, company: str) -> Rendered:
    """Subject, plain text and HTML of one message; every value from the data is escaped in
    the HTML and stripped of line breaks in the subject (no header injection)."""
    copy = _COPY[kind].get(lang) or _COPY[kind]["en"]
    footer, unsubscribe = _FOOTER.get(lang) or _FOOTER["en"]
    values = _Blank({k: str(v) for k, v in data.items()})
    subject = " ".join(copy[0].format_map(values).split())[:200]
    line = copy[1].format_map(values)
    note = footer.format(company=company or "Ripple")
    text = f"{line}\n\n{copy[2]}: {url}\n\n--\n{note}\n{unsubscribe}: {unsubscribe_url}\n"
    esc = html.escape
    body = (
        f'<!doctype html><html lang="{esc(lang)}"><head><meta charset="utf-8"><title>{esc(subject)}</title></head>'
        '<body style="font-family:system-ui,sans-serif;color:#111827;line-height:1.5">'
        f"<p>{esc(line)}</p>"
        f'<p><a href="{esc(url)}" style="display:inline-block;background:#1d4ed8;color:#ffffff;padding:10px 16px;'
        f'border-radius:6px;text-decoration:none">{esc(copy[2])}</a></p>'
        f'<hr><p style="font-size:12px;color:#4b5563">{esc(note)}<br>'
        f'<a href="{esc(unsubscribe_url)}" style="color:#1d4ed8">{esc(unsubscribe)}</a></p></body></html>'
    )
    return Rendered(subject, text, body)


# ------------------------------------------------------------------ unsubscribe


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, b"ripple-unsubscribe\x00" + payload.encode(), hashlib.sha256).digest()[:16]


def unsubscribe_token(key: bytes, tenant_id: str, employee_id: str, kind: str) -> str:
    """``<payload>.<mac>``: names whom and what to stop, and proves we issued it (no sign-in
    needed, as RFC 8058 one-click unsubscribe requires). ``kind`` "*" = every kind."""
    payload = f"{tenant_id}\x1f{employee_id}\x1f{kind}"
    return f"{_b64(payload.encode())}.{_b64(_mac(key, payload))}"


def read_unsubscribe_token(key: bytes, token: object) -> tuple[str, str, str]:
    """(tenant, employee, kind) of a token we issued; ValidationError for anything else."""
    bad = ValidationError("the unsubscribe link is not valid", details={"field": "t"})
    if not isinstance(token, str) or len(token) > 400 or token.count(".") != 1:
        raise bad
    head, mac = token.split(".")
    try:
        payload = _unb64(head).decode()
        given = _unb64(mac)
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not hmac.compare_digest(_mac(key, payload), given):
        raise bad
    parts = payload.split("\x1f")
    if len(parts) != 3 or (parts[2] not in KINDS and parts[2] != "*"):
        raise bad
    return parts[0], parts[1], parts[2]

"""The page behind a notification e-mail's unsubscribe link (``/unsubscribe?t=…``).

GET never changes anything (mail scanners and link previews follow links): it shows what
the link stops and a button that POSTs the same URL, which is also what a mail client's
RFC 8058 one-click unsubscribe sends. No script, no external resources; every value escaped.
"""

from __future__ import annotations

import html

__all__ = ["UNSUBSCRIBE_POLICY", "render_unsubscribe_page"]

UNSUBSCRIBE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

_KIND_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "task.assigned": "new tasks",
        "task.due": "task reminders",
        "lead.assigned": "new leads",
        "reward.fulfilled": "fulfilled rewards",
        "digest.weekly": "the weekly digest",
        "summary.daily": "the daily program summary",
        "*": "all notifications",
    },
    "ja": {
        "task.assigned": "新しいタスク",
        "task.due": "タスクのリマインダー",
        "lead.assigned": "新しいリード",
        "reward.fulfilled": "特典の発送",
        "digest.weekly": "週次まとめ",
        "summary.daily": "プログラム日報",
        "*": "すべての通知",
    },
    "zh-Hans": {
        "task.assigned": "新任务",
        "task.due": "任务提醒",
        "lead.assigned": "新线索",
        "reward.fulfilled": "奖励发放",
        "digest.weekly": "每周小结",
        "summary.daily": "项目日报",
        "*": "所有通知",
    },
    "zh-Hant": {
        "task.assigned": "新任務",
        "task.due": "任務提醒",
        "lead.assigned": "新線索",
        "reward.fulfilled": "獎勵發放",
        "digest.weekly": "每週小結",
        "summary.daily": "專案日報",
        "*": "所有通知",
    },
}
_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop e-mails about {what}?",
        "button": "Unsubscribe",
        "done": "Done: you will no longer get e-mails about {what}.",
        "more": "You can turn them back on in the app under notification settings.",
    },
    "ja": {
        "title": "配信停止",
        "ask": "{what}のメールを停止しますか?",
        "button": "配信を停止する",
        "done": "{what}のメールを停止しました。",
        "more": "アプリの通知設定からいつでも再開できます。",
    },
    "zh-Hans": {
        "title": "退订",
        "ask": "不再接收关于{what}的邮件？",
        "button": "退订",
        "done": "已退订：你将不再收到关于{what}的邮件。",
        "more": "你可以随时在应用的通知设置中重新开启。",
    },
    "zh-Hant": {
        "title": "取消訂閱",
        "ask": "不再接收關於{what}的郵件？",
        "button": "取消訂閱",
        "done": "已取消訂閱：你將不再收到關於{what}的郵件。",
        "more": "你可以隨時在應用程式的通知設定中重新開啟。",
    },
}


def render_unsubscribe_page(lang: str, kind: str, action: str, *, done: bool) -> str:
    """``action``: the URL the button POSTs to (the link itself)."""
    strings = _STRINGS.get(lang) or _STRINGS["en"]
    names = _KIND_NAMES.get(lang) or _KIND_NAMES["en"]
    what = names.get(kind, names["*"])
    esc = html.escape
    if done:
        main = f'<p role="status">{esc(strings["done"].format(what=what))}</p><p>{esc(strings["more"])}</p>'
    else:
        main = (
            f"<p>{esc(strings['ask'].format(what=what))}</p>"
            f'<form method="post" action="{esc(action)}">'
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
            f'<button type="submit">{esc(strings["button"])}</button></form>'
        )
    return (
        f'<!doctype html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(strings['title'])}</title><style>"
        "body{font-family:system-ui,sans-serif;color:#111827;max-width:32rem;margin:3rem auto;padding:0 1rem;"
        "line-height:1.5}button{background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:.7rem 1.2rem;"
        "font-size:1rem;cursor:pointer}button:focus-visible{outline:3px solid #111827;outline-offset:2px}"
        f"</style></head><body><main><h1>{esc(strings['title'])}</h1>{main}</main></body></html>"
    )

"""The public page of an employee's approved story (``/story/{code}``): one small document.

Opened inside WeChat, LINE and phone browsers like the business card, so it is one response
of a few KB (inline CSS, one nonce'd script that only shares), served under the card's strict
CSP (images come from this origin, a redirect to presigned S3 URLs). The text is the author's
plain text, HTML-escaped, newlines kept; the policy refused markup before it was approved.
"""

from __future__ import annotations

import html

from ripple.web.landing_page import _check_nonce, script_json

__all__ = ["STORY_STRINGS", "render_story_page"]

STORY_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "by": "A story by {name}",
        "campaign": "Learn more",
        "share": "Share",
        "copied": "Link copied",
        "link": "Story link",
        "image": "Image {n} of {total}",
    },
    "ja": {
        "by": "{name}さんのストーリー",
        "campaign": "詳しく見る",
        "share": "共有する",
        "copied": "リンクをコピーしました",
        "link": "ストーリーのリンク",
        "image": "画像 {n}/{total}",
    },
    "zh-Hans": {
        "by": "{name} 的故事",
        "campaign": "了解更多",
        "share": "分享",
        "copied": "链接已复制",
        "link": "故事链接",
        "image": "图片 {n}/{total}",
    },
    "zh-Hant": {
        "by": "{name} 的故事",
        "campaign": "了解更多",
        "share": "分享",
        "copied": "連結已複製",
        "link": "故事連結",
        "image": "圖片 {n}/{total}",
    },
}

_CSS = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.6 system-ui,-apple-system,'Hiragino Sans',"
    "'PingFang SC','Microsoft YaHei',sans-serif;background:#eef1f5;color:#1b1f24}"
    "main{max-width:560px;margin:0 auto;padding:16px}"
    "article{background:#fff;border-radius:16px;padding:20px;box-shadow:0 2px 10px #0001;overflow-wrap:anywhere}"
    "h1{font-size:1.35rem;margin:0 0 4px}.by{margin:0 0 12px;color:#4a5563}.text{white-space:pre-line}"
    ".imgs{display:grid;grid-template-columns:repeat(3,1fr);gap:4px;margin:12px 0}"
    ".imgs.n1{grid-template-columns:1fr}.imgs.n2,.imgs.n4{grid-template-columns:1fr 1fr}"
    ".imgs img{width:100%;aspect-ratio:1;object-fit:cover;border-radius:6px;display:block}"
    ".imgs.n1 img{aspect-ratio:auto}"
    "a.cta,button{display:block;width:100%;text-align:center;padding:12px 8px;border-radius:10px;border:0;"
    "font:inherit;min-height:44px;margin-top:10px;cursor:pointer;text-decoration:none}"
    "a.cta{background:#0b5cad;color:#fff}button{background:#e3ebf5;color:#0b3d73}"
    "a:focus-visible,button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}"
    "input{width:100%;margin-top:8px;padding:8px;border:1px solid #c8ced6;border-radius:8px;font:inherit}"
    ".st{min-height:1.5em;margin:4px 0;color:#256029}"
)

_SCRIPT = (
    "(function(){var c=%s,s=document.getElementById('share'),st=document.getElementById('share-status');"
    "s.addEventListener('click',function(){if(navigator.share){navigator.share({title:c.title,url:c.url})"
    ".catch(function(){});return}var i=document.getElementById('share-link');i.select();"
    "try{navigator.clipboard.writeText(c.url)}catch(e){document.execCommand('copy')}st.textContent=c.t.copied})})();"
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def render_story_page(
    *,
    lang: str,
    author: str,
    title: str,
    text: str,
    images: list[str],
    campaign_url: str | None,
    share_url: str,
    nonce: str,
) -> str:
    """The story in the page chrome of ``lang`` (the story itself is in the author's words)."""
    _check_nonce(nonce)
    lang = lang if lang in STORY_STRINGS else "en"
    t = STORY_STRINGS[lang]
    by = t["by"].format(name=author)
    description = text.replace("\n", " ")[:160]
    head = (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">'
        '<meta name="referrer" content="same-origin"><meta name="robots" content="noindex">'
        '<link rel="icon" href="data:,">'
        f'<title>{_e(title)}</title><meta property="og:title" content="{_e(title)}">'
        f'<meta property="og:description" content="{_e(description)}">'
        + (f'<meta property="og:image" content="{_e(images[0])}">' if images else "")
        + f"<style>{_CSS}</style></head>"
    )
    parts = [head, '<body><main><article id="story">', f"<h1>{_e(title)}</h1>", f'<p class="by">{_e(by)}</p>']
    parts.append(f'<p class="text">{_e(text)}</p>')
    if images:
        total = len(images)
        cells = "".join(
            f'<img src="{_e(url)}" alt="{_e(t["image"].format(n=i + 1, total=total))}" loading="lazy">'
            for i, url in enumerate(images)
        )
        parts.append(f'<div class="imgs n{total}">{cells}</div>')
    if campaign_url:
        parts.append(f'<a class="cta" id="campaign" href="{_e(campaign_url)}">{_e(t["campaign"])}</a>')
    parts.append(
        f'<button type="button" id="share">{_e(t["share"])}</button>'
        f'<input id="share-link" type="url" readonly value="{_e(share_url)}" aria-label="{_e(t["link"])}">'
        '<p class="st" id="share-status" role="status" aria-live="polite"></p></article></main>'
    )
    config = {"url": share_url, "title": title, "t": {"copied": t["copied"]}}
    parts.append(f'<script nonce="{nonce}">{_SCRIPT % script_json(config)}</script></body></html>')
    return "".join(parts)

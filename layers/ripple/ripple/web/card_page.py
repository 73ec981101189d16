"""The public business card page (``/c/{code}``): one small self-contained HTML document.

Like the hosted landing page it is opened in WeChat, LINE and phone browsers, so it is one
response of a few KB (inline CSS, one nonce'd script, images only if the employee set them)
served under ``landing_page.content_security_policy``. Every value is HTML-escaped; the
script's values are JSON-encoded for a ``<script>`` context. Call, e-mail, save contact and
campaign links are plain links that work without the script; the script only reports the
tap (``navigator.sendBeacon``) and shares the card.
"""

from __future__ import annotations

import html

from ripple.domain.card import CardProfile, CompanyCard
from ripple.web.landing_page import _check_nonce, content_security_policy, script_json

__all__ = ["CARD_STRINGS", "card_security_policy", "render_card_page"]

CARD_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "call": "Call",
        "email": "E-mail",
        "save": "Save contact",
        "share": "Share card",
        "copied": "Link copied",
        "campaigns": "What I'm sharing",
        "wechat": "WeChat",
        "line": "LINE",
        "company": "Company card",
        "link": "Card link",
        "website": "Website",
    },
    "ja": {
        "call": "電話する",
        "email": "メール",
        "save": "連絡先に保存",
        "share": "名刺を共有",
        "copied": "リンクをコピーしました",
        "campaigns": "ご紹介中のキャンペーン",
        "wechat": "WeChat",
        "line": "LINE",
        "company": "会社の名刺",
        "link": "名刺のリンク",
        "website": "ウェブサイト",
    },
    "zh-Hans": {
        "call": "拨打电话",
        "email": "发邮件",
        "save": "保存到通讯录",
        "share": "分享名片",
        "copied": "链接已复制",
        "campaigns": "我正在分享",
        "wechat": "微信",
        "line": "LINE",
        "company": "公司名片",
        "link": "名片链接",
        "website": "官网",
    },
    "zh-Hant": {
        "call": "撥打電話",
        "email": "寄送郵件",
        "save": "儲存到通訊錄",
        "share": "分享名片",
        "copied": "連結已複製",
        "campaigns": "我正在分享",
        "wechat": "微信",
        "line": "LINE",
        "company": "公司名片",
        "link": "名片連結",
        "website": "官網",
    },
}

_CSS = (
    "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Hiragino Sans',"
    "'PingFang SC','Microsoft YaHei',sans-serif;background:#eef1f5;color:#1b1f24}"
    "main{max-width:480px;margin:0 auto;padding:16px}"
    ".card{background:#fff;border-radius:16px;padding:20px;box-shadow:0 2px 10px #0001;overflow-wrap:anywhere}"
    ".top{display:flex;gap:14px;align-items:center}.top img{width:72px;height:72px;border-radius:50%;object-fit:cover}"
    "h1{font-size:1.4rem;margin:0}.sub{margin:2px 0;color:#4a5563}.co{font-weight:600}"
    ".intro{white-space:pre-line;margin:14px 0}"
    ".acts{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:14px 0}"
    ".acts a,button{display:block;text-align:center;padding:12px 8px;border-radius:10px;border:0;font:inherit;"
    "background:#0b5cad;color:#fff;text-decoration:none;min-height:44px;cursor:pointer}"
    ".acts a.alt,button{background:#e3ebf5;color:#0b3d73}"
    "a:focus-visible,button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}"
    ".ids p{margin:4px 0}.qr{width:160px;max-width:100%;display:block;margin:8px auto}"
    "h2{font-size:1rem;margin:18px 0 6px}ul{padding:0;margin:0;list-style:none}"
    "li a{display:block;padding:10px 0;border-top:1px solid #e5e8ec;color:#0b5cad}"
    "input{width:100%;margin-top:8px;padding:8px;border:1px solid #c8ced6;border-radius:8px;font:inherit}"
    ".st{min-height:1.5em;margin:4px 0;color:#256029}"
)

# Report a tap without delaying the link (a beacon survives the navigation), and share the
# card with the visitor's own share link (forwards credit the employee through the chain).
_SCRIPT = (
    "(function(){var c=%s;function tap(a,x){var b=JSON.stringify(x?{action:a,campaign_id:x}:{action:a});"
    "try{if(navigator.sendBeacon&&navigator.sendBeacon(c.taps,new Blob([b],{type:'application/json'})))return}"
    "catch(e){}"
    "try{fetch(c.taps,{method:'POST',body:b,headers:{'Content-Type':'application/json'},keepalive:true})}catch(e){}}"
    "document.querySelectorAll('[data-tap]').forEach(function(el){el.addEventListener('click',function(){"
    "tap(el.getAttribute('data-tap'),el.getAttribute('data-campaign'))})});"
    "var s=document.getElementById('share'),st=document.getElementById('share-status');"
    "if(s)s.addEventListener('click',function(){if(navigator.share){navigator.share({title:c.title,url:c.url})"
    ".catch(function(){});return}var i=document.getElementById('share-link');i.select();"
    "try{navigator.clipboard.writeText(c.url)}catch(e){document.execCommand('copy')}st.textContent=c.t.copied})})();"
)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def card_security_policy(nonce: str, *, local: bool = False) -> str:
    """The landing page's strict policy, with this origin's images too (uploaded photos and
    QR codes are served through ``/c/{code}/images/{slot}``, a redirect to presigned S3
    URLs) and, on the local stack, the loopback (moto's S3), like the console's."""
    extra = " http://127.0.0.1:* http://localhost:*" if local else ""
    return content_security_policy(nonce).replace("img-src https: data:", f"img-src 'self' https: data:{extra}")


def render_card_page(
    *,
    lang: str,
    images: dict[str, str] | None = None,
    name: str,
    card: CardProfile | None,
    company: CompanyCard,
    campaigns: list[tuple[str, str]],
    campaign_ids: list[str],
    share_url: str,
    vcard_url: str,
    taps_url: str,
    nonce: str,
) -> str:
    """The card in ``lang``. ``card`` None (with ``name`` "") is the company card shown for an
    offboarded employee's link. ``campaigns`` are (name, short URL) of what the employee shares;
    ``images`` (slot -> URL: photo, wechat_qr, line_qr) what the card shows for each image."""
    _check_nonce(nonce)
    t = CARD_STRINGS.get(lang) or CARD_STRINGS["en"]
    lang = lang if lang in CARD_STRINGS else "en"
    c = card or CardProfile()
    title = name or company.company or t["company"]
    phone = c.phone or (company.phone if card is None else "")
    email = c.email or (company.email if card is None else "")
    intro = c.intro or (company.intro if card is None else "")
    shown = (
        images if images is not None else {"photo": c.photo_url, "wechat_qr": c.wechat_qr_url, "line_qr": c.line_qr_url}
    )
    image = shown.get("photo") or company.logo_url
    head = (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">'
        '<meta name="referrer" content="same-origin"><meta name="robots" content="noindex">'
        '<link rel="icon" href="data:,">'  # no request for /favicon.ico (the short-link path)
        f'<title>{_e(title)}</title><meta property="og:title" content="{_e(title)}">'
        f'<meta property="og:description" content="{_e(" · ".join(x for x in (c.title, company.company) if x))}">'
        + (f'<meta property="og:image" content="{_e(image)}">' if image else "")
        + f"<style>{_CSS}</style></head>"
    )
    parts = [head, '<body><main><article class="card" id="card">', '<div class="top">']
    if image:
        parts.append(f'<img src="{_e(image)}" alt="" width="72" height="72">')
    parts.append(f"<div><h1>{_e(title)}</h1>")
    if c.title or c.department:
        parts.append(f'<p class="sub">{_e(" · ".join(x for x in (c.department, c.title) if x))}</p>')
    if name and company.company:
        parts.append(f'<p class="sub co">{_e(company.company)}</p>')
    parts.append("</div></div>")
    if intro:
        parts.append(f'<p class="intro">{_e(intro)}</p>')
    acts = []
    if phone:
        acts.append(f'<a id="call" href="tel:{_e(phone)}" data-tap="call">{_e(t["call"])}<br>{_e(phone)}</a>')
    if email:
        acts.append(f'<a id="email" class="alt" href="mailto:{_e(email)}" data-tap="email">{_e(t["email"])}</a>')
    acts.append(f'<a id="save" class="alt" href="{_e(vcard_url)}" data-tap="save" download>{_e(t["save"])}</a>')
    if card is None and company.website:
        acts.append(f'<a class="alt" href="{_e(company.website)}" rel="noopener">{_e(t["website"])}</a>')
    parts.append(f'<nav class="acts">{"".join(acts)}</nav>')
    ids = []
    for key, handle, qr in (
        ("wechat", c.wechat, shown.get("wechat_qr", "")),
        ("line", c.line, shown.get("line_qr", "")),
    ):
        if handle or qr:
            ids.append(f"<p>{_e(t[key])}: {_e(handle)}</p>" if handle else f"<p>{_e(t[key])}</p>")
            if qr:
                ids.append(f'<img class="qr" src="{_e(qr)}" alt="{_e(t[key])} QR" data-tap="{key}" loading="lazy">')
    if ids:
        parts.append(f'<div class="ids">{"".join(ids)}</div>')
    if campaigns:
        items = "".join(
            f'<li><a href="{_e(url)}" data-tap="campaign" data-campaign="{_e(cid)}">{_e(cname)}</a></li>'
            for (cname, url), cid in zip(campaigns, campaign_ids, strict=False)
        )
        parts.append(f'<h2>{_e(t["campaigns"])}</h2><ul id="campaigns">{items}</ul>')
    parts.append(
        f'<button type="button" id="share">{_e(t["share"])}</button>'
        f'<input id="share-link" type="url" readonly value="{_e(share_url)}" aria-label="{_e(t["link"])}">'
        '<p class="st" id="share-status" role="status" aria-live="polite"></p></article></main>'
    )
    config = {"taps": taps_url, "url": share_url, "title": title, "t": {"copied": t["copied"]}}
    parts.append(f'<script nonce="{nonce}">{_SCRIPT % script_json(config)}</script></body></html>')
    return "".join(parts)

"""The hosted landing page, rendered as one small self-contained HTML document.

It is opened inside WeChat, LINE and mobile browsers on slow networks, so it is a single
response well under the ~14 KB of a first TCP round trip: inline CSS, one inline script, the
hero image the only other request. Everything the campaign wrote is untrusted here: text is
HTML-escaped, values for the script are JSON-encoded for a ``<script>`` context, and the page
is meant to be served with ``content_security_policy(nonce)``, under which the one nonce'd
script is the only code that can run (no inline handlers, no external scripts).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from typing import Any

from ripple.domain.landing import Landing

__all__ = [
    "UI_STRINGS",
    "content_security_policy",
    "new_nonce",
    "render_landing_error",
    "render_landing_page",
    "script_json",
    "visitor_region",
]

_NONCE = re.compile(r"^[A-Za-z0-9+/_=-]{8,128}\Z")

UI_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "share": "Share",
        "copied": "Link copied",
        "link": "Link to share",
        "name": "Name",
        "phone": "Phone",
        "country": "Country/region code",
        "email": "Email",
        "message": "Message",
        "required": "required",
        "sending": "Sending…",
        "thanks": "Thank you! We will be in touch soon.",
        "error": "Something went wrong. Please try again.",
        "contact": "Please enter a phone number or an email address.",
        "404": "Page not found",
        "404link": "Link not found",
        "410": "This campaign has ended",
        "other": "This page is not available",
        "hint": "Please check the link you were sent.",
        "ended": "Thank you for your interest. This campaign is over, but there is more to see.",
        "visit": "Visit {company}",
        "visit_site": "Visit the website",
    },
    "ja": {
        "share": "共有",
        "copied": "リンクをコピーしました",
        "link": "共有リンク",
        "name": "お名前",
        "phone": "電話番号",
        "country": "国・地域番号",
        "email": "メールアドレス",
        "message": "メッセージ",
        "required": "必須",
        "sending": "送信中…",
        "thanks": "ありがとうございました。担当者よりご連絡いたします。",
        "error": "エラーが発生しました。もう一度お試しください。",
        "contact": "電話番号またはメールアドレスを入力してください。",
        "404": "ページが見つかりません",
        "404link": "リンクが見つかりません",
        "410": "このキャンペーンは終了しました",
        "other": "このページは表示できません",
        "hint": "受け取ったリンクをご確認ください。",
        "ended": "ご関心をお寄せいただきありがとうございます。"
        "このキャンペーンは終了しましたが、ほかにもご覧いただけます。",
        "visit": "{company} のサイトへ",
        "visit_site": "ウェブサイトへ",
    },
    "zh-Hans": {
        "share": "分享",
        "copied": "链接已复制",
        "link": "分享链接",
        "name": "姓名",
        "phone": "手机号",
        "country": "国家/地区区号",
        "email": "邮箱",
        "message": "留言",
        "required": "必填",
        "sending": "提交中…",
        "thanks": "感谢提交！我们会尽快与您联系。",  # noqa: RUF001 - Chinese punctuation
        "error": "出错了，请稍后重试。",  # noqa: RUF001 - Chinese punctuation
        "contact": "请填写手机号或邮箱。",
        "404": "页面不存在",
        "404link": "链接不存在",
        "410": "活动已结束",
        "other": "页面暂时无法访问",
        "hint": "请检查您收到的链接。",
        "ended": "感谢您的关注。本次活动已结束，欢迎了解更多内容。",  # noqa: RUF001 - Chinese punctuation
        "visit": "访问{company}",
        "visit_site": "访问官网",
    },
    "zh-Hant": {
        "share": "分享",
        "copied": "已複製連結",
        "link": "分享連結",
        "name": "姓名",
        "phone": "電話",
        "country": "國家/地區區號",
        "email": "電子郵件",
        "message": "留言",
        "required": "必填",
        "sending": "傳送中…",
        "thanks": "感謝您的填寫！我們將盡快與您聯繫。",  # noqa: RUF001 - Chinese punctuation
        "error": "發生錯誤，請稍後再試。",  # noqa: RUF001 - Chinese punctuation
        "contact": "請填寫電話或電子郵件。",
        "404": "找不到頁面",
        "404link": "找不到連結",
        "410": "活動已結束",
        "other": "目前無法顯示此頁面",
        "hint": "請確認您收到的連結。",
        "ended": "感謝您的關注。本次活動已結束，歡迎了解更多內容。",  # noqa: RUF001 - Chinese punctuation
        "visit": "造訪{company}",
        "visit_site": "造訪官網",
    },
}

# Han characters look different per locale; each language lists its own CJK faces first.
_CJK_FONTS = {
    "en": '"PingFang SC","Hiragino Sans","Microsoft YaHei","Noto Sans CJK SC"',
    "ja": '"Hiragino Sans","Hiragino Kaku Gothic ProN","Yu Gothic","Meiryo","Noto Sans CJK JP"',
    "zh-Hans": '"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC"',
    "zh-Hant": '"PingFang TC","PingFang HK","Microsoft JhengHei","Noto Sans CJK TC","Source Han Sans TC"',
}

_CSS = (
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f6f7f9;color:#1d2129;line-height:1.6;font-size:16px;"
    "font-family:system-ui,-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,'Helvetica Neue',Arial,%s,sans-serif;"
    "-webkit-text-size-adjust:100%%}"
    "main{max-width:560px;margin:0 auto;background:#fff;min-height:100vh;padding-bottom:24px}"
    ".hero{display:block;width:100%%;height:auto}"
    ".c{padding:0 20px}"
    "h1{font-size:1.5em;line-height:1.3;margin:20px 0 12px;overflow-wrap:anywhere}"
    "p{margin:0 0 12px;overflow-wrap:anywhere}"
    "button{font:inherit;border:0;border-radius:8px;padding:12px 16px;width:100%%;cursor:pointer}"
    "button:disabled{opacity:.6}"
    ".share{background:#eef3ff;color:#1f5eff;margin:8px 0}"
    ".submit{background:#1f5eff;color:#fff;font-weight:600;margin-top:8px}"
    "input,textarea,select{font:inherit;width:100%%;padding:10px 12px;border:1px solid #c9cdd4;border-radius:8px;"
    "background:#fff;color:inherit}"
    "textarea{resize:vertical}"
    ".link{font-size:.875em;color:#4e5969}"
    "form{margin-top:20px;border-top:1px solid #e5e6eb;padding-top:8px}"
    "label{display:block;margin:12px 0 4px;font-weight:600}"
    ".req{color:#d03050;font-weight:400;font-size:.8em;margin-left:4px}"
    ".consent{display:flex;gap:8px;align-items:flex-start;font-weight:400;font-size:.875em;color:#4e5969}"
    ".consent input{width:auto;margin-top:4px;flex:none}"
    ".disc{margin-top:2em;font-size:.75em;color:#86909c}"
    ".st{min-height:1.6em;margin:12px 0 0}"
    ".st.err{color:#d03050}"
    ".thanks{font-size:1.125em;font-weight:600;color:#00a870;margin:24px 0}"
    "#company{margin:24px 0 0;font-weight:600}"
    ".visit{display:block;text-align:center;background:#1f5eff;color:#fff;font-weight:600;border-radius:8px;"
    "padding:12px 16px;text-decoration:none;margin-top:20px}"
)

# The whole client: share (Web Share API, clipboard fallback) and the lead form. Reads its
# configuration from ``C``; writes only with textContent, never as HTML.
_SCRIPT = """(function(){
var C=%s,d=document;
function $(i){return d.getElementById(i)}
var st=$("share-status"),ln=$("share-link");
function copied(){st.textContent=C.t.copied}
function fallback(){ln.focus();ln.select();try{if(d.execCommand("copy"))copied()}catch(e){}}
$("share").addEventListener("click",function(){
if(navigator.share){navigator.share({title:C.title,url:C.share}).catch(function(){});return}
if(navigator.clipboard&&navigator.clipboard.writeText){navigator.clipboard.writeText(C.share).then(copied,fallback);return}
fallback()});
var f=$("lead");if(!f)return;
var b=$("submit"),ls=$("lead-status"),label=b.textContent;
function show(m,err){ls.textContent=m;ls.className=err?"st err":"st"}
f.addEventListener("submit",function(ev){
ev.preventDefault();
var p={token:C.token,consent:true,lang:C.lang};
["name","phone","email","message","country"].forEach(function(k){
var e=f.elements[k];if(e&&e.value.trim())p[k]=e.value.trim()});
if(C.contact&&!p.phone&&!p.email){show(C.t.contact,true);return}
b.disabled=true;b.textContent=C.t.sending;show("",false);
fetch(C.leads,{method:"POST",credentials:"same-origin",headers:{"Content-Type":"application/json"},body:JSON.stringify(p)})
.then(function(r){
if(r.ok){f.hidden=true;$("thanks").hidden=false;return}
return r.json().then(function(j){return j&&j.error&&j.error.message},function(){}).then(function(m){throw{m:m}})})
.catch(function(e){show(e&&typeof e.m==="string"&&e.m||C.t.error,true);b.disabled=false;b.textContent=label})
})})();"""


def new_nonce() -> str:
    """A fresh CSP nonce (128 random bits, URL-safe base64) for one response."""
    return secrets.token_urlsafe(16)


def _check_nonce(nonce: str) -> str:
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise ValueError("nonce must be 8-128 characters of base64")
    return nonce


def content_security_policy(nonce: str) -> str:
    """The ``Content-Security-Policy`` header value for a page rendered with ``nonce``."""
    return "; ".join(
        (
            "default-src 'none'",
            "img-src https: data:",
            "style-src 'unsafe-inline'",
            f"script-src 'nonce-{_check_nonce(nonce)}'",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def script_json(value: Any) -> str:
    """``value`` as a JavaScript literal safe inside ``<script>``: no ``</script>``, ``<!--`` or line separators."""
    return (
        json.dumps(value, ensure_ascii=True, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _strings(lang: str) -> dict[str, str]:
    return UI_STRINGS.get(lang) or UI_STRINGS["en"]


def _head(lang: str, title: str, extra: str = "") -> str:
    css = _CSS % _CJK_FONTS.get(lang, _CJK_FONTS["en"])
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">'
        '<meta name="referrer" content="same-origin"><meta name="robots" content="noindex">'
        f"<title>{_e(title)}</title>{extra}<style>{css}</style></head>"
    )


def _summary(body: str, limit: int = 160) -> str:
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# The country selector beside the phone field: the regions our visitors phone from, with
# their calling codes (tests check each against libphonenumber). A national number is read
# in the chosen region; left on "—", the server uses the visitor's country and language.
PHONE_REGIONS: tuple[tuple[str, int], ...] = (
    ("CN", 86),
    ("HK", 852),
    ("MO", 853),
    ("TW", 886),
    ("JP", 81),
    ("KR", 82),
    ("SG", 65),
    ("MY", 60),
    ("TH", 66),
    ("VN", 84),
    ("PH", 63),
    ("ID", 62),
    ("IN", 91),
    ("AU", 61),
    ("NZ", 64),
    ("US", 1),
    ("CA", 1),
    ("GB", 44),
    ("DE", 49),
    ("FR", 33),
)


def _country_select(label: str, selected: str) -> str:
    options = ['<option value="">—</option>'] + [
        f'<option value="{region}"{" selected" if region == selected else ""}>{region} +{code}</option>'
        for region, code in PHONE_REGIONS
    ]
    return (
        f'<label for="f-country">{_e(label)}</label>'
        f'<select id="f-country" name="country" autocomplete="country">{"".join(options)}</select>'
    )


def _input(field: str, label: str, required: bool, req_text: str, *, country: str = "", region: str = "") -> str:
    mark = f'<span class="req">{_e(req_text)}</span>' if required else ""
    req = " required" if required else ""
    head = f'<label for="f-{field}">{_e(label)}{mark}</label>'
    if field == "name":
        return head + f'<input id="f-{field}" name="name" type="text" autocomplete="name" maxlength="100"{req}>'
    if field == "phone":
        return (
            _country_select(country, region)
            + head
            + f'<input id="f-{field}" name="phone" type="tel" autocomplete="tel" maxlength="32"{req}>'
        )
    if field == "email":
        return head + f'<input id="f-{field}" name="email" type="email" autocomplete="email" maxlength="254"{req}>'
    return head + f'<textarea id="f-{field}" name="message" rows="4" maxlength="2000"{req}></textarea>'


def render_landing_page(
    landing: Landing,
    lang: str,
    *,
    share_url: str,
    leads_url: str,
    share_token: str,
    nonce: str,
    campaign_name: str,
    phone_region: str = "",
) -> str:
    """The complete page in ``lang`` (the default language's copy when there is none in ``lang``).
    ``phone_region`` preselects the phone field's country (the visitor's, when known)."""
    _check_nonce(nonce)
    if lang not in landing.copies:
        lang = landing.default_lang
    copy = landing.copy_for(lang)
    t = _strings(lang)

    og = [
        '<meta property="og:type" content="website">',
        f'<meta property="og:title" content="{_e(copy.title)}">',
        f'<meta property="og:description" content="{_e(_summary(copy.body) or campaign_name)}">',
        f'<meta property="og:url" content="{_e(share_url)}">',
        f'<meta property="og:site_name" content="{_e(campaign_name)}">',
    ]
    if landing.image_url:
        og.append(f'<meta property="og:image" content="{_e(landing.image_url)}">')
        og.append('<meta name="twitter:card" content="summary_large_image">')

    parts = [_head(lang, copy.title, "".join(og)), "<body><main>"]
    if landing.image_url:
        parts.append(f'<img class="hero" src="{_e(landing.image_url)}" alt="{_e(copy.title)}" loading="eager">')
    parts.append(f'<div class="c"><h1>{_e(copy.title)}</h1>')
    parts.extend(f"<p>{_e(line.strip())}</p>" for line in copy.body.splitlines() if line.strip())
    parts.append(
        f'<button type="button" class="share" id="share">{_e(t["share"])}</button>'
        f'<input class="link" id="share-link" type="url" readonly value="{_e(share_url)}" aria-label="{_e(t["link"])}">'
        '<p class="st" id="share-status" role="status" aria-live="polite"></p>'
    )
    if landing.fields:
        parts.append(f'<form id="lead" method="post" action="{_e(leads_url)}">')
        parts.extend(
            _input(f, t[f], f in landing.required, t["required"], country=t["country"], region=phone_region)
            for f in landing.fields
        )
        consent = "<br>".join(_e(line) for line in copy.consent.splitlines())
        parts.append(
            '<label class="consent"><input type="checkbox" name="consent" id="f-consent" value="true" required>'
            f"<span>{consent}</span></label>"
            f'<button type="submit" class="submit" id="submit">{_e(copy.cta)}</button>'
            '<p class="st" id="lead-status" role="alert" aria-live="assertive"></p></form>'
            f'<p class="thanks" id="thanks" role="status" hidden>{_e(t["thanks"])}</p>'
        )
    if copy.disclosure:
        parts.append(f'<p class="disc">{_e(copy.disclosure)}</p>')
    parts.append("</div></main>")

    config = {
        "token": share_token,
        "lang": lang,
        "leads": leads_url,
        "share": share_url,
        "title": copy.title,
        # Neither contact field required by the form itself: the script asks for one of them.
        "contact": not ({"phone", "email"} & set(landing.required)),
        "t": {k: t[k] for k in ("copied", "sending", "error", "contact")},
    }
    parts.append(f'<script nonce="{nonce}">{_SCRIPT % script_json(config)}</script></body></html>')
    return "".join(parts)


def render_landing_error(
    lang: str, status: int, *, company: str = "", website: str = "", short_link: bool = False
) -> str:
    """A small localized page for a missing (404) or ended (410) campaign. An ended
    campaign's page names the ``company`` and links to its ``website`` (the tenant's
    ``ended_url``, an https URL normalised when it was saved)."""
    t = _strings(lang)
    lang = lang if lang in UI_STRINGS else "en"
    heading = t[str(status)] if status in (404, 410) else t["other"]
    if status == 404 and short_link:
        heading = t["404link"]
    brand = f'<p class="link" id="company">{_e(company)}</p>' if status == 410 and company else ""
    text = t["ended"] if status == 410 else t["hint"]
    button = ""
    if status == 410 and website.startswith("https://"):
        label = t["visit"].replace("{company}", company) if company else t["visit_site"]
        button = f'<p><a class="visit" id="visit" href="{_e(website)}" rel="noopener">{_e(label)}</a></p>'
    return (
        _head(lang, heading)
        + f'<body><main><div class="c">{brand}<h1>{_e(heading)}</h1><p>{_e(text)}</p>{button}</div></main>'
        + "</body></html>"
    )


def visitor_region(country: str, accept_language: str) -> str:
    """The region the form's country selector starts on: where the visitor is, else what
    their browser's first language says (``ja`` -> JP); "" leaves it on "—"."""
    from ripple.domain.contact import phone_regions

    first = accept_language.split(",", 1)[0].split(";", 1)[0].strip()
    known = {region for region, _ in PHONE_REGIONS}
    regions = phone_regions(chosen=None, viewer_country=country, lang=first, default="")
    return next((r for r in regions if r in known), "")

"""The web console and the employee page as files: the asset whitelist, the headers, the
dictionaries (same keys in every language, every key the pages use exists, no text in the
HTML that bypasses them) and the route words a short code can never be."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from ripple.domain.errors import NotFoundError
from ripple.web import console

STATIC = console.STATIC_DIR
LANGS = ("en", "ja", "zh-Hans", "zh-Hant")
# Keys built at run time from a prefix and a value of the API (e.g. "channel." + link.channel).
FAMILIES: dict[str, tuple[str, ...]] = {
    "channel": ("wechat", "line", "weibo", "douyin", "xiaohongshu", "linkedin", "x", "email", "other"),
    "nav": (
        "dashboard",
        "campaigns",
        "tasks",
        "boards",
        "customers",
        "pool",
        "rewards",
        "settlements",
        "employees",
        "links",
        "points",
        "card",
        "stories",
    ),
    "story.status": ("draft", "pending", "approved", "rejected", "withdrawn"),
    # the content policy's rules (domain.stories RULE_*), "-" read as "_"
    "story.rule": ("required", "length", "markup", "induced_sharing", "banned_word", "disclosure", "images"),
    "stage": ("exposure", "visit", "forward", "lead", "conversion"),
    "metric": ("exposures", "visits", "card_views", "unique_visitors", "forwards", "leads", "conversions", "points"),
    "tap": ("call", "save", "email", "campaign", "wechat", "line"),
    "card.image": ("photo", "wechat_qr", "line_qr"),
    "by": ("channel", "team", "region", "employee", "device", "os", "country", "campaign"),
    "segment": ("light", "medium", "heavy"),
    "counter": ("delivered", "opened", "shared", "unique_visits", "forwards", "leads"),
    "state": ("open", "closed"),
    "status": ("new", "contacted", "qualified", "won", "lost"),
    "taskstatus": ("delivered", "opened", "shared"),
    "redemption": ("requested", "fulfilled", "cancelled", "done_fulfil", "done_cancel"),
    "reward.kind": ("physical", "virtual_code", "perk", "lead_claim"),
    "dim": ("employee", "team", "region"),
    "error": ("400", "401", "403", "404", "409", "410", "413", "422", "429"),
    "event": ("lead", "status", "tags", "note", "handover", "recycle", "claim", "conversion"),
    "actor": ("public", "attribution", "scheduler"),
}
_KEY_LITERAL = re.compile(r"""["']([a-z][a-z_]*(?:\.[a-z0-9_]*[a-z0-9])+)["']""")


@pytest.fixture(scope="module")
def dictionaries() -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((STATIC / "i18n.json").read_text(encoding="utf-8"))
    return data


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for name in ("common.js", "console.js", "m.js"):
        for key in _KEY_LITERAL.findall((STATIC / name).read_text(encoding="utf-8")):
            if not key.startswith("ripple."):  # storage keys, not strings shown
                keys.add(key)
    for name in console.PAGES.values():
        keys |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', (STATIC / name).read_text(encoding="utf-8")))
    return keys


# ------------------------------------------------------------------ dictionaries


def test_every_language_has_the_same_keys_and_no_empty_string(dictionaries: dict[str, dict[str, str]]) -> None:
    assert tuple(dictionaries) == LANGS == console.LANGUAGES
    en = set(dictionaries["en"])
    assert len(en) > 200
    for lang in LANGS:
        assert set(dictionaries[lang]) == en, f"{lang}: {sorted(set(dictionaries[lang]) ^ en)}"
        assert all(isinstance(v, str) and v.strip() for v in dictionaries[lang].values()), lang


def test_placeholders_match_across_languages(dictionaries: dict[str, dict[str, str]]) -> None:
    for key, text in dictionaries["en"].items():
        wanted = set(re.findall(r"\{(\w+)\}", text))
        for lang in LANGS[1:]:
            assert set(re.findall(r"\{(\w+)\}", dictionaries[lang][key])) == wanted, (lang, key)


def test_translations_are_translated(dictionaries: dict[str, dict[str, str]]) -> None:
    """Most strings differ from English in each other language (ids like "LINE" may not)."""
    en = dictionaries["en"]
    for lang in LANGS[1:]:
        same = [k for k, v in dictionaries[lang].items() if v == en[k]]
        assert len(same) < len(en) * 0.15, (lang, same)
    assert dictionaries["ja"]["nav.tasks"] == "タスク"
    assert dictionaries["zh-Hans"]["nav.customers"] == "客户"
    assert dictionaries["zh-Hant"]["nav.customers"] == "客戶"


def test_every_key_the_pages_use_exists(dictionaries: dict[str, dict[str, str]]) -> None:
    used = _used_keys()
    assert {"auth.signin", "nav.label", "task.create", "link.copy"} <= used
    missing = sorted(used - set(dictionaries["en"]))
    assert missing == []


def test_every_key_built_at_run_time_exists(dictionaries: dict[str, dict[str, str]]) -> None:
    from ripple.domain.model import CHANNELS

    assert set(FAMILIES["channel"]) == set(CHANNELS)
    missing = [f"{p}.{v}" for p, values in FAMILIES.items() for v in values if f"{p}.{v}" not in dictionaries["en"]]
    assert missing == []


def test_the_key_check_would_catch_a_missing_key(dictionaries: dict[str, dict[str, str]]) -> None:
    en = dict(dictionaries["en"])
    del en["task.create"]
    assert sorted(_used_keys() - set(en)) == ["task.create"]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        if tag == "script" and "src" not in names:
            self.inline_scripts += 1
        if tag == "style" or "style" in names or any(k.startswith("on") for k in names):
            self.inline_styles += 1

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append(data.strip())


@pytest.mark.parametrize("page", sorted(console.PAGES))
def test_html_has_no_text_of_its_own_and_nothing_inline(page: str) -> None:
    """Every visible string is filled in from the dictionary; no inline script, style or handler."""
    parser = _Text()
    parser.feed(console.read_static(console.PAGES[page]))
    assert parser.texts == []
    assert parser.inline_scripts == 0 and parser.inline_styles == 0


def test_the_html_text_check_would_catch_a_literal() -> None:
    parser = _Text()
    parser.feed("<p data-i18n='x.y'></p><button>Sign in</button><script>alert(1)</script>")
    assert parser.texts == ["Sign in", "alert(1)"] and parser.inline_scripts == 1


# ------------------------------------------------------------------ pages and assets


def test_whitelisted_assets_exist_and_nothing_else_is_served() -> None:
    on_disk = {p.name for p in STATIC.iterdir() if p.is_file()}
    assert set(console.ASSETS) | set(console.PAGES.values()) == on_disk
    for name, content_type in console.ASSETS.items():
        served = console.asset(name)
        assert served.body == (STATIC / name).read_text(encoding="utf-8")
        assert served.headers["Content-Type"] == content_type
        assert served.headers["X-Content-Type-Options"] == "nosniff"
    for bad in ("console.html", "../console.py", "..%2Fconsole.py", "app.css/", "APP.CSS", "", "__init__.py"):
        with pytest.raises(NotFoundError):
            console.asset(bad)


def test_asset_caching_is_long_only_for_the_current_version() -> None:
    version = console.asset_version("common.js")
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert console.asset("common.js", version).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert console.asset("common.js", "000000000000").headers["Cache-Control"] == "public, max-age=300"
    assert console.asset("common.js").headers["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("page", sorted(console.PAGES))
def test_pages_reference_versioned_assets_and_carry_a_strict_csp(page: str) -> None:
    served = console.page(page, env="prod")
    assert "{{" not in served.body
    for name in re.findall(r'(?:src|href)="assets/([^"?]+)\?v=', served.body):
        assert name in console.ASSETS
        assert f"assets/{name}?v={console.asset_version(name)}" in served.body
    assert f"assets/{'console' if page == 'console' else 'm'}.js?v=" in served.body
    csp = served.headers["Content-Security-Policy"]
    assert isinstance(csp, str)
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp and "http:" not in csp
    assert served.headers["Content-Type"] == "text/html; charset=utf-8"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    local = console.page(page, env="local").headers["Content-Security-Policy"]
    assert isinstance(local, str) and "http://127.0.0.1:*" in local and "unsafe" not in local


def test_unknown_page_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        console.page("admin", env="prod")


# ------------------------------------------------------------------ short codes vs route words


def test_no_short_code_can_equal_a_one_segment_route() -> None:
    from app import app
    from ripple.service.context import _ALPHABET, Settings
    from ripple.service.links import RESERVED_CODES

    literal = {p.strip("/") for p in app.routes if p.count("/") == 1 and "{" not in p and p != "/"}
    assert {"console", "m", "campaigns"} <= literal
    assert literal <= RESERVED_CODES, sorted(literal - RESERVED_CODES)
    # Some could be drawn ("rewards" is 7 letters of the alphabet): issue_link skips them
    # (tests/functional/test_web_console.py proves it).
    length = Settings(public_base_url="", visitor_secret=b"").code_length
    drawable = sorted(w for w in RESERVED_CODES if len(w) == length and set(w) <= set(_ALPHABET))
    assert drawable == ["rewards"]

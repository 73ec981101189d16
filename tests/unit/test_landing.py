"""landing.py and web/landing_page.py: strict config, language negotiation, a safe small page."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from ripple.domain.errors import ValidationError
from ripple.domain.landing import (
    LANGUAGES,
    Landing,
    LandingCopy,
    canonical_language,
    landing_from_dict,
    landing_to_dict,
    negotiate_language,
    validate_landing,
)
from ripple.web.landing_page import (
    UI_STRINGS,
    content_security_policy,
    new_nonce,
    render_landing_error,
    render_landing_page,
    script_json,
)

NONCE = "n0nce-For-Tests_123"


def valid() -> dict[str, Any]:
    return {
        "default_lang": "zh-Hans",
        "image_url": "https://cdn.example.com/spring/hero.jpg",
        "fields": ["name", "phone", "email", "message"],
        "required": ["name", "phone"],
        "copy": {
            "zh-Hans": {
                "title": "春季新品发布会",
                "body": "欢迎参加我们的春季新品发布会。\n现场有抽奖。",
                "cta": "立即报名",
                "consent": "我同意主办方使用我的联系方式与我联系。",
            },
            "en": {"title": "Spring launch", "body": "Join us.", "cta": "Sign up", "consent": "I agree."},
        },
    }


def field_of(raw: Any) -> tuple[int, Any]:
    with pytest.raises(ValidationError) as exc:
        validate_landing(raw)
    return exc.value.status, exc.value.details.get("field", exc.value.details.get("fields"))


# --- validation ------------------------------------------------------------------------------


def test_valid_config_is_accepted_with_order_kept() -> None:
    landing = validate_landing(valid())
    assert landing.default_lang == "zh-Hans"
    assert landing.fields == ("name", "phone", "email", "message")
    assert landing.required == ("name", "phone")
    assert list(landing.copies) == ["en", "zh-Hans"]  # canonical order, whatever the JSON order
    assert landing.copies["zh-Hans"] == LandingCopy(
        title="春季新品发布会",
        body="欢迎参加我们的春季新品发布会。\n现场有抽奖。",
        cta="立即报名",
        consent="我同意主办方使用我的联系方式与我联系。",
    )
    raw = valid()
    raw["fields"] = ["email", "name"]
    raw["required"] = []
    assert validate_landing(raw).fields == ("email", "name")


def test_minimal_configs() -> None:
    # One language: default_lang may be left out; no form: no cta, consent, image.
    landing = validate_landing({"copy": {"ja": {"title": "春のキャンペーン"}}})
    assert landing == Landing(copies={"ja": LandingCopy(title="春のキャンペーン")}, default_lang="ja")
    # Text is trimmed; CRLF bodies become LF.
    raw = {"copy": {"en": {"title": "  Hi  ", "body": " a\r\nb\rc "}}}
    assert validate_landing(raw).copies["en"] == LandingCopy(title="Hi", body="a\nb\nc")


def test_boundaries_are_inclusive() -> None:
    raw = valid()
    raw["copy"]["en"] = {"title": "t" * 120, "body": "b" * 4000, "cta": "c" * 40, "consent": "k" * 2000}
    raw["image_url"] = "https://cdn.example.com/" + "a" * (2048 - len("https://cdn.example.com/"))
    landing = validate_landing(raw)
    assert len(landing.copies["en"].title) == 120 and len(landing.image_url or "") == 2048


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = raw
        for p in parents:
            node = node[p]
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(raw: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node = raw
        for p in parents:
            node = node[p]
        del node[last]

    return mutate


REJECTS: dict[str, tuple[Callable[[dict[str, Any]], None], Any]] = {
    "unknown top-level key": (_set("colour", "red"), ["colour"]),
    "unknown copy key": (_set("copy/en/subtitle", "x"), ["copy.en.subtitle"]),
    "copy missing": (_drop("copy"), "copy"),
    "copy empty": (_set("copy", {}), "copy"),
    "copy not an object": (_set("copy", ["en"]), "copy"),
    "unsupported language": (_set("copy/fr", {"title": "Bonjour"}), "copy.fr"),
    "language in wrong case": (_set("copy/zh-hant", {"title": "春"}), "copy.zh-hant"),
    "language copy not an object": (_set("copy/en", "Spring"), "copy.en"),
    "default_lang missing with two languages": (_drop("default_lang"), "default_lang"),
    "default_lang not among copies": (_set("default_lang", "ja"), "default_lang"),
    "default_lang unknown": (_set("default_lang", "xx"), "default_lang"),
    "default_lang not a string": (_set("default_lang", 1), "default_lang"),
    "title missing": (_drop("copy/en/title"), "copy.en.title"),
    "title empty": (_set("copy/en/title", ""), "copy.en.title"),
    "title blank": (_set("copy/en/title", " \u3000 "), "copy.en.title"),
    "title too long": (_set("copy/en/title", "t" * 121), "copy.en.title"),
    "title not a string": (_set("copy/en/title", 5), "copy.en.title"),
    "title with newline": (_set("copy/en/title", "a\nb"), "copy.en.title"),
    "title with bidi override": (_set("copy/en/title", "abc\u202egnp.exe"), "copy.en.title"),
    "title with lone surrogate": (_set("copy/en/title", "a\ud800"), "copy.en.title"),
    "body too long": (_set("copy/en/body", "b" * 4001), "copy.en.body"),
    "body with NUL": (_set("copy/en/body", "a\x00b"), "copy.en.body"),
    "body not a string": (_set("copy/en/body", ["a"]), "copy.en.body"),
    "cta missing with a form": (_drop("copy/en/cta"), "copy.en.cta"),
    "cta empty with a form": (_set("copy/en/cta", " "), "copy.en.cta"),
    "cta too long": (_set("copy/en/cta", "c" * 41), "copy.en.cta"),
    "consent missing with a form": (_drop("copy/zh-Hans/consent"), "copy.zh-Hans.consent"),
    "consent too long": (_set("copy/en/consent", "k" * 2001), "copy.en.consent"),
    "image_url http": (_set("image_url", "http://cdn.example.com/a.jpg"), "image_url"),
    "image_url javascript": (_set("image_url", "javascript:alert(1)"), "image_url"),
    "image_url data": (_set("image_url", "data:image/png;base64,iVBORw0KGgo="), "image_url"),
    "image_url relative": (_set("image_url", "/hero.jpg"), "image_url"),
    "image_url scheme-relative": (_set("image_url", "//cdn.example.com/a.jpg"), "image_url"),
    "image_url no host": (_set("image_url", "https:///a.jpg"), "image_url"),
    "image_url with space": (_set("image_url", "https://cdn.example.com/a b.jpg"), "image_url"),
    "image_url non-ascii": (_set("image_url", "https://cdn.example.com/图.jpg"), "image_url"),
    "image_url credentials": (_set("image_url", "https://u:p@cdn.example.com/a.jpg"), "image_url"),
    "image_url bad port": (_set("image_url", "https://cdn.example.com:99999/a.jpg"), "image_url"),
    "image_url too long": (_set("image_url", "https://cdn.example.com/" + "a" * 2030), "image_url"),
    "image_url not a string": (_set("image_url", 42), "image_url"),
    "fields not a list": (_set("fields", "name,phone"), "fields"),
    "fields with a non-string": (_set("fields", ["phone", 1]), "fields"),
    "fields unknown": (_set("fields", ["phone", "address"]), "fields"),
    "fields repeated": (_set("fields", ["phone", "phone"]), "fields"),
    "fields without a contact": (_set("fields", ["name", "message"]), "fields"),
    "required name not in fields": (_set("fields", ["phone"]), "required"),
    "required not a list": (_set("required", "name"), "required"),
    "required repeated": (_set("required", ["name", "name"]), "required"),
    "required unknown": (_set("required", ["age"]), "required"),
}


@pytest.mark.parametrize("case", list(REJECTS))
def test_each_rule_rejects_with_the_field_named(case: str) -> None:
    mutate, field = REJECTS[case]
    raw = valid()
    mutate(raw)
    assert field_of(raw) == (422, field)


@pytest.mark.parametrize("raw", [None, [], "landing", 1])
def test_non_object_is_rejected(raw: Any) -> None:
    assert field_of(raw) == (422, "landing")


def test_required_without_any_fields_is_rejected() -> None:
    raw = valid()
    raw["fields"] = []
    assert field_of(raw) == (422, "required")
    raw["required"] = []
    landing = validate_landing(raw)  # and without a form, cta and consent are optional
    assert landing.fields == () and landing.required == ()
    del raw["copy"]["en"]["cta"], raw["copy"]["en"]["consent"]
    assert validate_landing(raw).copies["en"].cta == ""


def test_optional_keys_may_be_null() -> None:
    raw = valid()
    raw.update(image_url=None, fields=None, required=None)
    landing = validate_landing(raw)
    assert (landing.image_url, landing.fields, landing.required) == (None, (), ())


# --- storage -------------------------------------------------------------------------------


def test_round_trip_through_json() -> None:
    landing = validate_landing(valid())
    stored = json.loads(json.dumps(landing_to_dict(landing)))
    assert landing_from_dict(stored) == landing
    # The stored shape is the accepted shape: an admin can GET it and PUT it back unchanged.
    assert validate_landing(stored) == landing
    bare = validate_landing({"copy": {"en": {"title": "Hi"}}})
    assert landing_from_dict(json.loads(json.dumps(landing_to_dict(bare)))) == bare
    assert landing_to_dict(bare)["image_url"] is None


def test_from_dict_does_not_revalidate() -> None:
    """A page stored under older, looser rules still loads."""
    stored = landing_to_dict(validate_landing(valid()))
    stored["copy"]["en"]["title"] = "t" * 500
    assert landing_from_dict(stored).copies["en"].title == "t" * 500


# --- language negotiation ------------------------------------------------------------------

ALL = LANGUAGES
NEGOTIATION = [
    # (Accept-Language, ?lang=, available, default, expected)
    ("en-US,en;q=0.9", None, ALL, "zh-Hans", "en"),
    ("ja-JP,ja;q=0.9,en;q=0.8", None, ALL, "en", "ja"),
    ("zh-CN,zh;q=0.9", None, ALL, "en", "zh-Hans"),
    ("zh-SG", None, ALL, "en", "zh-Hans"),
    ("zh", None, ALL, "en", "zh-Hans"),
    ("zh-TW,zh;q=0.9,en;q=0.8", None, ALL, "en", "zh-Hant"),
    ("zh-HK", None, ALL, "en", "zh-Hant"),
    ("zh-MO", None, ALL, "en", "zh-Hant"),
    ("zh-Hant-TW", None, ALL, "en", "zh-Hant"),
    ("zh-Hans-HK", None, ALL, "en", "zh-Hans"),  # the script subtag beats the region
    ("zh_TW", None, ALL, "en", "zh-Hant"),
    ("en;q=0.5, ja;q=0.8", None, ALL, "zh-Hans", "ja"),  # q-values, not order
    ("ja;q=0, en", None, ALL, "zh-Hans", "en"),  # q=0 means "not this"
    ("fr-FR,fr;q=0.9", None, ("en", "ja"), "ja", "ja"),  # nothing we have: the default
    ("ja-JP,ja;q=0.9", None, ("zh-Hans", "en"), "zh-Hans", "en"),  # ja falls back to en, not to Chinese
    ("ja", None, ("zh-Hant", "en"), "zh-Hant", "en"),
    ("ja", None, ("zh-Hans", "zh-Hant"), "zh-Hant", "zh-Hant"),  # no en copy: the default
    ("ja,zh-CN;q=0.5", None, ("zh-Hans", "en"), "en", "zh-Hans"),  # the visitor also reads Chinese
    ("zh-TW", None, ("zh-Hans", "en"), "en", "zh-Hans"),  # the other script before the default
    ("zh-CN", None, ("zh-Hant", "ja"), "ja", "zh-Hant"),
    ("zh-TW,en;q=0.5", None, ("zh-Hans", "en"), "zh-Hans", "en"),  # a listed language beats the other script
    ("en", "ja", ALL, "en", "ja"),  # ?lang= wins
    ("en", "zh-TW", ALL, "en", "zh-Hant"),  # ?lang= is mapped like the header
    ("ja", "fr", ALL, "en", "ja"),  # an unavailable ?lang= is ignored
    ("ja", "zh-Hant", ("ja", "en"), "en", "ja"),
    ("ja", "", ALL, "en", "ja"),
    ("*", None, ALL, "zh-Hant", "zh-Hant"),
    ("", None, ALL, "en", "en"),
    (None, None, ALL, "ja", "ja"),
    ("en;q=abc, ja", None, ALL, "zh-Hans", "ja"),  # a malformed q drops only its entry
    ("en;q=2", None, ALL, "ja", "ja"),
    (";;;,,,=,q=1;", None, ALL, "en", "en"),
    ("<script>alert(1)</script>", "<script>", ALL, "en", "en"),
    ("\x00\xff\ud800,zh-TW", "\ud800", ALL, "en", "zh-Hant"),
    ("en-" + "x" * 5000, None, ALL, "ja", "ja"),
    (",".join(["fr"] * 10_000) + ",ja", None, ALL, "en", "en"),  # only the first entries are read
]


@pytest.mark.parametrize(("header", "query", "available", "default", "expected"), NEGOTIATION)
def test_negotiate_language(
    header: str | None, query: str | None, available: tuple[str, ...], default: str, expected: str
) -> None:
    assert negotiate_language(header, query, available, default) == expected  # type: ignore[arg-type]


def test_negotiate_accepts_any_iterable_and_never_raises_on_odd_types() -> None:
    assert negotiate_language("ja", None, iter(["ja", "en"]), "en") == "ja"
    assert negotiate_language(b"ja", 5, ["ja"], "en") == "en"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("EN-gb", "en"), ("ja-JP", "ja"), ("zh-hans", "zh-Hans"), ("ZH-HANT", "zh-Hant"), ("ko", None), ("", None)],
)
def test_canonical_language(tag: str, expected: str | None) -> None:
    assert canonical_language(tag) == expected


# --- rendering -----------------------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of every element, as a browser parses them."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._stack: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "input", "img", "br", "link"):
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._stack:
            self.text.setdefault(self._stack[-1], []).append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def render(landing: Landing, lang: str = "zh-Hans", **overrides: str) -> str:
    kwargs = {
        "share_url": "https://r.example.com/s/abc123?rp=tok123",
        "leads_url": "/p/abc123/leads",
        "share_token": "tok123",
        "nonce": NONCE,
        "campaign_name": "Spring 2026",
    }
    kwargs.update(overrides)
    return render_landing_page(landing, lang, **kwargs)


def script_of(page: str) -> str:
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S | re.I)
    assert len(scripts) == 1
    return scripts[0]


def config_of(page: str) -> dict[str, Any]:
    match = re.search(r"var C=(\{.*?\}),d=document;", script_of(page), re.S)
    assert match
    return dict(json.loads(match.group(1)))


PAYLOADS = ["<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_campaign_text_is_escaped_everywhere(payload: str) -> None:
    text = LandingCopy(title=payload, body=f"{payload}\n{payload}", cta=payload[:40], consent=payload)
    landing = Landing(
        copies={"en": text},
        default_lang="en",
        image_url=f"https://cdn.example.com/{payload}",
        fields=("name", "phone", "email", "message"),
        required=("name",),
    )
    page = render(landing, "en", campaign_name=payload)
    assert payload not in page and payload[:40] not in page
    assert "<img src=x" not in page and "<script>alert" not in page
    assert page.lower().count("<script") == 1 and page.lower().count("</script") == 1
    parsed = Page(page)
    scripts = parsed.find("script")
    assert scripts == [{"nonce": NONCE}]
    assert not [(t, name) for t, a in parsed.tags for name in a if name.startswith("on")]
    # The browser sees the campaign's text as text, exactly as written.
    imgs = parsed.find("img")
    assert imgs == [{"class": "hero", "src": landing.image_url, "alt": payload, "loading": "eager"}]
    assert parsed.find("meta", property="og:title")[0]["content"] == payload
    assert parsed.find("meta", property="og:image")[0]["content"] == landing.image_url
    assert "".join(parsed.text["title"]) == payload
    assert "".join(parsed.text["h1"]) == payload
    assert "".join(parsed.text["button"]).endswith(payload[:40])
    assert payload in "".join(parsed.text["span"])
    assert config_of(page)["title"] == payload


def test_a_validated_image_url_with_markup_is_escaped() -> None:
    raw = valid()
    raw["image_url"] = "https://cdn.example.com/\"'><svg/onload=alert(1)>"
    landing = validate_landing(raw)  # ASCII, no spaces: valid, so the renderer must escape it
    page = render(landing)
    assert raw["image_url"] not in page and "<svg" not in page
    assert Page(page).find("img")[0]["src"] == raw["image_url"]


def test_token_and_urls_are_safe_in_the_script() -> None:
    token = "</script><script>alert(1)</script><!--\u2028\u2029&"
    page = render(validate_landing(valid()), share_token=token, share_url="https://r.example.com/?a=1&b=</script>")
    script = script_of(page)  # exactly one script element: the token did not close it
    literal = script[script.index("var C=") : script.index(",d=document;")]
    for raw in ("</script", "<!--", "<script", "<", ">", "\u2028", "\u2029", "&"):
        assert raw not in literal
    config = config_of(page)
    assert config["token"] == token and config["share"] == "https://r.example.com/?a=1&b=</script>"
    assert script_json("<>&\u2028\u2029") == '"\\u003c\\u003e\\u0026\\u2028\\u2029"'


def test_fields_rendered_only_when_configured() -> None:
    raw = valid()
    raw["fields"], raw["required"] = ["email"], ["email"]
    parsed = Page(render(validate_landing(raw)))
    names = [a.get("name") for t, a in parsed.tags if t in ("input", "textarea") and a.get("name")]
    assert names == ["email", "consent"]
    assert parsed.find("input", name="email")[0] == {
        "id": "f-email",
        "name": "email",
        "type": "email",
        "autocomplete": "email",
        "maxlength": "254",
        "required": None,
    }

    raw["fields"], raw["required"] = [], []
    page = render(validate_landing(raw))
    parsed = Page(page)
    assert parsed.find("form") == [] and parsed.find("textarea") == []
    assert [a["id"] for a in parsed.find("input")] == ["share-link"]
    assert "立即报名" not in page and "我同意" not in page  # no cta, no consent without a form
    assert parsed.find("button", id="share")  # sharing still works


def test_full_form_types_required_and_consent() -> None:
    page = render(validate_landing(valid()))
    parsed = Page(page)
    form = parsed.find("form")
    assert form == [{"id": "lead", "method": "post", "action": "/p/abc123/leads"}]
    inputs = {a["name"]: a for t, a in parsed.tags if t in ("input", "textarea") and a.get("name")}
    assert list(inputs) == ["name", "phone", "email", "message", "consent"]
    assert (inputs["name"]["type"], inputs["name"]["autocomplete"]) == ("text", "name")
    assert (inputs["phone"]["type"], inputs["phone"]["autocomplete"]) == ("tel", "tel")
    assert (inputs["email"]["type"], inputs["email"]["autocomplete"]) == ("email", "email")
    assert {n for n, a in inputs.items() if "required" in a} == {"name", "phone", "consent"}
    assert inputs["consent"]["type"] == "checkbox" and "checked" not in inputs["consent"]
    assert "".join(parsed.text["span"]).count(UI_STRINGS["zh-Hans"]["required"]) == 2
    assert parsed.find("button", type="submit") and "立即报名" in "".join(parsed.text["button"])
    assert parsed.find("p", id="thanks")[0].get("hidden") is None and "hidden" in parsed.find("p", id="thanks")[0]


def test_lang_attribute_copy_and_fallback() -> None:
    landing = validate_landing(valid())
    for lang, title in (("zh-Hans", "春季新品发布会"), ("en", "Spring launch")):
        parsed = Page(render(landing, lang))
        assert parsed.find("html") == [{"lang": lang}]
        assert "".join(parsed.text["h1"]) == title
        assert config_of(render(landing, lang))["lang"] == lang
    # No Japanese copy: the default language's copy, labelled as such.
    page = render(landing, "ja")
    assert Page(page).find("html") == [{"lang": "zh-Hans"}] and "春季新品发布会" in page
    assert UI_STRINGS["zh-Hans"]["share"] in page


def test_body_lines_become_paragraphs_and_og_description() -> None:
    raw = valid()
    raw["copy"]["en"]["body"] = "First line.\n\n  Second line.  \nThird & last."
    parsed = Page(render(validate_landing(raw), "en"))
    assert parsed.text["p"][:3] == ["First line.", "Second line.", "Third & last."]
    assert parsed.find("meta", property="og:description")[0]["content"] == "First line. Second line. Third & last."


def test_no_image_no_img_tag() -> None:
    raw = valid()
    raw["image_url"] = None
    parsed = Page(render(validate_landing(raw)))
    assert parsed.find("img") == [] and parsed.find("meta", property="og:image") == []


def test_typical_page_is_small() -> None:
    raw = valid()
    raw["copy"]["zh-Hans"]["body"] = "\n".join(["欢迎参加我们的春季新品发布会，现场有抽奖和试用活动。"] * 12)  # noqa: RUF001
    raw["copy"]["zh-Hans"]["consent"] = "我同意主办方按照隐私政策收集并使用我的姓名、手机号和邮箱与我联系。" * 2
    for lang in ("zh-Hans", "en"):
        size = len(render(validate_landing(raw), lang).encode("utf-8"))
        assert size < 14 * 1024, size


@pytest.mark.parametrize("lang", ["en", "ja", "zh-Hans", "zh-Hant"])
def test_every_language_has_every_ui_string(lang: str) -> None:
    assert set(UI_STRINGS[lang]) == set(UI_STRINGS["en"])
    assert all(UI_STRINGS[lang].values())
    if lang != "en":
        assert UI_STRINGS[lang]["share"] != UI_STRINGS["en"]["share"]


def test_error_pages() -> None:
    gone, missing = render_landing_error("zh-Hant", 410), render_landing_error("zh-Hant", 404)
    assert Page(gone).find("html") == [{"lang": "zh-Hant"}]
    assert UI_STRINGS["zh-Hant"]["410"] in gone and UI_STRINGS["zh-Hant"]["404"] in missing
    assert UI_STRINGS["zh-Hant"]["410"] not in missing
    assert "<script" not in gone and len(gone.encode()) < 4096
    odd = render_landing_error('"><script>', 500)
    assert Page(odd).find("html") == [{"lang": "en"}] and UI_STRINGS["en"]["other"] in odd and "<script" not in odd


def test_csp_and_nonce() -> None:
    assert content_security_policy(NONCE) == (
        "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; "
        f"script-src 'nonce-{NONCE}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    a, b = new_nonce(), new_nonce()
    assert a != b and content_security_policy(a)
    for bad in ("", "short", "a'; script-src *", 'x" onload="y', "n" * 129):
        with pytest.raises(ValueError):
            content_security_policy(bad)
        with pytest.raises(ValueError):
            render(validate_landing(valid()), nonce=bad)


# --- the script, run under node with a minimal DOM -----------------------------------------

HARNESS = r"""
const vm = require("vm");
const [src, scenario] = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = {calls: [], shares: [], writes: []};
function el(id) {
  return {id, textContent: "", className: "", hidden: id === "thanks", disabled: false, listeners: {},
          addEventListener(t, f) { this.listeners[t] = f; }, focus() {}, select() {}};
}
const els = {};
for (const id of scenario.ids) els[id] = el(id);
if (els.submit) els.submit.textContent = "CTA";
if (els.lead) els.lead.elements = Object.fromEntries(Object.entries(scenario.values).map(([k, v]) => [k, {value: v}]));
const navigator = {};
if (scenario.share) navigator.share = (d) => { out.shares.push(d); return Promise.resolve(); };
if (scenario.clipboard) navigator.clipboard = {writeText: (t) => { out.writes.push(t); return Promise.resolve(); }};
const fetch = (url, opts) => {
  out.calls.push({url, method: opts.method, type: opts.headers["Content-Type"], body: JSON.parse(opts.body)});
  out.during = {disabled: els.submit.disabled, label: els.submit.textContent};
  if (scenario.response === "network") return Promise.reject(new TypeError("Failed to fetch"));
  const r = scenario.response;
  return Promise.resolve({ok: r.status < 300, status: r.status,
    json: () => r.body === undefined ? Promise.reject(new SyntaxError("no json")) : Promise.resolve(r.body)});
};
vm.runInNewContext(src, {document: {getElementById: (id) => els[id] || null, execCommand: () => true},
                         navigator, fetch, JSON, Promise, Object});
if (scenario.click) els.share.listeners.click();
if (scenario.submit) els.lead.listeners.submit({preventDefault() { out.prevented = true; }});
setTimeout(() => {
  const s = els["lead-status"] || {};
  Object.assign(out, {status: s.textContent, cls: s.className, shareStatus: els["share-status"].textContent,
    thanksHidden: els.thanks ? els.thanks.hidden : null, formHidden: els.lead ? !!els.lead.hidden : null,
    disabled: els.submit ? els.submit.disabled : null, label: els.submit ? els.submit.textContent : null});
  process.stdout.write(JSON.stringify(out));
}, 0);
"""

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
IDS = ["share", "share-link", "share-status", "lead", "submit", "lead-status", "thanks"]


def run_script(page: str, **scenario: Any) -> dict[str, Any]:
    scenario = {"ids": IDS, "values": {}, "response": {"status": 201, "body": {}}, **scenario}
    proc = subprocess.run(
        ["node", "-e", HARNESS],
        input=json.dumps([script_of(page), scenario]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


@needs_node
def test_script_posts_the_lead_and_thanks() -> None:
    page = render(validate_landing(valid()), share_token="</script>tok")
    values = {"name": "  张三 ", "phone": "13800138000", "email": "", "message": "hi"}
    out = run_script(page, values=values, submit=True)
    assert out["prevented"] is True
    assert out["calls"] == [
        {
            "url": "/p/abc123/leads",
            "method": "POST",
            "type": "application/json",
            "body": {
                "token": "</script>tok",
                "consent": True,
                "lang": "zh-Hans",
                "name": "张三",
                "phone": "13800138000",
                "message": "hi",
            },
        }
    ]
    assert out["during"] == {"disabled": True, "label": UI_STRINGS["zh-Hans"]["sending"]}
    assert (out["formHidden"], out["thanksHidden"]) == (True, False)


@needs_node
def test_script_shows_the_api_error_and_reenables() -> None:
    page = render(validate_landing(valid()), "en")
    error = {"error": {"code": "validation_error", "message": "phone is not a valid phone number"}}
    out = run_script(page, values={"phone": "1"}, submit=True, response={"status": 422, "body": error})
    assert out["status"] == "phone is not a valid phone number" and out["cls"] == "st err"
    assert (out["disabled"], out["label"], out["formHidden"], out["thanksHidden"]) == (False, "CTA", False, True)
    for response in ("network", {"status": 502}, {"status": 500, "body": {"oops": 1}}):
        out = run_script(page, values={"phone": "1"}, submit=True, response=response)
        assert out["status"] == UI_STRINGS["en"]["error"] and out["disabled"] is False


@needs_node
def test_script_asks_for_a_contact_when_none_is_required() -> None:
    raw = valid()
    raw["required"] = ["name"]
    raw["copy"]["ja"] = {"title": "春", "cta": "申し込む", "consent": "同意します"}
    page = render(validate_landing(raw), "ja")
    out = run_script(page, values={"name": "山田", "phone": " ", "email": ""}, submit=True)
    assert out["calls"] == [] and out["status"] == UI_STRINGS["ja"]["contact"]


@needs_node
def test_script_shares_or_copies() -> None:
    landing = validate_landing(valid())
    out = run_script(render(landing, "en"), share=True, click=True)
    assert out["shares"] == [{"title": "Spring launch", "url": "https://r.example.com/s/abc123?rp=tok123"}]
    out = run_script(render(landing, "zh-Hant"), clipboard=True, click=True)
    assert out["writes"] == ["https://r.example.com/s/abc123?rp=tok123"]
    assert out["shareStatus"] == UI_STRINGS["zh-Hans"]["copied"]  # no zh-Hant copy: rendered in zh-Hans
    # Without a form the script still runs and only shares.
    raw = valid()
    raw["fields"], raw["required"] = [], []
    out = run_script(render(validate_landing(raw), "en"), ids=IDS[:3], click=True, clipboard=True)
    assert out["shareStatus"] == UI_STRINGS["en"]["copied"]


def test_landing_dataclasses_are_frozen() -> None:
    landing = validate_landing(valid())
    with pytest.raises(AttributeError):
        landing.default_lang = "en"  # type: ignore[misc]
    assert copy.deepcopy(landing) == landing

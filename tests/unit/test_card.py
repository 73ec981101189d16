"""The business card's domain: validation (vCard injection, lengths, contacts), the vCard
builder (escaping, folding, CJK) parsed back by a real vCard parser, and radar ranking."""

from __future__ import annotations

import pytest
import vobject

from ripple.domain.card import (
    CardProfile,
    CompanyCard,
    RadarRow,
    build_vcard,
    escape_vcard,
    fold_line,
    rank_viewers,
    validate_card,
    validate_company,
    validate_tap,
)
from ripple.domain.errors import ValidationError


def _field(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value.to_dict().get("details", {}).get("field") or exc.value.details.get("field"))


@pytest.mark.parametrize("name", ["title", "department", "wechat", "line"])
@pytest.mark.parametrize("bad", ["a\r\nEMAIL:x@evil.example", "a\nTEL:1", "a\rb", "a\x00b", "a\u2028b", "a\x85b"])
def test_single_line_fields_refuse_line_breaks_and_controls_naming_the_field(name: str, bad: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_card({name: bad}, phone_region="JP", now=1)
    assert exc.value.status == 422
    assert exc.value.details["field"] == name


def test_intro_keeps_newlines_but_refuses_other_controls() -> None:
    card = validate_card({"intro": "line one\r\nline two"}, phone_region="JP", now=1)
    assert card.intro == "line one\nline two"
    with pytest.raises(ValidationError) as exc:
        validate_card({"intro": "x\x1bY"}, phone_region="JP", now=1)
    assert exc.value.details["field"] == "intro"


def test_lengths_unknown_fields_urls_and_contacts() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_card({"title": "x" * 101}, phone_region="JP", now=1)
    assert exc.value.details["field"] == "title"
    with pytest.raises(ValidationError) as exc:
        validate_card({"nickname": "x"}, phone_region="JP", now=1)
    assert exc.value.details["fields"] == ["nickname"]
    with pytest.raises(ValidationError) as exc:
        validate_card({"photo_url": "http://example.com/a.png"}, phone_region="JP", now=1)
    assert exc.value.details["field"] == "photo_url"
    with pytest.raises(ValidationError) as exc:
        validate_card({"phone": "090-1234\n"}, phone_region="JP", now=1)
    assert exc.value.details["field"] == "phone"
    with pytest.raises(ValidationError) as exc:
        validate_card({"email": "a@b.example\r\nX:1"}, phone_region="JP", now=1)
    assert exc.value.details["field"] == "email"
    card = validate_card({"phone": "090-1234-5678", "email": "Taro@Example.JP"}, phone_region="JP", now=5)
    assert (card.phone, card.email, card.updated_at) == ("+819012345678", "taro@example.jp", 5)
    with pytest.raises(ValidationError) as exc:
        validate_company({"company": "A\nB"}, phone_region="JP")
    assert exc.value.details["field"] == "company"


def test_taps() -> None:
    assert validate_tap({"action": "call"}) == ("call", "")
    assert validate_tap({"action": "campaign", "campaign_id": "c123"}) == ("campaign", "c123")
    for body in ({"action": "dance"}, {}, {"action": "call", "x": 1}, {"action": "campaign", "campaign_id": "a b"}):
        with pytest.raises(ValidationError):
            validate_tap(body)


def test_escape_and_fold() -> None:
    assert escape_vcard("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold_line("NOTE:" + "名刺" * 60)
    for part in folded.split("\r\n"):
        assert len(part.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == "NOTE:" + "名刺" * 60


def test_vcard_round_trips_through_a_real_parser_with_cjk_and_hostile_values() -> None:
    card = CardProfile(
        title="営業部長; CEO, Asia",
        department="東京支店",
        phone="+819012345678",
        email="taro@example.jp",
        intro="はじめまして。\n电子名片の説明です,\\よろしく;" + "長い紹介文" * 40,
        wechat="taro_wx",
    )
    text = build_vcard(
        name="山田 太郎",
        card=card,
        company=CompanyCard(company="株式会社リップル"),
        url="https://r.example/c/abc",
        uid="u-1",
    )
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    parsed = vobject.readOne(text)
    assert parsed.version.value == "4.0"
    assert parsed.fn.value == "山田 太郎"
    assert parsed.title.value == card.title
    assert parsed.note.value == card.intro
    assert parsed.org.value == ["株式会社リップル", "東京支店"]
    assert parsed.tel.value == "tel:+819012345678"
    assert parsed.email.value == "taro@example.jp"
    assert parsed.url.value == "https://r.example/c/abc"
    # one card, no injected properties
    assert [c.name for c in parsed.getChildren()].count("EMAIL") == 1


def test_company_card_for_an_offboarded_employee() -> None:
    company = CompanyCard(company="Ripple KK", phone="+81312345678", email="info@ripple.example")
    parsed = vobject.readOne(build_vcard(name="", card=None, company=company, url="https://r.example/c/x", uid="u"))
    assert parsed.fn.value == "Ripple KK"
    assert parsed.kind.value == "org"
    assert parsed.tel.value == "tel:+81312345678"


def test_radar_ranks_taps_above_looks_and_names_known_customers() -> None:
    rows = [
        RadarRow("v1", frozenset({"0000000001000:e1", "0000000002000:e2", "0000000003000:e3"})),
        RadarRow("v2", frozenset({"0000000001500:e4"}), frozenset({"0000000001600:call:t1"})),
        RadarRow("v3", frozenset()),
    ]
    viewers = rank_viewers(rows, {"v2": ("cust1", "王小明")})
    assert [v.visitor for v in viewers] == ["v2", "v1"]
    assert viewers[0].taps == {"call": 1} and viewers[0].customer_name == "王小明"
    assert (viewers[1].views, viewers[1].first_seen, viewers[1].last_seen) == (3, 1000, 3000)


def test_card_page_escapes_everything_and_stays_small_in_every_language() -> None:
    from ripple.web.card_page import CARD_STRINGS, card_security_policy, render_card_page

    hostile = '<script>alert(1)</script>"onmouseover="x'
    card = CardProfile(title=hostile, intro=hostile + "\n2", wechat=hostile, phone="+819012345678")
    for lang in ("en", "ja", "zh-Hans", "zh-Hant"):
        page = render_card_page(
            lang=lang,
            name=hostile,
            card=card,
            company=CompanyCard(company=hostile),
            campaigns=[(hostile, "https://r.example/abc")],
            campaign_ids=["c1"],
            share_url="https://r.example/s/t",
            vcard_url="https://r.example/c/abc/vcard",
            taps_url="https://r.example/c/abc/taps",
            nonce="bm9uY2Vub25jZQ",
        )
        markup = page.split("<script nonce=", 1)[0]  # the script's JSON is checked apart
        assert "<script>alert" not in page and '"onmouseover' not in markup
        assert "\\u003cscript\\u003e" in page  # the title, JSON-encoded for a <script> context
        assert page.count("<script") == 1 and 'nonce="bm9uY2Vub25jZQ"' in page
        assert CARD_STRINGS[lang]["save"] in page and f'lang="{lang}"' in page
        assert len(page.encode()) < 10_240
    assert "img-src 'self' https: data:;" in card_security_policy("bm9uY2Vub25jZQ") + ";"
    company = render_card_page(
        lang="en",
        name="",
        card=None,
        company=CompanyCard(company="Acme", phone="+81312345678", website="https://acme.example"),
        campaigns=[],
        campaign_ids=[],
        share_url="https://r.example/c/abc",
        vcard_url="https://r.example/c/abc/vcard",
        taps_url="https://r.example/c/abc/taps",
        nonce="bm9uY2Vub25jZQ",
    )
    assert "<h1>Acme</h1>" in company and 'href="tel:+81312345678"' in company and "acme.example" in company

"""Issue 12, wrong figures: a Japanese visitor's ``090-1234-5678`` was stored as
``+869012345678`` (the tenant's default region won over the visitor's country and
language), and a ``ja-JP`` browser got the zh-Hans landing page when no ja copy existed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import STACK
from tests.functional.test_customers import UA, call, open_page, setup_campaign


def _phones(_: Any) -> set[str]:
    """The phone numbers stored as customer contacts (``CONTACT#tenant#phone:+...`` items)."""
    import boto3

    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=f"{STACK}-main")["Items"]
    return {m.group(1) for i in items if (m := re.match(r"CONTACT#acme#phone:(\+\d+)$", i["pk"]["S"]))}


def _lead(client: Any, token: str, headers: dict[str, str], **fields: Any) -> tuple[int, Any]:
    body = {"token": token, "consent": True, "name": "Sato", **fields}
    return call(client, "POST", "/leads", {"User-Agent": UA.format(n=7), **headers}, body)


@pytest.mark.parametrize(
    ("headers", "fields"),
    [
        pytest.param({"CloudFront-Viewer-Country": "JP"}, {}, id="viewer-country-JP"),
        pytest.param({"Accept-Language": "ja-JP,ja;q=0.9"}, {}, id="browser-language-ja"),
        pytest.param({"CloudFront-Viewer-Country": "CN"}, {"country": "JP"}, id="form-choice-beats-location"),
    ],
)
def test_a_japanese_visitors_national_number_is_read_in_japan(
    env: Any, headers: dict[str, str], fields: dict[str, str]
) -> None:
    client, dynamodb = env
    _, code = setup_campaign(client)  # the tenant's default region is CN
    _, token = open_page(client, f"/{code}", 7)
    status, receipt = _lead(client, token, headers, phone="090-1234-5678", **fields)
    assert status == 201, receipt
    assert _phones(dynamodb) == {"+819012345678"}


def test_the_tenant_default_still_reads_numbers_when_nothing_else_is_known(env: Any) -> None:
    client, dynamodb = env
    _, code = setup_campaign(client)
    _, token = open_page(client, f"/{code}", 8)
    assert _lead(client, token, {}, phone="138 0013 8000")[0] == 201
    assert _phones(dynamodb) == {"+8613800138000"}


def test_a_number_with_its_country_code_ignores_every_region(env: Any) -> None:
    client, dynamodb = env
    _, code = setup_campaign(client)
    _, token = open_page(client, f"/{code}", 9)
    assert _lead(client, token, {"CloudFront-Viewer-Country": "JP"}, phone="+86 138 0013 8000", country="JP")[0] == 201
    assert _phones(dynamodb) == {"+8613800138000"}


@pytest.mark.parametrize("country", ["ZZ", "JPN", "j", 81, True])
def test_a_bad_country_choice_is_422_and_stores_nothing(env: Any, country: Any) -> None:
    client, dynamodb = env
    _, code = setup_campaign(client)
    _, token = open_page(client, f"/{code}", 10)
    status, error = _lead(client, token, {}, phone="090-1234-5678", country=country)
    assert status == 422, error
    assert error["error"]["details"]["field"] == "country"
    assert _phones(dynamodb) == set()


def test_the_form_offers_a_country_selector_preset_to_the_visitor(env: Any) -> None:
    client, _ = env
    _, code = setup_campaign(client)
    headers = {"User-Agent": UA.format(n=11), "Accept-Language": "zh-CN", "CloudFront-Viewer-Country": "JP"}
    html = client.http.get(f"/p/{code}", headers=headers).body.decode()
    assert '<select id="f-country" name="country"' in html
    assert '<option value="JP" selected>JP +81</option>' in html
    html = client.http.get(f"/p/{code}", headers={**headers, "CloudFront-Viewer-Country": ""}).body.decode()
    assert " selected>" not in html.replace('<option value="CN" selected>', "")  # zh-CN browser: CN preset
    assert '<option value="CN" selected>CN +86</option>' in html


def test_a_ja_browser_gets_english_not_chinese_when_there_is_no_ja_copy(env: Any) -> None:
    """The campaign has zh-Hans (default) and en copies."""
    client, _ = env
    _, code = setup_campaign(client)
    html, _ = open_page(client, f"/{code}", 12, lang="ja-JP,ja;q=0.9")
    assert '<html lang="en"' in html
    html, _ = open_page(client, f"/{code}", 13, lang="ja-JP,zh-CN;q=0.5")  # reads Chinese too: the visitor said so
    assert '<html lang="zh-Hans"' in html


def test_the_ended_page_speaks_japanese_to_a_japanese_browser(env: Any) -> None:
    client, _ = env
    page = client.http.get("/p/nosuchcode", headers={"User-Agent": UA.format(n=14), "Accept-Language": "ja-JP"})
    assert page.status_code == 404
    assert '<html lang="ja"' in page.body.decode()


def test_a_preselected_country_the_number_is_not_from_falls_back(env: Any) -> None:
    """The selector starts on our guess (an en-US browser: US); a Chinese mobile typed
    without +86 is not a US number, so the tenant's default still reads it."""
    client, dynamodb = env
    _, code = setup_campaign(client)
    _, token = open_page(client, f"/{code}", 15)
    assert _lead(client, token, {"Accept-Language": "en-US"}, phone="138 0013 8000", country="US")[0] == 201
    assert _phones(dynamodb) == {"+8613800138000"}

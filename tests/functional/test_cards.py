"""The business card over the whole path, in-process: edit my card, the public page, the
vCard (parsed back by vobject), taps, the stream consumer's radar rows, analytics, points
from the card campaign's rules, offboarding, and the bad-input matrix (4xx, nothing saved)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import vobject

from tests.conftest import STACK
from tests.functional.apihelpers import snapshot
from tests.functional.test_analytics import _conforms
from tests.functional.test_customers import ADMIN, ALICE, BOB, UA, call, lead, open_page, setup_campaign

CARD = {
    "title": "営業部長",
    "department": "東京支店",
    "phone": "090-1234-5678",
    "email": "alice@acme.example",
    "intro": "はじめまして。\n电子名片です。",
    "wechat": "alice_wx",
}


def _card(client: Any) -> dict[str, Any]:
    call(client, "PUT", "/admin/tenant", ADMIN, {"phone_region": "JP"})
    status, body = call(client, "PUT", "/me/card", ALICE, CARD)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _open(client: Any, code: str, n: int, lang: str = "ja") -> Any:
    return client.http.get(f"/c/{code}", headers={"User-Agent": UA.format(n=n), "Accept-Language": lang})


def _tap(client: Any, code: str, n: int, body: Any) -> tuple[int, Any]:
    return call(client, "POST", f"/c/{code}/taps", {"User-Agent": UA.format(n=n)}, body)


def test_card_page_vcard_taps_and_radar(env: Any) -> None:
    client, poller = env
    campaign_id, _ = setup_campaign(client)
    assert call(client, "POST", f"/campaigns/{campaign_id}/links", ALICE, {"channel": "wechat"})[0] in (200, 201)
    mine = _card(client)
    code = mine["code"]
    assert mine["card"]["phone"] == "+819012345678" and mine["card_url"].endswith(f"/c/{code}")
    assert call(client, "GET", "/me/card", ALICE)[1]["code"] == code  # one card link

    # the short link of the card opens the card
    resp = client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=1)})
    assert resp.status_code == 302 and urlsplit(resp.headers["Location"]).path == f"/c/{code}"
    page = _open(client, code, 1)
    html = page.body.decode()
    assert page.status_code == 200 and page.headers["Content-Language"] == "ja"
    assert "script-src 'nonce-" in page.headers["Content-Security-Policy"]
    assert 'href="tel:+819012345678"' in html and 'href="mailto:alice@acme.example"' in html
    assert "連絡先に保存" in html and "営業部長" in html and "Spring" in html  # the campaign she shares
    assert len(page.body) < 10_000
    assert "名片" in _open(client, code, 1, "zh-CN").body.decode()
    assert "Save contact" in _open(client, code, 1, "en").body.decode()

    vcard = client.http.get(f"/c/{code}/vcard")
    assert vcard.status_code == 200 and vcard.headers["Content-Type"] == "text/vcard; charset=utf-8"
    parsed = vobject.readOne(vcard.body.decode("utf-8"))
    assert parsed.fn.value == "alice" and parsed.title.value == "営業部長"
    assert parsed.tel.value == "tel:+819012345678" and parsed.note.value == CARD["intro"]
    assert parsed.url.value.endswith(f"/c/{code}")

    for action in ("call", "save", "call"):
        assert _tap(client, code, 1, {"action": action}) == (202, {"recorded": True})
    assert _tap(client, code, 2, {"action": "call"})[0] == 202  # a tap without a view is still a viewer
    _open(client, code, 3)
    # the owner and a colleague are not viewers; bots are not either
    assert _tap(client, code, 4, {"action": "call"}) == (202, {"recorded": True})
    client.http.get(f"/c/{code}", headers={"User-Agent": UA.format(n=1), **ALICE})
    client.http.get(f"/c/{code}", headers={"User-Agent": UA.format(n=5), **BOB})
    assert call(client, "POST", f"/c/{code}/taps", {"User-Agent": UA.format(n=5), **BOB}, {"action": "call"})[1] == {
        "recorded": False
    }
    assert client.http.get(f"/c/{code}", headers={"User-Agent": "facebookexternalhit/1.1"}).status_code == 200
    poller.drain()
    poller.drain()  # redelivery-safe: a second pass adds nothing

    status, radar = call(client, "GET", "/me/card/radar", ALICE)
    assert status == 200, radar
    _conforms(client, "/me/card/radar", radar)
    _conforms(client, "/me/card", call(client, "GET", "/me/card", ALICE)[1])
    first = radar["viewers"][0]
    # three page views in three languages (the short link hands the card the visit: not a view)
    assert first["views"] == 3 and first["taps"] == {"call": 2, "save": 1}
    assert radar["totals"]["viewers"] == 4 and radar["totals"]["taps"] == {"call": 4, "save": 1}
    assert radar["totals"]["anonymous"] == 4
    assert call(client, "GET", "/me/card/radar", BOB)[1]["viewers"] == []

    # analytics gain card views (people only)
    status, summary = call(client, "GET", "/analytics/summary", ADMIN)
    assert status == 200 and summary["totals"]["card_views"] == 4


def test_known_customers_are_named_on_the_radar(env: Any) -> None:
    client, poller = env
    _, code = setup_campaign(client)
    card = _card(client)["code"]
    _, tok = open_page(client, f"/{code}", 7)
    assert lead(client, tok, 7, name="王小明", phone="+8613800138000")[0] == 201
    _open(client, card, 7)
    _tap(client, card, 7, {"action": "save"})
    _open(client, card, 8)
    poller.drain()
    radar = call(client, "GET", "/me/card/radar", ALICE)[1]
    top = radar["viewers"][0]
    assert top["customer"]["name"] == "王小明" and top["taps"] == {"save": 1}
    assert radar["totals"] == {"viewers": 2, "known_customers": 1, "anonymous": 1, "views": 2, "taps": {"save": 1}}


def test_card_views_pay_by_the_card_campaigns_rules(env: Any) -> None:
    client, poller = env
    setup_campaign(client)
    code = _card(client)["code"]
    status, _ = call(
        client, "PUT", "/admin/campaigns/card/rules", ADMIN, {"points": {"unique_visit": 2, "forward": 1, "lead": 0}}
    )
    assert status == 200
    _open(client, code, 1)
    _open(client, code, 1)
    _open(client, code, 2)
    poller.drain()
    assert call(client, "GET", "/me", ALICE)[1]["points"]["balance"] == 4  # two unique viewers


def test_offboarded_employees_card_is_the_company_card_and_credits_nobody(env: Any) -> None:
    client, poller = env
    setup_campaign(client)
    code = _card(client)["code"]
    status, company = call(
        client,
        "PUT",
        "/admin/card",
        ADMIN,
        {"company": "Acme 株式会社", "phone": "03-1234-5678", "website": "https://acme.example"},
    )
    assert status == 200 and company["phone"] == "+81312345678"
    assert call(client, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"})[0] == 200
    page = _open(client, code, 1).body.decode()
    assert "Acme 株式会社" in page and "営業部長" not in page and "alice" not in page
    assert 'href="tel:+81312345678"' in page
    parsed = vobject.readOne(client.http.get(f"/c/{code}/vcard").body.decode())
    assert parsed.fn.value == "Acme 株式会社" and parsed.kind.value == "org"
    _tap(client, code, 1, {"action": "call"})
    poller.drain()
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=f"{STACK}-main")["Items"]
    assert not [i for i in items if i["pk"]["S"].startswith("CRADAR#")]  # on nobody's radar
    assert call(client, "GET", "/me/ledger", ALICE)[0] == 401  # and alice is signed out


BAD_CARDS: list[tuple[dict[str, Any], int, str]] = [
    ({"title": "CEO\r\nEMAIL:evil@example.com"}, 422, "title"),
    ({"department": "a\nb"}, 422, "department"),
    ({"wechat": "x\x00"}, 422, "wechat"),
    ({"title": "x" * 101}, 422, "title"),
    ({"intro": "y" * 501}, 422, "intro"),
    ({"phone": "call me"}, 422, "phone"),
    ({"email": "not-an-email"}, 422, "email"),
    ({"photo_url": "javascript:alert(1)"}, 422, "photo_url"),
    ({"wechat_qr_url": "http://insecure.example/qr.png"}, 422, "wechat_qr_url"),
    ({"title": 5}, 422, "title"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_CARDS)
def test_bad_cards_are_refused_naming_the_field_and_change_nothing(
    env: Any, body: Any, status: int, field: str
) -> None:
    client, _ = env
    setup_campaign(client)
    _card(client)
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    before = snapshot(ddb)
    got, answer = call(client, "PUT", "/me/card", ALICE, body)
    assert got == status and answer["error"]["details"]["field"] == field, answer
    assert snapshot(ddb) == before


def test_bad_requests_elsewhere(env: Any) -> None:
    client, _ = env
    _, campaign_code = setup_campaign(client)
    code = _card(client)["code"]
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    before = snapshot(ddb)
    assert call(client, "PUT", "/me/card", ALICE, {"nickname": "x"})[0] == 422
    assert call(client, "PUT", "/me/card", ALICE, "[1,2]")[0] in (400, 422)
    assert call(client, "PUT", "/me/card", ALICE, "{not json")[0] == 400
    assert call(client, "PUT", "/me/card", None, CARD)[0] == 401
    assert call(client, "PUT", "/admin/card", ALICE, {"company": "x"})[0] == 403
    assert call(client, "PUT", "/admin/card", ADMIN, {"company": "x\ny"})[1]["error"]["details"]["field"] == "company"
    assert call(client, "GET", "/me/card/radar?limit=abc", ALICE)[0] == 422
    for body in ({"action": "dance"}, {}, {"action": "call", "extra": 1}, {"action": "campaign", "campaign_id": "a b"}):
        assert _tap(client, code, 1, body)[0] == 422
    assert _tap(client, "nope", 1, {"action": "call"})[0] == 404
    assert _tap(client, campaign_code, 1, {"action": "call"})[0] == 404  # not a card
    assert snapshot(ddb) == before
    assert _open(client, "nope", 1).status_code == 404
    assert _open(client, campaign_code, 1).status_code == 404  # a campaign link is no card
    assert client.http.get("/c/nope/vcard").status_code == 404


def test_taps_are_rate_limited(env: Any) -> None:
    client, _ = env
    setup_campaign(client)
    code = _card(client)["code"]
    statuses = [_tap(client, code, 9, {"action": "call"})[0] for _ in range(31)]
    assert statuses[:30] == [202] * 30 and statuses[30] == 429


def test_openapi_documents_the_card_routes(env: Any) -> None:
    client, _ = env
    doc = json.loads(client.http.get("/openapi.json").body)
    for path in ("/me/card", "/me/card/radar", "/admin/card", "/c/{code}", "/c/{code}/vcard", "/c/{code}/taps"):
        assert path in doc["paths"], path


def _image(fmt: str = "PNG", size: tuple[int, int] = (64, 64)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "#336699").save(out, fmt)
    return out.getvalue()


def _put_image(client: Any, slot: str, body: bytes, ctype: str) -> tuple[int, Any]:
    resp = client.http.put(f"/me/card/images/{slot}", headers={**ALICE, "Content-Type": ctype}, body=body)
    return resp.status_code, json.loads(resp.body or b"null")


def test_card_images_are_checked_like_materials_and_served_from_the_card(env: Any) -> None:
    client, _ = env
    setup_campaign(client)
    code = _card(client)["code"]
    status, mine = _put_image(client, "photo", _image(), "image/png")
    assert status == 200, mine
    photo = mine["images"]["photo"]
    assert urlsplit(photo).path == f"/c/{code}/images/photo"
    page = _open(client, code, 1)
    assert f'src="{photo}"' in page.body.decode().replace("&amp;", "&")
    assert "img-src 'self' https: data:" in page.headers["Content-Security-Policy"]  # + loopback in tests
    served = client.http.get(urlsplit(photo).path)
    assert served.status_code == 302 and "cards/acme/alice/photo-" in served.headers["Location"]
    parsed = vobject.readOne(client.http.get(f"/c/{code}/vcard").body.decode())
    assert parsed.photo.value == photo
    # a new PUT of the card keeps the upload; DELETE drops it
    assert call(client, "PUT", "/me/card", ALICE, CARD)[1]["images"]["photo"] == photo
    assert client.http.get(f"/c/{code}/images/wechat_qr").status_code == 404
    resp = client.http.delete("/me/card/images/photo", headers=ALICE)
    assert resp.status_code == 200 and json.loads(resp.body)["images"] == {}


@pytest.mark.parametrize(
    ("slot", "body", "ctype", "status"),
    [
        ("photo", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", 415),
        ("photo", b"%PDF-1.4 not an image", "image/png", 422),
        ("wechat_qr", b"GIF89a....", "image/gif", 422),
        ("line_qr", b"", "image/png", 422),
        ("photo", b"\xff" * (2 * 1024 * 1024 + 1), "image/jpeg", 413),
        ("photo", b'{"a": 1}', "application/json", 422),
    ],
)
def test_bad_card_images_are_refused_naming_the_slot_and_save_nothing(
    env: Any, slot: str, body: bytes, ctype: str, status: int
) -> None:
    client, _ = env
    setup_campaign(client)
    _card(client)
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    before = snapshot(ddb)
    got, answer = _put_image(client, slot, body, ctype)
    assert got == status, answer
    if status != 415:  # a type nobody declared is Chalice's own 415
        assert answer["error"]["details"]["field"] == slot
    assert snapshot(ddb) == before
    objects = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=f"{STACK}-materialsbucket")
    assert not [o["Key"] for o in objects.get("Contents", [])]
    assert _put_image(client, "avatar", _image(), "image/png")[0] == 404


def test_a_qr_poster_of_the_card_scans_to_the_card(env: Any) -> None:
    """The card campaign is an ordinary campaign to the poster function: any poster template
    renders a QR of the employee's card link for the channel, which opens the card."""
    import io

    import zxingcpp
    from PIL import Image

    from tests.functional.test_posters import _fetch, _world

    client, _ = env
    world = _world(client, name="山田 花子")
    _card(client)
    path = f"/campaigns/card/poster?channel=wechat&template={world['template_id']}&format=png"
    resp = client.http.get(path, headers=ALICE)
    assert resp.status_code == 302, resp.body
    image = Image.open(io.BytesIO(_fetch(resp.headers["Location"])))
    (decoded,) = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    opened = client.http.get(urlsplit(decoded).path, headers={"User-Agent": UA.format(n=1)})
    assert opened.status_code == 302 and urlsplit(opened.headers["Location"]).path.startswith("/c/")
    card = client.http.get(urlsplit(opened.headers["Location"]).path, headers={"User-Agent": UA.format(n=1)})
    assert card.status_code == 200 and "山田 花子" in card.body.decode()

"""Customer search (``GET /customers?q=``): any part of a name, e-mail or phone number,
case- and width-insensitive, phone numbers as typed in the tenant's region; employees search
only their own customers; bad queries are a 422."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.functional.test_customers import ADMIN, ALICE, BOB, call, lead, open_page, setup_campaign

PEOPLE = [
    ("Hanako Yamada", "+81 90-1234-5678", "hanako@example.jp"),
    ("山田 太郎", "+81 80-2222-3333", "taro@example.jp"),
    ("王小明", "+86 138 0013 8000", "xiaoming@example.cn"),
]


def _world(client: Any) -> None:
    call(client, "PUT", "/admin/tenant", ADMIN, {"phone_region": "JP"})
    _, code = setup_campaign(client)
    for n, (name, phone, email) in enumerate(PEOPLE):
        _, token = open_page(client, f"/{code}", 300 + n)
        status, body = lead(client, token, 300 + n, name=name, phone=phone, email=email)
        assert status == 201, body


def _names(client: Any, q: str, who: dict[str, str] = ADMIN) -> list[str]:
    status, page = call(client, "GET", "/customers?q=" + quote(q), who)
    assert status == 200, page
    return sorted(c["name"] for c in page["items"])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("hanako", ["Hanako Yamada"]),  # any case
        ("\uff28\uff21\uff2e\uff21\uff2b\uff2f", ["Hanako Yamada"]),  # full-width HANAKO (a Japanese keyboard)
        ("山田", ["山田 太郎"]),
        ("小明", ["王小明"]),
        ("example.jp", ["Hanako Yamada", "山田 太郎"]),  # part of an e-mail
        ("090-1234-5678", ["Hanako Yamada"]),  # a national number, read in the tenant's region (JP)
        ("5678", ["Hanako Yamada"]),  # a fragment of a number
        ("13800138000", ["王小明"]),
        ("nobody", []),
    ],
)
def test_search_finds_by_any_part_of_name_email_or_phone(env: Any, q: str, expected: list[str]) -> None:
    client, _ = env
    _world(client)
    assert _names(client, q) == expected


def test_employees_search_only_their_own_customers_and_bad_queries_are_422(env: Any) -> None:
    client, _ = env
    _world(client)
    assert _names(client, "hanako", ALICE) == ["Hanako Yamada"]  # alice's link brought them
    assert _names(client, "hanako", BOB) == []
    for bad in ("", "   ", "x" * 101):
        status, body = call(client, "GET", "/customers?q=" + quote(bad), ADMIN)
        assert status == 422 and body["error"]["details"]["field"] == "q", (bad, body)

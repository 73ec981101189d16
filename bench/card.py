"""Benchmark 16: the business card page (``/c/{code}``).

* Render time of the card page itself (``web.card_page``), next to the hosted landing page's
  renderer on a typical campaign page (the page the card's budget was set against).
* Bytes on the wire: the rendered card, raw and gzipped, next to the landing page.
* ``GET /c/{code}`` through the real Chalice app against the moto server, warm, next to
  ``GET /p/{code}``, with the DynamoDB calls per view (one write, like the landing page).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from typing import Any

from bench.calls import recording
from bench.report import Row
from bench.world import UA, Sizes, api_client, auth

__all__ = ["run"]

TENANT = "benchcard"
CARD = {
    "title": "営業部 シニアマネージャー",
    "department": "東京支店",
    "phone": "+819012345678",
    "email": "hanako.yamada@example.co.jp",
    "intro": "はじめまして。法人向けクラウドのご提案を担当しています。\nお気軽にご連絡ください。",
    "wechat": "hanako_wx",
    "wechat_qr_url": "https://cdn.example.com/qr/hanako.png",
    "photo_url": "https://cdn.example.com/p/hanako.jpg",
}
LANDING = {
    "default_lang": "ja",
    "fields": ["name", "phone", "email", "message"],
    "required": ["name"],
    "copy": {
        "ja": {
            "title": "春の新製品発表会",
            "body": "新製品のデモをご覧いただけます。\nお申し込みはこちらから。",
            "cta": "申し込む",
            "consent": "個人情報の取り扱いに同意します。",
        }
    },
}


def _best_us(fn: Callable[[], object], n: int, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def _renders() -> tuple[Callable[[], str], Callable[[], str]]:
    from ripple.domain.card import CompanyCard, validate_card
    from ripple.domain.landing import validate_landing
    from ripple.web.card_page import render_card_page
    from ripple.web.landing_page import render_landing_page

    card = validate_card(CARD, phone_region="JP", now=0)
    company = CompanyCard(company="株式会社リップル")
    campaigns = [(f"キャンペーン {i}", f"https://r.example/abc{i}") for i in range(4)]

    def render_card() -> str:
        return render_card_page(
            lang="ja",
            name="山田 花子",
            card=card,
            company=company,
            campaigns=campaigns,
            campaign_ids=[f"c{i}" for i in range(4)],
            share_url="https://r.example/s/" + "t" * 60,
            vcard_url="https://r.example/c/abcdefg/vcard",
            taps_url="https://r.example/c/abcdefg/taps",
            nonce="bmVuY2Vub25jZW5vbmNl",
        )

    landing = validate_landing(LANDING)

    def render_page() -> str:
        return render_landing_page(
            landing,
            "ja",
            share_url="https://r.example/s/" + "t" * 60,
            leads_url="https://r.example/leads",
            share_token="t" * 60,
            nonce="bmVuY2Vub25jZW5vbmNl",
            campaign_name="春",
        )

    return render_card, render_page


def _http(client: Any, path: str, n: int) -> tuple[float, float, float]:
    """(ms per GET, DynamoDB reads, writes per GET) of ``n`` warm GETs by fresh visitors."""
    client.http.get(path, headers={"User-Agent": UA.format(n=0)})  # warm the caches
    reads = writes = 0
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        with recording() as log:
            resp = client.http.get(path, headers={"User-Agent": UA.format(n=i)})
        if resp.status_code != 200:
            raise RuntimeError(f"GET {path} -> {resp.status_code}")
        reads += log.reads()
        writes += log.writes()
    return (time.perf_counter() - t0) / n * 1000, reads / n, writes / n


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    import json

    render_card, render_page = _renders()
    n = max(200, sizes.redirects * 5)
    card_us, page_us = _best_us(render_card, n), _best_us(render_page, n)
    card_html, page_html = render_card().encode(), render_page().encode()
    card_gz, page_gz = len(gzip.compress(card_html)), len(gzip.compress(page_html))

    client = api_client()
    admin, alice = auth(TENANT, "boss", "admin"), auth(TENANT, "alice", "employee")
    json_headers = {"Content-Type": "application/json"}
    client.http.put(
        "/admin/employees/alice",
        headers={**admin, **json_headers},
        body=json.dumps({"name": "山田 花子", "team": "t", "region": "r"}),
    )
    mine = json.loads(client.http.put("/me/card", headers={**alice, **json_headers}, body=json.dumps(CARD)).body)
    campaign = json.loads(
        client.http.post(
            "/admin/campaigns",
            headers={**admin, **json_headers},
            body=json.dumps({"name": "春", "landing": LANDING, "points": {"unique_visit": 1}}),
        ).body
    )
    link = json.loads(
        client.http.post(
            f"/campaigns/{campaign['campaign_id']}/links",
            headers={**alice, **json_headers},
            body=json.dumps({"channel": "wechat"}),
        ).body
    )
    k = max(20, sizes.redirects)
    card_ms, card_reads, card_writes = _http(client, f"/c/{mine['code']}", k)
    page_ms, _, _ = _http(client, f"/p/{link['code']}", k)
    rows = [
        Row("16. card page render", f"{card_us:.0f} µs vs landing page {page_us:.0f} µs ({card_us / page_us:.2f}x)"),
        Row(
            "16. card page bytes",
            f"{len(card_html):,} B ({card_gz:,} gzipped) vs landing page {len(page_html):,} B "
            f"({page_gz:,}) ({len(card_html) / len(page_html):.2f}x)",
            "<= 10,240 B",
            len(card_html) <= 10_240,
        ),
        Row(
            "16. GET /c/{code} warm",
            f"{card_ms:.1f} ms vs /p/ {page_ms:.1f} ms ({card_ms / page_ms:.2f}x); "
            f"{card_reads:g} read + {card_writes:g} write",
            "1 write, no read",
            card_writes == 1 and card_reads == 0,
        ),
    ]
    notes = [
        "16: a typical card (photo, WeChat QR, four campaigns) in Japanese; render best of 5 rounds; "
        "HTTP through the Chalice test client against moto server, fresh visitor per GET"
    ]
    return rows, notes

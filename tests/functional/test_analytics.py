"""Analytics over the whole path, in-process: hosted pages, redirects, forwards, leads and
bots -> moto -> stream poller -> consumer -> counters -> the /analytics endpoints."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import auth
from tests.functional.test_customers import ADMIN, ALICE, UA, call, lead, open_page, setup_campaign

GEO = {"CloudFront-Viewer-Country": "jp", "CloudFront-Viewer-Country-Region": "13", "CloudFront-Viewer-City": "Tokyo"}


def _get(client: Any, path: str) -> Any:
    status, body = call(client, "GET", path, ADMIN)
    assert status == 200, body
    _conforms(client, path, body)
    return body


def _conforms(client: Any, path: str, body: Any) -> None:
    """Every answer matches the schema /openapi.json publishes for it."""
    import jsonschema

    doc = json.loads(client.http.get("/openapi.json").body)
    route = path.split("?", 1)[0]
    ref = doc["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    jsonschema.Draft202012Validator({"$ref": ref, "components": doc["components"]}).validate(body)


def test_a_campaigns_day_from_exposure_to_lead(env: Any) -> None:
    client, poller = env
    campaign, code = setup_campaign(client)
    tokens = {}
    for n in (1, 1, 2, 3):  # person 1 twice
        resp = client.http.get(f"/p/{code}", headers={"User-Agent": UA.format(n=n), **GEO})
        assert resp.status_code == 200
    _, tokens[2] = open_page(client, f"/p/{code}", 2)
    _, tokens[4] = open_page(client, f"/s/{tokens[2]}", 4)  # a forward: person 4 through person 2
    assert lead(client, tokens[4], 4, name="Four", phone="+8613800138000")[0] == 201
    assert client.http.get(f"/p/{code}", headers={"User-Agent": "facebookexternalhit/1.1"}).status_code == 200
    desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
    resp = client.http.get(f"/{code}", headers={"User-Agent": desktop})  # the short link, then its page
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/p/{code}")
    assert client.http.get(f"/p/{code}", headers={"User-Agent": desktop}).status_code == 200
    poller.drain()

    summary = _get(client, "/analytics/summary")
    totals = summary["totals"]
    # seven page views by people (the short link hands the landing page the visit, so a
    # link-then-page click counts once); the preview fetcher is an exposure only
    assert (totals["exposures"], totals["visits"], totals["page_views"]) == (8, 7, 7)
    assert totals["unique_visitors"] == 5  # persons 1..4 and the desktop visitor
    assert totals["forwards"] == 1 and summary["depth"] == {"1": 4, "2": 1, "3": 0, "4+": 0}
    assert totals["leads"] == 1
    assert totals["points"] == 5 * 10 + 3 + 50
    # one lead from seven visits (not 100% of the one forward: a lead needs no forward)
    assert summary["funnel"][3] == {"stage": "lead", "count": 1, "rate": round(1 / 7, 4), "of": "visit"}
    assert summary["items_read"] == 1  # one day, one item

    devices = _get(client, "/analytics/breakdown?by=device")["rows"]
    assert {r["key"]: r["visits"] for r in devices if r["visits"]} == {"phone": 6, "desktop": 1}
    assert {r["key"]: r["exposures"] for r in devices if not r["visits"]} == {"bot": 1, "unknown": 0}  # + the lead
    by_os = _get(client, "/analytics/breakdown?by=os")["rows"]
    assert {r["key"]: r["unique_visitors"] for r in by_os if r["unique_visitors"]} == {"ios": 4, "windows": 1}
    by_city = {r["key"]: r["visits"] for r in _get(client, "/analytics/breakdown?by=city")["rows"]}
    assert by_city["JP/Tokyo"] == 4
    by_subdivision = {r["key"]: r["visits"] for r in _get(client, "/analytics/breakdown?by=subdivision")["rows"]}
    assert by_subdivision["JP-13"] == 4
    by_country = {r["key"]: r["exposures"] for r in _get(client, "/analytics/breakdown?by=country")["rows"]}
    assert by_country["JP"] == 4
    in_campaign = _get(client, f"/analytics/breakdown?by=team&campaign={campaign}")
    assert [(r["key"], r["unique_visitors"]) for r in in_campaign["rows"]] == [("north", 5)]

    status, mine = call(client, "GET", "/analytics/breakdown?by=channel", ALICE)
    assert status == 200 and mine["employee"] == "alice"
    assert {r["key"]: r["unique_visitors"] for r in mine["rows"]} == {"wechat": 5}
    assert sum(r["leads"] for r in mine["rows"]) == 1
    status, bobs = call(client, "GET", "/analytics/summary", auth("acme", "bob", "employee"))
    assert status == 200 and bobs["totals"]["visits"] == 0

    # segments: person 1 (2 visits) and person 4 (visit + lead) are medium at medium=2
    assert call(client, "PUT", "/admin/tenant", ADMIN, {"segments": {"medium": 2, "heavy": 5}})[0] == 200
    from ripple import bootstrap
    from ripple.service.analytics import refresh_segments

    refresh_segments(bootstrap.services(), ["acme"])
    seg = _get(client, "/analytics/segments")
    assert seg["segments"]["medium"] >= 2 and seg["reach"]["touched"] == 5 == seg["reach"]["reachable"]
    assert seg["employees"][0]["employee_id"] == "alice" and seg["employees"][0]["touched"] == 5
    status, own = call(client, "GET", "/analytics/segments", ALICE)
    assert status == 200 and own["reach"] == {"touched": 5, "reachable": 5}
    _conforms(client, "/analytics/segments", own)
    _conforms(client, "/analytics/timeseries", _get(client, "/analytics/timeseries?from=2026-01-01&to=2026-01-03"))

    # a full replay of the stream changes no number
    before = (summary, _get(client, "/analytics/breakdown?by=employee"))
    poller.reset(from_trim_horizon=True)
    poller.drain()
    after = (_get(client, "/analytics/summary"), _get(client, "/analytics/breakdown?by=employee"))
    assert after == before

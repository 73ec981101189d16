"""Issue 5's scenario over sockets against the real local stack: an admin uploads a
background, creates a poster template and a task for a team; each employee fetches the task
and their poster (rendered by the poster function, cached in moto's S3, served by a
presigned URL); every poster's QR decodes to that employee's own link, and a visit to it
moves their task to "shared"."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import zxingcpp
from PIL import Image

from tests.conftest import auth
from tests.integration.conftest import RunningStack, wait_for

TENANT = "poster-itest"
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36 q{n}"
ADMIN = auth(TENANT, "boss", "admin")
TEMPLATE: dict[str, Any] = {
    "name": "Spring",
    "text_boxes": [
        {"binding": "campaign_title", "x": 60, "y": 80, "width": 960, "height": 200, "font_size": 96},
        {"binding": "employee_name", "x": 60, "y": 1200, "width": 960, "height": 160, "font_size": 120},
    ],
    "qr": {"x": 340, "y": 1520, "size": 400},
}


@pytest.fixture(scope="module")
def base(local_stack: RunningStack) -> str:
    return local_stack.base


def call(base: str, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    resp = requests.request(method, base + path, headers=headers, json=body, timeout=30)
    return resp.status_code, resp.json()


def test_team_task_posters_scan_to_each_employees_link(base: str) -> None:
    people = {"lin": "sales", "mei": "sales", "sato": "sales", "olga": "ops"}
    for emp, team in people.items():
        assert call(base, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp, "team": team, "region": "r"})[0] == 200
    status, campaign = call(
        base,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "春の新作 Spring", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 5}},
    )
    assert status == 201
    background = io.BytesIO()
    Image.new("RGB", (1080, 1920), "#E8F0FF").save(background, "JPEG")
    upload = requests.post(
        f"{base}/admin/materials",
        headers={**ADMIN, "Content-Type": "image/jpeg"},
        data=background.getvalue(),
        timeout=60,
    )
    assert upload.status_code == 201, upload.text
    status, template = call(
        base,
        "POST",
        "/admin/poster-templates",
        ADMIN,
        {**TEMPLATE, "background_material_id": upload.json()["material_id"]},
    )
    assert status == 201, template
    deadline = (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    status, task = call(
        base,
        "POST",
        "/admin/tasks",
        ADMIN,
        {
            "campaign_id": campaign["campaign_id"],
            "title": "Spring posters",
            "copies": [{"text": "New in spring"}, {"text": "春の新作"}],
            "poster_template_id": template["template_id"],
            "channels": ["line"],
            "audience": {"teams": ["sales"]},
            "deadline": deadline,
        },
    )
    assert status == 201, task
    assert task["audience_size"] == 3

    for n, emp in enumerate(("lin", "mei", "sato")):
        me = auth(TENANT, emp, "employee")
        status, inbox = call(base, "GET", "/me/tasks", me)
        assert status == 200
        (mine,) = inbox["items"]
        (link,) = mine["links"]
        (poster,) = mine["posters"]
        resp = requests.get(
            poster["url"] if "://" in poster["url"] else base + poster["url"],
            headers=me,
            allow_redirects=False,
            timeout=60,
        )
        assert resp.status_code == 302, resp.text
        image = Image.open(io.BytesIO(requests.get(resp.headers["Location"], timeout=30).content))
        assert image.size == (1080, 1920)
        decoded = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
        assert decoded == [link["short_url"]], emp
        # a customer scans it
        visit = requests.get(
            base + urlsplit(decoded[0]).path,
            headers={"User-Agent": BROWSER.format(n=n)},
            allow_redirects=False,
            timeout=10,
        )
        assert visit.status_code == 302

        def status_of(headers: dict[str, str] = me) -> str:
            return str(call(base, "GET", "/me/tasks", headers)[1]["items"][0]["status"])

        got, waited = wait_for(status_of, "shared", timeout=20)
        assert got == "shared", f"{emp} still {got} after {waited:.1f}s"
        assert call(base, "GET", "/me", me)[1]["points"]["balance"] == 5
    assert call(base, "GET", "/me/tasks", auth(TENANT, "olga", "employee"))[1]["items"] == []
    status, progress = call(base, "GET", f"/admin/tasks/{task['task_id']}", ADMIN)
    assert status == 200, progress
    total = progress["progress"]["total"]
    assert (total["delivered"], total["shared"], total["unique_visits"]) == (3, 3, 3), total
    assert list(progress["progress"]["by_team"]) == ["sales"]

"""Signing in over real HTTP against `ripple dev` (moto's Cognito, created from the
template's pool, client and group): the operator creates a tenant and its admin, the admin
adds an employee with an e-mail, the employee's invitation (Cognito's e-mail, here the stack's
mailbox) gets them a first sign-in that must choose a password, then /me; offboarding makes
the still-valid token a 401 at once. Nobody can sign themselves up or promote themselves
through Cognito's own API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import boto3
import jwt
import pytest
import requests

from tests.integration.conftest import ROOT, RunningStack

TENANT = "identity-itest"
PASSWORD = "a-new-passw0rd"


def _post(stack: RunningStack, path: str, body: Any, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(stack.base + path, json=body, headers=headers, timeout=10)


def _mail(stack: RunningStack, to: str, kind: str, after: int = 0) -> dict[str, Any]:
    """The newest message of ``kind`` to ``to`` (the stack's Cognito writes it synchronously)."""
    messages = [json.loads(line) for line in stack.mailbox.read_text(encoding="utf-8").splitlines()]
    mine = [m for m in messages if m["to"] == to and m["kind"] == kind and m["ts"] >= after]
    assert mine, f"no {kind} message to {to}: {messages[-3:]}"
    return mine[-1]


def _add_with_invitation(stack: RunningStack, admin_token: str, employee_id: str, email: str) -> dict[str, Any]:
    """The admin adds ``employee_id`` with an e-mail; the invitation Cognito sent them."""
    before = int(time.time() * 1000)
    body = {"name": employee_id.title(), "team": "sales", "region": "west", "email": email}
    headers = {"Authorization": f"Bearer {admin_token}"}
    resp = requests.put(f"{stack.base}/admin/employees/{employee_id}", json=body, headers=headers, timeout=10)
    assert resp.status_code == 200, resp.text
    return _mail(stack, email, "invitation", before)


def _cognito(stack: RunningStack) -> Any:
    moto = json.loads(stack.state_file.read_text())["moto"]
    return boto3.client(
        "cognito-idp", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _first_sign_in(stack: RunningStack, email: str, temporary: str) -> dict[str, Any]:
    resp = _post(stack, "/auth/sign-in", {"email": email, "password": temporary})
    assert resp.status_code == 200, resp.text
    challenge = resp.json()
    assert challenge["challenge"] == "NEW_PASSWORD_REQUIRED"
    resp = _post(stack, "/auth/new-password", {"email": email, "session": challenge["session"], "new_password": "x"})
    assert resp.status_code == 422, resp.text  # the pool's password policy, said clearly
    resp = _post(
        stack, "/auth/new-password", {"email": email, "session": challenge["session"], "new_password": PASSWORD}
    )
    assert resp.status_code == 200, resp.text
    tokens: dict[str, Any] = resp.json()
    assert set(tokens) >= {"id_token", "refresh_token", "expires_in"}
    return tokens


@pytest.fixture(scope="module")
def admin_token(local_stack: RunningStack) -> str:
    """`ripple tenant create` against the running stack, then the admin's first sign-in."""
    email = f"boss@{TENANT}.example.test"
    env = {**local_stack.cli_env(), "PYTHONPATH": str(ROOT)}
    before = int(time.time() * 1000)
    out = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "tenant", "create", "--tenant", TENANT, "--admin-email", email],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["admin"]["role"] == "admin"
    again = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "tenant", "create", "--tenant", TENANT, "--admin-email", "x@y.test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "already exists" in again.stderr
    invitation = _mail(local_stack, email, "invitation", before)
    tokens = _first_sign_in(local_stack, email, invitation["code"])
    return str(tokens["id_token"])


def test_invite_sign_in_me_and_offboard(local_stack: RunningStack, admin_token: str) -> None:
    base = local_stack.base
    admin = {"Authorization": f"Bearer {admin_token}"}
    me = requests.get(base + "/admin/tenant", headers=admin, timeout=10)
    assert me.status_code == 200 and me.json()["tenant_id"] == TENANT

    email = f"alice@{TENANT}.example.test"
    before = int(time.time() * 1000)
    body = {"name": "Alice", "team": "sales", "region": "east", "email": email}
    resp = requests.put(base + "/admin/employees/alice", json=body, headers=admin, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "invited"
    # the same e-mail for a second employee: one e-mail, one sign-in
    resp = requests.put(base + "/admin/employees/alice2", json={**body, "name": "A2"}, headers=admin, timeout=10)
    assert resp.status_code == 409, resp.text

    tokens = _first_sign_in(local_stack, email, _mail(local_stack, email, "invitation", before)["code"])
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert (claims["custom:tenant"], claims["custom:employee_id"], claims["token_use"]) == (TENANT, "alice", "id")
    alice = {"Authorization": f"Bearer {tokens['id_token']}"}
    resp = requests.get(base + "/me", headers=alice, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["employee_id"] == "alice"
    listed = requests.get(base + "/admin/employees", headers=admin, timeout=10).json()["items"]
    assert {e["employee_id"]: e["status"] for e in listed}["alice"] == "active"
    assert requests.get(base + "/admin/employees", headers=alice, timeout=10).status_code == 403

    # a wrong password, an unknown e-mail: the same 401
    for who, password in ((email, "wrong-passw0rd"), (f"nobody@{TENANT}.example.test", PASSWORD)):
        resp = _post(local_stack, "/auth/sign-in", {"email": who, "password": password})
        assert resp.status_code == 401, resp.text

    # refresh (the refresh token rotates), then sign out: the current one is revoked at Cognito
    resp = _post(local_stack, "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 200 and resp.json()["id_token"], resp.text
    current = resp.json()["refresh_token"]
    assert current != tokens["refresh_token"]
    assert _post(local_stack, "/auth/sign-out", {"refresh_token": current}).status_code == 200
    assert _post(local_stack, "/auth/refresh", {"refresh_token": current}).status_code == 401

    # offboarding: the token alice still holds is refused on the next call
    requests.put(base + "/admin/employees/bob", json={"name": "B", "team": "s", "region": "e"}, headers=admin)
    resp = requests.post(base + "/admin/employees/alice/offboard", json={"to": "bob"}, headers=admin, timeout=10)
    assert resp.status_code == 200, resp.text
    resp = requests.get(base + "/me", headers=alice, timeout=10)
    assert resp.status_code == 401, resp.text
    # and Cognito no longer signs her in
    assert _post(local_stack, "/auth/sign-in", {"email": email, "password": PASSWORD}).status_code == 401


def test_forgot_password(local_stack: RunningStack, admin_token: str) -> None:
    email = f"carol@{TENANT}.example.test"
    _first_sign_in(local_stack, email, _add_with_invitation(local_stack, admin_token, "carol", email)["code"])

    before = int(time.time() * 1000)
    assert _post(local_stack, "/auth/forgot-password", {"email": email}).json() == {"sent": True}
    code = _mail(local_stack, email, "forgot_password", before)["code"]
    resp = _post(
        local_stack,
        "/auth/reset-password",
        {"email": email, "code": "moto-confirmation-code:0", "new_password": "another-passw0rd"},
    )
    assert resp.status_code == 422, resp.text
    resp = _post(
        local_stack, "/auth/reset-password", {"email": email, "code": code, "new_password": "another-passw0rd"}
    )
    assert resp.status_code == 200, resp.text
    resp = _post(local_stack, "/auth/sign-in", {"email": email, "password": "another-passw0rd"})
    assert resp.status_code == 200 and "id_token" in resp.json(), resp.text


def test_nobody_signs_up_or_promotes_themselves(local_stack: RunningStack, admin_token: str) -> None:
    cognito = _cognito(local_stack)
    client_id = local_stack.pool["client_id"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.sign_up(
            ClientId=client_id,
            Username="mallory@evil.example",
            Password="Passw0rd-Passw0rd!",
            UserAttributes=[
                {"Name": "custom:tenant", "Value": TENANT},
                {"Name": "custom:employee_id", "Value": "boss"},
            ],
        )
    # an employee with a real sign-in tries to move tenants, become someone else, or an admin
    email = f"dave@{TENANT}.example.test"
    _first_sign_in(local_stack, email, _add_with_invitation(local_stack, admin_token, "dave", email)["code"])
    auth = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD}
    )["AuthenticationResult"]
    for attrs in (
        [{"Name": "custom:tenant", "Value": "another-tenant"}],
        [{"Name": "custom:employee_id", "Value": "boss"}],
        [{"Name": "custom:role", "Value": "admin"}],
        [{"Name": "email", "Value": f"boss@{TENANT}.example.test"}],
    ):
        with pytest.raises((cognito.exceptions.NotAuthorizedException, cognito.exceptions.InvalidParameterException)):
            cognito.update_user_attributes(AccessToken=auth["AccessToken"], UserAttributes=attrs)
    # the access token itself is no way into the API
    resp = requests.get(
        local_stack.base + "/me", headers={"Authorization": f"Bearer {auth['AccessToken']}"}, timeout=10
    )
    assert resp.status_code == 401
    resp = requests.get(
        local_stack.base + "/admin/employees", headers={"Authorization": f"Bearer {auth['IdToken']}"}, timeout=10
    )
    assert resp.status_code == 403


def test_ripple_token_signs_in_through_cognito(local_stack: RunningStack) -> None:
    env = {**local_stack.cli_env(), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "token", "--tenant", "token-itest", "--sub", "erin", "--role", "admin"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"].endswith("/" + local_stack.pool["user_pool_id"]) and claims["cognito:groups"] == ["admin"]
    resp = requests.get(local_stack.base + "/admin/employees", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert os.environ.get("RIPPLE_JWT_SECRET") is None


def test_invitations_are_revocable_and_resent(local_stack: RunningStack, admin_token: str) -> None:
    base = local_stack.base
    admin = {"Authorization": f"Bearer {admin_token}"}
    email = f"frank@{TENANT}.example.test"
    first = _add_with_invitation(local_stack, admin_token, "frank", email)["code"]
    resp = requests.delete(base + "/admin/employees/frank/invitation", headers=admin, timeout=10)
    assert resp.status_code == 200 and resp.json()["sent"] is False, resp.text
    assert _post(local_stack, "/auth/sign-in", {"email": email, "password": first}).status_code == 401
    before = int(time.time() * 1000)
    resp = requests.post(base + "/admin/employees/frank/invitation", headers=admin, timeout=10)
    assert resp.status_code == 200 and resp.json() == {
        "employee_id": "frank",
        "status": "invited",
        "email": email,
        "sent": True,
    }
    second = _mail(local_stack, email, "invitation", before)["code"]
    assert second != first
    tokens = _first_sign_in(local_stack, email, second)
    me = requests.get(base + "/me", headers={"Authorization": f"Bearer {tokens['id_token']}"}, timeout=10)
    assert me.status_code == 200
    # accepted: nothing left to re-send or revoke; no sign-in at all: nothing to invite
    resp = requests.post(base + "/admin/employees/frank/invitation", headers=admin, timeout=10)
    assert resp.status_code == 409 and "active" in resp.json()["error"]["message"]
    plain = {"name": "Gil", "team": "sales", "region": "west"}
    assert requests.put(base + "/admin/employees/gil", json=plain, headers=admin, timeout=10).status_code == 200
    assert requests.post(base + "/admin/employees/gil/invitation", headers=admin, timeout=10).status_code == 409
    assert requests.post(base + "/admin/employees/nobody/invitation", headers=admin, timeout=10).status_code == 404


def _link_parts(url: str) -> tuple[str, str, str]:
    """(page, e-mail, temporary password) of an invitation link, parsed as /m parses it."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    assert parts.fragment.startswith("invite=") and "&code=" in parts.fragment, url
    email, code = parts.fragment[len("invite=") :].split("&code=", 1)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", unquote(email), code


def test_the_invitation_link_in_the_mail_and_in_the_console_qr(local_stack: RunningStack, admin_token: str) -> None:
    """The e-mailed link (Cognito's template, the stack's base URL) carries the e-mail and the
    temporary password in its fragment; the console's link + QR replaces it, works once, and
    both name the phone page."""
    import base64
    import html
    import re

    import zxingcpp
    from PIL import Image

    base = local_stack.base
    admin = {"Authorization": f"Bearer {admin_token}"}
    email = f"hana+staff@{TENANT}.example.test"
    mail = _add_with_invitation(local_stack, admin_token, "hana", email)
    hrefs = re.findall(r'href="([^"]+)"', mail["body"])
    assert len(hrefs) == 1, mail["body"]
    page, who, code = _link_parts(html.unescape(hrefs[0]))
    assert (page, who, code) == (base + "/m", email, mail["code"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", code), code  # URL-safe: no escaping needed anywhere

    resp = requests.post(base + "/admin/employees/hana/invitation/link", headers=admin, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"
    shown = resp.json()
    assert set(shown) == {"employee_id", "status", "email", "url", "expires_at", "qr"}
    page, who, fresh = _link_parts(shown["url"])
    assert (page, who) == (base + "/m", email) and fresh != code
    # the QR code decodes (an independent reader: zxing-cpp) to exactly the link
    assert shown["qr"].startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(shown["qr"].split(",", 1)[1]).decode()
    assert _decode_svg_qr(svg, zxingcpp, Image) == shown["url"]
    # the e-mailed one stopped working; the shown one works once
    assert _post(local_stack, "/auth/sign-in", {"email": email, "password": code}).status_code == 401
    tokens = _first_sign_in(local_stack, email, fresh)
    me = requests.get(base + "/me", headers={"Authorization": f"Bearer {tokens['id_token']}"}, timeout=10)
    assert me.status_code == 200 and me.json()["employee_id"] == "hana"
    assert _post(local_stack, "/auth/sign-in", {"email": email, "password": fresh}).status_code == 401
    # accepted: no more links; employees cannot ask for one
    resp = requests.post(base + "/admin/employees/hana/invitation/link", headers=admin, timeout=10)
    assert resp.status_code == 409
    mine = {"Authorization": f"Bearer {tokens['id_token']}"}
    assert requests.post(base + "/admin/employees/hana/invitation/link", headers=mine, timeout=10).status_code == 403


def _decode_svg_qr(svg: str, zxingcpp: Any, image: Any) -> str:
    """Rasterise qrcode's SVG path image (unit squares ``Mx,yHx2Vy2Hxz`` in mm) and read it."""
    import re

    size = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    scale = 10
    canvas = image.new("L", (int(size * scale) + 1, int(size * scale) + 1), 255)
    from PIL import ImageDraw

    draw = ImageDraw.Draw(canvas)
    for x, y, x2, y2 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", svg):
        draw.rectangle(
            [float(x) * scale, float(y) * scale, float(x2) * scale - 1, float(y2) * scale - 1],
            fill=0,
        )
    (result,) = zxingcpp.read_barcodes(canvas)
    return str(result.text)

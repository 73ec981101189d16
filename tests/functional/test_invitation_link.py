"""Invitation links (ripple.domain.invitations): the e-mailed one and the console's QR are the
same link to /m carrying a URL-safe temporary password; Cognito (moto with
``infra.cognito_patches``) refuses that password after the pool's TemporaryPasswordValidityDays,
and the API's answer says when that is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from infra import cognito_patches
from infra.cognito import load_template
from ripple.domain.invitations import INVITATION_VALID_DAYS, invitation_url, temporary_password
from tests.functional.apihelpers import ADMIN, ALICE, body_of, call, snapshot
from tests.stack import ROOT

EMAIL = "ivy@acme.example.test"


def _invite(api: Any) -> None:
    body = {"name": "Ivy", "team": "t", "region": "r", "email": EMAIL}
    assert call(api, "PUT", "/admin/employees/ivy", ADMIN, body).status_code == 200


def _code(url: str) -> str:
    fragment = urlsplit(url).fragment
    email, code = fragment[len("invite=") :].split("&code=", 1)
    assert unquote(email) == EMAIL
    return code


def test_the_pool_and_the_api_agree_on_how_long_an_invitation_lasts() -> None:
    (pool,) = [r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::Cognito::UserPool"]
    assert pool["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"] == INVITATION_VALID_DAYS
    message = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]["Fn::Sub"][0]
    assert "${AppUrl}/m#invite={username}&code={####}" in message  # the link /m reads


def test_temporary_passwords_are_url_safe_and_meet_the_pool_policy() -> None:
    (pool,) = [r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::Cognito::UserPool"]
    policy = pool["Policies"]["PasswordPolicy"]
    seen = {temporary_password() for _ in range(200)}
    assert len(seen) == 200
    for password in seen:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", password) and len(password) >= policy["MinimumLength"]
        assert re.search("[a-z]", password) and re.search("[A-Z]", password) and re.search("[0-9]", password)
    url = invitation_url("https://go.example.com/", "a+b@x.example", "pw_-1")
    assert url == "https://go.example.com/m#invite=a%2Bb@x.example&code=pw_-1"


def test_a_shown_invitation_replaces_the_mailed_one_and_expires_with_the_pool(
    env: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = env[0]
    now = [2_000_000_000.0]
    monkeypatch.setattr(cognito_patches, "clock", lambda: now[0])
    before = len(cognito_patches.MAILBOX)
    _invite(api)
    (mail,) = [m for m in cognito_patches.MAILBOX[before:] if m["to"] == EMAIL]
    resp = call(api, "POST", "/admin/employees/ivy/invitation/link", ADMIN)
    assert resp.status_code == 200, resp.body
    assert resp.headers["Cache-Control"] == "no-store"
    shown = body_of(resp)
    code = _code(shown["url"])
    assert code != mail["code"] and re.fullmatch(r"[A-Za-z0-9_-]+", code)
    issued = datetime.fromisoformat(shown["expires_at"].replace("Z", "+00:00")) - timedelta(days=INVITATION_VALID_DAYS)
    assert abs((datetime.now(issued.tzinfo) - issued).total_seconds()) < 60
    assert call(api, "POST", "/auth/sign-in", None, {"email": EMAIL, "password": mail["code"]}).status_code == 401

    # one second before the pool's validity runs out it still opens the first sign-in...
    now[0] += INVITATION_VALID_DAYS * 86400 - 1
    first = call(api, "POST", "/auth/sign-in", None, {"email": EMAIL, "password": code})
    assert first.status_code == 200 and body_of(first)["challenge"] == "NEW_PASSWORD_REQUIRED"
    # ...and after it, no more: the admin must send a new one, which works again
    now[0] += 2
    late = call(api, "POST", "/auth/sign-in", None, {"email": EMAIL, "password": code})
    assert late.status_code == 401, late.body
    fresh = _code(body_of(call(api, "POST", "/admin/employees/ivy/invitation/link", ADMIN))["url"])
    again = call(api, "POST", "/auth/sign-in", None, {"email": EMAIL, "password": fresh})
    assert again.status_code == 200 and body_of(again)["challenge"] == "NEW_PASSWORD_REQUIRED"


@pytest.mark.parametrize(
    ("who", "employee", "status"),
    [(ALICE, "ivy", 403), (ADMIN, "nobody", 404), (ADMIN, "b%21d", 422), (ADMIN, "plain", 409), (None, "ivy", 401)],
)
def test_invitation_links_refused(env: tuple[Any, Any], aws: Any, who: Any, employee: str, status: int) -> None:
    api = env[0]
    _invite(api)
    call(api, "PUT", "/admin/employees/plain", ADMIN, {"name": "P", "team": "t", "region": "r"})  # no sign-in
    call(api, "PUT", "/admin/employees/alice", ADMIN, {"name": "A", "team": "t", "region": "r"})
    before = snapshot(aws)
    resp = call(api, "POST", f"/admin/employees/{employee}/invitation/link", who)
    assert resp.status_code == status, resp.body
    assert body_of(resp)["error"]["code"]
    assert snapshot(aws) == before


def test_the_qr_code_needs_no_pillow() -> None:
    """The API function has no Pillow (it lives in the PosterLayer): the SVG QR must not need it."""
    code = (
        "import sys; sys.modules['PIL'] = None\n"
        "from ripple.web.qr import svg_data_url\n"
        "print(svg_data_url('https://go.example.com/m#invite=a@b.example&code=x')[:26])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "ripple"), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "data:image/svg+xml;base64,"

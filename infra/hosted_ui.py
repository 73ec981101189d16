"""A local stand-in for the Cognito Hosted UI (template.yaml's ``HostedUiDomainPrefix``) and,
behind it, the company's identity provider (``FederationProvider``).

moto implements Cognito's API but not its managed sign-in pages, so this module serves the
OAuth 2.0 endpoints the sign-in pages use, with Cognito's rules for a public app client:

* ``GET /oauth2/authorize`` - ``response_type=code`` only, ``client_id`` of the pool,
  ``redirect_uri`` one of the client's ``CallbackURLs`` (else an error page, never a
  redirect), PKCE with ``code_challenge_method=S256`` (Ripple's pages always send it; the
  stand-in insists), scopes among the client's ``AllowedOAuthScopes``. Without
  ``identity_provider`` it shows an e-mail + password form checked by moto's Cognito
  (``USER_PASSWORD_AUTH``, the first sign-in's new-password challenge included); with the
  stand-in's provider name it shows that provider's sign-in instead.
* ``POST /oauth2/token`` - ``grant_type=authorization_code``: a code works once, for five
  minutes, for the same client and redirect URI, and only with the verifier whose SHA-256 is
  the challenge (RFC 7636); CORS as Cognito answers it, so a page can call it.
* ``GET /logout`` - back to one of the client's ``LogoutURLs``.

The company's provider is a form asking for an e-mail (the person the provider would have
signed in). What happens next is what Cognito does: the user pool's PreTokenGeneration trigger
(functions/pre_token.py, the template's handler) is invoked with a federated user's event, and
the ID token carries the claims it answered, signed with the pool's key (moto's, as every
local token). A trigger that raises is a redirect with ``error=invalid_request`` and
Cognito's ``PreTokenGeneration failed with error ...`` description. Federated users get no
refresh token here (moto has no user to refresh); on AWS they do.

Never part of the product: the stack starts it (``infra.stack``) and gives the API its URL.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from infra.lambda_context import LocalContext

__all__ = ["HostedUi", "LocalProvider"]

CODE_TTL = 300.0
Trigger = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class LocalProvider:
    """The company's identity provider as the stand-in plays it."""

    name: str  # the pool's provider name (template.yaml's FederationProviderName)
    trigger: Trigger  # the pool's PreTokenGeneration handler


@dataclass
class _Grant:
    tokens: dict[str, Any]
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


class HostedUi:
    def __init__(
        self,
        cognito: Any,
        pool_id: str,
        client_id: str,
        *,
        provider: LocalProvider | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.cognito = cognito
        self.pool_id = pool_id
        self.client_id = client_id
        self.provider = provider
        self._host = host
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        stand_in = self

        class Handler(_Handler):
            ui = stand_in

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="hosted-ui", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ the pool's rules

    def client(self) -> dict[str, Any]:
        return dict(
            self.cognito.describe_user_pool_client(UserPoolId=self.pool_id, ClientId=self.client_id)["UserPoolClient"]
        )

    def issue(self, tokens: dict[str, Any], params: dict[str, str]) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                tokens, params["client_id"], params["redirect_uri"], params["code_challenge"], time.time() + CODE_TTL
            )
        return code

    def redeem(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once, whatever happens next
        if grant is None or grant.expires < time.time():
            return 400, {"error": "invalid_grant"}
        if form.get("client_id") != grant.client_id:
            return 400, {"error": "invalid_client"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant"}
        digest = hashlib.sha256(form.get("code_verifier", "").encode("ascii", "replace")).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return 400, {"error": "invalid_grant"}
        return 200, {**grant.tokens, "token_type": "Bearer"}

    def federated_tokens(self, email: str) -> dict[str, Any]:
        """What Cognito does for a federated user: the trigger's answer in a pool-signed ID token."""
        from infra.moto_tokens import id_token

        assert self.provider is not None
        sub = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.pool_id}/{self.provider.name}/{email.lower()}"))
        identities = [{"userId": email, "providerName": self.provider.name, "providerType": "OIDC", "primary": "true"}]
        event = {
            "version": "1",
            "triggerSource": "TokenGeneration_HostedAuth",
            "region": "us-east-1",
            "userPoolId": self.pool_id,
            "userName": f"{self.provider.name}_{email}",
            "callerContext": {"awsSdkVersion": "local", "clientId": self.client_id},
            "request": {
                "userAttributes": {
                    "sub": sub,
                    "email": email,
                    "identities": json.dumps(identities),
                    "cognito:user_status": "EXTERNAL_PROVIDER",
                },
                "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": []},
            },
            "response": {"claimsOverrideDetails": None},
        }
        answer = self.provider.trigger(event, LocalContext("PreTokenFunction"))["response"]["claimsOverrideDetails"]
        claims = answer["claimsToAddOrOverride"]
        groups = answer["groupOverrideDetails"]["groupsToOverride"]
        token = id_token(
            claims["custom:tenant"],
            claims["custom:employee_id"],
            "admin" if "admin" in groups else "employee",
            pool_id=self.pool_id,
            client_id=self.client_id,
            sub=sub,
            email=email,
            identities=identities,
        )
        return {"id_token": token, "access_token": token, "expires_in": 3600}


class _Handler(BaseHTTPRequestHandler):
    ui: HostedUi

    def log_message(self, *args: Any) -> None:  # the stack's log is for the product
        return

    # ------------------------------------------------------------------ plumbing

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, title: str, inner: str, status: int = 200) -> None:
        doc = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<link rel='icon' href='data:,'><title>{html.escape(title)}</title></head>"
            f"<body><main><h1>{html.escape(title)}</h1>{inner}</main></body></html>"
        )
        self._send(status, doc.encode(), "text/html; charset=utf-8")

    def _redirect(self, url: str) -> None:
        self._send(302, b"", "text/plain", {"Location": url})

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 64 * 1024)).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}

    @staticmethod
    def _hidden(params: dict[str, str]) -> str:
        keep = ("client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope")
        return "".join(
            f"<input type='hidden' name='{k}' value='{html.escape(params.get(k, ''), quote=True)}'>" for k in keep
        )

    def _back(self, params: dict[str, str], **query: str) -> None:
        if params.get("state"):
            query["state"] = params["state"]
        self._redirect(params["redirect_uri"] + "?" + urlencode(query))

    # ------------------------------------------------------------------ endpoints

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/oauth2/authorize":
            self._authorize(params)
        elif parts.path == "/logout":
            client = self.ui.client()
            if params.get("client_id") != self.ui.client_id or params.get("logout_uri") not in client.get(
                "LogoutURLs", []
            ):
                self._page("Sign-out error", "<p>Invalid logout_uri.</p>", 400)
            else:
                self._redirect(params["logout_uri"])
        else:
            self._page("Not found", "", 404)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        form = self._form()
        if path == "/oauth2/token":
            status, body = self.ui.redeem(form)
            origin = self.headers.get("Origin")
            cors = {"Access-Control-Allow-Origin": origin} if origin else {}
            self._send(status, json.dumps(body).encode(), "application/json;charset=UTF-8", cors)
        elif path == "/login":
            self._login(form)
        elif path == "/login/new-password":
            self._new_password(form)
        elif path == "/idp/login":
            self._provider_login(form)
        else:
            self._page("Not found", "", 404)

    def _checked(self, params: dict[str, str]) -> str | None:
        """Why this authorization request is refused before any redirect, or None."""
        client = self.ui.client()
        if params.get("client_id") != self.ui.client_id:
            return "Invalid client_id."
        if params.get("redirect_uri") not in client.get("CallbackURLs", []):
            return "redirect_mismatch"
        return None

    def _authorize(self, params: dict[str, str]) -> None:
        refused = self._checked(params)
        if refused:
            self._page("Sign-in error", f"<p>{html.escape(refused)}</p>", 400)
            return
        client = self.ui.client()
        if params.get("response_type") != "code" or "code" not in client.get("AllowedOAuthFlows", []):
            self._back(params, error="unsupported_response_type")
            return
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            self._back(params, error="invalid_request", error_description="PKCE (S256) is required")
            return
        scopes = set((params.get("scope") or "openid").split())
        if not scopes <= set(client.get("AllowedOAuthScopes", [])):
            self._back(params, error="invalid_scope")
            return
        wanted = params.get("identity_provider")
        if wanted and (self.ui.provider is None or wanted != self.ui.provider.name):
            self._back(params, error="invalid_request", error_description="Invalid identity provider")
            return
        if wanted:
            self._provider_form(params)
        else:
            self._login_form(params)

    def _login_form(self, params: dict[str, str], error: str = "") -> None:
        message = f"<p role='alert' id='error'>{html.escape(error)}</p>" if error else ""
        self._page(
            "Sign in",
            f"<form method='post' action='/login'>{self._hidden(params)}{message}"
            "<label>E-mail <input id='signInFormUsername' name='username' type='email' required></label>"
            "<label>Password <input id='signInFormPassword' name='password' type='password' required></label>"
            "<button id='signInSubmitButton' type='submit'>Sign in</button></form>",
        )

    def _provider_form(self, params: dict[str, str]) -> None:
        assert self.ui.provider is not None
        name = html.escape(self.ui.provider.name)
        self._page(
            f"{name} sign-in (local stand-in of the company's identity provider)",
            f"<form method='post' action='/idp/login'>{self._hidden(params)}"
            "<label>Work e-mail <input id='idpEmail' name='email' type='email' required></label>"
            "<button id='idpSubmit' type='submit'>Continue</button></form>",
        )

    def _refused(self, form: dict[str, str]) -> bool:
        refused = self._checked(form)
        if refused:
            self._page("Sign-in error", f"<p>{html.escape(refused)}</p>", 400)
        return refused is not None

    def _tokens(self, result: dict[str, Any]) -> dict[str, Any]:
        auth = result["AuthenticationResult"]
        return {
            "id_token": auth["IdToken"],
            "access_token": auth["AccessToken"],
            "refresh_token": auth.get("RefreshToken"),
            "expires_in": auth.get("ExpiresIn", 3600),
        }

    def _login(self, form: dict[str, str]) -> None:
        if self._refused(form):
            return
        errors = self.ui.cognito.exceptions
        try:
            result = self.ui.cognito.initiate_auth(
                ClientId=self.ui.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": form.get("username", ""), "PASSWORD": form.get("password", "")},
            )
        except (errors.NotAuthorizedException, errors.UserNotFoundException):
            self._login_form(form, "Incorrect username or password.")
            return
        if result.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            self._page(
                "Change password",
                f"<form method='post' action='/login/new-password'>{self._hidden(form)}"
                f"<input type='hidden' name='session' value='{html.escape(result['Session'], quote=True)}'>"
                f"<input type='hidden' name='username' value='{html.escape(form.get('username', ''), quote=True)}'>"
                "<label>New password <input id='new_password' name='new_password' type='password' required></label>"
                "<button id='changePassword' type='submit'>Send</button></form>",
            )
            return
        self._back(form, code=self.ui.issue(self._tokens(result), form))

    def _new_password(self, form: dict[str, str]) -> None:
        if self._refused(form):
            return
        try:
            result = self.ui.cognito.respond_to_auth_challenge(
                ClientId=self.ui.client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=form.get("session", ""),
                ChallengeResponses={"USERNAME": form.get("username", ""), "NEW_PASSWORD": form.get("new_password", "")},
            )
        except self.ui.cognito.exceptions.ClientError as exc:
            self._page("Change password", f"<p role='alert'>{html.escape(str(exc))}</p>", 400)
            return
        self._back(form, code=self.ui.issue(self._tokens(result), form))

    def _provider_login(self, form: dict[str, str]) -> None:
        if self._refused(form):
            return
        try:
            tokens = self.ui.federated_tokens(form.get("email", "").strip())
        except Exception as exc:  # what the trigger raised: Cognito's message for it
            self._back(form, error="invalid_request", error_description=f"PreTokenGeneration failed with error {exc}.")
            return
        self._back(form, code=self.ui.issue(tokens, form))

"""Make moto's Cognito behave like Cognito where Ripple's security depends on it, and
deliver its messages to a local mailbox.

moto 5.2 stores a user pool's settings but does not enforce them. On AWS:

* ``SignUp`` on a pool with ``AllowAdminCreateUserOnly`` is refused (NotAuthorizedException);
* ``UpdateUserAttributes`` (the user's own access token) may only write the app client's
  ``WriteAttributes``, and nobody may change an attribute declared ``Mutable: false``;
* ``AdminCreateUser`` without ``TemporaryPassword`` makes one up and e-mails it (the pool's
  ``InviteMessageTemplate``), ``MessageAction=RESEND`` sends a fresh one to the same user;
* a temporary password (``AdminCreateUser``, ``AdminSetUserPassword`` with ``Permanent=False``)
  stops working after the pool's ``TemporaryPasswordValidityDays`` ("Temporary password has
  expired and must be reset by an administrator.");
* ``UpdateUserPool`` keeps the username attributes (moto would drop every setting not given);
* ``ForgotPassword`` e-mails a code; ``RevokeToken`` revokes a refresh token;
* ``GetTokensFromRefreshToken`` (moto 5.2 has none) on an app client with
  ``RefreshTokenRotation`` enabled issues a new refresh token each time and retires the one
  it was given after ``RetryGracePeriodSeconds``; such a client refuses ``REFRESH_TOKEN_AUTH``.

This module adds exactly that. Every message Cognito would send is appended to the JSON-lines
file ``RIPPLE_MAILBOX`` (and to ``MAILBOX`` in-process), which ``ripple dev`` prints and
tests read. Applied by ``infra.moto_patches.apply``; never part of the product.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import string
import threading
import time
from typing import Any

__all__ = ["MAILBOX", "apply", "deliver"]

#: the stand-in's clock for refresh-token grace periods (tests move it instead of sleeping)
clock = time.time

MAILBOX: list[dict[str, Any]] = []
_lock = threading.Lock()
# moto keeps a pool's users in a plain OrderedDict that every lookup scans; Cognito takes
# concurrent calls (the CSV import sends eight AdminCreateUser at once), so the stand-in runs
# one backend call at a time rather than fail with "OrderedDict mutated during iteration".
_backend_lock = threading.RLock()


def deliver(to: str, subject: str, body: str, kind: str, **extra: Any) -> None:
    """What Cognito would e-mail: kept in memory and appended to ``RIPPLE_MAILBOX``."""
    message = {"to": to, "subject": subject, "body": body, "kind": kind, "ts": int(time.time() * 1000), **extra}
    with _lock:
        MAILBOX.append(message)
        path = os.environ.get("RIPPLE_MAILBOX")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(message, ensure_ascii=False) + "\n")


def _temporary_password() -> str:
    # meets any policy Cognito allows: lower, upper, digit, symbol
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{core}a1A!"


def _pool_of_client(backend: Any, client_id: str) -> Any:
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool
    return None


def _pools_with_client(client_id: str) -> Any:
    """(backend, pool) of every account and region whose user pool has ``client_id``: the
    unauthenticated calls (RevokeToken, GetTokensFromRefreshToken) name only the client."""
    import moto.cognitoidp.models as models

    for regions in models.cognitoidp_backends.values():
        for region, backend in regions.items():
            pool = None if region == "global" else _pool_of_client(backend, client_id)
            if pool is not None:
                yield backend, pool


def _rotation(client: Any) -> tuple[bool, int]:
    """(enabled, grace seconds) of an app client's RefreshTokenRotation."""
    config = client.extended_config.get("RefreshTokenRotation") or {}
    return config.get("Feature") == "ENABLED", int(config.get("RetryGracePeriodSeconds", 0))


def _temporary_set(user: Any) -> None:
    user._ripple_temporary_at = clock()


def _check_temporary(pool: Any, user: Any) -> None:
    """Refuse a temporary password older than the pool's validity (as Cognito does)."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import UserStatus

    if user is None or user.status != UserStatus.FORCE_CHANGE_PASSWORD:
        return
    policy = pool.extended_config.get("Policies", {}).get("PasswordPolicy", {})
    days = int(policy.get("TemporaryPasswordValidityDays", 7))
    issued = getattr(user, "_ripple_temporary_at", None)
    if issued is not None and clock() - issued > days * 86400:
        raise NotAuthorizedError("Temporary password has expired and must be reset by an administrator.")


def _invite(pool: Any, user: Any, password: str) -> None:
    template = pool.extended_config.get("AdminCreateUserConfig", {}).get("InviteMessageTemplate", {})
    email = user.attribute_lookup.get("email", user.username)
    body = (
        str(template.get("EmailMessage") or "Your username is {username} and temporary password is {####}.")
        .replace("{username}", email)
        .replace("{####}", password)
    )
    deliver(email, str(template.get("EmailSubject") or "Your temporary password"), body, "invitation", code=password)


def _check_immutable(pool: Any, attributes: list[dict[str, str]]) -> None:
    from moto.cognitoidp.exceptions import InvalidParameterException

    for attr in attributes:
        schema = pool.schema_attributes.get(attr["Name"])
        if schema is not None and not schema.mutable:
            raise InvalidParameterException(f"Cannot modify the non-mutable attribute {attr['Name']}")


def _alias_index(pool: Any) -> dict[str, Any]:
    """value -> user of the pool's UsernameAttributes (e-mail), rebuilt when a user appeared
    or vanished behind the stand-in's back or an attribute changed. moto finds a user by
    e-mail by flattening every user's attributes (O(users) per call, so a 10,000-row CSV
    import spent minutes in moto); the answers are the same (first user in order wins)."""
    from moto.cognitoidp.utils import flatten_attrs

    cached = getattr(pool, "_ripple_alias", None)
    if cached is not None and cached[0] == len(pool.users) and not getattr(pool, "_ripple_alias_dirty", False):
        found: dict[str, Any] = cached[1]
        return found
    names = pool.extended_config.get("UsernameAttributes") or []
    table: dict[str, Any] = {}
    for user in pool.users.values():
        flat = flatten_attrs(user.attributes)
        for name in names:
            value = flat.get(name)
            if value is not None:
                table.setdefault(value, user)
    pool._ripple_alias = (len(pool.users), table)
    pool._ripple_alias_dirty = False
    return table


def _index_new_user(pool: Any, user: Any) -> None:
    """Add a just-created user to the index instead of rebuilding it."""
    from moto.cognitoidp.utils import flatten_attrs

    cached = getattr(pool, "_ripple_alias", None)
    if cached is None or getattr(pool, "_ripple_alias_dirty", False) or cached[0] != len(pool.users) - 1:
        pool._ripple_alias = None
        return
    flat = flatten_attrs(user.attributes)
    for name in pool.extended_config.get("UsernameAttributes") or []:
        value = flat.get(name)
        if value is not None:
            cached[1].setdefault(value, user)
    pool._ripple_alias = (len(pool.users), cached[1])


def _serialised(method: Any) -> Any:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _backend_lock:
            return method(*args, **kwargs)

    return call


def apply() -> None:
    import moto.cognitoidp.models as models
    from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError, ResourceNotFoundError
    from moto.cognitoidp.responses import CognitoIdpResponse

    backend = models.CognitoIdpBackend
    if getattr(backend, "_ripple_patched", False):
        return

    original_sign_up = backend.sign_up

    @functools.wraps(original_sign_up)
    def sign_up(self: Any, client_id: str, username: str, password: str, attributes: Any) -> Any:
        pool = _pool_of_client(self, client_id)
        if pool is not None and pool.extended_config.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly"):
            raise NotAuthorizedError("SignUp is not permitted for this user pool")
        return original_sign_up(self, client_id, username, password, attributes)

    def get_user(self: Any, username: str) -> Any:
        if self.extended_config.get("UsernameAttributes"):
            user = _alias_index(self).get(username)
            if user is not None:
                return user
        return self.users.get(username)

    models.CognitoIdpUserPool._get_user = get_user  # type: ignore[method-assign]

    def _dirty(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            finally:
                for pool in self.user_pools.values():
                    pool._ripple_alias_dirty = True

        return call

    original_update = backend.update_user_attributes

    @functools.wraps(original_update)
    def update_user_attributes(self: Any, access_token: str, attributes: list[dict[str, str]]) -> None:
        for pool in self.user_pools.values():
            if access_token in pool.access_tokens:
                client_id, _ = pool.access_tokens[access_token]
                writable = pool.clients[client_id].extended_config.get("WriteAttributes")
                if writable is not None and any(a["Name"] not in writable for a in attributes):
                    raise NotAuthorizedError("A client attempted to write unauthorized attribute")
                _check_immutable(pool, attributes)
        return original_update(self, access_token, attributes)

    original_admin_update = backend.admin_update_user_attributes

    @functools.wraps(original_admin_update)
    def admin_update_user_attributes(self: Any, user_pool_id: str, username: str, attributes: Any) -> None:
        _check_immutable(self.describe_user_pool(user_pool_id), attributes)
        return original_admin_update(self, user_pool_id, username, attributes)

    original_create = backend.admin_create_user

    @functools.wraps(original_create)
    def admin_create_user(
        self: Any, user_pool_id: str, username: str, message_action: str, temporary_password: str, attributes: Any
    ) -> Any:
        pool = self.describe_user_pool(user_pool_id)
        if message_action == "RESEND":
            user = self.admin_get_user(user_pool_id, username)
            password = temporary_password or _temporary_password()
            user.password = password
            user.status = models.UserStatus.FORCE_CHANGE_PASSWORD
            _temporary_set(user)
            _invite(pool, user, password)
            return user
        password = temporary_password or _temporary_password()
        user = original_create(self, user_pool_id, username, message_action, password, attributes)
        _index_new_user(pool, user)
        _temporary_set(user)
        if message_action != "SUPPRESS":
            _invite(pool, user, password)
        return user

    original_update_pool = backend.update_user_pool

    @functools.wraps(original_update_pool)
    def update_user_pool(self: Any, user_pool_id: str, extended_config: dict[str, Any]) -> None:
        """moto replaces the whole configuration; Cognito keeps what UpdateUserPool cannot
        change (the username attributes: without them every e-mail lookup would miss)."""
        pool = self.describe_user_pool(user_pool_id)
        fixed = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")
        kept = {k: pool.extended_config[k] for k in fixed if k in pool.extended_config}
        original_update_pool(self, user_pool_id, {**extended_config, **kept})
        pool._ripple_alias = None

    original_set_password = backend.admin_set_user_password

    @functools.wraps(original_set_password)
    def admin_set_user_password(self: Any, user_pool_id: str, username: str, password: str, permanent: bool) -> None:
        original_set_password(self, user_pool_id, username, password, permanent)
        if not permanent:
            _temporary_set(self.admin_get_user(user_pool_id, username))

    original_forgot = backend.forgot_password

    @functools.wraps(original_forgot)
    def forgot_password(self: Any, client_id: str, username: str) -> Any:
        code, details = original_forgot(self, client_id, username)
        pool = _pool_of_client(self, client_id)
        user = pool._get_user(username) if pool is not None else None
        if code and user is not None:
            email = user.attribute_lookup.get("email", username)
            deliver(
                email, "Your verification code", f"Your password reset code is {code}", "forgot_password", code=code
            )
        return code, details

    def revoke_token(self: Any) -> str:
        token = self._get_param("Token")
        client_id = self._get_param("ClientId")
        for _, pool in _pools_with_client(client_id):
            if pool.refresh_tokens.get(token):
                pool.refresh_tokens[token] = None
        return ""

    original_refresh = models.CognitoIdpUserPool.create_tokens_from_refresh_token

    @functools.wraps(original_refresh)
    def create_tokens_from_refresh_token(self: Any, refresh_token: str) -> Any:
        if refresh_token not in self.refresh_tokens:  # moto would raise KeyError (a 500)
            raise NotAuthorizedError("Invalid Refresh Token")
        return original_refresh(self, refresh_token)

    original_initiate_auth = backend.initiate_auth

    @functools.wraps(original_initiate_auth)
    def initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        pool = _pool_of_client(self, client_id)
        refreshing = auth_flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN")
        if refreshing and pool is not None and _rotation(pool.clients[client_id])[0]:
            raise InvalidParameterException("Auth flow not enabled for this client")
        if pool is not None and auth_flow == "USER_PASSWORD_AUTH":
            user = pool._get_user(auth_parameters.get("USERNAME", ""))
            if user is not None and user.password == auth_parameters.get("PASSWORD"):
                _check_temporary(pool, user)
        return original_initiate_auth(self, client_id, auth_flow, auth_parameters)

    def get_tokens_from_refresh_token(self: Any, client_id: str, refresh_token: str) -> dict[str, Any]:
        pool = _pool_of_client(self, client_id)
        if pool is None:
            raise ResourceNotFoundError(client_id)
        entry = pool.refresh_tokens.get(refresh_token)
        if entry is None or entry[0] != client_id:
            raise NotAuthorizedError("Invalid Refresh Token")
        retired = getattr(pool, "_ripple_retired", {})
        pool._ripple_retired = retired
        if refresh_token in retired and clock() >= retired[refresh_token]:
            pool.refresh_tokens[refresh_token] = None  # past its grace period: gone for good
            raise NotAuthorizedError("Invalid Refresh Token")
        access_token, id_token, expires_in = pool.create_tokens_from_refresh_token(refresh_token)
        result = {"IdToken": id_token, "AccessToken": access_token, "ExpiresIn": expires_in, "TokenType": "Bearer"}
        enabled, grace = _rotation(pool.clients[client_id])
        if enabled:
            result["RefreshToken"], _ = pool.create_refresh_token(client_id, entry[1])
            retired.setdefault(refresh_token, clock() + grace)
        return {"AuthenticationResult": result}

    def get_tokens_response(self: Any) -> str:
        client_id = self._get_param("ClientId")
        for be, _ in _pools_with_client(client_id):
            return json.dumps(be.get_tokens_from_refresh_token(client_id, self._get_param("RefreshToken")))
        raise ResourceNotFoundError(client_id)

    backend.initiate_auth = initiate_auth  # type: ignore[method-assign]
    backend.get_tokens_from_refresh_token = get_tokens_from_refresh_token  # type: ignore[attr-defined]
    CognitoIdpResponse.get_tokens_from_refresh_token = get_tokens_response  # type: ignore[attr-defined]
    backend.sign_up = sign_up  # type: ignore[method-assign]
    backend.update_user_attributes = _dirty(update_user_attributes)  # type: ignore[method-assign]
    backend.admin_update_user_attributes = _dirty(admin_update_user_attributes)  # type: ignore[method-assign]
    for name in ("admin_delete_user_attributes", "delete_user_attributes", "verify_user_attribute"):
        if hasattr(backend, name):
            setattr(backend, name, _dirty(getattr(backend, name)))
    backend.admin_create_user = admin_create_user  # type: ignore[method-assign]
    backend.forgot_password = forgot_password  # type: ignore[method-assign]
    backend.admin_set_user_password = admin_set_user_password  # type: ignore[method-assign]
    backend.update_user_pool = update_user_pool  # type: ignore[method-assign]
    models.CognitoIdpUserPool.create_tokens_from_refresh_token = create_tokens_from_refresh_token  # type: ignore[method-assign]
    CognitoIdpResponse.revoke_token = revoke_token  # type: ignore[attr-defined]
    for name, member in list(vars(backend).items()):
        if callable(member) and not name.startswith("_"):
            setattr(backend, name, _serialised(member))
    backend._ripple_patched = True  # type: ignore[attr-defined]

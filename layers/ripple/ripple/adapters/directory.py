"""The Cognito user pool as Ripple's ``Directory`` (service.ports): the admin-side calls
that create, change and disable employees' sign-ins. Only this module talks to Cognito's
admin API; locally the same calls reach moto through ``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``."""

from __future__ import annotations

from typing import Any

from ripple.adapters.auth import ADMIN_GROUP
from ripple.domain.invitations import temporary_password
from ripple.service.ports import DirectoryUser, EmailTakenError

__all__ = ["Cognito", "CognitoDirectory", "CognitoSignIn"]


class _CognitoClient:
    """The boto3 client both sides share, made on first use (boto3 stays off the cold path)."""

    _client: Any

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("cognito-idp")
        return self._client


class CognitoDirectory(_CognitoClient):
    def __init__(self, user_pool_id: str, client: Any = None) -> None:
        self.pool = user_pool_id
        self._client = client

    def create_user(self, *, tenant_id: str, employee_id: str, email: str, name: str, admin: bool) -> DirectoryUser:
        errors = self.client.exceptions
        try:
            resp = self.client.admin_create_user(
                UserPoolId=self.pool,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "name", "Value": name or employee_id},
                    {"Name": "custom:tenant", "Value": tenant_id},
                    {"Name": "custom:employee_id", "Value": employee_id},
                ],
                # ours, not Cognito's: URL-safe, so the e-mail's invitation link carries it as is
                TemporaryPassword=temporary_password(),
                DesiredDeliveryMediums=["EMAIL"],
            )
        except (errors.UsernameExistsException, errors.AliasExistsException) as exc:
            raise EmailTakenError(email) from exc
        except errors.InvalidParameterException as exc:
            # an address our syntax check accepts but Cognito's does not: the client's input (422), never a 500
            from ripple.domain.errors import ValidationError

            raise ValidationError("email is not an address the sign-in accepts", details={"field": "email"}) from exc
        user = resp["User"]
        attrs = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
        subject = attrs.get("sub") or user["Username"]
        if admin:
            self._set_admin(subject, True)
        return DirectoryUser(subject=subject, status=user.get("UserStatus", ""))

    def _set_admin(self, subject: str, admin: bool) -> None:
        call = self.client.admin_add_user_to_group if admin else self.client.admin_remove_user_from_group
        call(UserPoolId=self.pool, Username=subject, GroupName=ADMIN_GROUP)

    def update_user(self, subject: str, *, email: str, name: str, admin: bool) -> None:
        current = self.client.admin_get_user(UserPoolId=self.pool, Username=subject)
        attrs = {a["Name"]: a["Value"] for a in current.get("UserAttributes", [])}
        changes = []
        if attrs.get("email") != email:
            changes += [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
        if name and attrs.get("name") != name:
            changes.append({"Name": "name", "Value": name})
        if changes:
            errors = self.client.exceptions
            try:
                self.client.admin_update_user_attributes(UserPoolId=self.pool, Username=subject, UserAttributes=changes)
            except (errors.AliasExistsException, errors.UsernameExistsException) as exc:
                raise EmailTakenError(email) from exc
        groups = self.client.admin_list_groups_for_user(UserPoolId=self.pool, Username=subject)["Groups"]
        if admin != any(g["GroupName"] == ADMIN_GROUP for g in groups):
            self._set_admin(subject, admin)

    def set_enabled(self, subject: str, enabled: bool) -> None:
        """Enable or disable the sign-in. A federated user (the company's provider signs them
        in; their ``sub`` names no local user) has nothing to disable here: the pool's
        PreTokenGeneration trigger refuses an offboarded employee every token, refreshes too."""
        try:
            if enabled:
                self.client.admin_enable_user(UserPoolId=self.pool, Username=subject)
                return
            self.client.admin_disable_user(UserPoolId=self.pool, Username=subject)
            self.client.admin_user_global_sign_out(UserPoolId=self.pool, Username=subject)
        except self.client.exceptions.UserNotFoundException:
            return

    def reset_invitation(self, subject: str, temporary_password: str) -> None:
        self.client.admin_set_user_password(
            UserPoolId=self.pool, Username=subject, Password=temporary_password, Permanent=False
        )

    def set_password(self, subject: str, password: str) -> None:
        """A permanent password set by the operator (``ripple token`` on the local stack)."""
        self.client.admin_set_user_password(UserPoolId=self.pool, Username=subject, Password=password, Permanent=True)

    def resend_invitation(self, subject: str) -> None:
        current = self.client.admin_get_user(UserPoolId=self.pool, Username=subject)
        email = {a["Name"]: a["Value"] for a in current.get("UserAttributes", [])}.get("email", subject)
        self.client.admin_create_user(
            UserPoolId=self.pool,
            Username=email,
            MessageAction="RESEND",
            TemporaryPassword=temporary_password(),
            DesiredDeliveryMediums=["EMAIL"],
        )


def _tokens(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id_token": result["IdToken"],
        "expires_in": int(result.get("ExpiresIn", 3600)),
        "token_type": "Bearer",
    }
    if result.get("RefreshToken"):  # absent on a refresh unless the client rotates them
        out["refresh_token"] = result["RefreshToken"]
    return out


class CognitoSignIn(_CognitoClient):
    """The app client's public flows (what a browser could call on Cognito itself): the API
    relays them so the pages need no cross-origin calls and the same code runs locally."""

    def __init__(self, client_id: str, client: Any = None) -> None:
        self.client_id = client_id
        self._client = client

    def _call(self, op: str, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        from ripple.domain.errors import AuthenticationError, TooManyRequestsError, ValidationError

        try:
            return getattr(self.client, op)(ClientId=self.client_id, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code in ("NotAuthorizedException", "UserNotFoundException", "ResourceNotFoundException"):
                raise AuthenticationError(
                    "incorrect e-mail or password" if op == "initiate_auth" else "not accepted: sign in again"
                ) from exc
            if code == "InvalidPasswordException":
                raise ValidationError(
                    f"the password does not meet the policy: {message}", details={"field": "new_password"}
                ) from exc
            if code in ("CodeMismatchException", "ExpiredCodeException"):
                raise ValidationError("the code is wrong or has expired", details={"field": "code"}) from exc
            if code in ("LimitExceededException", "TooManyRequestsException", "TooManyFailedAttemptsException"):
                raise TooManyRequestsError("too many attempts: try again later") from exc
            if code in ("InvalidParameterException", "UserNotConfirmedException", "PasswordResetRequiredException"):
                raise ValidationError(message or "not accepted") from exc
            raise

    def _answer(self, resp: dict[str, Any]) -> dict[str, Any]:
        if resp.get("ChallengeName"):
            if resp["ChallengeName"] != "NEW_PASSWORD_REQUIRED":
                from ripple.domain.errors import ValidationError

                raise ValidationError(f"unsupported sign-in challenge {resp['ChallengeName']}")
            return {"challenge": "NEW_PASSWORD_REQUIRED", "session": resp["Session"]}
        return _tokens(resp["AuthenticationResult"])

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        resp = self._call(
            "initiate_auth", AuthFlow="USER_PASSWORD_AUTH", AuthParameters={"USERNAME": email, "PASSWORD": password}
        )
        return self._answer(resp)

    def answer_new_password(self, email: str, session: str, new_password: str) -> dict[str, Any]:
        resp = self._call(
            "respond_to_auth_challenge",
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password},
        )
        return self._answer(resp)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """New tokens; the app client rotates refresh tokens (template.yaml), so the answer
        carries a new one and the one sent stops working after the client's grace period.
        A rotating client only takes GetTokensFromRefreshToken, not REFRESH_TOKEN_AUTH."""
        return self._answer(self._call("get_tokens_from_refresh_token", RefreshToken=refresh_token))

    def revoke(self, refresh_token: str) -> None:
        self._call("revoke_token", Token=refresh_token)

    def forgot_password(self, email: str) -> None:
        self._call("forgot_password", Username=email)

    def confirm_forgot_password(self, email: str, code: str, new_password: str) -> None:
        self._call("confirm_forgot_password", Username=email, ConfirmationCode=code, Password=new_password)


class Cognito(CognitoDirectory, CognitoSignIn):
    """Both sides of the user pool, as ``Services.directory``."""

    def __init__(self, user_pool_id: str, client_id: str, client: Any = None) -> None:
        CognitoDirectory.__init__(self, user_pool_id, client)
        CognitoSignIn.__init__(self, client_id, client)

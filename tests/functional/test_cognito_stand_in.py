"""The Cognito stand-in's e-mail index (infra.cognito_patches): users are found by e-mail as
moto finds them, after creates, e-mail changes and deletes, without moto's scan of every user."""

from __future__ import annotations

import os
from typing import Any

import pytest


def _create(cognito: Any, pool: str, email: str, employee: str) -> str:
    user = cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "custom:tenant", "Value": "acme"},
            {"Name": "custom:employee_id", "Value": employee},
        ],
    )["User"]
    return str(user["Username"])


def test_users_are_found_by_email_through_creates_changes_and_deletes(aws: Any) -> None:
    import boto3

    from infra.moto_patches import apply

    apply()
    cognito = boto3.client("cognito-idp", region_name="us-east-1")
    pool = os.environ["RIPPLE_USER_POOL_ID"]
    names = {f"u{i}@x.test": _create(cognito, pool, f"u{i}@x.test", f"u{i}") for i in range(30)}
    for email, name in names.items():
        assert cognito.admin_get_user(UserPoolId=pool, Username=email)["Username"] == name
    # an e-mail taken is refused (the alias check finds the holder)
    with pytest.raises(cognito.exceptions.UsernameExistsException):
        _create(cognito, pool, "u3@x.test", "other")
    # a changed e-mail: found by the new one, not by the old one
    cognito.admin_update_user_attributes(
        UserPoolId=pool, Username="u5@x.test", UserAttributes=[{"Name": "email", "Value": "new5@x.test"}]
    )
    assert cognito.admin_get_user(UserPoolId=pool, Username="new5@x.test")["Username"] == names["u5@x.test"]
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool, Username="u5@x.test")
    assert _create(cognito, pool, "u5@x.test", "u5b")  # the old address is free again
    # a deleted user is gone; the next one created is found
    cognito.admin_delete_user(UserPoolId=pool, Username="u7@x.test")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=pool, Username="u7@x.test")
    assert _create(cognito, pool, "u7@x.test", "u7b") != names["u7@x.test"]
    assert cognito.admin_get_user(UserPoolId=pool, Username="u9@x.test")["Username"] == names["u9@x.test"]

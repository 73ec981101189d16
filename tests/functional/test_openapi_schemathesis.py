"""schemathesis over ``/openapi.json``: every operation, generated requests, every check, 0 failures.

The app runs in-process (Chalice's local gateway over moto, through a small WSGI adapter,
so no server and no port); schemathesis loads the document from the app itself, generates
requests for every operation (data that fits the schemas, and data that does not) and runs
all of its checks on each answer: no 5xx, documented status codes, content types and
headers, response bodies that match their schemas, valid data accepted and invalid data
rejected. Bounded: a few examples per operation and mode, no shrinking beyond hypothesis'
defaults, so the run takes about a minute or two (the figures are printed with ``-s``).

Callers: an admin of tenant ``acme`` for every operation, except the employee's own routes
(``/me/...``, issuing links, redeeming, claiming, proofs), which an employee calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from tests.conftest import auth
from tests.functional.apihelpers import ADMIN, call

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 6  # per operation and generation mode
EMPLOYEE = auth("acme", "alice", "employee")
_EMPLOYEE_ROUTES = ("/me", "/redeem", "/claim", "/proof")


# positive_data_acceptance ("valid data is accepted") where validity depends on more than
# JSON Schema can say: a signed share token, a CSV's header row, image bytes, a date range
# (from <= to, at most 366 days), a deadline relative to the clock, NFKC/IDNA e-mail syntax,
# points that are JSON integers (JSON Schema counts 20205.0 as an integer; the API does not)
BEYOND_SCHEMA: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/leads"),
        ("POST", "/admin/employees/import"),
        ("POST", "/admin/materials"),
        ("GET", "/analytics/summary"),
        ("GET", "/analytics/timeseries"),
        ("GET", "/analytics/breakdown"),
        ("POST", "/admin/tasks"),
        ("POST", "/admin/exports"),
        ("PUT", "/admin/campaigns/{campaign_id}/rules"),
        ("POST", "/admin/campaigns"),  # and a landing page's per-language copy rules
        ("PATCH", "/admin/campaigns/{campaign_id}"),  # the same, and the window against the stored one
        ("POST", "/admin/campaigns/{campaign_id}/duplicate"),  # a window inside 1970..2199
        ("POST", "/admin/employees/{employee_id}/offboard"),  # "to" must be another employee
        ("PUT", "/admin/employees/{employee_id}"),  # which e-mail addresses Cognito takes
        ("POST", "/admin/customers/{customer_id}/convert"),  # a decimal string amount above 0
        ("POST", "/admin/rewards"),  # price, stock and limits are JSON integers (1156.0 is refused)
        ("PUT", "/admin/rewards/{reward_id}"),  # the same
        ("POST", "/admin/poster-templates"),  # every text box and the QR code inside the canvas;
        ("PUT", "/admin/poster-templates/{template_id}"),  # and the background material exists
        ("PUT", "/admin/prizes"),  # the campaigns exist; no (dimension, rank, campaign) twice
        ("PUT", "/admin/tenant"),  # an IANA zone name; segments' medium < heavy with the stored values
        ("PUT", "/admin/webhooks"),  # the host: a valid name or address (not 127.1, 0x7f.0.0.1)
        ("PUT", "/me/card"),  # phone numbers in the tenant's region, e-mail syntax, https URLs
        ("PUT", "/admin/card"),  # the same
        ("PUT", "/me/notifications"),  # an IANA zone name
        ("PUT", "/admin/notifications"),  # due_hours is a JSON integer (336.0 is refused)
        ("GET", "/unsubscribe"),  # t: a token we signed (an HMAC no schema can state)
        ("POST", "/unsubscribe"),  # the same
        ("PUT", "/admin/chat-bots/{bot_id}"),  # the URL on the product's own host; secrets for two of five
        ("POST", "/auth/sign-in"),
        ("POST", "/auth/new-password"),
        ("POST", "/auth/forgot-password"),
        ("POST", "/auth/reset-password"),
    }
)


def _excluded_checks(method: str, path: str) -> list[Any]:
    """Checks that do not apply to an operation by design (ripple.web.openapi.REFUSING): SCIM's
    read-only discovery endpoints answer every write 405, so valid data cannot be accepted;
    the cross-type ``/.search`` is RFC 7644's 501 Not Implemented, a 5xx on purpose."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    from ripple.web.openapi import REFUSING

    refused = REFUSING.get((path, method))
    if refused is None:
        return [positive_data_acceptance] if (method, path) in BEYOND_SCHEMA else []
    if refused == 501:
        from schemathesis.checks import not_a_server_error

        return [positive_data_acceptance, not_a_server_error]
    return [positive_data_acceptance]


def wsgi(client: Any) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI app over ``chalice.test.Client``: the same local gateway the functional tests use."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw_path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        path = quote(raw_path, safe="/:@!$&'()*+,;=-._~%")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        resp = client.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        reason = HTTPStatus(resp.status_code).phrase if resp.status_code in HTTPStatus._value2member_map_ else ""
        start_response(f"{resp.status_code} {reason}", [(k, str(v)) for k, v in resp.headers.items()])
        return [resp.body or b""]

    return app


@pytest.fixture
def tenant(aws: Any) -> Any:
    """The app with tenant acme: its admin, employee alice, a campaign (moto in-process)."""
    from chalice.test import Client

    from app import app
    from infra.cognito_patches import apply

    apply()  # the local stack's Cognito stand-in: moto lacks RevokeToken (sign-out)
    client = Client(app)
    resp = call(client, "PUT", "/admin/employees/alice", ADMIN, {"name": "Alice", "team": "t", "region": "r"})
    assert resp.status_code == 200, resp.body
    body = {"name": "Spring", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 1}}
    assert call(client, "POST", "/admin/campaigns", ADMIN, body).status_code == 201
    return client


def _examples(op: Any, mode: Any, headers: dict[str, str], excluded: list[Any], counter: list[int]) -> Any:
    """A hypothesis test sending ``EXAMPLES`` generated requests of one operation and mode."""

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is reproducible
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        counter[0] += 1
        if case.meta.generation.mode.is_positive and case.query:
            case.query.pop("cursor", None)  # opaque: only a next_cursor the API gave is valid
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return run


@pytest.mark.no_contract  # schemathesis' own checks judge these answers (tests/contract.py would too)
def test_schemathesis_finds_nothing_in_any_operation(tenant: Any) -> None:
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi(tenant))
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: dict[str, str] = {}
    requests = unsatisfiable = 0
    started = time.monotonic()
    for op in operations:
        headers = EMPLOYEE if any(part in op.path for part in _EMPLOYEE_ROUTES) else ADMIN
        excluded = _excluded_checks(op.method.upper(), op.path)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            counter = [0]
            try:
                _examples(op, mode, headers, excluded, counter)()
            except Unsatisfiable:  # nothing to generate (no parameters to break in negative mode)
                unsatisfiable += 1
            except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide the others'
                failures[f"{op.method.upper()} {op.path} ({mode.value})"] = str(exc)[:1500]
            requests += counter[0]
    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis: {len(operations)} operations, {requests} requests, "
        f"{len(failures)} failures, {unsatisfiable} operation/mode pairs with nothing to generate, {elapsed:.1f} s"
    )
    assert len(operations) > 100 and requests > 5 * len(operations)
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in sorted(failures.items()))

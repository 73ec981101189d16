"""The OpenAPI document is the API: every in-process request and response checked against it.

``Contract`` reads the app's own ``/openapi.json`` (built from ``app.routes`` by
``ripple.web.openapi``) and, for one exchange, lists what the document gets wrong:

* the response status is one the operation documents (exactly, or its ``4XX``/``5XX`` range);
* the response's media type is one documented for that status, and a JSON body validates
  against its schema (``$ref`` into ``components`` resolved against the document itself);
* when the API *accepted* a request (2xx), its JSON body validates against the operation's
  request schema and every query parameter it sent is documented and valid: an API that
  takes what its document forbids (or does not mention) is a contract bug as much as one
  that answers what the document does not promise.

``install`` wraps ``chalice.test.TestHTTPClient.request`` (the framework's test client, not
our code) so that every functional test that talks to the app fails on the first exchange
the document does not describe; tests/functional/conftest.py does that for the whole
directory. Validation uses ``jsonschema`` (Draft 2020-12, the dialect of OpenAPI 3.1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema import Draft202012Validator

__all__ = ["Contract", "ContractViolation", "contract", "install"]

_JSON_TYPES = ("application/json", "application/scim+json")


class ContractViolation(AssertionError):
    """An exchange the OpenAPI document does not describe."""


def _media_type(headers: Mapping[str, Any]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value).split(";", 1)[0].strip().lower()
    return ""


def _coerce(value: str, schema: Mapping[str, Any]) -> Any:
    """A query string value as the JSON type its schema names (integers are digits)."""
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if "integer" in types and value.lstrip("-").isdigit():
        return int(value)
    return value


class Contract:
    """Checks exchanges against one OpenAPI 3.1 document (pure: no I/O)."""

    def __init__(self, document: Mapping[str, Any], routes: Mapping[str, Any]) -> None:
        from ripple.web.http_api import RouteTable

        self.document = document
        self._table = RouteTable(routes)
        self._components = document.get("components", {})
        self._validators: dict[str, Draft202012Validator] = {}

    def _validator(self, schema: Mapping[str, Any]) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            # the document's components next to the schema: "#/components/schemas/X" resolves
            root = {"components": self._components, **schema}
            self._validators[key] = Draft202012Validator(root)
        return self._validators[key]

    def _errors(self, schema: Mapping[str, Any], instance: Any) -> list[str]:
        found = sorted(self._validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in found[:5]]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        found = self._table.match(path)
        if found is None:
            return None
        template = found[0]
        op = self.document["paths"].get(template, {}).get(method.lower())
        return (template, op) if op is not None else None

    def problems(
        self,
        method: str,
        url: str,
        request_headers: Mapping[str, Any],
        request_body: bytes | str | None,
        status: int,
        response_headers: Mapping[str, Any],
        response_body: bytes | str | None,
    ) -> list[str]:
        """Everything about this exchange the document gets wrong (empty: it matches)."""
        parts = urlsplit(url)
        found = self.operation(method, parts.path)
        if found is None:
            return [f"{method} {parts.path}: no operation of the document"]
        template, op = found
        where = f"{method} {template} -> {status}"
        out: list[str] = []
        responses = op.get("responses", {})
        documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if documented is None:
            return [f"{where}: status not documented (documented: {sorted(responses)})"]
        content = documented.get("content") or {}
        body = response_body.encode() if isinstance(response_body, str) else (response_body or b"")
        media = _media_type(response_headers)
        if content and method != "HEAD":
            if media not in content:
                out.append(f"{where}: Content-Type {media!r} not documented ({sorted(content)})")
            elif media in _JSON_TYPES:
                try:
                    parsed = json.loads(body)
                except ValueError:
                    out.append(f"{where}: body is not JSON")
                else:
                    out += [f"{where}: response {e}" for e in self._errors(content[media].get("schema", {}), parsed)]
        elif not content and body and status not in (204, 302, 304):
            out.append(f"{where}: a body ({media or 'no type'}) where the document has none")
        if 200 <= status < 300:
            out += self._accepted_request(where, op, parts.query, request_headers, request_body)
        return out

    def _accepted_request(
        self, where: str, op: Mapping[str, Any], query: str, headers: Mapping[str, Any], body: bytes | str | None
    ) -> list[str]:
        out: list[str] = []
        params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name not in params:
                out.append(f"{where}: accepted the undocumented query parameter {name!r}")
                continue
            schema = params[name].get("schema", {})
            out += [f"{where}: query {name}: {e}" for e in self._errors(schema, _coerce(value, schema))]
        request = op.get("requestBody")
        raw = body.encode() if isinstance(body, str) else (body or b"")
        media = _media_type(headers)
        if request is None:
            return out
        content = request.get("content") or {}
        if not raw:
            if request.get("required"):
                out.append(f"{where}: accepted a missing request body the document requires")
            return out
        schema_for = content.get(media) or (content.get("application/json") if media in ("", "text/plain") else None)
        if schema_for is None:
            if content and "*/*" not in content:
                out.append(f"{where}: accepted a request of type {media!r} (documented: {sorted(content)})")
            return out
        if media in _JSON_TYPES or (media in ("", "text/plain") and "application/json" in content):
            try:
                parsed = json.loads(raw)
            except ValueError:
                return [*out, f"{where}: accepted a request body that is not JSON"]
            out += [f"{where}: request {e}" for e in self._errors(schema_for.get("schema", {}), parsed)]
        return out


@cache
def contract() -> Contract:
    """The contract of this checkout's app (its document is built once per process)."""
    from app import app
    from ripple.web.openapi import build_document

    return Contract(build_document(app.routes), app.routes)


@contextmanager
def install() -> Iterator[None]:
    """Every ``chalice.test`` HTTP exchange inside checks itself against the document."""
    from chalice.test import TestHTTPClient

    original = TestHTTPClient.request

    def checked(self: Any, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        response = original(self, method, path, headers=headers, body=body)
        found = contract().problems(
            method, path, headers or {}, body, response.status_code, response.headers, response.body
        )
        if found:
            raise ContractViolation("the OpenAPI document does not describe this exchange:\n  " + "\n  ".join(found))
        return response

    TestHTTPClient.request = checked  # type: ignore[method-assign]
    try:
        yield
    finally:
        TestHTTPClient.request = original  # type: ignore[method-assign]

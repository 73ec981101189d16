"""Concrete paths back to Chalice route templates (ripple.web.http_api), as API Gateway ranks them."""

from __future__ import annotations

from ripple.web.http_api import RouteTable, route_event

ROUTES = ["/", "/{code}", "/me", "/me/links", "/me/tasks/{task_id}", "/s/{token}", "/{a}/links", "/p/{code}"]


def test_literal_segments_win_over_parameters() -> None:
    table = RouteTable(ROUTES)
    assert table.match("/me") == ("/me", {})
    assert table.match("/me/links") == ("/me/links", {})
    assert table.match("/x/links") == ("/{a}/links", {"a": "x"})
    assert table.match("/abc") == ("/{code}", {"code": "abc"})
    assert table.match("/") == ("/", {})


def test_parameters_are_url_decoded_and_never_empty() -> None:
    table = RouteTable(ROUTES)
    assert table.match("/s/a%2Fb") == ("/s/{token}", {"token": "a/b"})
    assert table.match("/me/tasks/") is None
    assert table.match("/no/such/thing") is None


def test_events_naming_a_chalice_route_pass_through() -> None:
    table = RouteTable(ROUTES)
    event = {"path": "/p/xyz", "requestContext": {"resourcePath": "/p/{code}"}, "pathParameters": {"code": "xyz"}}
    assert route_event(event, table, ROUTES) is event


def test_prefix_routed_events_get_the_chalice_route() -> None:
    table = RouteTable(ROUTES)
    event = {"path": "/me/tasks/t1", "resource": "/me/{proxy+}", "requestContext": {"resourcePath": "/me/{proxy+}"}}
    routed = route_event(event, table, ROUTES)
    assert routed is not None
    assert routed["resource"] == routed["requestContext"]["resourcePath"] == "/me/tasks/{task_id}"
    assert routed["pathParameters"] == {"task_id": "t1"}
    assert route_event({"path": "/a/b/c/d", "requestContext": {"resourcePath": "$default"}}, table, ROUTES) is None

"""Analytics (summary, time series, breakdowns, segments) and CSV exports.

The CSV is written by the ExportFunction (functions/exports.py) straight into S3.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    json_body,
    query_params,
)
from ripple.domain.model import Role
from ripple.http import etag_response
from ripple.service.auth import Principal

__all__ = ["reports"]

reports = Area("reports")


@reports.route("/admin/exports", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_export(principal: Principal) -> Any:
    """Start a CSV export of visits, leads, customers or ledger for a date range (tenant time zone)."""
    from ripple.service.exports import start_export

    return start_export(bootstrap.services(), principal, json_body())


@reports.route("/admin/exports/{export_id}", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_export(principal: Principal, export_id: str) -> Any:
    """An export's status and, once done, a presigned download URL."""
    from ripple.service.exports import get_export as get_export_uc

    return get_export_uc(bootstrap.services(), principal, export_id)


@reports.route("/analytics/summary", methods=["GET"], auth=Auth.USER)
def get_analytics_summary(principal: Principal) -> Response:
    """Totals, chain depth and the exposure-to-conversion funnel for a date range
    (``from``/``to`` in the tenant's zone; ``campaign``, ``employee``). Employees: their own."""
    from ripple.service.analytics import summary

    return etag_response(current_request(), summary(bootstrap.services(), principal, query_params()))


@reports.route("/analytics/timeseries", methods=["GET"], auth=Auth.USER)
def get_analytics_timeseries(principal: Principal) -> Response:
    """The same metrics per day of the range (days without activity as zeros)."""
    from ripple.service.analytics import timeseries

    return etag_response(current_request(), timeseries(bootstrap.services(), principal, query_params()))


@reports.route("/analytics/breakdown", methods=["GET"], auth=Auth.USER)
def get_analytics_breakdown(principal: Principal) -> Response:
    """Metrics per channel, team, region, employee, device, os, country, subdivision, city or
    campaign."""
    from ripple.service.analytics import breakdown

    return etag_response(current_request(), breakdown(bootstrap.services(), principal, query_params()))


@reports.route("/analytics/segments", methods=["GET"], auth=Auth.USER)
def get_analytics_segments(principal: Principal) -> Response:
    """People by engagement level (light, medium, heavy) and reach, overall and per employee."""
    from ripple.service.analytics import segments

    return etag_response(current_request(), segments(bootstrap.services(), principal, query_params()))

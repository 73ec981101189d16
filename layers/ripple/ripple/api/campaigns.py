"""Campaigns, their rules, tracked links, forward chains and promotion tasks."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    json_body,
    public_base,
    query_params,
)
from ripple.domain.model import Role
from ripple.http import etag_response, json_response
from ripple.service.auth import Principal

__all__ = ["campaigns"]

campaigns = Area("campaigns")


@campaigns.route("/admin/campaigns", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_campaign(principal: Principal) -> Any:
    from ripple.service.admin import create_campaign

    campaign = create_campaign(bootstrap.services(), principal, json_body())
    return campaign.to_public()


@campaigns.route("/admin/campaigns/{campaign_id}/rules", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_campaign_rules(principal: Principal, campaign_id: str) -> Any:
    """A new rules version, in force from now (earlier events keep their version)."""
    from ripple.service.admin import update_rules

    campaign = update_rules(bootstrap.services(), principal, campaign_id, json_body())
    return campaign.to_public()


@campaigns.route("/campaigns/{campaign_id}", methods=["GET"], auth=Auth.USER)
def get_campaign(principal: Principal, campaign_id: str) -> Any:
    from ripple.service.admin import get_campaign as get_campaign_uc
    from ripple.service.campaigns import campaign_view

    svc = bootstrap.services()
    return campaign_view(get_campaign_uc(svc, principal, campaign_id), svc.clock())


@campaigns.route("/admin/campaigns/{campaign_id}", methods=["PATCH"], auth=Auth.USER, role=Role.ADMIN)
def patch_campaign(principal: Principal, campaign_id: str) -> Any:
    """Edit name, destination, hosted page or window; a new destination or window is copied
    onto every link (``links_pending`` until done: then ``POST …/links/sync``)."""
    from ripple.service.campaigns import edit_campaign

    return edit_campaign(bootstrap.services(), principal, campaign_id, json_body())


@campaigns.route("/admin/campaigns/{campaign_id}/end", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_end_campaign(principal: Principal, campaign_id: str) -> Any:
    """End the campaign now: its links show the company's ended page, no new links."""
    from ripple.service.campaigns import end_campaign

    return end_campaign(bootstrap.services(), principal, campaign_id)


@campaigns.route(
    "/admin/campaigns/{campaign_id}/duplicate", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201
)
def post_duplicate_campaign(principal: Principal, campaign_id: str) -> Any:
    """A new campaign with the same destination, page, chain settings and current rules."""
    from ripple.service.campaigns import duplicate_campaign

    body = json_body() if current_request().raw_body else {}
    return duplicate_campaign(bootstrap.services(), principal, campaign_id, body)


@campaigns.route("/admin/campaigns/{campaign_id}/archive", methods=["POST", "DELETE"], auth=Auth.USER, role=Role.ADMIN)
def campaign_archive(principal: Principal, campaign_id: str) -> Any:
    """POST: archive an ended campaign (hidden from lists); DELETE: bring it back."""
    from ripple.service.campaigns import archive_campaign, unarchive_campaign

    use_case = archive_campaign if current_request().method == "POST" else unarchive_campaign
    return use_case(bootstrap.services(), principal, campaign_id)


@campaigns.route("/admin/campaigns/{campaign_id}/links/sync", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_campaign_links_sync(principal: Principal, campaign_id: str) -> Any:
    """Continue copying the last edit onto the campaign's links (``links_pending``)."""
    from ripple.service.campaigns import sync_links

    return sync_links(bootstrap.services(), principal, campaign_id)


@campaigns.route("/campaigns/{campaign_id}/links", methods=["POST"], auth=Auth.USER)
def post_link(principal: Principal, campaign_id: str) -> Response:
    from ripple.service.links import issue_link

    svc = bootstrap.services()
    link, created = issue_link(svc, principal, campaign_id, json_body())
    return json_response(link.to_public(public_base(svc.settings.public_base_url)), 201 if created else 200)


@campaigns.route("/campaigns/{campaign_id}/chains", methods=["GET"], auth=Auth.USER)
def get_chains(principal: Principal, campaign_id: str) -> Any:
    from ripple.service.chains import chain_tree

    return chain_tree(bootstrap.services(), principal, campaign_id, query_params())


@campaigns.route("/admin/tasks", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_task(principal: Principal) -> Any:
    from ripple.service.tasks import create_task

    return create_task(bootstrap.services(), principal, current_request().raw_body)


@campaigns.route("/admin/tasks/{task_id}", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_admin_task(principal: Principal, task_id: str) -> Response:
    from ripple.service.tasks import admin_task

    return etag_response(current_request(), admin_task(bootstrap.services(), principal, task_id))


@campaigns.route("/me/tasks", methods=["GET"], auth=Auth.USER)
def get_my_tasks(principal: Principal) -> Response:
    from ripple.service.tasks import list_my_tasks

    svc = bootstrap.services()
    return etag_response(
        current_request(), list_my_tasks(svc, principal, public_base(svc.settings.public_base_url), query_params())
    )


@campaigns.route("/me/tasks/{task_id}", methods=["GET"], auth=Auth.USER)
def get_my_task(principal: Principal, task_id: str) -> Response:
    from ripple.service.tasks import open_my_task

    svc = bootstrap.services()
    return etag_response(
        current_request(), open_my_task(svc, principal, task_id, public_base(svc.settings.public_base_url))
    )


@campaigns.route("/me/tasks/{task_id}/proof", methods=["POST"], auth=Auth.USER, status=201)
def post_task_proof(principal: Principal, task_id: str) -> Any:
    from ripple.service.tasks import submit_proof

    return submit_proof(bootstrap.services(), principal, task_id, json_body())


@campaigns.route("/campaigns", methods=["GET"], auth=Auth.USER)
def get_campaigns(principal: Principal) -> Any:
    """The tenant's campaigns, one page (``?limit=&cursor=``)."""
    from ripple.service.listings import list_campaigns

    return list_campaigns(bootstrap.services(), principal, query_params())


@campaigns.route("/admin/tasks", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_admin_tasks(principal: Principal) -> Response:
    """The tenant's tasks, newest first, with overall progress (``?limit=&cursor=``)."""
    from ripple.service.listings import list_tasks

    return etag_response(current_request(), list_tasks(bootstrap.services(), principal, query_params()))

"""The portal's project pages: the projects shared with the contact's organisation, and one
of them with its items (status, planned and actual dates, percent complete) and a
planned-vs-actual timeline. Read-only: replies stay on the request pages.

Pages only translate: which projects an organisation follows is the `portal_projects` view
(written from the projects' share events), the contact's organisation is the write model's
at sign-in, and whether an item links to its request page is the `portal` view's rule, as
on `/portal/items`. A project not shared with the contact's organisation answers the same
404 page as one that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.deps import fresh
from api.pages.portal import caller_of, to_login
from api.pages.rendering import render, services_of
from api.pages.switched import apps_on
from api.pages.timeline import timeline
from commands.portal import PortalCaller
from projections.base import InvalidCursorError, current_tables
from projections.db import Row, Tx
from projections.portal import get_portal_ticket
from projections.portal_projects import Viewer, project_items, shared_project, shared_projects

router = APIRouter(include_in_schema=False, dependencies=[Depends(apps_on("portal"))])
PAGE_SIZE = 50


@router.get("/portal/projects", dependencies=[Depends(fresh("portal_projects"))])
def projects_page(request: Request) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    viewer = viewer_of(request, caller)
    projects: list[Row] = []
    if viewer is not None:
        svc = services_of(request)
        with svc.views.read() as tx:
            projects = shared_projects(tx, current_tables(tx, "portal_projects"), viewer)
    return render(request, "portal/projects.html", contact=caller.contact, projects=projects)


@router.get(
    "/portal/projects/{project_id}", dependencies=[Depends(fresh("portal_projects", "portal"))]
)
def project_page(
    request: Request,
    project_id: UUID,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    viewer = viewer_of(request, caller)
    if viewer is None:
        return _not_found(request, caller)
    svc = services_of(request)
    with svc.views.read() as tx:
        tables = current_tables(tx, "portal_projects")
        project = shared_project(tx, tables, viewer, str(project_id))
        if project is None:
            return _not_found(request, caller)
        try:
            items, next_cursor = project_items(
                tx, tables, viewer, str(project_id), cursor, PAGE_SIZE
            )
        except InvalidCursorError:
            items, next_cursor = [], None
        links = _request_links(tx, caller, svc.portal.sees_organisation_of(caller.contact), items)
    return render(
        request, "portal/project.html", contact=caller.contact, project=project, items=items,
        links=links, next_cursor=next_cursor,
        timeline=timeline(items, datetime.now(UTC).date()),
    )  # fmt: skip


def viewer_of(request: Request, caller: PortalCaller) -> Viewer | None:
    """The contact as a viewer of their organisation's shared projects (None: no
    organisation, so none)."""
    organisation_id = caller.contact.organisation_id
    if organisation_id is None:
        return None
    sees = services_of(request).portal.sees_organisation_of(caller.contact) is not None
    return Viewer(str(caller.contact.id), organisation_id, sees)


def _request_links(
    tx: Tx, caller: PortalCaller, organisation_id: str | None, items: list[Row]
) -> dict[int, int]:
    """Item number -> the request number it links to, for the items whose request the
    contact may open on `/portal/items` (a ticket; a task converted from one, under the
    ticket's number): the portal view's rule, never a second one."""
    tables = current_tables(tx, "portal")
    links: dict[int, int] = {}
    for item in items:
        target: Any = item["number"] if item["kind"] == "ticket" else item["converted_from"]
        if target is None:
            continue
        found = get_portal_ticket(tx, tables, str(caller.contact.id), organisation_id, target)
        if found is not None:
            links[item["number"]] = target
    return links


def _not_found(request: Request, caller: PortalCaller) -> Response:
    return render(request, "portal/project_not_found.html", 404, contact=caller.contact)

"""Projects: where items live, their customer folders and portfolio, members and joining,
and the customer organisations they are shared with (who follow them in the portal)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from api.deps import Ctx, ExpectedVersion, ProjectScope, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.access import ProjectNotFoundError
from commands.projects import (
    ChangeProject,
    CreateProject,
    DecideJoinRequest,
    RequestToJoin,
    ShareProject,
    ShareWithOrganisation,
    UnshareProject,
    UnshareWithOrganisation,
)
from domain.access import ProjectRole
from domain.errors import PermissionDeniedError
from domain.project import Project
from projections.base import current_tables
from projections.hierarchy import get_project, list_nodes

router = APIRouter(prefix="/api/v1/projects", tags=[Tag.PROJECTS])


class ProjectCreate(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Website relaunch"])
    slug: str | None = Field(
        default=None,
        max_length=100,
        examples=["website"],
        description="Mail to `support+<slug>@` opens items here: 1 to 50 lower-case letters,"
        " digits and inner hyphens, unique among projects.",
    )
    portfolio_id: UUID | None = None
    customer_ids: list[UUID] = Field(
        default_factory=list, description="Customer organisations whose folders show it."
    )


class ProjectPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(
        default=None, max_length=100, description='A new slug; `""` takes it away.'
    )
    portfolio_id: UUID | None = Field(
        default=None, description="Set to move it (null together with `move_portfolio`)."
    )
    move_portfolio: bool = False
    add_customer_ids: list[UUID] = Field(default_factory=list)
    remove_customer_ids: list[UUID] = Field(default_factory=list)


class RoleBody(Body):
    role: ProjectRole = Field(examples=["standard"])


class JoinBody(Body):
    message: str = Field(default="", max_length=2000)


class JoinDecision(Body):
    approve: bool
    role: ProjectRole = ProjectRole.STANDARD
    reason: str = Field(default="", max_length=2000)


def shown(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "slug": project.slug,
        "portfolio_id": project.portfolio_id,
        "customer_ids": project.customer_ids,
        "members": project.members,
        "teams": project.teams,
        "join_requests": project.join_requests,
        "shared_with": project.shared_with,
        "version": project.version,
    }


def _answer(
    svc: ServicesDep, response: Response, project_id: UUID, position: int, status: int = 200
) -> OrjsonResponse:
    project = svc.projects.project(project_id)
    written(response, position, project.version)
    return reply(response, shown(project), status)


@router.get(
    "",
    summary="List projects",
    responses=documented(401, 403, 422),
    dependencies=[Depends(fresh("hierarchy", "access"))],
)
def list_projects(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    portfolio: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Projects by name, a page at a time; `portfolio` narrows to one portfolio. Projects
    you are not a member of show only their id and name (so that you can ask to join)."""
    with svc.views.read() as tx:
        items, next_cursor = list_nodes(
            tx,
            current_tables(tx, "hierarchy"),
            "projects",
            cursor,
            limit,
            portfolio_id=str(portfolio) if portfolio else None,
        )
    shown = [i if scope.sees(i["id"]) else {"id": i["id"], "name": i["name"]} for i in items]
    return reply(response, {"items": shown, "next_cursor": next_cursor})


@router.post(
    "", status_code=201, summary="Create a project", responses=documented(401, 403, 404, 409, 422)
)
def create_project(
    body: ProjectCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a project (admins and staff who manage projects); you become its manager."""
    result = svc.projects.create_project(CreateProject(**body.model_dump()), ctx)
    response.headers["Location"] = f"/api/v1/projects/{result.id}"
    return _answer(svc, response, result.id, result.position, 201)


@router.get(
    "/{project_id}",
    summary="Read a project",
    responses=documented(401, 403, 404, 422),
    dependencies=[Depends(fresh("hierarchy", "access"))],
)
def read_project(
    project_id: UUID, svc: ServicesDep, scope: ProjectScope, response: Response
) -> OrjsonResponse:
    """A project with its customer folders, portfolio, members, teams and join requests
    (for its members; others see only its name in the list, to ask to join)."""
    with svc.views.read() as tx:
        found = get_project(tx, current_tables(tx, "hierarchy"), str(project_id))
    if found is None:
        raise ProjectNotFoundError(project_id)
    if not scope.sees(str(project_id)):
        raise PermissionDeniedError("you are not a member of this project; ask to join")
    return reply(response, found, ETag=f'"{found["version"]}"')


@router.patch(
    "/{project_id}", summary="Change a project", responses=documented(401, 403, 404, 409, 412, 422)
)
def change_project(
    project_id: UUID,
    body: ProjectPatch,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename it, move it to a portfolio, or add/remove customer folders (managers)."""
    cmd = ChangeProject(project_id=project_id, **body.model_dump())
    result = svc.projects.change_project(cmd, ctx, version)
    return _answer(svc, response, project_id, result.position)


@router.put(
    "/{project_id}/members/{user_id}",
    summary="Share with a user",
    responses=documented(401, 403, 404, 409, 422),
)
def share_with_user(
    project_id: UUID,
    user_id: UUID,
    body: RoleBody,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Give a staff user a role here (manager, lead, standard, restricted); managers only."""
    cmd = ShareProject(project_id=project_id, user_id=user_id, role=body.role)
    result = svc.projects.share_project(cmd, ctx)
    return _answer(svc, response, project_id, result.position)


@router.delete(
    "/{project_id}/members/{user_id}",
    summary="Unshare with a user",
    responses=documented(401, 403, 404, 409),
)
def unshare_with_user(
    project_id: UUID, user_id: UUID, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Take a user's direct role away (managers only)."""
    result = svc.projects.unshare_project(
        UnshareProject(project_id=project_id, user_id=user_id), ctx
    )
    return _answer(svc, response, project_id, result.position)


@router.put(
    "/{project_id}/teams/{team_id}",
    summary="Share with a team",
    responses=documented(401, 403, 404, 409, 422),
)
def share_with_team(
    project_id: UUID,
    team_id: UUID,
    body: RoleBody,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Give every member of a team a role here (managers only)."""
    cmd = ShareProject(project_id=project_id, team_id=team_id, role=body.role)
    result = svc.projects.share_project(cmd, ctx)
    return _answer(svc, response, project_id, result.position)


@router.delete(
    "/{project_id}/teams/{team_id}",
    summary="Unshare with a team",
    responses=documented(401, 403, 404, 409),
)
def unshare_with_team(
    project_id: UUID, team_id: UUID, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Take a team's role away (managers only)."""
    result = svc.projects.unshare_project(
        UnshareProject(project_id=project_id, team_id=team_id), ctx
    )
    return _answer(svc, response, project_id, result.position)


@router.put(
    "/{project_id}/shares/{organisation_id}",
    summary="Share with a customer organisation",
    responses=documented(401, 403, 404, 409, 422),
)
def share_with_organisation(
    project_id: UUID, organisation_id: UUID, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Let a customer organisation's contacts follow the project in the portal: its items'
    titles, status, planned and actual dates and progress, and its timeline (managers only).
    Sharing again changes nothing; the Inbox cannot be shared (409)."""
    cmd = ShareWithOrganisation(project_id=project_id, organisation_id=organisation_id)
    result = svc.projects.share_with_organisation(cmd, ctx)
    return _answer(svc, response, project_id, result.position)


@router.delete(
    "/{project_id}/shares/{organisation_id}",
    summary="Unshare with a customer organisation",
    responses=documented(401, 403, 404, 409, 422),
)
def unshare_with_organisation(
    project_id: UUID, organisation_id: UUID, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """The organisation's contacts no longer see the project (managers only); an
    organisation it is not shared with is 404."""
    cmd = UnshareWithOrganisation(project_id=project_id, organisation_id=organisation_id)
    result = svc.projects.unshare_with_organisation(cmd, ctx)
    return _answer(svc, response, project_id, result.position)


@router.post(
    "/{project_id}/join-requests",
    status_code=201,
    summary="Ask to join",
    responses=documented(401, 403, 404, 409, 422),
)
def ask_to_join(
    project_id: UUID, body: JoinBody, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Ask the project's managers to let you in. The answer says only that the request is
    pending: a non-member learns nothing of the project's members or other requests."""
    result = svc.projects.request_to_join(
        RequestToJoin(project_id=project_id, message=body.message), ctx
    )
    written(response, result.position)
    project = svc.projects.project(project_id)
    body_out = {"id": project.id, "name": project.name, "join_request": "pending"}
    return reply(response, body_out, 201)


@router.put(
    "/{project_id}/join-requests/{user_id}",
    summary="Approve or deny a join request",
    responses=documented(401, 403, 404, 409, 422),
)
def decide_join_request(
    project_id: UUID,
    user_id: UUID,
    body: JoinDecision,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Approve (with a role) or deny (with a reason) a pending request; managers only."""
    cmd = DecideJoinRequest(project_id=project_id, user_id=user_id, **body.model_dump())
    result = svc.projects.decide_join_request(cmd, ctx)
    return _answer(svc, response, project_id, result.position)

"""Folders: inside a project; they nest and move between projects."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from api.deps import Ctx, ExpectedVersion, ProjectScope, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.folders import ChangeFolder, CreateFolder, FolderNotFoundError
from projections.base import current_tables
from projections.hierarchy import get_node, list_nodes

router = APIRouter(prefix="/api/v1/folders", tags=[Tag.FOLDERS])


class FolderCreate(Body):
    project_id: UUID
    name: str = Field(min_length=1, max_length=200, examples=["Bugs"])
    parent_id: UUID | None = None


class FolderPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    project_id: UUID | None = None
    parent_id: UUID | None = None
    move: bool = Field(default=False, description="true: move to `project_id`/`parent_id`.")


def _answer(
    svc: ServicesDep, response: Response, folder_id: UUID, position: int, status: int = 200
) -> OrjsonResponse:
    f = svc.projects.folder(folder_id)
    written(response, position, f.version)
    body = {
        "id": f.id,
        "name": f.name,
        "project_id": f.project_id,
        "parent_id": f.parent_id,
        "version": f.version,
    }
    return reply(response, body, status)


@router.get(
    "",
    summary="List folders",
    responses=documented(401, 403, 422),
    dependencies=[Depends(fresh("hierarchy", "access"))],
)
def list_folders(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    project: UUID | None = None,
    parent: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Folders by name in the projects you may see; narrow to a project and/or a parent."""
    with svc.views.read() as tx:
        items, next_cursor = list_nodes(
            tx,
            current_tables(tx, "hierarchy"),
            "folders",
            cursor,
            limit,
            within=None if scope.all_projects else scope.project_ids,
            project_id=str(project) if project else None,
            parent_id=str(parent) if parent else None,
        )
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "", status_code=201, summary="Create a folder", responses=documented(401, 403, 404, 422)
)
def create_folder(
    body: FolderCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a folder in a project, at its top or inside another folder (managers, leads)."""
    result = svc.projects.create_folder(CreateFolder(**body.model_dump()), ctx)
    response.headers["Location"] = f"/api/v1/folders/{result.id}"
    return _answer(svc, response, result.id, result.position, 201)


@router.get(
    "/{folder_id}",
    summary="Read a folder",
    responses=documented(401, 403, 404, 422),
    dependencies=[Depends(fresh("hierarchy", "access"))],
)
def read_folder(
    folder_id: UUID, svc: ServicesDep, scope: ProjectScope, response: Response
) -> OrjsonResponse:
    """A folder's name, project and parent (404 outside the projects you may see)."""
    with svc.views.read() as tx:
        found = get_node(tx, current_tables(tx, "hierarchy"), "folders", str(folder_id))
    if found is None or not scope.sees(found["project_id"]):
        raise FolderNotFoundError(folder_id)
    return reply(response, found, ETag=f'"{found["version"]}"')


@router.patch(
    "/{folder_id}", summary="Rename or move a folder", responses=documented(401, 403, 404, 412, 422)
)
def change_folder(
    folder_id: UUID,
    body: FolderPatch,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename, or move (to another parent or project; never inside itself: 422)."""
    cmd = ChangeFolder(folder_id=folder_id, **body.model_dump())
    result = svc.projects.change_folder(cmd, ctx, version)
    return _answer(svc, response, folder_id, result.position)

"""The routes of a saved, shared definition other than a view — a dashboard, a saved
report: list, save, read, change and delete, each as for a saved view
(`api.routers.saved_views`), under the kind's own path.

Built per kind by `add_routes`; no `from __future__ import annotations` here: FastAPI reads
the handlers' annotations, and a closure's must be real types, not names."""

from typing import Annotated, Any, cast
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from api.deps import Ctx, CurrentCaller, CurrentUser, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.routers.saved_views import (
    SavedViewList,
    SavedViewOut,
    answer_saved,
    as_admin,
    visible_saved,
)
from projections.base import current_tables
from projections.views.saved import list_saved_views, teams_of


def add_routes(
    router: APIRouter,
    kind: str,
    noun: str,
    id_name: str,
    create: type[BaseModel],
    patch: type[BaseModel],
    extra: str = "",
) -> None:
    """Add `GET ""`, `POST ""`, `GET|PATCH|DELETE /{id_name}` for definitions of `kind`
    (`noun` in summaries; `extra`: what a POST's 422 names, for its description)."""
    Id = Annotated[UUID, Path(alias=id_name, description=f"A {noun}'s id.")]
    stem = noun.replace(" ", "_")  # operation ids: list_saved_reports, save_dashboard, ...
    seen = [Depends(fresh("saved_views", "teams"))]

    @router.get(
        "",
        summary=f"List {noun}s",
        responses={200: {"model": SavedViewList}, **documented(401)},
        dependencies=seen,
        name=f"list_{stem}s",
    )
    def listed(svc: ServicesDep, user: CurrentUser, response: Response) -> OrjsonResponse:
        with svc.views.read() as tx:
            teams = teams_of(tx, current_tables(tx, "teams"), str(user.id))
            items = list_saved_views(
                tx, current_tables(tx, "saved_views"), str(user.id), teams, kind
            )
        return reply(response, {"items": items})

    listed.__doc__ = f"The {noun}s you may see: your own and those shared with you, by name."

    @router.post(
        "",
        status_code=201,
        summary=f"Create a {noun}",
        responses={201: {"model": SavedViewOut}, **documented(401, 403, 404, 422)},
        name=f"save_{stem}",
    )
    def save(body: create, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:  # type: ignore[valid-type]
        result = svc.saved_views.save(
            cast(BaseModel, body).model_dump(exclude_none=True), ctx, kind
        )
        return answer_saved(svc, response, result.id, result.position, 201, kind)

    save.__doc__ = (
        f"Save a {noun} of your own, private or shared (a user or team it names must exist:"
        f" 404); {extra or 'a bad definition'} is 422 naming it."
    )

    @router.get(
        f"/{{{id_name}}}",
        summary=f"Read a {noun}",
        responses={200: {"model": SavedViewOut}, **documented(401, 404, 422)},
        dependencies=seen,
        name=f"read_{stem}",
    )
    def read(
        found_id: Id, svc: ServicesDep, user: CurrentUser, response: Response
    ) -> OrjsonResponse:
        doc = visible_saved(svc, str(user.id), found_id, kind)
        return reply(response, doc, ETag=f'"{doc["version"]}"')

    read.__doc__ = f"A {noun} you may see (404 otherwise)."

    @router.patch(
        f"/{{{id_name}}}",
        summary=f"Rename, redefine or share a {noun}",
        responses={200: {"model": SavedViewOut}, **documented(401, 403, 404, 412, 422)},
        name=f"change_{stem}",
    )
    def change(
        found_id: Id,
        body: patch,  # type: ignore[valid-type]
        svc: ServicesDep,
        caller: CurrentCaller,
        ctx: Ctx,
        version: ExpectedVersion,
        response: Response,
    ) -> OrjsonResponse:
        given: dict[str, Any] = cast(BaseModel, body).model_dump(exclude_unset=True)
        given = {k: v for k, v in given.items() if v is not None}
        result = svc.saved_views.change(found_id, given, ctx, version, as_admin(caller), kind)
        return answer_saved(svc, response, found_id, result.position, kind=kind)

    change.__doc__ = (
        f"Change what the body gives, in one write: its owner, or an admin for a {noun}"
        " shared with them (403 for others who see it; 404 for who does not)."
    )

    @router.delete(
        f"/{{{id_name}}}",
        status_code=204,
        summary=f"Delete a {noun}",
        responses={204: {"description": "Deleted."}, **documented(401, 403, 404, 412, 422)},
        name=f"delete_{stem}",
    )
    def delete(
        found_id: Id, svc: ServicesDep, caller: CurrentCaller, ctx: Ctx, version: ExpectedVersion
    ) -> Response:
        result = svc.saved_views.delete(found_id, ctx, version, as_admin(caller), kind)
        answer = Response(status_code=204)
        written(answer, result.position)
        return answer

    delete.__doc__ = f"Delete a {noun} (as for changing it)."

"""Portfolios: groups of projects, which nest."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from api.deps import Ctx, ExpectedVersion, ProjectScope, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.portfolios import ChangePortfolio, CreatePortfolio, PortfolioNotFoundError
from projections.base import current_tables
from projections.hierarchy import get_node, list_nodes, portfolios_holding

router = APIRouter(prefix="/api/v1/portfolios", tags=[Tag.PORTFOLIOS])


class PortfolioCreate(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Customer work 2027"])
    parent_id: UUID | None = None


class PortfolioPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: UUID | None = None
    move: bool = Field(default=False, description="true: nest under `parent_id` (null: top).")


def _answer(
    svc: ServicesDep, response: Response, portfolio_id: UUID, position: int, status: int = 200
) -> OrjsonResponse:
    p = svc.projects.portfolio(portfolio_id)
    written(response, position, p.version)
    body = {"id": p.id, "name": p.name, "parent_id": p.parent_id, "version": p.version}
    return reply(response, body, status)


@router.get(
    "",
    summary="List portfolios",
    responses=documented(401, 403, 422),
    dependencies=[Depends(fresh("hierarchy", "access"))],
)
def list_portfolios(
    svc: ServicesDep,
    scope: ProjectScope,
    response: Response,
    parent: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Portfolios by name that hold a project you may see; `parent` narrows to one
    portfolio's children."""
    with svc.views.read() as tx:
        t = current_tables(tx, "hierarchy")
        ids = (
            None if scope.all_projects else frozenset(portfolios_holding(tx, t, scope.project_ids))
        )
        items, next_cursor = list_nodes(
            tx,
            t,
            "portfolios",
            cursor,
            limit,
            ids=ids,
            parent_id=str(parent) if parent else None,
        )
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "", status_code=201, summary="Create a portfolio", responses=documented(401, 403, 404, 422)
)
def create_portfolio(
    body: PortfolioCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a portfolio, at the top or inside another (admins, project managers)."""
    result = svc.projects.create_portfolio(CreatePortfolio(**body.model_dump()), ctx)
    response.headers["Location"] = f"/api/v1/portfolios/{result.id}"
    return _answer(svc, response, result.id, result.position, 201)


@router.get(
    "/{portfolio_id}",
    summary="Read a portfolio",
    responses=documented(401, 403, 404, 422),
    dependencies=[Depends(fresh("hierarchy", "access"))],
)
def read_portfolio(
    portfolio_id: UUID, svc: ServicesDep, scope: ProjectScope, response: Response
) -> OrjsonResponse:
    """A portfolio's name and parent."""
    with svc.views.read() as tx:
        t = current_tables(tx, "hierarchy")
        found = get_node(tx, t, "portfolios", str(portfolio_id))
        hidden = not scope.all_projects and str(portfolio_id) not in portfolios_holding(
            tx, t, scope.project_ids
        )
    if found is None or hidden:
        raise PortfolioNotFoundError(portfolio_id)
    return reply(response, found, ETag=f'"{found["version"]}"')


@router.patch(
    "/{portfolio_id}",
    summary="Rename or move a portfolio",
    responses=documented(401, 403, 404, 412, 422),
)
def change_portfolio(
    portfolio_id: UUID,
    body: PortfolioPatch,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename, or nest under another portfolio (never inside itself: 422)."""
    cmd = ChangePortfolio(portfolio_id=portfolio_id, **body.model_dump())
    result = svc.projects.change_portfolio(cmd, ctx, version)
    return _answer(svc, response, portfolio_id, result.position)

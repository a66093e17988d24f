"""Portfolios: the groups projects are arranged in, nested to any depth."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from commands.access import manages_projects
from commands.models import Command, Context
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from domain.errors import NotFoundError, PermissionDeniedError
from domain.hierarchy import Portfolio


class PortfolioNotFoundError(NotFoundError):
    """Raised when no portfolio has the given id."""

    def __init__(self, portfolio_id: UUID) -> None:
        super().__init__(f"no portfolio {portfolio_id}")


class CreatePortfolio(Command):
    name: str = Field(min_length=1, max_length=200)
    parent_id: UUID | None = None


class ChangePortfolio(Command):
    portfolio_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: UUID | None = None
    move: bool = False


def load_portfolio(uow: UnitOfWork, portfolio_id: UUID) -> Portfolio:
    portfolio = uow.get(portfolio_id, Portfolio)
    if portfolio is None:
        raise PortfolioNotFoundError(portfolio_id)
    return portfolio


def portfolio_ancestors(uow: UnitOfWork, portfolio_id: UUID | None) -> list[UUID]:
    chain: list[UUID] = []
    while portfolio_id is not None and portfolio_id not in chain:
        chain.append(portfolio_id)
        parent = load_portfolio(uow, portfolio_id).parent_id
        portfolio_id = UUID(parent) if parent else None
    return chain


def create_portfolio(
    cmd: CreatePortfolio, uow: UnitOfWork, ctx: Context, portfolio_id: UUID
) -> list[Any]:
    if not manages_projects(acting_user(uow, ctx)):
        raise PermissionDeniedError("only admins and project managers may create portfolios")
    if cmd.parent_id is not None:
        load_portfolio(uow, cmd.parent_id)
    return [
        Portfolio.create(
            portfolio_id=portfolio_id,
            name=cmd.name,
            parent=cmd.parent_id,
            actor=ctx.actor,
            correlation_id=ctx.correlation_id,
        )
    ]


def change_portfolio(cmd: ChangePortfolio, uow: UnitOfWork, ctx: Context) -> list[Any]:
    if not manages_projects(acting_user(uow, ctx)):
        raise PermissionDeniedError("only admins and project managers may change portfolios")
    portfolio = load_portfolio(uow, cmd.portfolio_id)
    if cmd.name is not None:
        portfolio.rename(cmd.name, ctx.actor, ctx.correlation_id)
    if cmd.move:
        ancestors = portfolio_ancestors(uow, cmd.parent_id)
        portfolio.move(cmd.parent_id, ancestors, ctx.actor, ctx.correlation_id)
    return [portfolio]

"""Writing the knowledge base: staff write, revise, publish and delete articles. Each write
claims the article's slug in the same atomic save (a title's slug, or the next free one)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.application import LedgerDesk
from commands.models import Command, CommandResult, Context
from commands.portal import require_staff
from commands.unit_of_work import UnitOfWork, run
from domain.customer import Organisation
from domain.errors import NotFoundError
from domain.knowledge_base.article import (
    Article,
    ArticleStatus,
    Visibility,
    checked_content,
)
from domain.knowledge_base.slugs import (
    ArticleSlug,
    ArticleSlugTakenError,
    article_slug_id,
    candidates,
)
from domain.values import Actor


class ArticleNotFoundError(NotFoundError):
    def __init__(self, article_id: UUID) -> None:
        super().__init__(f"no article {article_id}")


class WriteArticle(Command):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=200_000)
    category: str = Field(default="", max_length=100)
    status: ArticleStatus = ArticleStatus.DRAFT
    visibility: Visibility = Visibility.PUBLIC
    organisations: list[UUID] = Field(default_factory=list, max_length=500)


class ReviseArticle(Command):
    article_id: UUID
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=200_000)
    category: str | None = Field(default=None, max_length=100)
    status: ArticleStatus | None = None
    visibility: Visibility | None = None
    organisations: list[UUID] | None = Field(default=None, max_length=500)


def _organisations(uow: UnitOfWork, ids: list[UUID]) -> list[str]:
    for organisation_id in ids:
        if uow.get(organisation_id, Organisation) is None:
            raise NotFoundError(f"no customer organisation {organisation_id}")
    return [str(i) for i in ids]


def _slug_for(
    uow: UnitOfWork, article_id: UUID, title: str, actor: Actor, ctx: Context
) -> tuple[str, ArticleSlug]:
    """The first slug of `title` that no other article holds, claimed for `article_id`."""
    for slug in candidates(title):
        entry = uow.get(article_slug_id(slug), ArticleSlug) or ArticleSlug.index(
            slug, actor, ctx.correlation_id
        )
        if entry.free_for(article_id):
            entry.claim(article_id, actor, ctx.correlation_id)
            return slug, entry
    raise ArticleSlugTakenError(title)


def write_article(cmd: WriteArticle, uow: UnitOfWork, ctx: Context, article_id: UUID) -> list[Any]:
    require_staff(ctx)
    content = checked_content(
        cmd.title, cmd.body, cmd.category, cmd.visibility.value,
        _organisations(uow, cmd.organisations),
    )  # fmt: skip
    slug, entry = _slug_for(uow, article_id, content["title"], ctx.actor, ctx)
    article = Article.write(
        article_id=article_id, content=content, status=cmd.status, slug=slug, now=_now(),
        actor=ctx.actor, correlation_id=ctx.correlation_id,
    )  # fmt: skip
    return [entry, article]


def revise_article(cmd: ReviseArticle, uow: UnitOfWork, ctx: Context) -> list[Any]:
    require_staff(ctx)
    article = load_article(uow, cmd.article_id)
    organisations = (
        _organisations(uow, cmd.organisations)
        if cmd.organisations is not None
        else article.organisations
    )
    content = checked_content(
        cmd.title if cmd.title is not None else article.title,
        cmd.body if cmd.body is not None else article.body,
        cmd.category if cmd.category is not None else article.category,
        cmd.visibility.value if cmd.visibility is not None else article.visibility,
        organisations,
    )
    saved: list[Any] = []
    slug = article.slug
    if content["title"] != article.title and not article.slug_is_stable:
        slug, entry = _slug_for(uow, article.id, content["title"], ctx.actor, ctx)
        saved.append(entry)
        if slug != article.slug:
            old = uow.get(article_slug_id(article.slug), ArticleSlug)
            if old is not None:
                old.release(article.id, ctx.actor, ctx.correlation_id)
                saved.append(old)
    article.revise(content, slug, ctx.actor, ctx.correlation_id)
    if cmd.status is not None:
        article.change_status(cmd.status, _now(), ctx.actor, ctx.correlation_id)
    return [*saved, article]


def delete_article(article_id: UUID, uow: UnitOfWork, ctx: Context) -> list[Any]:
    require_staff(ctx)
    article = load_article(uow, article_id)
    article.delete(ctx.actor, ctx.correlation_id)
    freed = uow.get(article_slug_id(article.slug), ArticleSlug)
    if freed is not None:
        freed.release(article.id, ctx.actor, ctx.correlation_id)
    return [*([freed] if freed else []), article]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load_article(uow: UnitOfWork, article_id: UUID) -> Article:
    article = uow.get(article_id, Article)
    if article is None or article.deleted:
        raise ArticleNotFoundError(article_id)
    return article


class KnowledgeBaseService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def write(self, cmd: WriteArticle, ctx: Context) -> CommandResult:
        new_id = uuid.uuid4()
        saved, position = run(self.app, new_id, lambda uow: write_article(cmd, uow, ctx, new_id))
        return _result(saved[-1], position)

    def revise(
        self, cmd: ReviseArticle, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        saved, position = run(
            self.app, cmd.article_id, lambda uow: revise_article(cmd, uow, ctx), expected_version
        )
        return _result(saved[-1], position)

    def delete(self, article_id: UUID, ctx: Context) -> int:
        return run(self.app, article_id, lambda uow: delete_article(article_id, uow, ctx))[1]

    def article(self, article_id: UUID) -> Article:
        return load_article(UnitOfWork(self.app), article_id)

    def history(self, article_id: UUID) -> list[Any]:
        """The article's events, oldest first (each version of its text, status changes)."""
        load_article(UnitOfWork(self.app), article_id)
        return list(self.app.events.get(article_id))


def _result(article: Article, position: int) -> CommandResult:
    return CommandResult(id=article.id, number=None, version=article.version, position=position)

"""Article slugs: the address of an article (`/kb/<slug>`), derived from its title, and an
index aggregate per slug so that two articles never share one (decided by the write model)."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError
from domain.values import Actor

SLUG_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/kb/slugs")
SLUG_MAX = 80
# Paths under /kb/ that are pages of their own, never an article's.
RESERVED = frozenset({"search"})


def slug_of(title: str) -> str:
    """`How do I reset my password?` → `how-do-i-reset-my-password` (accents dropped)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_MAX].strip("-")
    return slug or "article"


def candidates(title: str) -> list[str]:
    """The slugs an article with `title` may take, best first (`…`, `…-2`, … `…-99`)."""
    base = slug_of(title)
    every = [base, *(f"{base[: SLUG_MAX - 3]}-{n}" for n in range(2, 100))]
    return [slug for slug in every if slug not in RESERVED]


def article_slug_id(slug: str) -> UUID:
    return uuid5(SLUG_NAMESPACE, slug)


class ArticleSlugTakenError(ConflictError):
    """Raised when every candidate slug of a title is held (99 articles of one title)."""

    def __init__(self, title: str) -> None:
        super().__init__(f"too many articles are titled {title!r}; choose another title")


class ArticleSlug(Aggregate):
    """One slug and the article holding it, if any."""

    TOPIC = "ledgerdesk:ArticleSlug"

    if TYPE_CHECKING:
        Claimed: ClassVar[type[Aggregate.Event]]
        Released: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(slug: str) -> UUID:
        return article_slug_id(slug)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ArticleSlug.Created"

    @event("Indexed", topic="ledgerdesk:ArticleSlug.Indexed")
    def __init__(self, slug: str, actor: str, correlation_id: str) -> None:
        self.slug = slug
        self.article_id: str | None = None

    @classmethod
    def index(cls, slug: str, actor: Actor, correlation_id: str) -> ArticleSlug:
        return cls(slug=slug, actor=actor.ref, correlation_id=correlation_id)

    def free_for(self, article_id: UUID) -> bool:
        return self.article_id in (None, str(article_id))

    def claim(self, article_id: UUID, actor: Actor, correlation_id: str) -> None:
        if self.article_id != str(article_id):
            self._claimed(
                article_id=str(article_id), actor=actor.ref, correlation_id=correlation_id
            )

    @event("Claimed", topic="ledgerdesk:ArticleSlug.Claimed")
    def _claimed(self, article_id: str, actor: str, correlation_id: str) -> None:
        self.article_id = article_id

    def release(self, article_id: UUID, actor: Actor, correlation_id: str) -> None:
        if self.article_id == str(article_id):
            self._released(
                article_id=str(article_id), actor=actor.ref, correlation_id=correlation_id
            )

    @event("Released", topic="ledgerdesk:ArticleSlug.Released")
    def _released(self, article_id: str, actor: str, correlation_id: str) -> None:
        self.article_id = None

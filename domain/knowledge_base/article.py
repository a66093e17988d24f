"""A knowledge-base article: a title, a Markdown body, a category, whether it is a draft or
published, and who may read it. Every edit is an event carrying the whole text, so the
article's history shows each version.

Who may read it (`visibility`): `public` (anyone, signed in or not), `customers` (any contact
signed in to the portal), `organisations` (contacts of the organisations it names), `staff`
(staff only). Drafts are for staff only, whatever their visibility."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError
from domain.values import Actor

TITLE_MAX = 300
BODY_MAX = 200_000
CATEGORY_MAX = 100


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Visibility(StrEnum):
    PUBLIC = "public"
    CUSTOMERS = "customers"
    ORGANISATIONS = "organisations"
    STAFF = "staff"


class ArticleDeletedError(ConflictError):
    def __init__(self) -> None:
        super().__init__("the article was deleted")


def checked_content(
    title: str, body: str, category: str, visibility: str, organisations: list[str]
) -> dict[str, Any]:
    """The article's content as events carry it; InvalidValueError names what is wrong."""
    title = " ".join(title.split())
    if not title or len(title) > TITLE_MAX:
        raise InvalidValueError("title", f"1 to {TITLE_MAX} characters")
    if len(body) > BODY_MAX:
        raise InvalidValueError("body", f"at most {BODY_MAX} characters")
    category = " ".join(category.split())
    if len(category) > CATEGORY_MAX:
        raise InvalidValueError("category", f"at most {CATEGORY_MAX} characters")
    try:
        shown_to = Visibility(visibility)
    except ValueError:
        raise InvalidValueError(
            "visibility", f"one of {', '.join(v.value for v in Visibility)}"
        ) from None
    if shown_to is Visibility.ORGANISATIONS and not organisations:
        raise InvalidValueError("organisations", "name at least one organisation")
    kept = sorted(set(organisations)) if shown_to is Visibility.ORGANISATIONS else []
    return {
        "title": title,
        "body": body,
        "category": category,
        "visibility": shown_to.value,
        "organisations": kept,
    }


class Article(Aggregate):
    TOPIC = "ledgerdesk:Article"

    if TYPE_CHECKING:
        Revised: ClassVar[type[Aggregate.Event]]
        StatusChanged: ClassVar[type[Aggregate.Event]]
        Deleted: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Article.Created"

    class Written(Aggregate.Created):
        TOPIC = "ledgerdesk:Article.Written"
        title: str
        body: str
        category: str
        visibility: str
        organisations: list[str]
        status: str
        published_at: str | None
        slug: str
        actor: str
        correlation_id: str

    @event(Written)
    def __init__(
        self,
        title: str,
        body: str,
        category: str,
        visibility: str,
        organisations: list[str],
        status: str,
        published_at: str | None,
        slug: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.title = title
        self.body = body
        self.category = category
        self.visibility = visibility
        self.organisations = organisations
        self.status = status
        self.slug = slug
        self.ever_published = status == ArticleStatus.PUBLISHED
        self.published_at = published_at
        self.deleted = False

    @classmethod
    def write(
        cls,
        *,
        article_id: UUID,
        content: dict[str, Any],
        status: ArticleStatus,
        slug: str,
        now: str,
        actor: Actor,
        correlation_id: str,
    ) -> Article:
        return cls._create(
            cls.Written,
            id=article_id,
            status=status.value,
            published_at=now if status is ArticleStatus.PUBLISHED else None,
            slug=slug,
            actor=actor.ref,
            correlation_id=correlation_id,
            **content,
        )

    @property
    def slug_is_stable(self) -> bool:
        """Once published, the address never changes (links to it keep working)."""
        return self.ever_published

    def revise(self, content: dict[str, Any], slug: str, actor: Actor, correlation_id: str) -> None:
        """A new version of the content (the whole of it); nothing when nothing differs."""
        self._check_live()
        now = {k: getattr(self, k) for k in content}
        if now != content or slug != self.slug:
            self._revised(slug=slug, actor=actor.ref, correlation_id=correlation_id, **content)

    @event("Revised", topic="ledgerdesk:Article.Revised")
    def _revised(
        self,
        title: str,
        body: str,
        category: str,
        visibility: str,
        organisations: list[str],
        slug: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.title, self.body, self.category = title, body, category
        self.visibility, self.organisations, self.slug = visibility, organisations, slug

    def change_status(
        self, status: ArticleStatus, now: str, actor: Actor, correlation_id: str
    ) -> None:
        """Publish or unpublish; `now` (ISO) is when, kept as `published_at` the first time."""
        self._check_live()
        if status.value != self.status:
            first = status is ArticleStatus.PUBLISHED and self.published_at is None
            self._status_changed(
                status=status.value,
                published_at=now if first else self.published_at,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("StatusChanged", topic="ledgerdesk:Article.StatusChanged")
    def _status_changed(
        self, status: str, published_at: str | None, actor: str, correlation_id: str
    ) -> None:
        self.status = status
        self.published_at = published_at
        self.ever_published = self.ever_published or status == ArticleStatus.PUBLISHED

    def delete(self, actor: Actor, correlation_id: str) -> None:
        self._check_live()
        self._deleted(actor=actor.ref, correlation_id=correlation_id)

    @event("Deleted", topic="ledgerdesk:Article.Deleted")
    def _deleted(self, actor: str, correlation_id: str) -> None:
        self.deleted = True

    def _check_live(self) -> None:
        if self.deleted:
            raise ArticleDeletedError

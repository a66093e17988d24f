"""Project slugs: the short name by which mail reaches a project (`support+<slug>@...`).

A slug's index aggregate has an id that follows from the slug, so the write model answers
"is it taken?" without asking a read model; it is saved in the same transaction as the
project that claims or frees it, so two projects never hold one slug.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError
from domain.values import Actor

PROJECT_SLUG_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/project-slugs")
SLUG_MAX = 50
# Lower-case letters, digits and inner hyphens: what every mail system keeps intact in the
# `+detail` of an address. No dots, so a slug is never taken for a signed reply address.
_SLUG = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{SLUG_MAX - 2}}}[a-z0-9])?$")


class ProjectSlugTakenError(ConflictError):
    """Raised when a project would take a slug another project holds."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"another project has the slug {slug!r}")


def check_slug(value: str) -> str:
    """`value` as a slug (lower-cased), or InvalidValueError naming what is wrong."""
    slug = value.strip().lower()
    if not _SLUG.match(slug):
        raise InvalidValueError(
            "slug",
            f"{value!r} is not a slug: 1 to {SLUG_MAX} letters, digits and inner hyphens",
        )
    return slug


def is_slug(value: str) -> bool:
    return _SLUG.match(value) is not None


def project_slug_id(slug: str) -> UUID:
    return uuid5(PROJECT_SLUG_NAMESPACE, slug.strip().lower())


class ProjectSlug(Aggregate):
    """One slug and the project holding it (if any); a freed slug may be claimed again."""

    TOPIC = "ledgerdesk:ProjectSlug"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Indexed: ClassVar[type[Aggregate.Event]]
        Claimed: ClassVar[type[Aggregate.Event]]
        Released: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(slug: str) -> UUID:
        return project_slug_id(slug)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ProjectSlug.Created"

    @event("Indexed", topic="ledgerdesk:ProjectSlug.Indexed")
    def __init__(self, slug: str, actor: str, correlation_id: str) -> None:
        self.slug = slug
        self.project_id: str | None = None

    @classmethod
    def index(cls, slug: str, actor: Actor, correlation_id: str) -> ProjectSlug:
        """The index entry for a slug no project has held yet."""
        return cls(slug=check_slug(slug), actor=actor.ref, correlation_id=correlation_id)

    def claim(self, project_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Give the slug to `project_id`; ProjectSlugTakenError if another project holds it."""
        if self.project_id == str(project_id):
            return
        if self.project_id is not None:
            raise ProjectSlugTakenError(self.slug)
        self._claimed(project_id=str(project_id), actor=actor.ref, correlation_id=correlation_id)

    @event("Claimed", topic="ledgerdesk:ProjectSlug.Claimed")
    def _claimed(self, project_id: str, actor: str, correlation_id: str) -> None:
        self.project_id = project_id

    def release(self, project_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Free the slug if `project_id` holds it (the project took another, or none)."""
        if self.project_id == str(project_id):
            self._released(
                project_id=str(project_id), actor=actor.ref, correlation_id=correlation_id
            )

    @event("Released", topic="ledgerdesk:ProjectSlug.Released")
    def _released(self, project_id: str, actor: str, correlation_id: str) -> None:
        self.project_id = None

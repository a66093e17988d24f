"""Admins' overrides of the mail templates: one `MailTemplate` per kind of mail (and one
for the layout every mail shares), holding the subject, HTML and text templates that
replace the shipped defaults until reset."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFoundError
from domain.mail.outgoing import MailKind
from domain.values import Actor

TEMPLATE_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/mail/templates")
LAYOUT = "layout"
TEMPLATE_KINDS = (*(k.value for k in MailKind), LAYOUT)


class UnknownTemplateError(NotFoundError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"no mail template {kind!r}; the kinds are {', '.join(TEMPLATE_KINDS)}")


def template_id_for(kind: str) -> UUID:
    if kind not in TEMPLATE_KINDS:
        raise UnknownTemplateError(kind)
    return uuid5(TEMPLATE_NAMESPACE, kind)


class MailTemplate(Aggregate):
    """The override of one kind's templates (None: the shipped default is used)."""

    TOPIC = "ledgerdesk:MailTemplate"

    if TYPE_CHECKING:
        Overridden: ClassVar[type[Aggregate.Event]]
        Reset: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(kind: str) -> UUID:
        return template_id_for(kind)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:MailTemplate.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:MailTemplate.Started"
        kind: str
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, kind: str, actor: str, correlation_id: str) -> None:
        self.kind = kind
        self.parts: dict[str, str] | None = None

    @classmethod
    def start(cls, kind: str, actor: Actor, correlation_id: str) -> MailTemplate:
        return cls._create(
            cls.Started,
            id=template_id_for(kind),
            kind=kind,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def override(self, parts: dict[str, str], actor: Actor, correlation_id: str) -> None:
        """Use `parts` (subject, html, text; already checked to render) from now on."""
        if parts != self.parts:
            self._overridden(parts=dict(parts), actor=actor.ref, correlation_id=correlation_id)

    @event("Overridden", topic="ledgerdesk:MailTemplate.Overridden")
    def _overridden(self, parts: dict[str, str], actor: str, correlation_id: str) -> None:
        self.parts = parts

    def reset(self, actor: Actor, correlation_id: str) -> None:
        if self.parts is not None:
            self._reset(actor=actor.ref, correlation_id=correlation_id)

    @event("Reset", topic="ledgerdesk:MailTemplate.Reset")
    def _reset(self, actor: str, correlation_id: str) -> None:
        self.parts = None

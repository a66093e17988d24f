"""The staff User aggregate: who may use the API, and their bearer tokens."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.values import Actor, normalise_email

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/users")


def user_id_for(email: str) -> UUID:
    """A staff user's id follows from their email, so an email is taken at most once."""
    return uuid5(USER_NAMESPACE, normalise_email(email))


class User(Aggregate):
    """A staff member: agent, project manager or admin."""

    TOPIC = "ledgerdesk:User"

    @staticmethod
    def create_id(email: str) -> UUID:
        return user_id_for(email)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:User.Created"

    @event("Registered", topic="ledgerdesk:User.Registered")
    def __init__(
        self, email: str, name: str, is_admin: bool, actor: str, correlation_id: str
    ) -> None:
        self.email = email
        self.name = name
        self.is_admin = is_admin
        self.token_hashes: dict[str, str] = {}

    @classmethod
    def register(
        cls, *, email: str, name: str, is_admin: bool, actor: Actor, correlation_id: str
    ) -> User:
        email = normalise_email(email)
        return cls(
            email=email,
            name=name.strip() or email,
            is_admin=is_admin,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def issue_token(
        self, *, token_id: str, secret_sha256: str, label: str, actor: Actor, correlation_id: str
    ) -> None:
        """Record a bearer token by the hash of its secret (the secret is never stored)."""
        self._token_issued(
            token_id=token_id,
            secret_sha256=secret_sha256,
            label=label,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("TokenIssued", topic="ledgerdesk:User.TokenIssued")
    def _token_issued(
        self, token_id: str, secret_sha256: str, label: str, actor: str, correlation_id: str
    ) -> None:
        self.token_hashes[token_id] = secret_sha256

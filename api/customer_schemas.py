"""Request bodies and documented response shapes of customer organisations and contacts."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas import Body
from domain.customer import Sharing

SHARING = (
    "Which items of colleagues a contact sees: `none` (own only), `per_member` (those whose"
    " `sees_colleagues_items` is true see the organisation's) or `everyone`."
)
DOMAINS = "Email domains whose senders join this organisation when first seen."


class OrganisationCreate(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Acme Ltd"])
    domains: list[str] = Field(
        default_factory=list, max_length=50, description=DOMAINS, examples=[["acme.example"]]
    )
    sharing: Sharing = Field(default=Sharing.NONE, description=SHARING)


class OrganisationPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    sharing: Sharing | None = Field(default=None, description=SHARING)
    domains: list[str] | None = Field(default=None, max_length=50, description=DOMAINS)


class OrganisationOut(BaseModel):
    id: UUID
    name: str
    domains: list[str]
    sharing: Sharing
    contact_count: int | None = Field(
        description="Number of contacts, from the view: in lists and reads; null in write answers."
    )
    version: int
    created_at: str = Field(examples=["2026-11-22T20:56:27.962732Z"])
    updated_at: str


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None


class ContactCreate(Body):
    email: str = Field(max_length=320, examples=["ada@acme.example"])
    name: str = Field(default="", max_length=200, description="The email when blank.")
    organisation_id: UUID | None = Field(
        default=None, description="None: the organisation listing the email's domain, if any."
    )


class ContactPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    organisation_id: UUID | None = Field(
        default=None, description="Move to this organisation; `null` leaves the current one."
    )
    sees_colleagues_items: bool | None = Field(
        default=None, description="Under `per_member` sharing: sees colleagues' items."
    )


class ContactOut(BaseModel):
    id: UUID
    email: str
    name: str
    organisation_id: UUID | None
    sees_colleagues_items: bool
    sees: Literal["own", "organisation"] = Field(
        description="Whose items the contact sees: their own, or their organisation's too."
    )
    source: Literal["staff", "ticket", "import"]
    user_id: UUID | None = Field(description="The staff user made from this contact, if any.")
    version: int
    created_at: str = Field(examples=["2026-11-22T20:56:27.962732Z"])
    updated_at: str


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None

"""Request bodies and documented response shapes of the customer portal."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, SecretStr, model_validator

from api.schemas import Body
from domain.values import State


class PortalInvitationOut(BaseModel):
    contact_id: UUID
    invitation: str = Field(
        description="Shown once: the contact redeems it (once, within 7 days) at `accept_path`.",
        examples=["ldp_0c3e6a9b5e2f5f0a9d6c1b2a3e4f5a6b_4Bsm5IxN..."],
    )
    expires_at: str
    accept_path: str = Field(
        description="Where the invitation is redeemed: `POST {accept_path}` with"
        ' `{"invitation": ...}`.',
        examples=["/api/v1/portal/session"],
    )
    link: str = Field(
        description="The whole link a person opens to accept it in the customer pages: they"
        " choose a password there and are signed in.",
        examples=["https://help.example.com/portal/invite/ldp_0c3e6a9b..."],
    )
    mailed: bool = Field(
        description="Whether the link was mailed to the contact (mail is configured)."
    )


class PortalSessionCreate(Body):
    invitation: SecretStr | None = Field(
        default=None, min_length=1, max_length=500, description="`ldp_...`"
    )
    email: str | None = Field(
        default=None, max_length=320, description="Or: the contact's address (with `password`)."
    )
    password: SecretStr | None = Field(
        default=None, min_length=1, max_length=1024, description="Their portal password."
    )

    @model_validator(mode="after")
    def _one_way(self) -> PortalSessionCreate:
        by_password = self.email is not None or self.password is not None
        if (self.invitation is None) == (not by_password):
            raise ValueError("send an invitation, or an email and a password")
        if by_password and (self.email is None or self.password is None):
            raise ValueError("send both an email and a password")
        return self


class PortalSessionOut(BaseModel):
    access_token: str = Field(examples=["ldc_0c3e6a9b..._ecf4423d891e_4Bsm5IxN..."])
    token_type: Literal["bearer"]
    token_id: str
    contact_id: UUID
    expires_at: str


class PortalOrganisation(BaseModel):
    id: UUID
    name: str


class PortalMe(BaseModel):
    id: UUID
    email: str
    name: str
    organisation: PortalOrganisation | None
    sees: Literal["own", "organisation"] = Field(
        description="Whose tickets you see: your own, or your organisation's too."
    )


class PortalTicketSummary(BaseModel):
    number: int = Field(examples=[1042])
    title: str
    status: str = Field(examples=["New"])
    state: State
    created_at: str = Field(examples=["2026-11-22T20:56:27.962732Z"])
    updated_at: str = Field(description="The last change a customer can see.")
    requester_email: str | None


class PortalTicketPage(BaseModel):
    items: list[PortalTicketSummary]
    next_cursor: str | None


class PortalAuthor(BaseModel):
    kind: Literal["customer", "support"] = Field(
        description="`support`: anyone on the help desk's side (never named)."
    )
    email: str | None = Field(description="The customer's email; null for support.")


class PortalMessage(BaseModel):
    id: UUID
    author: PortalAuthor
    body: str
    created_at: str
    in_reply_to: UUID | None


class PortalAttachment(BaseModel):
    id: UUID
    name: str
    size: int
    media_type: str
    author: PortalAuthor
    created_at: str


class PortalTicketOut(PortalTicketSummary):
    description: str
    messages: list[PortalMessage] = Field(description="Customer-visible messages only.")
    attachments: list[PortalAttachment]


class PortalTicketCreate(Body):
    title: str = Field(min_length=1, max_length=500, examples=["I cannot log in"])
    description: str = Field(default="", max_length=200_000)
    item_type: str = Field(
        default="ticket", max_length=40, description="An item type customers may choose."
    )
    priority: str = Field(default="", max_length=20, description="Where the type asks for it.")
    fields: dict[str, str] = Field(
        default_factory=dict, max_length=30, description="The type's custom fields, by key."
    )


class PortalReplyCreate(Body):
    body: str = Field(min_length=1, max_length=200_000, examples=["Thanks, that fixed it."])

"""Request bodies and response shapes of people and access: users, sign-in, tokens, teams."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, SecretStr

from api.params import Moment
from api.schemas import Body
from domain.team import TeamRole
from domain.user import Apps, CompanyRole, Flag, Scope


class UserCreate(Body):
    email: str = Field(max_length=320, examples=["grace@example.com"])
    name: str = Field(max_length=200, examples=["Grace Hopper"])
    role: CompanyRole = CompanyRole.MEMBER
    apps: Apps = Apps.BOTH
    flags: list[Flag] = Field(default_factory=list, examples=[["manage_projects"]])
    password: SecretStr | None = Field(
        default=None,
        min_length=10,
        max_length=1024,
        description="Optional; without it the user can only use tokens until invited.",
    )


class UserInvite(Body):
    email: str = Field(max_length=320, examples=["grace@example.com"])
    name: str = Field(max_length=200, examples=["Grace Hopper"])
    role: CompanyRole = CompanyRole.MEMBER
    apps: Apps = Apps.BOTH
    flags: list[Flag] = Field(default_factory=list)


class UserPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: CompanyRole | None = None
    apps: Apps | None = None
    flags: list[Flag] | None = None
    active: bool | None = Field(default=None, description="false deactivates the user.")


class LoginBody(Body):
    email: str = Field(max_length=320, examples=["grace@example.com"])
    password: SecretStr = Field(min_length=1, max_length=1024)


class PasswordChange(Body):
    current_password: SecretStr = Field(min_length=1, max_length=1024)
    new_password: SecretStr = Field(min_length=10, max_length=1024)


class InvitationAcceptance(Body):
    token: SecretStr = Field(min_length=1, max_length=500, description="From the invitation.")
    password: SecretStr = Field(min_length=10, max_length=1024)


class TokenCreate(Body):
    label: str = Field(default="", max_length=200, examples=["CI integration"])
    scopes: list[Scope] = Field(
        default_factory=list, description="Empty means every scope you hold."
    )
    expires_at: Moment | None = Field(
        default=None, description="RFC 3339 with a time zone; none: never."
    )


class TokenIssuedOut(BaseModel):
    access_token: str = Field(examples=["ld_2c872c90..._ecf4423d891e_4Bsm5IxN..."])
    token_type: Literal["bearer"]
    token_id: str
    user_id: UUID
    scopes: list[Scope]
    expires_at: str | None


class TokenOut(BaseModel):
    id: str
    label: str
    kind: Literal["session", "api"]
    scopes: list[Scope]
    expires_at: str | None


class UserOut(BaseModel):
    id: UUID
    email: str
    name: str
    role: CompanyRole
    apps: Apps
    flags: list[Flag]
    status: Literal["invited", "active", "deactivated"]
    is_admin: bool
    version: int


class InvitationOut(BaseModel):
    user: UserOut
    invitation: str = Field(
        description="Give this to the user once; they redeem it at "
        "`POST /api/v1/auth/invitations/accept`. Valid 7 days."
    )


class UserListItem(UserOut):
    created_at: str
    updated_at: str


class UserPage(BaseModel):
    items: list[UserListItem]
    next_cursor: str | None


class TeamCreate(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Second-line support"])


class TeamPatch(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Platform support"])


class TeamMemberPut(Body):
    role: TeamRole = Field(
        default=TeamRole.MEMBER, description="`lead`s may manage the team's members."
    )


class TeamMemberOut(BaseModel):
    user_id: UUID
    role: TeamRole


class TeamOut(BaseModel):
    id: UUID
    name: str
    members: list[TeamMemberOut]
    version: int
    created_at: str = Field(examples=["2026-11-22T20:56:27.962732Z"])
    updated_at: str


class TeamPage(BaseModel):
    items: list[TeamOut]
    next_cursor: str | None

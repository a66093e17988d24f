"""The company's settings: which apps and features are on (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag

router = APIRouter(prefix="/api/v1/admin", tags=[Tag.ADMIN])


class Apps(Body):
    portal: bool | None = Field(
        default=None, description="The customer portal: its pages and its API."
    )
    knowledge_base: bool | None = Field(
        default=None, description="The knowledge base's pages (/kb); staff keep its API."
    )
    web_forms: bool | None = Field(
        default=None, description="The public forms' pages (/forms/{form}); staff keep their API."
    )
    messenger: bool | None = Field(
        default=None,
        description="The chats: their API for customers and staff, their live events and the"
        " widget's Chat tab (their history stays).",
    )


class Features(Body):
    customer_status_changes: bool | None = Field(
        default=None, description="Customers may close and reopen their requests in the portal."
    )
    anonymous_forms: bool | None = Field(
        default=None,
        description="Forms marked anonymous take submissions from people not signed in, once"
        " they confirm their address by email.",
    )
    anonymous_chats: bool | None = Field(
        default=None,
        description="People not signed in may open a chat with a name and an address (not"
        " confirmed).",
    )


class SettingsPatch(Body):
    apps: Apps = Field(default_factory=Apps)
    features: Features = Field(default_factory=Features)


class AppsOut(BaseModel):
    portal: bool
    knowledge_base: bool
    web_forms: bool
    messenger: bool


class FeaturesOut(BaseModel):
    customer_status_changes: bool
    anonymous_forms: bool
    anonymous_chats: bool


class SettingsOut(BaseModel):
    apps: AppsOut
    features: FeaturesOut


@router.get(
    "/settings",
    summary="Read the company settings",
    responses={200: {"model": SettingsOut}, **documented(401, 403)},
)
def read_settings(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Which apps and features are switched on. Admins only."""
    return reply(response, svc.company.current())


@router.patch(
    "/settings",
    summary="Switch apps and features",
    responses={200: {"model": SettingsOut}, **documented(401, 403, 422)},
)
def change_settings(
    body: SettingsPatch, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Switch apps and features on or off; a switch left out is not changed. It holds at
    once in every process. Admins only."""
    position = svc.company.change(
        body.apps.model_dump(exclude_none=True), body.features.model_dump(exclude_none=True), ctx
    )
    written(response, position)
    return reply(response, svc.company.current())

"""The automated messages customers see outside mail: list, edit, preview, reset (admins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from domain.automated_messages import (
    MESSAGE_KEYS,
    MESSAGES,
    SAMPLE,
    TEXT_LENGTH,
    checked_text,
    message,
    rendered,
)

router = APIRouter(prefix="/api/v1/admin/messages", tags=[Tag.ADMIN])

Key = Annotated[
    Literal[MESSAGE_KEYS],  # type: ignore[valid-type]
    Path(description="The message: " + ", ".join(MESSAGES) + "."),
]


class AutomatedMessageOut(BaseModel):
    key: str = Field(examples=["chat_offline"])
    shown: str = Field(description="Where and when customers see it.")
    placeholders: list[str] = Field(description="What `{name}` in its text is filled with.")
    default: str = Field(
        description="The shipped text (the widget and pages show it in the customer's"
        " language; `chat_offline`, written into the request, is in English)."
    )
    text: str = Field(description="The text in force: the admins' own, or the shipped.")
    overridden: bool


class AutomatedMessageList(BaseModel):
    items: list[AutomatedMessageOut]


class AutomatedMessageText(Body):
    text: str = Field(
        min_length=1,
        max_length=TEXT_LENGTH,
        description="Plain text; `{number}` where the message offers it, `{{` and `}}` for"
        " a brace.",
    )


class AutomatedMessageDraft(Body):
    text: str | None = Field(default=None, max_length=TEXT_LENGTH)


class AutomatedMessagePreview(BaseModel):
    text: str


def _described(key: str, own: dict[str, str]) -> dict[str, Any]:
    found = message(key)
    return {
        "key": key,
        "shown": found.shown,
        "placeholders": list(found.placeholders),
        "default": found.default,
        "text": own.get(key, found.default),
        "overridden": key in own,
    }


@router.get(
    "",
    summary="List the automated messages",
    responses={200: {"model": AutomatedMessageList}, **documented(401, 403)},
)
def list_messages(svc: ServicesDep, caller: AdminCaller, response: Response) -> OrjsonResponse:
    """Every message ledgerdesk shows or posts to customers by itself outside mail (mail
    has its templates, `/mail/templates`), with its text in force. Admins only."""
    own = svc.company.messages()
    return reply(response, {"items": [_described(key, own) for key in MESSAGES]})


@router.get(
    "/{message_key}",
    summary="Read an automated message",
    responses={200: {"model": AutomatedMessageOut}, **documented(401, 403, 422)},
)
def read_message(
    message_key: Key, svc: ServicesDep, caller: AdminCaller, response: Response
) -> OrjsonResponse:
    """One message: where it shows, its placeholders, the shipped text and the one in
    force. Admins only."""
    return reply(response, _described(message_key, svc.company.messages()))


@router.put(
    "/{message_key}",
    summary="Edit an automated message",
    responses={200: {"model": AutomatedMessageOut}, **documented(401, 403, 422)},
)
def edit_message(
    message_key: Key, body: AutomatedMessageText, svc: ServicesDep, caller: AdminCaller, ctx: Ctx,
    response: Response,
) -> OrjsonResponse:  # fmt: skip
    """Say this from now on, in every language (an own text is shown as written). A
    placeholder the message does not offer, or a lone brace, is 422 naming it, and nothing
    is saved. Admins only."""
    written(response, svc.company.set_message(message_key, body.text, ctx))
    return reply(response, _described(message_key, svc.company.messages()))


@router.delete(
    "/{message_key}",
    status_code=204,
    summary="Go back to the shipped message",
    responses=documented(401, 403, 422),
)
def reset_message(message_key: Key, svc: ServicesDep, caller: AdminCaller, ctx: Ctx) -> Response:
    """Drop the admins' text: the shipped one applies again. Admins only."""
    response = Response(status_code=204)
    written(response, svc.company.reset_message(message_key, ctx))
    return response


@router.post(
    "/{message_key}/preview",
    summary="Preview an automated message",
    responses={200: {"model": AutomatedMessagePreview}, **documented(401, 403, 422)},
)
def preview_message(
    message_key: Key,
    svc: ServicesDep,
    caller: AdminCaller,
    response: Response,
    body: AutomatedMessageDraft | None = None,
) -> OrjsonResponse:
    """The message as customers would read it, its placeholders filled with sample
    values: the draft in the body (not saved), or without one the text in force. A draft
    that could not be saved is 422 as for PUT."""
    draft = body.text if body is not None else None
    text = (
        checked_text(message_key, draft)
        if draft is not None
        else _described(message_key, svc.company.messages())["text"]
    )
    return reply(response, {"text": rendered(text, SAMPLE)})

"""Files in chats: either side sends a file as a message (multipart field `file`, with an
optional `body`), and either side downloads the chat's files. The bytes are stored once by
SHA-256, as items' attachments are, and only once the sender may post, the chat is open and
has room, and the text is good (else nothing is kept). Turning the chat into a ticket or task makes
its files the item's customer-visible attachments."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile
from fastapi.responses import FileResponse

from api.deps import ClientAddress, Correlation, Ctx, CurrentCaller, ServicesDep
from api.responses import OrjsonResponse, attachment_download, documented
from api.routers.chats import ChatId, ChatOut, KnownCustomer, chat_answer, messenger_on
from api.tags import Tag
from commands.chat.service import ChatFile, PostChatMessage
from domain.chat.chats import BODY_LENGTH, check_body

router = APIRouter(prefix="/api/v1", tags=[Tag.CHATS], dependencies=[Depends(messenger_on)])
FileId = Annotated[UUID, Path(description="The file's id (a message's `attachments[].id`).")]
Upload = Annotated[UploadFile, File(description="The file to send.")]
Text = Annotated[
    str, Form(max_length=BODY_LENGTH, description="Text sent with the file (may be empty).")
]


def _message(svc: ServicesDep, file: UploadFile, body: str) -> PostChatMessage:
    check_body(body, files=True)  # Before any byte is stored.
    sha256, size = svc.commands.blobs.put(file.file, svc.max_attachment_bytes)
    name = (file.filename or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255] or "file"
    sent = ChatFile(
        sha256=sha256, name=name, size=size,
        media_type=(file.content_type or "application/octet-stream")[:255],
    )  # fmt: skip
    return PostChatMessage(body=body, attachments=(sent,))


def _sent(response: Response, cmd: PostChatMessage) -> None:
    response.headers["X-Message-ID"] = str(cmd.message_id)
    response.headers["X-Attachment-ID"] = str(cmd.attachments[0].id)


@router.post(
    "/portal/chats/{chat_id}/attachments",
    status_code=201,
    summary="Send a file in a chat (customer)",
    tags=[Tag.PORTAL],
    responses={201: {"model": ChatOut}, **documented(401, 404, 409, 413, 422, 429)},
)
def send_customer_file(
    chat_id: ChatId,
    file: Upload,
    svc: ServicesDep,
    who: KnownCustomer,
    response: Response,
    correlation_id: Correlation,
    client: ClientAddress,
    body: Text = "",
) -> OrjsonResponse:
    """A message carrying the file (and `body`, if any) from the chat's customer. An
    anonymous customer's files count against their address like web form submissions."""
    svc.chats.check_room_for_file(svc.chats.customer_check(chat_id, who))  # Before any byte.
    if isinstance(who, str):
        svc.throttle.submission(client)
    cmd = _message(svc, file, body)
    _, position = svc.chats.customer_post(chat_id, cmd, who, correlation_id)
    _sent(response, cmd)
    return chat_answer(svc, response, chat_id, position, 201)


@router.get(
    "/portal/chats/{chat_id}/attachments/{attachment_id}",
    summary="Download a chat's file (customer)",
    tags=[Tag.PORTAL],
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **documented(401, 404, 422)},
)
def download_customer_file(
    chat_id: ChatId, attachment_id: FileId, svc: ServicesDep, who: KnownCustomer
) -> Response:
    """The file's bytes, always as a download (never shown inline)."""
    svc.chats.customer_check(chat_id, who)
    found = svc.chats.file(chat_id, attachment_id)
    return attachment_download(svc.commands.blobs, found)


@router.post(
    "/chats/{chat_id}/attachments",
    status_code=201,
    summary="Send a file in a chat",
    responses={201: {"model": ChatOut}, **documented(401, 403, 404, 409, 413, 422)},
)
def send_staff_file(
    chat_id: ChatId,
    file: Upload,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    response: Response,
    body: Text = "",
) -> OrjsonResponse:
    """A message carrying the file (and `body`, if any) to the customer; you join the chat
    as you post."""
    svc.chats.check_room_for_file(svc.chats.staff_check(chat_id, caller.user))  # Before any byte.
    cmd = _message(svc, file, body)
    _, position = svc.chats.staff_post(chat_id, cmd, ctx)
    _sent(response, cmd)
    return chat_answer(svc, response, chat_id, position, 201)


@router.get(
    "/chats/{chat_id}/attachments/{attachment_id}",
    summary="Download a chat's file",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **documented(401, 403, 404)},
)
def download_staff_file(
    chat_id: ChatId, attachment_id: FileId, svc: ServicesDep, caller: CurrentCaller
) -> Response:
    """The file's bytes, always as a download (never shown inline)."""
    svc.chats.staff_check(chat_id, caller.user)
    found = svc.chats.file(chat_id, attachment_id)
    return attachment_download(svc.commands.blobs, found)

"""A ticket's conversation: messages (customer replies, internal notes) and attachments."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile
from fastapi.responses import FileResponse

from api.deps import Ctx, ProjectScope, Services, ServicesDep, fresh, written
from api.responses import OrjsonResponse, attachment_download, documented, reply
from api.routers.tickets import Number, answer_write
from api.schemas import MessageCreate, ReadOut, TaskOut, TicketOut
from api.tags import Tag
from commands.errors import AttachmentNotFoundError
from commands.models import AddAttachment, CommandResult, PostMessage
from projections.base import current_tables
from projections.item_access import visible_item
from projections.ticket_detail import get_ticket


def build(kind: Literal["ticket", "task"]) -> APIRouter:
    """The routes for one item kind, under `/api/v1/{kind}s/{number}`."""
    router = APIRouter(prefix=f"/api/v1/{kind}s/{{number}}", tags=[Tag.CONVERSATION])

    def change(svc: Services) -> Callable[..., CommandResult]:
        return svc.commands.change_ticket if kind == "ticket" else svc.commands.change_task

    @router.post(
        "/messages",
        name=f"post_{kind}_message",
        status_code=201,
        summary="Post a message",
        responses={201: {"model": TicketOut | TaskOut}, **documented(401, 404, 409, 422)},
    )
    def post_message(
        number: Number,
        body: MessageCreate,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Post a customer reply (the customer sees it) or an internal message (staff only);
        `in_reply_to` answers an earlier message of the same ticket."""
        message_id = uuid.uuid4()
        cmd = PostMessage(
            message_id=message_id,
            body=body.body,
            visibility=body.visibility,
            in_reply_to=body.in_reply_to,
        )
        result = change(svc)(number, [cmd], ctx)
        return answer_write(svc, response, result, 201, X_Message_ID=str(message_id))

    @router.post(
        "/read",
        name=f"read_{kind}_messages",
        summary="Mark the conversation read",
        responses={200: {"model": ReadOut}, **documented(401, 404, 422)},
    )
    def mark_read(number: Number, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
        """You have read every message of this item (a `Ticket.MessagesRead` event when any
        was new to you): a message is mailed only to those who have not read it within
        LEDGERDESK_FORWARD_UNREAD_AFTER seconds. Works on finished items too."""
        count, position = svc.commands.mark_read(number, ctx)
        written(response, position)
        return reply(response, {"read": count})

    @router.post(
        "/attachments",
        name=f"add_{kind}_attachment",
        status_code=201,
        summary="Attach a file",
        responses={201: {"model": TicketOut | TaskOut}, **documented(401, 404, 409, 413, 422)},
    )
    def add_attachment(
        number: Number,
        file: Annotated[UploadFile, File(description="The file to attach.")],
        visibility: Annotated[
            Literal["customer", "internal"],
            Form(description="`customer`: the customer sees it in the portal; default internal."),
        ] = "internal",
        *,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Attach a file (multipart field `file`, optional field `visibility`); the bytes are
        stored once by SHA-256."""
        attachment_id = uuid.uuid4()
        probe = AddAttachment(
            attachment_id=attachment_id, sha256="0" * 64, name="probe", size=0, media_type="x/x"
        )
        svc.commands.require_permission(number, probe, ctx)  # Before storing any bytes.
        sha256, size = svc.commands.blobs.put(file.file, svc.max_attachment_bytes)
        cmd = AddAttachment(
            attachment_id=attachment_id,
            sha256=sha256,
            name=(file.filename or "attachment").rsplit("/", 1)[-1][:255] or "attachment",
            size=size,
            media_type=file.content_type or "application/octet-stream",
            visibility=visibility,
        )
        result = change(svc)(number, [cmd], ctx)
        return answer_write(svc, response, result, 201, X_Attachment_ID=str(attachment_id))

    @router.get(
        "/attachments/{attachment_id}",
        name=f"download_{kind}_attachment",
        summary="Download an attachment",
        response_class=FileResponse,
        responses={200: {"content": {"application/octet-stream": {}}}, **documented(401, 404)},
        dependencies=[Depends(fresh("ticket_detail", "access"))],
    )
    def download_attachment(
        number: Number,
        attachment_id: Annotated[uuid.UUID, Path()],
        svc: ServicesDep,
        scope: ProjectScope,
    ) -> Response:
        """The attachment's bytes, always as a download (never rendered inline)."""
        with svc.views.read() as tx:
            doc = get_ticket(tx, current_tables(tx, "ticket_detail"), number)
        doc = visible_item(doc, number, scope, kind)
        found = [a for a in doc["attachments"] if a["id"] == str(attachment_id)]
        if not found:
            raise AttachmentNotFoundError(number, attachment_id)
        return attachment_download(svc.commands.blobs, found[0])

    return router


routers = [build("ticket"), build("task")]

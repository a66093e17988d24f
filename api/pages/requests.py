"""The portal's request pages: the list of the requests a contact may see, one request with
its conversation, attachments and reply form, closing and reopening it, and a new request.

Pages only translate: who sees which item and what a customer may write are the portal
commands' and the portal view's rules, exactly as for the portal API. An item a contact may
not see answers the same 404 page as a number that does not exist."""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from api.deps import Correlation, fresh
from api.pages.forms import Form, read_form
from api.pages.portal import caller_of, customer_context, to_login
from api.pages.rendering import redirect, render, services_of
from api.pages.switched import apps_on
from api.problems import UPLOADS_MARK
from api.responses import attachment_download
from commands.errors import AttachmentTooLargeError, TicketNotFoundError
from commands.portal import (
    ChangePortalStatus,
    FollowPortalItem,
    OpenPortalTicket,
    PortalCaller,
    PortalFile,
    PostPortalReply,
)
from domain.errors import DomainError, PermissionDeniedError
from domain.intake.item_types import FieldValueError, check_submission, customer_choosable
from domain.item_numbers import MAX_ITEM_NUMBER
from projections.base import InvalidCursorError, current_tables
from projections.portal import get_portal_ticket, list_portal_tickets
from projections.ticket_detail import get_ticket

router = APIRouter(include_in_schema=False, dependencies=[Depends(apps_on("portal", "tickets"))])
Number = Annotated[int, Path(ge=1, le=MAX_ITEM_NUMBER)]
MAX_FILES = 10
# Routes whose form carries files: the body limit lets them through as uploads of up to
# MAX_FILES files, each within the attachment limit.
WITH_FILES = {UPLOADS_MARK: MAX_FILES}
PAGE_SIZE = 25
SHOWS = ("open", "finished", "all")


def stored_files(request: Request, form: Form) -> list[PortalFile]:
    """The form's chosen files in the blob store (AttachmentTooLargeError past the limit); a
    browser's empty file input sends a part without a file name, which is no file."""
    svc = services_of(request)
    kept = []
    parts = form.data.getlist("attachments")
    chosen = [f for f in parts if isinstance(f, StarletteUpload) and f.filename]
    for upload in chosen[:MAX_FILES]:
        sha256, size = svc.commands.blobs.put(upload.file, svc.max_attachment_bytes)
        name = (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255] or "attachment"
        kept.append(
            PortalFile(
                sha256=sha256, name=name, size=size,
                media_type=(upload.content_type or "application/octet-stream")[:255],
            )
        )  # fmt: skip
    return kept


@router.get("/portal", dependencies=[Depends(fresh("portal"))])
def my_requests(
    request: Request,
    show: Annotated[str, Query(max_length=20)] = "open",
    q: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    svc = services_of(request)
    show = show if show in SHOWS else "open"
    organisation_id = svc.portal.sees_organisation_of(caller.contact)
    try:
        with svc.views.read() as tx:
            items, next_cursor = list_portal_tickets(
                tx, current_tables(tx, "portal"), str(caller.contact.id), organisation_id,
                cursor, PAGE_SIZE, show=show, q=q,
            )  # fmt: skip
    except InvalidCursorError:
        items, next_cursor = [], None
    return render(
        request,
        "portal/list.html",
        contact=caller.contact,
        items=items,
        show=show,
        q=q,
        next_cursor=next_cursor,
        shared=organisation_id is not None,
    )


def _visible(request: Request, caller: PortalCaller, number: int) -> dict[str, Any] | None:
    svc = services_of(request)
    organisation_id = svc.portal.sees_organisation_of(caller.contact)
    with svc.views.read() as tx:
        return get_portal_ticket(
            tx, current_tables(tx, "portal"), str(caller.contact.id), organisation_id, number
        )


def _not_found(request: Request, caller: PortalCaller | None) -> Response:
    return render(request, "portal/not_found.html", 404, contact=caller.contact if caller else None)


@router.get("/portal/items/{number}", dependencies=[Depends(fresh("portal"))])
def one_request(request: Request, number: Number, correlation_id: Correlation) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    doc = _visible(request, caller, number)
    if doc is None:
        return _not_found(request, caller)
    if opened_by_the_reader(request):
        with contextlib.suppress(DomainError):  # Seen here: not mailed to them (reads are events).
            services_of(request).portal.mark_read(number, customer_context(caller, correlation_id))
    return _item_page(request, caller, doc)


def opened_by_the_reader(request: Request) -> bool:
    """Whether the customer opened the page themselves (a link of ours, the address bar, a
    bookmark), not another site's link or embed: a read is recorded only then, so no site
    can stop their mail by making their browser load the page. Browsers say so in
    `Sec-Fetch-Site`; a client that sends none is taken at its word."""
    site = request.headers.get("sec-fetch-site")
    return site is None or site in ("same-origin", "none")


def _item_page(
    request: Request,
    caller: PortalCaller,
    doc: dict[str, Any],
    status: int = 200,
    error: str | None = None,
) -> Response:
    svc = services_of(request)
    may_change = svc.company.feature_on("customer_status_changes")
    following = svc.portal.follows(caller.contact, doc["number"])
    return render(
        request, "portal/item.html", status, contact=caller.contact, item=doc, error=error,
        may_change_status=may_change, following=following,
    )  # fmt: skip


@router.post("/portal/items/{number}/follow")
async def follow(request: Request, number: Number, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_follow, request, number, form, correlation_id)


def _follow(request: Request, number: int, form: Form, correlation_id: str) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    cmd = FollowPortalItem(number=number, follow=form.text("action") != "unfollow")
    try:
        position = services_of(request).portal.follow(cmd, customer_context(caller, correlation_id))
    except TicketNotFoundError:
        return _not_found(request, caller)
    return redirect(request, f"/portal/items/{number}", position)


@router.post("/portal/items/{number}/status")
async def change_status(request: Request, number: Number, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_change_status, request, number, form, correlation_id)


def _change_status(request: Request, number: int, form: Form, correlation_id: str) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    cmd = ChangePortalStatus(number=number, finish=form.text("action") == "close")
    try:
        position = services_of(request).portal.change_status(
            cmd, customer_context(caller, correlation_id)
        )
    except TicketNotFoundError:
        return _not_found(request, caller)
    except PermissionDeniedError:
        doc = _visible(request, caller, number)
        if doc is None:
            return _not_found(request, caller)
        return _item_page(request, caller, doc, 403, "status-not-allowed")
    return redirect(request, f"/portal/items/{number}", position)


@router.post("/portal/items/{number}/reply", openapi_extra=WITH_FILES)
async def reply(request: Request, number: Number, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_reply, request, number, form, correlation_id)


def _reply(request: Request, number: int, form: Form, correlation_id: str) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    doc = _visible(request, caller, number)  # Before storing any bytes.
    if doc is None:
        return _not_found(request, caller)
    body = form.text("body").strip()
    if not body:
        return _item_page(request, caller, doc, 422, "empty")
    try:
        stored = stored_files(request, form)
    except AttachmentTooLargeError:
        return _item_page(request, caller, doc, 413, "too-large")
    cmd = PostPortalReply(
        number=number, message_id=uuid.uuid4(), body=body[:200_000], attachments=stored
    )
    try:
        result = services_of(request).portal.post_reply(
            cmd, customer_context(caller, correlation_id)
        )
    except TicketNotFoundError:
        return _not_found(request, caller)
    return redirect(request, f"/portal/items/{number}#latest", result.position)


@router.get(
    "/portal/items/{number}/attachments/{attachment_id}",
    response_model=None,
    dependencies=[Depends(fresh("portal", "ticket_detail"))],
)
def download(request: Request, number: Number, attachment_id: uuid.UUID) -> Response:
    """A customer-visible attachment of an item the contact may see, as a download."""
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    doc = _visible(request, caller, number)
    shown = doc is not None and any(a["id"] == str(attachment_id) for a in doc["attachments"])
    svc = services_of(request)
    with svc.views.read() as tx:
        tables = current_tables(tx, "ticket_detail")
        detail = get_ticket(tx, tables, number) if shown else None
        if detail is not None and detail.get("converted_to_task") is not None:
            # The task goes on under the ticket's number; files added since are the task's.
            detail = get_ticket(tx, tables, detail["converted_to_task"])
    found = [a for a in (detail or {}).get("attachments", []) if a["id"] == str(attachment_id)]
    if not found or found[0].get("visibility") != "customer":
        return _not_found(request, caller)
    return attachment_download(svc.commands.blobs, found[0])


@router.get("/portal/new")
def new_request_page(
    request: Request, type: Annotated[str, Query(max_length=40)] = "ticket"
) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    return _new(request, caller, type)


def _new(
    request: Request,
    caller: PortalCaller,
    key: str,
    status: int = 200,
    values: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    """The new-request form for item type `key` (the first customers may choose, if it is
    not one), with what was sent and what was wrong with it."""
    types = customer_types(request)
    if not types:  # Admins let customers choose no type: nothing may be opened here.
        return render(request, "forms/unavailable.html", 404, contact=caller.contact)
    kind = next((t for t in types if t["key"] == key), types[0])
    return render(
        request, "portal/new.html", status, contact=caller.contact, types=types, kind=kind,
        values=values or {}, problem=problem, error=error,
    )  # fmt: skip


def customer_types(request: Request) -> list[dict[str, Any]]:
    """The item types customers may choose (tickets, not retired), `ticket` first."""
    types = services_of(request).intake.item_types().values()
    chosen = [t for t in types if customer_choosable(t)]
    return sorted(chosen, key=lambda t: (t["key"] != "ticket", t["name"]))


def sent_values(form: Form, kind: dict[str, Any]) -> dict[str, str]:
    """The values of the type's fields in `form`."""
    return {f["key"]: form.text(f["key"]) for f in kind["fields"]}


@router.post("/portal/new", openapi_extra=WITH_FILES)
async def open_request(request: Request, correlation_id: Correlation) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_open, request, form, correlation_id)


def _open(request: Request, form: Form, correlation_id: str) -> Response:
    caller = caller_of(request)
    if caller is None:
        return to_login(request)
    key = form.text("item_type") or "ticket"
    kind = next((t for t in customer_types(request) if t["key"] == key), None)
    if kind is None:
        return _new(request, caller, "ticket", 422)
    values = sent_values(form, kind)
    try:
        sent = check_submission(kind, values)  # Before storing any bytes.
        stored = stored_files(request, form)
    except FieldValueError as wrong:
        problem = {"field": wrong.field, "code": wrong.code}
        return _new(request, caller, key, 422, values, problem)
    except AttachmentTooLargeError:
        return _new(request, caller, key, 413, values, error="too-large")
    cmd = OpenPortalTicket(
        title=sent.title, description=sent.description, priority=sent.priority,
        fields=sent.values, item_type=key, attachments=stored,
    )  # fmt: skip
    result = services_of(request).portal.open_ticket(cmd, customer_context(caller, correlation_id))
    return redirect(request, f"/portal/items/{result.number}", result.position)

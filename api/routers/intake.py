"""Item types and web forms (admins change them; any staff member reads them). A type says
which fields a form asks for and requires, where its items go and whether customers may
choose it; a form offers one type at `/forms/{key}`."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from api.deps import AdminCaller, Ctx, CurrentCaller, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag

router = APIRouter(prefix="/api/v1", tags=[Tag.INTAKE])
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="The key.")]


class FieldIn(Body):
    key: str = Field(
        max_length=40,
        description="`title`, `description`, `priority` (the standard fields), or a key of"
        " your own for a custom field.",
        examples=["browser"],
    )
    required: bool = False
    label: str | None = Field(default=None, max_length=200, description="Custom fields only.")
    type: Literal["text", "textarea", "choice"] | None = Field(
        default=None, description="Custom fields only."
    )
    choices: list[str] | None = Field(default=None, max_length=100, description="For `choice`.")


class ItemTypeCreate(Body):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["outage"])
    name: str = Field(min_length=1, max_length=100, examples=["Outage"])
    kind: Literal["ticket", "task"] = "ticket"
    fields: list[FieldIn] | None = Field(
        default=None, max_length=30, description="Default: title (required) and description."
    )
    project_id: UUID | None = Field(default=None, description="Where its items go (the Inbox).")
    folder_id: UUID | None = None
    customer_visible: bool | None = Field(
        default=None, description="Customers may choose it (tickets only; default true)."
    )


class ItemTypePatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    fields: list[FieldIn] | None = Field(default=None, max_length=30)
    project_id: UUID | None = None
    folder_id: UUID | None = None
    customer_visible: bool | None = None


class FieldOut(BaseModel):
    key: str
    required: bool
    label: str | None = None
    type: str | None = None
    choices: list[str] | None = None


class ItemTypeOut(BaseModel):
    key: str
    name: str
    kind: Literal["ticket", "task"]
    fields: list[FieldOut]
    project_id: UUID | None
    folder_id: UUID | None
    customer_visible: bool
    retired: bool
    builtin: bool = Field(description="Shipped with ledgerdesk (it can be reset, not deleted).")


class ItemTypeList(BaseModel):
    items: list[ItemTypeOut]


class FormCreate(Body):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["bugs"])
    name: str = Field(min_length=1, max_length=100, examples=["Report a bug"])
    item_type: str = Field(default="ticket", max_length=40, examples=["bug_report"])
    anonymous: bool = Field(
        default=False,
        description="Anyone may submit (they confirm their address by email first), while"
        " the `anonymous_forms` feature is on; otherwise contacts sign in first.",
    )
    active: bool = True
    intro: str = Field(default="", max_length=2000, description="Shown above the form.")


class FormPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    item_type: str | None = Field(default=None, max_length=40)
    anonymous: bool | None = None
    active: bool | None = None
    intro: str | None = Field(default=None, max_length=2000)


class FormOut(BaseModel):
    key: str
    name: str
    item_type: str
    anonymous: bool
    active: bool
    intro: str
    url: str = Field(description="The form's page.")


class FormList(BaseModel):
    items: list[FormOut]


def _given(body: Body, fields: bool = True) -> dict[str, Any]:
    """What the body sets (fields as the domain reads them: `None` members left out)."""
    given = body.model_dump(exclude_unset=True, exclude={"key", "kind"})
    if fields and given.get("fields") is not None:
        given["fields"] = [{k: v for k, v in f.items() if v is not None} for f in given["fields"]]
    return {k: v for k, v in given.items() if v is not None or k in ("project_id", "folder_id")}


# --- item types ---------------------------------------------------------------------------


@router.get(
    "/item-types",
    summary="List the item types",
    responses={200: {"model": ItemTypeList}, **documented(401)},
)
def list_item_types(svc: ServicesDep, caller: CurrentCaller, response: Response) -> OrjsonResponse:
    """Every item type: the shipped ones (`ticket`, `feedback`, `feature_request`,
    `bug_report`, `task`) and the company's own, retired ones too."""
    return reply(response, {"items": list(svc.intake.item_types().values())})


@router.post(
    "/item-types",
    status_code=201,
    summary="Define an item type",
    responses={201: {"model": ItemTypeOut}, **documented(401, 403, 404, 409, 422)},
)
def define_item_type(
    body: ItemTypeCreate, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A new item type with its fields, where its items go and whether customers may
    choose it. Admins only."""
    given = {**_given(body), "kind": body.kind}
    written(response, svc.intake.define_item_type(body.key, given, ctx))
    return reply(response, svc.intake.item_type(body.key), 201)


@router.get(
    "/item-types/{key}",
    summary="Read an item type",
    responses={200: {"model": ItemTypeOut}, **documented(401, 404)},
)
def read_item_type(
    key: Key, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """One item type, retired or not."""
    return reply(response, svc.intake.item_type(key))


@router.patch(
    "/item-types/{key}",
    summary="Change an item type",
    responses={200: {"model": ItemTypeOut}, **documented(401, 403, 404, 422)},
)
def change_item_type(
    key: Key,
    body: ItemTypePatch,
    svc: ServicesDep,
    caller: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Change its name, fields (the whole list), place or whether customers may choose it;
    items opened before keep what they were given. Admins only."""
    written(response, svc.intake.change_item_type(key, _given(body), ctx))
    return reply(response, svc.intake.item_type(key))


@router.delete(
    "/item-types/{key}",
    status_code=204,
    summary="Retire an item type",
    responses=documented(401, 403, 404, 422),
)
def retire_item_type(key: Key, svc: ServicesDep, caller: AdminCaller, ctx: Ctx) -> Response:
    """No new item may be of it; its items keep it, and it stays in the list (`retired`).
    `ticket` and `task` cannot be retired. Admins only."""
    response = Response(status_code=204)
    written(response, svc.intake.retire_item_type(key, ctx))
    return response


@router.post(
    "/item-types/{key}/reset",
    summary="Reset a shipped item type",
    responses={200: {"model": ItemTypeOut}, **documented(401, 403, 404)},
)
def reset_item_type(
    key: Key, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A shipped type back to its defaults (and in use again if it was retired)."""
    written(response, svc.intake.reset_item_type(key, ctx))
    return reply(response, svc.intake.item_type(key))


# --- forms ----------------------------------------------------------------------------------


def _form_out(svc: ServicesDep, form: dict[str, Any]) -> dict[str, Any]:
    public = svc.pages.public_url if svc.pages is not None else ""
    return {**form, "url": f"{public}/forms/{form['key']}"}


@router.get(
    "/forms", summary="List the web forms", responses={200: {"model": FormList}, **documented(401)}
)
def list_forms(svc: ServicesDep, caller: CurrentCaller, response: Response) -> OrjsonResponse:
    """Every web form, by key, with its page's address."""
    items = [_form_out(svc, f) for f in sorted(svc.intake.forms().values(), key=lambda f: f["key"])]
    return reply(response, {"items": items})


@router.post(
    "/forms",
    status_code=201,
    summary="Define a web form",
    responses={201: {"model": FormOut}, **documented(401, 403, 409, 422)},
)
def define_form(
    body: FormCreate, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A form at `/forms/{key}` offering an item type customers may choose. Admins only."""
    given = body.model_dump(exclude={"key"})
    written(response, svc.intake.define_form(body.key, given, ctx, new=True))
    return reply(response, _form_out(svc, svc.intake.form(body.key)), 201)


@router.get(
    "/forms/{key}",
    summary="Read a web form",
    responses={200: {"model": FormOut}, **documented(401, 404)},
)
def read_form(
    key: Key, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """One web form, with its page's address."""
    return reply(response, _form_out(svc, svc.intake.form(key)))


@router.patch(
    "/forms/{key}",
    summary="Change a web form",
    responses={200: {"model": FormOut}, **documented(401, 403, 404, 422)},
)
def change_form(
    key: Key, body: FormPatch, svc: ServicesDep, caller: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Change a form's name, item type, whether it is anonymous or active, or its intro.
    Admins only."""
    written(response, svc.intake.define_form(key, _given(body, fields=False), ctx, new=False))
    return reply(response, _form_out(svc, svc.intake.form(key)))


@router.delete(
    "/forms/{key}",
    status_code=204,
    summary="Delete a web form",
    responses=documented(401, 403, 404),
)
def delete_form(key: Key, svc: ServicesDep, caller: AdminCaller, ctx: Ctx) -> Response:
    """The form's page answers 404 from now on; requests sent through it stay."""
    response = Response(status_code=204)
    written(response, svc.intake.delete_form(key, ctx))
    return response

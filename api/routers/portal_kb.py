"""The knowledge base for customers' own clients (the widget's Help tab, a mobile app):
`GET /api/v1/portal/kb` and `GET /api/v1/portal/kb/{slug}`, as the `/kb` pages show it.
Public articles need no sign-in; with a portal session, those for customers and for the
contact's organisation too. 404 while the knowledge base is switched off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from api.deps import ServicesDep, fresh
from api.portal_deps import portal_bearer
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.log_context import note
from domain.company_settings import AppSwitchedOffError
from domain.errors import NotFoundError
from projections.base import current_tables
from projections.knowledge_base import (
    HIT_END,
    HIT_START,
    Reader,
    get_article,
    list_articles,
    search_articles,
)

router = APIRouter(prefix="/api/v1/portal/kb", tags=[Tag.PORTAL])


class ArticleSummary(BaseModel):
    slug: str
    title: str
    category: str
    updated_at: str
    snippet: str | None = None


class ArticleList(BaseModel):
    items: list[ArticleSummary]


class ArticleOut(BaseModel):
    slug: str
    title: str
    category: str
    updated_at: str
    html: str
    url: str


def reader(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(portal_bearer)],
) -> Reader:
    """Anyone, or the contact behind a portal session (401 for a session no longer good)."""
    if not svc.company.app_on("knowledge_base"):
        raise AppSwitchedOffError("knowledge base")
    if credentials is None or not svc.company.app_on("portal"):
        return Reader()
    caller = svc.portal.authenticate(credentials.credentials.strip())
    note(actor=f"contact:{caller.contact.id}")  # for the request's log lines
    return Reader(contact=True, organisation_id=caller.contact.organisation_id)


KbReader = Annotated[Reader, Depends(reader)]


def _summary(row: dict[str, object]) -> dict[str, object]:
    out = {k: row[k] for k in ("slug", "title", "category", "updated_at")}
    snippet = row.get("snippet")
    if isinstance(snippet, str):
        out["snippet"] = snippet.replace(HIT_START, "").replace(HIT_END, "")
    return out


@router.get(
    "",
    summary="List or search the knowledge base (customers)",
    responses={200: {"model": ArticleList}, **documented(401, 404, 422)},
    dependencies=[Depends(fresh("kb"))],
    openapi_extra={"security": [{"PortalSession": []}, {}]},
)
def list_portal_kb(
    svc: ServicesDep,
    who: KbReader,
    response: Response,
    q: Annotated[str, Query(max_length=200, description="Words every article found holds.")] = "",
) -> OrjsonResponse:
    """The articles you may read, by category and title; with `q`, those holding every
    word, best first (at most 20), each with a plain-text snippet."""
    with svc.views.read() as tx:
        t = current_tables(tx, "kb")
        rows = search_articles(tx, t, who, q, 20) if q.strip() else list_articles(tx, t, who)
    return reply(response, {"items": [_summary(r) for r in rows]})


@router.get(
    "/{slug}",
    summary="Read an article (customers)",
    responses={200: {"model": ArticleOut}, **documented(401, 404, 422)},
    dependencies=[Depends(fresh("kb"))],
    openapi_extra={"security": [{"PortalSession": []}, {}]},
)
def read_portal_kb_article(
    slug: Annotated[str, Path(max_length=200)],
    svc: ServicesDep,
    who: KbReader,
    response: Response,
) -> OrjsonResponse:
    """The article as HTML (sanitised when it was saved), if you may read it; 404 else."""
    with svc.views.read() as tx:
        found = get_article(tx, current_tables(tx, "kb"), who, slug=slug)
    if found is None:
        raise NotFoundError(f"no article {slug!r}")
    content = {
        **{k: found[k] for k in ("slug", "title", "category", "updated_at")},
        "html": found["body_html"],
        "url": f"{svc.public_url}/kb/{found['slug']}",
    }
    return reply(response, content)

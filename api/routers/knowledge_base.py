"""The knowledge base for staff: write, revise, publish and delete articles, and read them
all (drafts and staff-only ones too). Customers read published articles in the pages (`/kb`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from api.deps import Ctx, CurrentCaller, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import Body
from api.tags import Tag
from commands.knowledge_base import ArticleNotFoundError, ReviseArticle, WriteArticle
from domain.knowledge_base.article import Article, ArticleStatus, Visibility
from projections.base import current_tables, iso, topic_name
from projections.knowledge_base import Reader, get_article, list_articles, render, search_articles

router = APIRouter(prefix="/api/v1/kb/articles", tags=[Tag.KNOWLEDGE_BASE])
ArticleId = Annotated[UUID, Path(description="The article's id.")]
STAFF = Reader(staff=True)


class ArticleCreate(Body):
    title: str = Field(min_length=1, max_length=300, examples=["How do I reset my password?"])
    body: str = Field(default="", max_length=200_000, description="Markdown.")
    category: str = Field(default="", max_length=100, examples=["Accounts"])
    status: Literal["draft", "published"] = "draft"
    visibility: Literal["public", "customers", "organisations", "staff"] = "public"
    organisations: list[UUID] = Field(
        default_factory=list,
        max_length=500,
        description="The customer organisations whose contacts may read it"
        " (visibility `organisations`).",
    )


class ArticlePatch(Body):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=200_000)
    category: str | None = Field(default=None, max_length=100)
    status: Literal["draft", "published"] | None = None
    visibility: Literal["public", "customers", "organisations", "staff"] | None = None
    organisations: list[UUID] | None = Field(default=None, max_length=500)


class ArticleOut(BaseModel):
    id: UUID
    slug: str
    title: str
    body: str
    body_html: str
    category: str
    status: str
    visibility: str
    organisations: list[UUID]
    created_at: str
    updated_at: str
    published_at: str | None
    version: int


def shown(article: Article) -> dict[str, Any]:
    """An article as the write model has it (a write's answer)."""
    return {
        "id": article.id,
        "slug": article.slug,
        "title": article.title,
        "body": article.body,
        "body_html": render(article.body),
        "category": article.category,
        "status": article.status,
        "visibility": article.visibility,
        "organisations": article.organisations,
        "created_at": iso(article.created_on),
        "updated_at": iso(article.modified_on),
        "published_at": article.published_at,
        "version": article.version,
    }


def _answer(
    svc: ServicesDep, response: Response, article_id: UUID, position: int, status: int = 200
) -> OrjsonResponse:
    article = svc.kb.article(article_id)
    written(response, position, article.version)
    return reply(response, shown(article), status)


@router.post(
    "",
    status_code=201,
    summary="Write an article",
    responses={201: {"model": ArticleOut}, **documented(401, 403, 404, 409, 422)},
)
def write_article(
    body: ArticleCreate, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A new article (a draft unless `status` says published); its slug comes from the
    title, with `-2`, `-3`… when another article holds it. An unknown organisation is 404."""
    cmd = WriteArticle(
        title=body.title, body=body.body, category=body.category,
        status=ArticleStatus(body.status), visibility=Visibility(body.visibility),
        organisations=body.organisations,
    )  # fmt: skip
    result = svc.kb.write(cmd, ctx)
    response.headers["Location"] = f"/api/v1/kb/articles/{result.id}"
    return _answer(svc, response, result.id, result.position, 201)


@router.get(
    "",
    summary="List articles",
    responses={200: {"description": "The articles."}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("kb"))],
)
def list_kb_articles(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Words to search for.")] = None,
) -> OrjsonResponse:
    """Every article, drafts and staff-only ones too, by category and title; with `q`, those
    holding every word, best first, each with a `snippet`."""
    with svc.views.read() as tx:
        t = current_tables(tx, "kb")
        items = search_articles(tx, t, STAFF, q, 50) if q else list_articles(tx, t, STAFF)
    return reply(response, {"items": items})


@router.get(
    "/{article_id}",
    summary="Read an article",
    responses={200: {"model": ArticleOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("kb"))],
)
def read_kb_article(
    article_id: ArticleId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """One article as staff see it (a draft or a staff-only one too), with its ETag."""
    with svc.views.read() as tx:
        found = get_article(tx, current_tables(tx, "kb"), STAFF, article_id=str(article_id))
    if found is None:
        raise ArticleNotFoundError(article_id)
    response.headers["ETag"] = f'"{found["version"]}"'
    return reply(response, found)


@router.patch(
    "/{article_id}",
    summary="Revise an article",
    responses={200: {"model": ArticleOut}, **documented(401, 403, 404, 409, 412, 422)},
)
def revise_kb_article(
    article_id: ArticleId,
    body: ArticlePatch,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
    version: ExpectedVersion,
) -> OrjsonResponse:
    """Change its text, category, visibility or status; every change is a new version in its
    history. A draft's slug follows its title; once published, the slug never changes."""
    cmd = ReviseArticle(
        article_id=article_id, title=body.title, body=body.body, category=body.category,
        status=ArticleStatus(body.status) if body.status else None,
        visibility=Visibility(body.visibility) if body.visibility else None,
        organisations=body.organisations,
    )  # fmt: skip
    result = svc.kb.revise(cmd, ctx, version)
    return _answer(svc, response, article_id, result.position)


@router.delete(
    "/{article_id}",
    status_code=204,
    summary="Delete an article",
    responses=documented(401, 403, 404, 422),
)
def delete_kb_article(article_id: ArticleId, svc: ServicesDep, ctx: Ctx) -> Response:
    """It leaves every listing, page and search at once; its history stays in the log."""
    position = svc.kb.delete(article_id, ctx)
    return Response(status_code=204, headers={"X-Log-Position": str(position)})


@router.get(
    "/{article_id}/history",
    summary="An article's history",
    responses={200: {"description": "Its versions."}, **documented(401, 403, 404, 422)},
)
def kb_article_history(
    article_id: ArticleId, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """Every version of its text and every status change, oldest first, with who and when."""
    items = []
    for e in svc.kb.history(article_id):
        fields = {
            k: getattr(e, k)
            for k in ("title", "body", "category", "visibility", "organisations", "status", "slug")
            if hasattr(e, k)
        }
        items.append(
            {"event": topic_name(e).split(".")[1], "at": iso(e.timestamp), "version":
             e.originator_version, "actor": e.actor, **fields}
        )  # fmt: skip
    return reply(response, {"items": items})

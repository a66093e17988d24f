"""The knowledge base's pages: `/kb` (its categories and articles), `/kb/{slug}` (one
article), `/kb/search?q=` (search). Public articles need no sign-in; a contact signed in to
the portal also reads those for customers and for their organisation. The view applies
who may read what in every query, listing, article and search snippet alike."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from markupsafe import Markup
from starlette.responses import Response

from api.deps import fresh
from api.pages.portal import caller_of
from api.pages.rendering import render, services_of
from api.pages.switched import apps_on
from projections.base import current_tables
from projections.knowledge_base import (
    Reader,
    get_article,
    list_articles,
    search_articles,
    snippet_parts,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(apps_on("knowledge_base"))])


def reader_of(request: Request) -> Reader:
    caller = caller_of(request) if services_of(request).company.app_on("portal") else None
    if caller is None:
        return Reader()
    return Reader(contact=True, organisation_id=caller.contact.organisation_id)


@router.get("/kb", dependencies=[Depends(fresh("kb"))])
def index(request: Request) -> Response:
    svc = services_of(request)
    with svc.views.read() as tx:
        articles = list_articles(tx, current_tables(tx, "kb"), reader_of(request))
    categories = [(name, list(items)) for name, items in groupby(articles, lambda a: a["category"])]
    return render(request, "kb/index.html", categories=categories, q="")


@router.get("/kb/search", dependencies=[Depends(fresh("kb"))])
def search(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> Response:
    svc = services_of(request)
    with svc.views.read() as tx:
        found = search_articles(tx, current_tables(tx, "kb"), reader_of(request), q, 20)
    for article in found:
        article["snippet_html"] = _marked(article.pop("snippet") or "")
    return render(request, "kb/search.html", q=q, results=found)


@router.get("/kb/{slug}", dependencies=[Depends(fresh("kb"))])
def article(request: Request, slug: str) -> Response:
    svc = services_of(request)
    with svc.views.read() as tx:
        found = get_article(tx, current_tables(tx, "kb"), reader_of(request), slug=slug)
    if found is None:
        return render(request, "kb/not_found.html", 404, q="")
    # The view keeps the article's HTML sanitised (nh3) when it renders the Markdown.
    body = Markup(found["body_html"])  # noqa: S704
    return render(request, "kb/article.html", article=found, body=body, q="")


def _marked(snippet: str) -> Markup:
    """A snippet with its hits in <mark>, every part of it escaped."""
    return Markup("").join(
        Markup("<mark>{}</mark>").format(text) if hit else Markup.escape(text)
        for text, hit in snippet_parts(snippet)
    )

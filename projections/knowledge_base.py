"""Knowledge-base view: reads Article events; shows each live article with its Markdown
rendered to safe HTML (`kb_articles`) and its words in a full-text index (`kb_search`:
SQLite FTS5, or a PostgreSQL tsvector with a GIN index).

Every query here takes the reader's reach — staff, a signed-in contact and their
organisation, or anyone — and applies it in SQL, so a listing, an article, the search
results and their snippets never show an article its reader may not read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from typing import Any

import nh3
from markdown_it import MarkdownIt

from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topic_name
from projections.db import Tx

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Markers around the matched words of a snippet: characters no stored text holds.
HIT_START, HIT_END = "\x02", "\x03"
COLUMNS = (
    "a.id, a.slug, a.title, a.category, a.status, a.visibility, a.organisations,"
    " a.created_at, a.updated_at, a.published_at, a.version"
)


def render(markdown: str) -> str:
    """The article's Markdown as HTML safe to show: raw HTML in it is text, and what the
    renderer makes goes through nh3 (links get rel=noopener noreferrer)."""
    return nh3.clean(_MARKDOWN.render(markdown), link_rel="noopener noreferrer nofollow")


def plain(html: str) -> str:
    """The text of sanitised HTML, as a reader sees it (`&amp;` is `&`), on one line."""
    return " ".join(unescape(nh3.clean(html, tags=set())).split())


@dataclass(frozen=True)
class Reader:
    """Who reads: `staff` see every article (drafts too); a contact (`contact`) the public,
    customers' and their organisation's published ones; anyone else the public ones."""

    staff: bool = False
    contact: bool = False
    organisation_id: str | None = None


class KnowledgeBaseProjection(Projection):
    name = "kb"
    tables = ("kb_articles", "kb_search")
    schema_version = 2  # 2: the search text holds characters, not HTML entities (`&amp;`)
    topics = frozenset(
        t for t in (
            "ledgerdesk:Article.Written", "ledgerdesk:Article.Revised",
            "ledgerdesk:Article.StatusChanged", "ledgerdesk:Article.Deleted",
        )
    )  # fmt: skip

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['kb_articles']} ("
            " id TEXT PRIMARY KEY, slug TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
            " body_html TEXT NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL,"
            " visibility TEXT NOT NULL, organisations TEXT NOT NULL, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, published_at TEXT, version INTEGER NOT NULL)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {t['kb_articles']}_slug ON {t['kb_articles']} (slug)"
        )
        if tx.dialect == "postgres":
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {t['kb_search']} ("
                " article_id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,"
                " words tsvector GENERATED ALWAYS AS"
                " (setweight(to_tsvector('simple', title), 'A') ||"
                " setweight(to_tsvector('simple', body), 'B')) STORED)"
            )
            tx.execute(
                f"CREATE INDEX IF NOT EXISTS {t['kb_search']}_words"
                f" ON {t['kb_search']} USING GIN (words)"
            )
        else:
            tx.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {t['kb_search']} USING fts5("
                " article_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')"
            )

    def key_columns(self, base: str) -> str:
        return "id" if base == "kb_articles" else "article_id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            e = p.event
            topic = topic_name(e)
            article_id = str(e.originator_id)
            if topic == "Article.Written":
                html = render(e.body)
                published = e.published_at
                tx.execute(
                    f"INSERT INTO {t['kb_articles']} (id, slug, title, body, body_html, category,"
                    " status, visibility, organisations, created_at, updated_at, published_at,"
                    " version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        article_id, e.slug, e.title, e.body, html, e.category, e.status,
                        e.visibility, dumps(e.organisations), iso(e.timestamp), iso(e.timestamp),
                        published, e.originator_version,
                    ),
                )  # fmt: skip
                _index(tx, t, article_id, e.title, html)
            elif topic == "Article.Revised":
                html = render(e.body)
                tx.execute(
                    f"UPDATE {t['kb_articles']} SET slug = ?, title = ?, body = ?, body_html = ?,"
                    " category = ?, visibility = ?, organisations = ?, updated_at = ?, version = ?"
                    " WHERE id = ?",
                    (
                        e.slug, e.title, e.body, html, e.category, e.visibility,
                        dumps(e.organisations), iso(e.timestamp), e.originator_version, article_id,
                    ),
                )  # fmt: skip
                _index(tx, t, article_id, e.title, html)
            elif topic == "Article.StatusChanged":
                tx.execute(
                    f"UPDATE {t['kb_articles']} SET status = ?, updated_at = ?, version = ?,"
                    " published_at = ? WHERE id = ?",
                    (e.status, iso(e.timestamp), e.originator_version, e.published_at, article_id),
                )
            elif topic == "Article.Deleted":
                tx.execute(f"DELETE FROM {t['kb_articles']} WHERE id = ?", (article_id,))
                tx.execute(f"DELETE FROM {t['kb_search']} WHERE article_id = ?", (article_id,))


def _index(tx: Tx, t: Tables, article_id: str, title: str, html: str) -> None:
    tx.execute(f"DELETE FROM {t['kb_search']} WHERE article_id = ?", (article_id,))
    tx.execute(
        f"INSERT INTO {t['kb_search']} (article_id, title, body) VALUES (?, ?, ?)",
        (article_id, title, plain(html)),
    )


# --- queries ---------------------------------------------------------------------------


def _reach(reader: Reader) -> tuple[str, list[Any]]:
    if reader.staff:
        return "1 = 1", []
    allowed = ["a.visibility = 'public'"]
    params: list[Any] = []
    if reader.contact:
        allowed.append("a.visibility = 'customers'")
        if reader.organisation_id:
            allowed.append("(a.visibility = 'organisations' AND a.organisations LIKE ?)")
            params.append(f'%"{reader.organisation_id}"%')
    return f"a.status = 'published' AND ({' OR '.join(allowed)})", params


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    row["organisations"] = loads(row["organisations"])
    return row


def list_articles(tx: Tx, t: Tables, reader: Reader, limit: int = 500) -> list[dict[str, Any]]:
    """The articles `reader` may read, by category and title."""
    where, params = _reach(reader)
    rows = tx.all(
        f"SELECT {COLUMNS} FROM {t['kb_articles']} a WHERE {where}"
        " ORDER BY a.category, a.title, a.id LIMIT ?",
        (*params, limit),
    )
    return [_shown(r) for r in rows]


def get_article(
    tx: Tx, t: Tables, reader: Reader, *, slug: str | None = None, article_id: str | None = None
) -> dict[str, Any] | None:
    """One article by slug or id, with its text and HTML, if `reader` may read it."""
    where, params = _reach(reader)
    key, value = ("a.slug", slug) if slug is not None else ("a.id", article_id)
    row = tx.one(
        f"SELECT {COLUMNS}, a.body, a.body_html FROM {t['kb_articles']} a"
        f" WHERE {key} = ? AND {where}",
        (value, *params),
    )
    return _shown(row) if row else None


def search_articles(
    tx: Tx, t: Tables, reader: Reader, q: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Articles `reader` may read whose title or text hold every word of `q`, best first,
    each with a snippet around the words (marked with HIT_START and HIT_END)."""
    words = [w for w in q.split() if w][:20]
    if not words:
        return []
    where, params = _reach(reader)
    if tx.dialect == "postgres":
        query = " ".join(words)
        rows = tx.all(
            f"SELECT {COLUMNS}, ts_headline('simple', s.body, plainto_tsquery('simple', ?),"
            f" 'StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=30, MinWords=10') AS snippet"
            f" FROM {t['kb_search']} s JOIN {t['kb_articles']} a ON a.id = s.article_id"
            f" WHERE s.words @@ plainto_tsquery('simple', ?) AND {where}"
            " ORDER BY ts_rank(s.words, plainto_tsquery('simple', ?)) DESC, a.id LIMIT ?",
            (query, query, *params, query, limit),
        )
    else:
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = tx.all(
            f"SELECT {COLUMNS}, snippet({t['kb_search']}, 2, '{HIT_START}', '{HIT_END}', '…', 16)"
            f" AS snippet FROM {t['kb_search']} s JOIN {t['kb_articles']} a"
            f" ON a.id = s.article_id WHERE {t['kb_search']} MATCH ? AND {where}"
            f" ORDER BY bm25({t['kb_search']}, 0, 10.0, 1.0), a.id LIMIT ?",
            (match, *params, limit),
        )
    return [_shown(r) for r in rows]


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is a hit) parts, for a template to escape and mark."""
    parts: list[tuple[str, bool]] = []
    for chunk in snippet.split(HIT_START):
        hit, _, rest = chunk.partition(HIT_END) if HIT_END in chunk else ("", "", chunk)
        if hit:
            parts.append((hit, True))
        if rest:
            parts.append((rest, False))
    return parts

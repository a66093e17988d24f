"""What a view's tables hold, for tests that compare a rebuild with the live path."""

from __future__ import annotations

from typing import Any

from ledgerdesk import bootstrap
from projections.base import Tables


def live_rows(c: bootstrap.Container, name: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of a view's live tables, in a stable order."""
    projection = c.runner.projection(name)
    with c.views.read() as tx:
        row = tx.one(
            "SELECT generation FROM projection_tracking WHERE view = ? AND is_current = 1",
            (name,),
        )
        assert row is not None
        t = Tables(row["generation"])
        return {
            base: tx.all(f"SELECT * FROM {t[base]} ORDER BY {projection.key_columns(base)}")
            for base in projection.tables
        }


def generations(c: bootstrap.Container, name: str) -> list[tuple[int, int]]:
    """A view's generations and whether each is the live one, in order."""
    with c.views.read() as tx:
        rows = tx.all(
            "SELECT generation, is_current FROM projection_tracking WHERE view = ?"
            " ORDER BY generation",
            (name,),
        )
    return [(r["generation"], r["is_current"]) for r in rows]

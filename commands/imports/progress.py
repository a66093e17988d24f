"""How an import tells how far it has got: `progress(stage, done, total)` after each step
(`total` None while it is not known yet: the rows of a file still being read)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]


def quiet(stage: str, done: int, total: int | None) -> None:
    """Tells no one."""

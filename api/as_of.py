"""Reads as of a past moment that fold the items a caller may see (the flat list, a saved
view): the events each item had then, and the refusal when there are too many to fold."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from api.problems import InvalidParameterError
from commands.service import CommandService
from projections.views.as_of import AS_OF_LIMIT, TooManyToFold


def events_until(
    commands: CommandService, moment: datetime
) -> Callable[[dict[str, Any]], list[Any]]:
    """An item's events (a flat row's `number`, `kind`, `converted_from_ticket`) and its
    SLA's, up to `moment`."""

    def events_of(item: dict[str, Any]) -> list[Any]:
        return commands.events_to_fold(
            item["number"], item["kind"], item["converted_from_ticket"], moment
        )

    return events_of


@contextmanager
def foldable() -> Iterator[None]:
    """Too many items to fold is a 422 naming `as_of`."""
    try:
        yield
    except TooManyToFold:
        raise InvalidParameterError(
            "query",
            "as_of",
            f"a read as of a moment folds at most {AS_OF_LIMIT} items, and you may see more"
            " of the kinds it asks for: read them now, or ask for fewer",
        ) from None

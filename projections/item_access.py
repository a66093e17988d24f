"""Who may read an item: the read side's rules for the `ticket_detail` view's documents,
used by every route that shows a ticket or a task, or a part of one.

An item outside the caller's projects is not found (404, not 403: the caller must not
learn that it exists); without the app of its kind the caller is refused whatever the
number (403); a ticket converted to a task answers with its task (a 308 in the API).
"""

from __future__ import annotations

from typing import Any

from domain.company_settings import AppSwitchedOffError
from domain.errors import (
    PermissionDeniedError,
    TaskNotFoundError,
    TicketConvertedError,
    TicketNotFoundError,
)
from projections.access import StaffScope


def require_app(scope: StaffScope, kind: str) -> None:
    """Raise unless the caller's apps show items of `kind` (ticket or task): 404 when the
    company switched its app off, 403 when the caller does not use it."""
    if kind in scope.switched_off:
        raise AppSwitchedOffError(f"{kind}s app")
    if kind not in scope.kinds:
        raise PermissionDeniedError(f"the {kind}s app is not enabled for you")


def visible_item(
    doc: dict[str, Any] | None, number: int, scope: StaffScope, kind: str
) -> dict[str, Any]:
    """The item's document if it is a `kind` the caller may see; 404 otherwise (not 403:
    the caller must not learn it exists); a redirect to its task if it was converted."""
    require_app(scope, kind)
    if doc is None or doc["kind"] != kind or not scope.sees(doc["project_id"]):
        raise TicketNotFoundError(number) if kind == "ticket" else TaskNotFoundError(number)
    if doc.get("converted_to_task") is not None:
        raise TicketConvertedError(number, doc["converted_to_task"])
    return doc


def visible_ticket(doc: dict[str, Any] | None, number: int, scope: StaffScope) -> dict[str, Any]:
    """`visible_item` for a ticket."""
    return visible_item(doc, number, scope, "ticket")

"""Every view ledgerdesk keeps."""

from __future__ import annotations

from projections.base import Projection
from projections.flat import FlatProjection
from projections.item_history import ItemHistoryProjection
from projections.ticket_detail import TicketDetailProjection
from projections.users import UserDirectoryProjection


def all_projections() -> list[Projection]:
    return [
        TicketDetailProjection(),
        FlatProjection(),
        ItemHistoryProjection(),
        UserDirectoryProjection(),
    ]

"""OpenAPI tags, one per resource."""

from enum import StrEnum


class Tag(StrEnum):
    HEALTH = "health"
    TICKETS = "tickets"
    CONVERSATION = "conversation"
    PEOPLE = "people"
    VIEWS = "views"
    USERS = "users"


TAG_METADATA = [
    {"name": Tag.HEALTH, "description": "Liveness of the service."},
    {"name": Tag.TICKETS, "description": "Customer requests: open, read, change, history."},
    {"name": Tag.CONVERSATION, "description": "Messages and attachments on a ticket."},
    {"name": Tag.PEOPLE, "description": "Assignees and followers of a ticket."},
    {"name": Tag.VIEWS, "description": "Projected read models: lists and boards."},
    {"name": Tag.USERS, "description": "Staff users (admins only)."},
]

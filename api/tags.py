"""OpenAPI tags, one per resource."""

from enum import StrEnum


class Tag(StrEnum):
    HEALTH = "health"
    TICKETS = "tickets"
    CONVERSATION = "conversation"
    PEOPLE = "people"
    VIEWS = "views"
    USERS = "users"
    AUTH = "auth"
    ME = "me"


TAG_METADATA = [
    {"name": Tag.HEALTH, "description": "Liveness of the service."},
    {"name": Tag.TICKETS, "description": "Customer requests: open, read, change, history."},
    {"name": Tag.CONVERSATION, "description": "Messages and attachments on a ticket."},
    {"name": Tag.PEOPLE, "description": "Assignees and followers of a ticket."},
    {"name": Tag.VIEWS, "description": "Projected read models: lists and boards."},
    {"name": Tag.USERS, "description": "Staff users: roles, app permissions, flags."},
    {"name": Tag.AUTH, "description": "Log in with a password or an invitation; log out."},
    {"name": Tag.ME, "description": "The caller's profile and API tokens."},
]

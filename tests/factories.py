"""Test data builders."""

from __future__ import annotations

import uuid
from typing import Any

from commands.models import Context, IssueToken, OpenTicket, RegisterUser
from domain.user import CompanyRole
from domain.values import Actor
from ledgerdesk import bootstrap

SYSTEM = Context(actor=Actor.system("tests"), correlation_id="tests")


def context(name: str = "tests") -> Context:
    return Context(actor=Actor.system(name), correlation_id=str(uuid.uuid4()))


def register(c: bootstrap.Container, email: str, *, admin: bool = False) -> uuid.UUID:
    role = CompanyRole.ADMIN if admin else CompanyRole.MEMBER
    return c.accounts.register_user(
        RegisterUser(email=email, name=email.split("@")[0], role=role), SYSTEM
    ).id


def admin_token(c: bootstrap.Container, email: str = "admin@example.com") -> str:
    register(c, email, admin=True)
    return c.accounts.issue_token(IssueToken(email=email), SYSTEM)[1]


def user_token(c: bootstrap.Container, email: str) -> str:
    register(c, email)
    return c.accounts.issue_token(IssueToken(email=email), SYSTEM)[1]


def open_ticket(c: bootstrap.Container, **fields: Any) -> int:
    fields.setdefault("title", "Printer jammed")
    number = c.commands.open_ticket(OpenTicket(**fields), context()).number
    assert number is not None
    return number

"""Helpers of the customer pages' tests: contacts invited through the API, forms sent with
this browser's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from domain.contact import contact_id_for

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def contact(admin: TestClient, email: str, organisation_id: str | None = None) -> str:
    body = {"email": email, "organisation_id": organisation_id}
    answer = admin.post("/api/v1/contacts", json=body)
    if answer.status_code == 409:  # Known already, as the requester of a ticket.
        return str(contact_id_for(email))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def invitation_link(admin: TestClient, contact_id: str) -> str:
    answer = admin.post(f"/api/v1/contacts/{contact_id}/portal-invitations")
    assert answer.status_code == 201, answer.text
    return str(answer.json()["link"])


def ticket(admin: TestClient, requester: str, title: str = "Printer jammed") -> int:
    answer = admin.post("/api/v1/tickets", json={"title": title, "requester_email": requester})
    assert answer.status_code == 201, answer.text
    return int(answer.json()["number"])


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def send(browser: TestClient, path: str, **fields: Any) -> Any:
    """GET `path`'s page, then POST its form with `fields` and the page's CSRF token."""
    page = browser.get(path)
    return browser.post(path, data={"csrf": csrf_of(page.text), **fields}, follow_redirects=False)


def path_of(link: str) -> str:
    """The path of a whole link (the test's server is not at the install's public URL)."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]

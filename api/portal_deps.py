"""What portal routers depend on: the customer behind a portal session, and their context.

Portal routes accept only portal session tokens (`ldc_...`); staff tokens get 401 here, as
portal tokens get 401 on every staff route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Correlation, ServicesDep
from commands.errors import InvalidTokenError
from commands.log_context import note
from commands.models import Context
from commands.portal import PortalCaller
from domain.values import Actor

portal_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PortalSession",
    description="A customer session token (`ldc_...`) from `POST /api/v1/portal/session`.",
)


def current_contact(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(portal_bearer)],
) -> PortalCaller:
    """The customer behind `Authorization: Bearer ldc_...`, checked at every request (while
    the portal is switched on)."""
    svc.company.require_app("portal", "portal")
    if credentials is None or not credentials.credentials.strip():
        raise InvalidTokenError
    caller = svc.portal.authenticate(credentials.credentials.strip())
    note(actor=f"contact:{caller.contact.id}")  # for the request's log lines (not the email)
    return caller


CurrentContact = Annotated[PortalCaller, Depends(current_contact)]


async def customer_context(caller: CurrentContact, correlation_id: Correlation) -> Context:
    """The customer as the actor of what they write (`customer:<email>`)."""
    return Context(actor=Actor.customer(caller.contact.email), correlation_id=correlation_id)


CustomerCtx = Annotated[Context, Depends(customer_context)]

"""What portal routers depend on: the customer behind a portal session, and their context.

Portal routes accept only portal session tokens (`ldc_...`); staff tokens get 401 here, as
portal tokens get 401 on every staff route.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import ServicesDep
from commands.errors import InvalidTokenError
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
    """The customer behind `Authorization: Bearer ldc_...`, checked at every request."""
    if credentials is None or not credentials.credentials.strip():
        raise InvalidTokenError
    return svc.portal.authenticate(credentials.credentials.strip())


CurrentContact = Annotated[PortalCaller, Depends(current_contact)]


def customer_context(
    caller: CurrentContact,
    response: Response,
    x_correlation_id: Annotated[
        str | None,
        Header(max_length=100, description="Ties the events of one request chain together."),
    ] = None,
) -> Context:
    """The customer as the actor of what they write (`customer:<email>`)."""
    correlation_id = x_correlation_id or str(uuid.uuid4())
    response.headers["X-Correlation-ID"] = correlation_id
    return Context(actor=Actor.customer(caller.contact.email), correlation_id=correlation_id)


CustomerCtx = Annotated[Context, Depends(customer_context)]

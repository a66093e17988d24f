"""SLA policies: read by staff, changed by admins; kept in the write model (a few dozen at
most), so a change holds in every process at once."""

from __future__ import annotations

import uuid
from typing import Any

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.errors import InvalidValueError
from domain.sla.policies import (
    SLA_POLICIES_ID,
    SlaPolicies,
    SlaPolicyNotFoundError,
    blank_policy,
    checked_policy,
)


def _policies(uow: UnitOfWork, ctx: Context) -> SlaPolicies:
    stored = uow.get(SLA_POLICIES_ID, SlaPolicies)
    return stored or SlaPolicies.start(ctx.actor.ref, ctx.correlation_id)


class SlaPolicyService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def policies(self) -> list[dict[str, Any]]:
        """Every policy, retired ones too, by name."""
        stored = UnitOfWork(self.app).get(SLA_POLICIES_ID, SlaPolicies)
        found = list(stored.policies.values()) if stored is not None else []
        return sorted(found, key=lambda p: (p["name"].casefold(), p["id"]))

    def policy(self, policy_id: str) -> dict[str, Any]:
        stored = UnitOfWork(self.app).get(SLA_POLICIES_ID, SlaPolicies)
        if stored is None:
            raise SlaPolicyNotFoundError(policy_id)
        return stored.find(policy_id)

    def define(self, given: dict[str, Any], ctx: Context) -> tuple[str, int]:
        """A new policy; its id and the log position of the change."""
        if "name" not in given:
            raise InvalidValueError("name", "a policy needs a name")
        policy_id = str(uuid.uuid4())
        policy = checked_policy(given, blank_policy(policy_id))

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "define SLA policies")
            policies = _policies(uow, ctx)
            policies.define(policy, ctx.actor.ref, ctx.correlation_id)
            return [policies]

        return policy_id, run(self.app, SLA_POLICIES_ID, decide)[1]

    def change(self, policy_id: str, given: dict[str, Any], ctx: Context) -> int:
        """Change what is given of a policy (targets: only the cells given)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change SLA policies")
            policies = _policies(uow, ctx)
            base = policies.find(policy_id)
            if base["retired"]:
                raise InvalidValueError("policy_id", "a retired policy cannot change")
            policies.define(checked_policy(given, base), ctx.actor.ref, ctx.correlation_id)
            return [policies]

        return run(self.app, SLA_POLICIES_ID, decide)[1]

    def retire(self, policy_id: str, ctx: Context) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "retire SLA policies")
            policies = _policies(uow, ctx)
            policies.retire(policy_id, ctx.actor.ref, ctx.correlation_id)
            return [policies]

        return run(self.app, SLA_POLICIES_ID, decide)[1]

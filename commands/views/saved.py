"""Saved views and dashboards: staff save view definitions and dashboards, private or
shared with users, teams or all staff, and rename, edit, share and delete them — each
change one event of its `SavedView` (whose `kind` says which it is: a view is never found
as a dashboard, nor the other way round).

Who may do what, judged on the write model:
- anyone on the staff saves views of their own;
- a view is seen by its owner and whoever it is shared with (a user named, a member of a
  team named, or all staff); a view one may not see is not found, to them;
- its owner changes and deletes it; an admin (with a token that has the admin scope)
  changes or deletes any view they can see (a shared one, a system view); others who see
  it may only run it;
- a system view (`domain.views.saved_view.SYSTEM_VIEWS`) is recorded the first time an admin
  changes it, and is never deleted."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from commands.application import LedgerDesk
from commands.errors import TeamNotFoundError, UserNotFoundError
from commands.models import CommandResult, Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.errors import InvalidValueError, PermissionDeniedError
from domain.team import Team
from domain.user import User
from domain.views.saved_view import NOUNS, SYSTEM_IDS, SavedView, SavedViewNotFoundError

CHANGEABLE = ("name", "definition", "sharing")


def may_see(uow: UnitOfWork, view: SavedView, user: User) -> bool:
    """Whether `user` may see (and run) `view`."""
    if view.deleted:
        return False
    sharing = view.sharing
    if view.owner == str(user.id) or sharing["all_staff"] or str(user.id) in sharing["users"]:
        return True
    teams = uow.get_many([UUID(t) for t in sharing["teams"]], Team)
    return any(team.role_of(user.id) is not None for team in teams.values())


def _staff(uow: UnitOfWork, ctx: Context, what: str) -> User:
    user = acting_user(uow, ctx)
    if user is None:
        raise PermissionDeniedError(f"only a staff user may {what}")
    return user


def _check_sharing(uow: UnitOfWork, sharing: dict[str, Any]) -> None:
    """Every user and team a view is shared with exists."""
    users = [UUID(u) for u in sharing["users"]]
    for user_id in users:
        found = uow.find_user(user_id)
        if found is None or not found.is_active:
            raise UserNotFoundError(str(user_id))
    teams = [UUID(t) for t in sharing["teams"]]
    known = uow.get_many(teams, Team)
    for team_id in teams:
        if team_id not in known:
            raise TeamNotFoundError(team_id)


class SavedViewService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def find(self, view_id: UUID, kind: str = "view") -> SavedView | None:
        """A live view (or dashboard) as recorded (for a write's answer), or None."""
        found = UnitOfWork(self.app).get(view_id, SavedView)
        return None if found is None or found.deleted or found.kind != kind else found

    def save(self, given: dict[str, Any], ctx: Context, kind: str = "view") -> CommandResult:
        """A new view (or dashboard) owned by the caller (`name` and `definition` required;
        `sharing` optional: private)."""
        for part in ("name", "definition"):
            if part not in given:
                raise InvalidValueError(part, f"a {NOUNS[kind]} needs a {part}")

        view_id = uuid4()

        def decide(uow: UnitOfWork) -> list[Any]:
            user = _staff(uow, ctx, f"save {NOUNS[kind]}s")
            view = SavedView.save(
                kind=kind,
                view_id=view_id,
                name=given["name"],
                owner=user.id,
                definition=given["definition"],
                sharing=given.get("sharing"),
                actor=ctx.actor.ref,
                correlation_id=ctx.correlation_id,
            )
            _check_sharing(uow, view.sharing)
            return [view]

        return self._result(run(self.app, view_id, decide))

    def change(
        self,
        view_id: UUID,
        given: dict[str, Any],
        ctx: Context,
        expected_version: int | None = None,
        as_admin: bool = False,
        kind: str = "view",
    ) -> CommandResult:
        """Change what is `given` of a view (its name, definition, sharing), in one write
        (`as_admin`: the caller uses an admin's powers, their token allowing it)."""
        unknown = set(given) - set(CHANGEABLE)
        if unknown:
            part = sorted(unknown)[0]
            raise InvalidValueError(part, f"a {NOUNS[kind]}'s {part!r} cannot be changed")

        def decide(uow: UnitOfWork) -> list[Any]:
            view = self._changeable(uow, view_id, ctx, "change", as_admin, kind)
            recorded = len(view.pending_events)  # (A system view's first record, if any)
            if "name" in given:
                view.rename(given["name"], ctx.actor.ref, ctx.correlation_id)
            if "definition" in given:
                view.redefine(given["definition"], ctx.actor.ref, ctx.correlation_id)
            if "sharing" in given:
                view.share(given["sharing"], ctx.actor.ref, ctx.correlation_id)
                _check_sharing(uow, view.sharing)
            return [view] if len(view.pending_events) > recorded else []

        return self._result(run(self.app, view_id, decide, expected_version), view_id)

    def delete(
        self,
        view_id: UUID,
        ctx: Context,
        expected_version: int | None = None,
        as_admin: bool = False,
        kind: str = "view",
    ) -> CommandResult:
        def decide(uow: UnitOfWork) -> list[Any]:
            view = self._changeable(uow, view_id, ctx, "delete", as_admin, kind)
            view.delete(ctx.actor.ref, ctx.correlation_id)
            return [view]

        return self._result(run(self.app, view_id, decide, expected_version), view_id)

    def _changeable(
        self, uow: UnitOfWork, view_id: UUID, ctx: Context, what: str, as_admin: bool, kind: str
    ) -> SavedView:
        noun = NOUNS[kind]
        user = _staff(uow, ctx, f"{what} {noun}s")
        view = uow.get(view_id, SavedView)
        if view is None and str(view_id) in SYSTEM_IDS and kind == "view":
            view = SavedView.system_view(str(view_id), ctx.actor.ref, ctx.correlation_id)
        if view is None or view.kind != kind or not may_see(uow, view, user):
            raise SavedViewNotFoundError(str(view_id), kind)
        if view.owner != str(user.id) and not (as_admin and user.is_admin):
            raise PermissionDeniedError(f"only its owner or an admin may {what} this {noun}")
        return view

    def _result(self, done: tuple[list[Any], int], view_id: UUID | None = None) -> CommandResult:
        saved, position = done
        if saved:
            view = saved[0]
            return CommandResult(id=view.id, number=None, version=view.version, position=position)
        assert view_id is not None  # A new view is always saved.
        found = UnitOfWork(self.app).get(view_id, SavedView)
        version = found.version if found is not None else 0
        return CommandResult(id=view_id, number=None, version=version, position=position)

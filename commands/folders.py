"""Folders: how a project's items are arranged; moving one to another project takes its
sub-folders and items along, atomically."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from commands.access import EDITORS, load_project, outsider, require_role
from commands.models import Command, Context
from commands.unit_of_work import UnitOfWork
from domain.errors import NotFoundError
from domain.hierarchy import Folder
from domain.project import Project


class FolderNotFoundError(NotFoundError):
    """Raised when no folder has the given id (or it is not in the project named)."""

    def __init__(self, folder_id: UUID) -> None:
        super().__init__(f"no folder {folder_id}")


class CreateFolder(Command):
    project_id: UUID
    name: str = Field(min_length=1, max_length=200)
    parent_id: UUID | None = None


class ChangeFolder(Command):
    folder_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    project_id: UUID | None = None
    parent_id: UUID | None = None
    move: bool = False


def load_folder(uow: UnitOfWork, folder_id: UUID, project_id: UUID | None = None) -> Folder:
    folder = uow.get(folder_id, Folder)
    if folder is None or (project_id is not None and folder.project_id != str(project_id)):
        raise FolderNotFoundError(folder_id)
    return folder


def folder_ancestors(uow: UnitOfWork, folder_id: UUID | None) -> list[UUID]:
    chain: list[UUID] = []
    while folder_id is not None and folder_id not in chain:
        chain.append(folder_id)
        parent = load_folder(uow, folder_id).parent_id
        folder_id = UUID(parent) if parent else None
    return chain


def create_folder(cmd: CreateFolder, uow: UnitOfWork, ctx: Context, folder_id: UUID) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_role(uow, ctx, project, EDITORS, "create folders")
    parent = load_folder(uow, cmd.parent_id, cmd.project_id) if cmd.parent_id else None
    folder = Folder.create(
        folder_id=folder_id,
        name=cmd.name,
        project=cmd.project_id,
        parent=cmd.parent_id,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    if parent is not None:
        parent.add_subfolder(folder.id, ctx.actor, ctx.correlation_id)
    # The project saves nothing unless it is a new Inbox.
    return [project, *([parent] if parent else []), folder]


def subtree(uow: UnitOfWork, folder: Folder) -> list[Folder]:
    """The folder and every folder beneath it (from the write model's contents index)."""
    found, queue = [folder], [folder]
    while queue:
        for sub_id in queue.pop().subfolders:
            sub = load_folder(uow, UUID(sub_id))
            found.append(sub)
            queue.append(sub)
    return found


def change_folder(cmd: ChangeFolder, uow: UnitOfWork, ctx: Context) -> list[Any]:
    folder = load_folder(uow, cmd.folder_id)
    source = load_project(uow, UUID(folder.project_id), ctx)
    if outsider(uow, ctx, source):
        raise FolderNotFoundError(cmd.folder_id)
    require_role(uow, ctx, source, EDITORS, "change folders")
    if cmd.name is not None:
        folder.rename(cmd.name, ctx.actor, ctx.correlation_id)
    changed: list[Any] = []
    if cmd.move:
        changed = _move_folder(folder, source, cmd, uow, ctx)
    return [*changed, folder]


def _move_folder(
    folder: Folder, source: Project, cmd: ChangeFolder, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    """Move a folder; to another project, its sub-folders and items go along, atomically."""
    target_id = cmd.project_id or source.id
    if target_id != source.id:
        target = load_project(uow, target_id, ctx)
        require_role(uow, ctx, target, EDITORS, "move folders into that project")
    new_parent = load_folder(uow, cmd.parent_id, target_id) if cmd.parent_id else None
    old_parent = load_folder(uow, UUID(folder.parent_id)) if folder.parent_id else None
    ancestors = folder_ancestors(uow, cmd.parent_id)
    folder.move(target_id, cmd.parent_id, ancestors, ctx.actor, ctx.correlation_id)
    changed: list[Any] = []
    if old_parent is not new_parent:
        for parent, add in ((old_parent, False), (new_parent, True)):
            if parent is None:
                continue
            if add:
                parent.add_subfolder(folder.id, ctx.actor, ctx.correlation_id)
            else:
                parent.remove_subfolder(folder.id, ctx.actor, ctx.correlation_id)
            changed.append(parent)
    if target_id != source.id:
        for inner in subtree(uow, folder):
            if inner is not folder:
                parent_id = UUID(inner.parent_id) if inner.parent_id else None
                inner.move(target_id, parent_id, [], ctx.actor, ctx.correlation_id)
                changed.append(inner)
            for number in inner.items:
                ticket = uow.ticket(number)
                ticket.move(target_id, inner.id, ctx.actor, ctx.correlation_id)
                changed.append(ticket)
    return changed

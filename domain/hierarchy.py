"""Portfolios (which group projects, and nest) and folders (inside a project, and nest)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError
from domain.values import Actor, check_name


class CycleError(InvalidValueError):
    """Raised when a move would put a portfolio or folder inside itself."""

    def __init__(self, field: str) -> None:
        super().__init__(field, "that would put it inside itself")


def _check_no_cycle(own_id: UUID, parent: UUID | None, parent_ancestors: list[UUID]) -> None:
    if parent is not None and (parent == own_id or own_id in parent_ancestors):
        raise CycleError("parent")


class Portfolio(Aggregate):
    """A group of projects; portfolios nest."""

    TOPIC = "ledgerdesk:Portfolio"

    if TYPE_CHECKING:
        Renamed: ClassVar[type[Aggregate.Event]]
        Moved: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Portfolio.Created"
        name: str
        parent_id: str | None
        actor: str
        correlation_id: str

    def __init__(self, name: str, parent_id: str | None, actor: str, correlation_id: str) -> None:
        self.name = name
        self.parent_id = parent_id

    @classmethod
    def create(
        cls,
        *,
        portfolio_id: UUID,
        name: str,
        parent: UUID | None,
        actor: Actor,
        correlation_id: str,
    ) -> Portfolio:
        return cls._create(
            cls.Created,
            id=portfolio_id,
            name=check_name(name),
            parent_id=str(parent) if parent else None,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = check_name(name)
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:Portfolio.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    def move(
        self, parent: UUID | None, parent_ancestors: list[UUID], actor: Actor, correlation_id: str
    ) -> None:
        """Nest under `parent` (None: top level); `parent_ancestors` is its chain upwards."""
        _check_no_cycle(self.id, parent, parent_ancestors)
        target = str(parent) if parent else None
        if target != self.parent_id:
            self._moved(parent_id=target, actor=actor.ref, correlation_id=correlation_id)

    @event("Moved", topic="ledgerdesk:Portfolio.Moved")
    def _moved(self, parent_id: str | None, actor: str, correlation_id: str) -> None:
        self.parent_id = parent_id


class Folder(Aggregate):
    """A folder inside a project; folders nest, and move between projects."""

    TOPIC = "ledgerdesk:Folder"

    if TYPE_CHECKING:
        Renamed: ClassVar[type[Aggregate.Event]]
        Moved: ClassVar[type[Aggregate.Event]]
        ItemFiled: ClassVar[type[Aggregate.Event]]
        ItemUnfiled: ClassVar[type[Aggregate.Event]]
        SubfolderAdded: ClassVar[type[Aggregate.Event]]
        SubfolderRemoved: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Folder.Created"
        name: str
        project_id: str
        parent_id: str | None
        actor: str
        correlation_id: str

    def __init__(
        self, name: str, project_id: str, parent_id: str | None, actor: str, correlation_id: str
    ) -> None:
        self.name = name
        self.project_id = project_id
        self.parent_id = parent_id
        # What is directly inside, so that a move to another project can take it along.
        self.items: list[int] = []
        self.subfolders: list[str] = []

    @classmethod
    def create(
        cls,
        *,
        folder_id: UUID,
        name: str,
        project: UUID,
        parent: UUID | None,
        actor: Actor,
        correlation_id: str,
    ) -> Folder:
        return cls._create(
            cls.Created,
            id=folder_id,
            name=check_name(name),
            project_id=str(project),
            parent_id=str(parent) if parent else None,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = check_name(name)
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:Folder.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    def move(
        self,
        project: UUID,
        parent: UUID | None,
        parent_ancestors: list[UUID],
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Move under `parent` (a folder of `project`) or to the top of `project`."""
        _check_no_cycle(self.id, parent, parent_ancestors)
        target = (str(project), str(parent) if parent else None)
        if target != (self.project_id, self.parent_id):
            self._moved(
                project_id=target[0],
                parent_id=target[1],
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("Moved", topic="ledgerdesk:Folder.Moved")
    def _moved(
        self, project_id: str, parent_id: str | None, actor: str, correlation_id: str
    ) -> None:
        self.project_id = project_id
        self.parent_id = parent_id

    # --- contents -------------------------------------------------------------------

    def file_item(self, number: int, actor: Actor, correlation_id: str) -> None:
        if number not in self.items:
            self._item_filed(number=number, actor=actor.ref, correlation_id=correlation_id)

    @event("ItemFiled", topic="ledgerdesk:Folder.ItemFiled")
    def _item_filed(self, number: int, actor: str, correlation_id: str) -> None:
        self.items.append(number)

    def unfile_item(self, number: int, actor: Actor, correlation_id: str) -> None:
        if number in self.items:
            self._item_unfiled(number=number, actor=actor.ref, correlation_id=correlation_id)

    @event("ItemUnfiled", topic="ledgerdesk:Folder.ItemUnfiled")
    def _item_unfiled(self, number: int, actor: str, correlation_id: str) -> None:
        self.items.remove(number)

    def add_subfolder(self, folder_id: UUID, actor: Actor, correlation_id: str) -> None:
        if str(folder_id) not in self.subfolders:
            self._subfolder_added(
                folder_id=str(folder_id), actor=actor.ref, correlation_id=correlation_id
            )

    @event("SubfolderAdded", topic="ledgerdesk:Folder.SubfolderAdded")
    def _subfolder_added(self, folder_id: str, actor: str, correlation_id: str) -> None:
        self.subfolders.append(folder_id)

    def remove_subfolder(self, folder_id: UUID, actor: Actor, correlation_id: str) -> None:
        if str(folder_id) in self.subfolders:
            self._subfolder_removed(
                folder_id=str(folder_id), actor=actor.ref, correlation_id=correlation_id
            )

    @event("SubfolderRemoved", topic="ledgerdesk:Folder.SubfolderRemoved")
    def _subfolder_removed(self, folder_id: str, actor: str, correlation_id: str) -> None:
        self.subfolders.remove(folder_id)

"""Importing tickets and tasks from CSV: what a row may say, checked on its own, and the
index that makes an import idempotent.

A row's item is keyed by its `external_id` (the id it had in the system it came from) or,
without one, by what the row says and how many identical rows came before it in the file.
An `ImportedItem` per key, saved with the item it made, records that item's number: a
file imported again finds every key made and makes nothing twice.

Which projects, folders, teams, people, item types and statuses a row names is checked
against the data by the importer (`commands.imports.items`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError
from domain.values import Priority, normalise_email, utc_text

NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/imported-items")
KINDS = ("ticket", "task")
REQUIRED = ("title",)
OPTIONAL = (
    "external_id", "kind", "item_type", "description", "status", "priority",
    "requester_email", "assignees", "team", "project", "folder", "created_at", "start",
    "finish", "points",
)  # fmt: skip
TASK_ONLY = ("start", "finish", "points")
MAX_EXTERNAL_ID = 200
MAX_TITLE = 500
MAX_DESCRIPTION = 200_000
MAX_ASSIGNEES = 20
MAX_POINTS = Decimal(100_000)
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_MOMENT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
_POINTS = re.compile(r"^[0-9]{1,6}([.,][0-9]{1,3})?$")


@dataclass(frozen=True)
class RowProblem:
    column: str
    message: str


@dataclass(frozen=True)
class ItemRow:
    """A row as checked on its own: every value in the form the model keeps."""

    line: int
    kind: str
    title: str
    external_id: str = ""
    item_type: str = ""
    description: str = ""
    status: str = ""
    priority: str = "normal"
    requester_email: str | None = None
    assignees: tuple[str, ...] = ()
    team: str = ""
    project: str = ""
    folder: str = ""
    created_at: str | None = None  # fixed-width UTC text
    start: date | None = None
    finish: date | None = None
    points: float | None = None
    said: str = ""  # what the row says (a digest of its non-empty values, by column)


def _date(text: str) -> date:
    if not _ISO_DATE.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


MOMENT = "a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])"


def _moment(text: str, now: datetime) -> str:
    """A creation time: a day (its midnight, UTC) or a time (UTC unless it says), past."""
    try:
        if _ISO_DATE.match(text):
            moment = datetime.combine(date.fromisoformat(text), time(), UTC)
        elif _ISO_MOMENT.match(text):
            moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        else:
            raise ValueError(MOMENT)
    except ValueError:
        raise ValueError(MOMENT) from None
    moment = moment.astimezone(UTC)
    if moment > now or moment.year < 1900:
        raise ValueError("a time between 1900 and now")
    return utc_text(moment)


def check_row(
    line: int, values: dict[str, str], now: datetime
) -> tuple[ItemRow | None, list[RowProblem]]:
    """The row as the model keeps it, or every problem it has on its own."""
    problems: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(column, message))

    get = values.get
    kind = (get("kind") or "ticket").lower()
    if kind not in KINDS:
        bad("kind", "ticket or task")
    title = " ".join((get("title") or "").split())
    if not title:
        bad("title", "a title")
    elif len(title) > MAX_TITLE:
        bad("title", f"at most {MAX_TITLE} characters")
    external_id = get("external_id") or ""
    if len(external_id) > MAX_EXTERNAL_ID:
        bad("external_id", f"at most {MAX_EXTERNAL_ID} characters")
    description = get("description") or ""
    if len(description) > MAX_DESCRIPTION:
        bad("description", f"at most {MAX_DESCRIPTION:,} characters")
    priority = (get("priority") or "normal").lower()
    try:
        Priority.parse(priority)
    except DomainError:
        bad("priority", f"one of {', '.join(p.value for p in Priority)}")
    requester = None
    if get("requester_email"):
        try:
            requester = normalise_email(get("requester_email") or "", "requester_email")
        except DomainError:
            bad("requester_email", "an email address")
    assignees: list[str] = []
    named = [a.strip() for a in (get("assignees") or "").split(";") if a.strip()]
    if len(named) > MAX_ASSIGNEES:
        bad("assignees", f"at most {MAX_ASSIGNEES}")
        named = []
    for one in named:
        try:
            assignees.append(normalise_email(one, "assignees"))
        except DomainError:
            bad("assignees", f"{one[:100]!r} is not an email address (separate them with ;)")
    created_at = None
    if get("created_at"):
        try:
            created_at = _moment(get("created_at") or "", now)
        except ValueError as error:
            bad("created_at", str(error))
    dates: dict[str, date | None] = {"start": None, "finish": None}
    for column in ("start", "finish"):
        if get(column):
            try:
                dates[column] = _date(get(column) or "")
            except ValueError:
                bad(column, "a date as YYYY-MM-DD")
    start, finish = dates["start"], dates["finish"]
    if start and finish and finish < start:
        bad("finish", "before start")
    points = None
    if get("points"):
        text = (get("points") or "").replace(",", ".")
        try:
            if not _POINTS.match(get("points") or "") or Decimal(text) > MAX_POINTS:
                raise InvalidOperation
            points = float(Decimal(text))
        except InvalidOperation:
            bad("points", "a number of points such as 3 or 0.5")
    if kind == "ticket":
        for column in TASK_ONLY:
            if get(column):
                bad(column, "only a task has it (kind is ticket)")
    if problems:
        return None, problems
    row = ItemRow(
        line=line,
        kind=kind,
        title=title,
        external_id=external_id,
        item_type=(get("item_type") or "").lower(),
        description=description,
        status=get("status") or "",
        priority=priority,
        requester_email=requester,
        assignees=tuple(dict.fromkeys(assignees)),
        team=get("team") or "",
        project=get("project") or "",
        folder=get("folder") or "",
        created_at=created_at,
        start=start,
        finish=finish,
        points=points,
        said=said_by(values),
    )
    return row, []


def said_by(values: dict[str, str]) -> str:
    """A digest of what a row says: its non-empty values by column (so an empty column
    more or less, or another order of columns, says the same)."""
    said = sorted((column, value) for column, value in values.items() if value)
    return hashlib.sha256(repr(said).encode()).hexdigest()


class RowKeys:
    """Each row's key, in the file's order: `external:<id>`, or, without one, what the row
    says and how many identical rows came before it (the same file maps to the same keys
    every time)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def key(self, row: ItemRow) -> str:
        if row.external_id:
            return f"external:{row.external_id}"
        self.seen[row.said] = self.seen.get(row.said, 0) + 1
        return f"row:{row.said}:{self.seen[row.said]}"


def imported_item_id(key: str) -> UUID:
    return uuid5(NAMESPACE, key)


class ImportedItem(Aggregate):
    """The item a row key made (saved with it): importing the key again makes nothing."""

    TOPIC = "ledgerdesk:ImportedItem"

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ImportedItem.Created"

    class Recorded(Aggregate.Created):
        TOPIC = "ledgerdesk:ImportedItem.Recorded"
        key: str
        number: int
        kind: str
        import_id: str
        actor: str
        correlation_id: str

    @event(Recorded)
    def __init__(
        self, key: str, number: int, kind: str, import_id: str, actor: str, correlation_id: str
    ) -> None:
        self.key = key
        self.number = number
        self.kind = kind
        self.import_id = import_id

    @classmethod
    def record(
        cls, *, key: str, number: int, kind: str, import_id: UUID, actor: str, correlation_id: str
    ) -> ImportedItem:
        return cls._create(
            cls.Recorded,
            id=imported_item_id(key),
            key=key,
            number=number,
            kind=kind,
            import_id=str(import_id),
            actor=actor,
            correlation_id=correlation_id,
        )

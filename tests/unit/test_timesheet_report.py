"""The timesheets view fed events directly: rows, converted tickets, weeks and months,
customer folders, scoping, the list's and the report's pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.customer import Organisation, Sharing
from domain.project import Project
from domain.task import Task
from domain.ticket import Ticket
from domain.timesheet import TimesheetEntry
from domain.user import Apps, CompanyRole, User
from domain.values import Actor, Channel
from ledgerdesk import bootstrap
from projections.access import StaffScope
from projections.base import InvalidCursorError, Positioned, Tables
from projections.db import SQLiteViews, Tx
from projections.timesheet_query import (
    EntryFilter,
    EntryScope,
    ReportQuery,
    list_entries,
    report,
    report_chunks,
)
from projections.timesheets import TimesheetProjection

AGENT = Actor.system("tests")
EVERYONE = EntryScope("nobody", True, frozenset())


def user(name: str) -> User:
    return User.register(
        email=f"{name.lower()}@example.com",
        name=name,
        role=CompanyRole.MEMBER,
        apps=Apps.BOTH,
        flags=[],
        actor=AGENT,
        correlation_id="c",
    )


def project(name: str) -> Project:
    return Project.create(
        project_id=uuid.uuid4(), name=name, manager=None, actor=AGENT, correlation_id="c"
    )


def customer(name: str) -> Organisation:
    return Organisation.register(
        name=name, domains=[], sharing=Sharing.PER_MEMBER, actor=AGENT, correlation_id="c"
    )


def ticket(number: int, where: Project) -> Ticket:
    return Ticket.open(
        number=number,
        title=f"Ticket {number}",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority="normal",
        actor=AGENT,
        correlation_id="c",
        project_id=where.id,
    )


def task(number: int, where: Project, **fields: Any) -> Task:
    return Task.plan(
        number=number,
        title=f"Task {number}",
        actor=AGENT,
        correlation_id="c",
        project_id=where.id,
        **fields,
    )


def entry(
    who: User, number: int, where: Project, day: str, minutes: int, **fields: Any
) -> TimesheetEntry:
    return TimesheetEntry.log(
        entry_id=uuid.uuid4(),
        user_id=who.id,
        item_number=number,
        project_id=str(where.id),
        work_date=date.fromisoformat(day),
        minutes=minutes,
        actor=AGENT,
        correlation_id="c",
        **fields,
    )


class World:
    """Ada and Bob log time on Site (in the Acme and Globex folders) and Office (in none).
    Ticket #1 on Site becomes task #2; task #3 is on Office."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.ada, self.bob = user("Ada"), user("Bob")
        self.site, self.office = project("Site"), project("Office")
        self.acme, self.globex = customer("Acme"), customer("Globex")
        self.site.place_in_customer_folder(self.acme.id, AGENT, "c")
        self.site.place_in_customer_folder(self.globex.id, AGENT, "c")
        self.ticket = ticket(1, self.site)
        self.shed = task(3, self.office)
        self.record(self.ada, self.bob, self.site, self.office, self.acme, self.globex)
        self.record(self.ticket, self.shed)

    def record(self, *aggregates: Any) -> None:
        for aggregate in aggregates:
            self.events += aggregate.collect_events()

    def convert(self) -> Task:
        became = task(2, self.site, converted_from=1)
        self.ticket.convert_to_task(became.id, 2, AGENT, "c")
        self.record(self.ticket, became)
        return became

    def positioned(self) -> list[Positioned]:
        return [Positioned(i + 1, e) for i, e in enumerate(self.events)]


def march(w: World) -> dict[str, TimesheetEntry]:
    """Entries in March and April 2026 in every state; one logged after the conversion."""
    e = {
        "ada_site": entry(w.ada, 1, w.site, "2026-03-02", 60),  # Monday, week 10
        "ada_office": entry(w.ada, 3, w.office, "2026-03-08", 30, billable=False, draft=True),
        "bob_office": entry(w.bob, 3, w.office, "2026-03-09", 120),  # Monday, week 11
        "bob_gone": entry(w.bob, 1, w.site, "2026-04-01", 45),
    }
    e["ada_site"].approve(AGENT, "c")
    e["bob_office"].reject("wrong task", AGENT, "c")
    e["bob_gone"].withdraw(AGENT, "c")
    w.record(*e.values())
    w.convert()
    e["ada_late"] = entry(w.ada, 1, w.site, "2026-04-02", 15)  # on the old ticket number
    w.record(e["ada_late"])
    return e


@pytest.fixture
def views(tmp_path: Path) -> Iterator[SQLiteViews]:
    db = SQLiteViews(tmp_path / "views.sqlite3")
    yield db
    db.close()


def applied(views: SQLiteViews, events: list[Positioned], one_at_a_time: bool = False) -> Tables:
    projection, t = TimesheetProjection(), Tables(2 if one_at_a_time else 1)
    with views.write() as tx:
        projection.create(tx, t)
        for page in [[p] for p in events] if one_at_a_time else [events]:
            projection.apply(tx, t, page)
    return t


def grouped(tx: Tx, t: Tables, *group_by: str, **filters: Any) -> dict[str, Any]:
    query = ReportQuery(EntryFilter(filters.pop("scope", EVERYONE), **filters), group_by)
    return report(tx, t, query)


def test_one_row_per_entry_with_its_state_and_a_withdrawn_entry_kept(views: SQLiteViews) -> None:
    w = World()
    e = march(w)
    t = applied(views, w.positioned())
    with views.read() as tx:
        rows, _ = list_entries(tx, t, EntryFilter(EVERYONE))
    by_id = {row["id"]: row for row in rows}
    assert len(rows) == 5
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    gone = by_id[str(e["bob_gone"].id)]
    assert (gone["state"], gone["minutes"]) == ("withdrawn", 45)
    rejected = by_id[str(e["bob_office"].id)]
    assert (rejected["state"], rejected["rejection_reason"]) == ("rejected", "wrong task")
    first = by_id[str(e["ada_site"].id)]
    assert (first["user_name"], first["project_name"], first["hours"]) == ("Ada", "Site", 1.0)
    assert first["version"] == 2
    assert by_id[str(e["ada_office"].id)]["billable"] is False


def test_time_on_a_converted_ticket_is_reported_under_its_task(views: SQLiteViews) -> None:
    w = World()
    e = march(w)
    t = applied(views, w.positioned())
    with views.read() as tx:
        rows, _ = list_entries(tx, t, EntryFilter(EVERYONE, item=1))
        items = {g["item_number"]: g for g in grouped(tx, t, "item")["groups"]}
    # Logged before the conversion and after it (on the ticket's number): all on #2 now.
    assert {r["id"] for r in rows} == {str(e[k].id) for k in ("ada_site", "bob_gone", "ada_late")}
    assert {(r["item"], r["reported_item"], r["item_kind"]) for r in rows} == {(1, 2, "task")}
    assert sorted(items) == [2, 3]
    assert (items[2]["item_kind"], items[2]["item_title"], items[2]["minutes"]) == (
        "task",
        "Task 2",
        75,
    )


def test_the_report_splits_billable_time_and_states_and_leaves_out_withdrawn(
    views: SQLiteViews,
) -> None:
    w = World()
    march(w)
    t = applied(views, w.positioned())
    with views.read() as tx:
        doc = grouped(tx, t, "user", "month")
        approved = grouped(tx, t, "user", state="approved")
        billable = grouped(tx, t, "month", billable=True, since=date(2026, 3, 3))
    rows = {(g["user_name"], g["month"]): g for g in doc["groups"]}
    assert sorted(rows) == [("Ada", "2026-03"), ("Ada", "2026-04"), ("Bob", "2026-03")]
    ada = rows[("Ada", "2026-03")]
    assert (ada["minutes"], ada["hours"], ada["entries"]) == (90, 1.5, 2)
    assert (ada["billable_minutes"], ada["non_billable_minutes"]) == (60, 30)
    assert (ada["approved_minutes"], ada["draft_minutes"], ada["submitted_minutes"]) == (60, 30, 0)
    assert rows[("Bob", "2026-03")]["rejected_minutes"] == 120
    assert rows[("Ada", "2026-04")]["submitted_hours"] == 0.25
    assert doc["totals"]["minutes"] == 90 + 120 + 15  # Bob's withdrawn 45 never counts
    assert [(g["user_name"], g["minutes"]) for g in approved["groups"]] == [("Ada", 60)]
    assert [(g["month"], g["minutes"]) for g in billable["groups"]] == [
        ("2026-03", 120),
        ("2026-04", 15),
    ]


def test_weeks_are_iso_weeks_from_monday_and_edits_move_an_entry(views: SQLiteViews) -> None:
    w = World()
    sunday = entry(w.ada, 3, w.office, "2026-03-08", 30)
    new_year = entry(w.bob, 3, w.office, "2027-01-01", 60)  # a Friday in 2026's 53rd week
    moved = entry(w.bob, 3, w.office, "2026-03-09", 10)
    moved.edit({"work_date": date(2026, 4, 30), "minutes": 20}, AGENT, "c")
    w.record(sunday, new_year, moved)
    t = applied(views, w.positioned())
    with views.read() as tx:
        weeks = [
            (g["week"], g["week_start"], g["minutes"]) for g in grouped(tx, t, "week")["groups"]
        ]
        months = [(g["month"], g["minutes"]) for g in grouped(tx, t, "month")["groups"]]
    assert weeks == [
        ("2026-W10", "2026-03-02", 30),
        ("2026-W18", "2026-04-27", 20),
        ("2026-W53", "2026-12-28", 60),
    ]
    assert months == [("2026-03", 30), ("2026-04", 20), ("2027-01", 60)]


def test_a_project_in_two_customer_folders_counts_for_each(views: SQLiteViews) -> None:
    w = World()
    march(w)
    w.site.remove_from_customer_folder(w.globex.id, AGENT, "c")
    w.site.place_in_customer_folder(w.globex.id, AGENT, "c")
    w.record(w.site)
    t = applied(views, w.positioned())
    with views.read() as tx:
        doc = grouped(tx, t, "customer")
    shown = [(g["customer_name"], g["minutes"]) for g in doc["groups"]]
    # Site's 75 minutes count for Acme and for Globex; Office's 150 are in no folder.
    assert sorted(shown, key=str) == [("Acme", 75), ("Globex", 75), (None, 150)]
    assert [g["customer_id"] for g in doc["groups"] if g["customer_name"] is None] == [None]
    assert doc["totals"]["minutes"] == 225  # each entry once


def test_any_page_size_makes_the_same_rows(views: SQLiteViews) -> None:
    w = World()
    march(w)
    whole, single = applied(views, w.positioned()), applied(views, w.positioned(), True)
    projection = TimesheetProjection()
    with views.read() as tx:
        for base in projection.tables:
            order = projection.key_columns(base)
            assert tx.all(f"SELECT * FROM {whole[base]} ORDER BY {order}") == tx.all(
                f"SELECT * FROM {single[base]} ORDER BY {order}"
            ), base


def test_members_see_their_own_and_leads_their_projects_entries(views: SQLiteViews) -> None:
    w = World()
    march(w)
    t = applied(views, w.positioned())
    office = str(w.office.id)
    ada = EntryScope.of(
        str(w.ada.id), StaffScope(False, frozenset({office}), {office: "standard"}, "both")
    )
    lead = EntryScope.of("carol", StaffScope(False, frozenset({office}), {office: "lead"}, "both"))
    outsider = EntryScope.of("dave", StaffScope(False, frozenset(), {}, "both"))
    with views.read() as tx:

        def users(scope: EntryScope) -> list[str]:
            rows, _ = list_entries(tx, t, EntryFilter(scope))
            return sorted(r["user_name"] for r in rows)

        assert users(ada) == ["Ada", "Ada", "Ada"]
        assert users(lead) == ["Ada", "Bob"]  # both entries on Office, nothing on Site
        assert users(outsider) == []
        nothing = grouped(tx, t, "user", scope=outsider)
        assert (nothing["groups"], nothing["totals"]["minutes"]) == ([], 0)
        led = grouped(tx, t, "user", scope=lead)
        assert [(g["user_name"], g["minutes"]) for g in led["groups"]] == [
            ("Ada", 30),
            ("Bob", 120),
        ]


def test_the_list_and_the_report_page_by_cursor(views: SQLiteViews) -> None:
    w = World()
    march(w)
    t = applied(views, w.positioned())
    with views.read() as tx:
        seen: list[str] = []
        cursor = None
        while True:
            rows, cursor = list_entries(tx, t, EntryFilter(EVERYONE), cursor, limit=2)
            seen += [r["id"] for r in rows]
            if cursor is None:
                break
        everything, _ = list_entries(tx, t, EntryFilter(EVERYONE), limit=50)
        assert seen == [r["id"] for r in everything]
        query = ReportQuery(EntryFilter(EVERYONE), ("user", "month"))
        first = report(tx, t, query, limit=2)
        rest = report(tx, t, query, first["next_cursor"], limit=2)
        whole = report(tx, t, query)
        assert first["groups"] + rest["groups"] == whole["groups"]
        assert rest["next_cursor"] is None
        assert first["totals"] == rest["totals"] == whole["totals"]
        with pytest.raises(InvalidCursorError):
            report(tx, t, ReportQuery(EntryFilter(EVERYONE), ("month",)), first["next_cursor"])
        with pytest.raises(InvalidCursorError):
            list_entries(tx, t, EntryFilter(EVERYONE), first["next_cursor"])


def test_saved_entries_reach_the_view_and_stream_in_chunks(
    container: bootstrap.Container,
) -> None:
    ada, office = user("Ada"), project("Office")
    shed = task(3, office)
    days = ("2026-06-01", "2026-06-03", "2026-06-08", "2026-06-10", "2026-06-15")
    logged = [entry(ada, 3, office, day, 10 * n) for n, day in enumerate(days, 1)]
    logged[0].withdraw(AGENT, "c")
    container.app.save(ada, office, shed, *logged)
    container.runner.catch_up(["timesheets"])
    query = ReportQuery(EntryFilter(EVERYONE), ("user", "item", "week"))
    chunks = list(report_chunks(container.views, query, chunk=2))
    assert [len(c) for c in chunks] == [2, 1]
    assert [(g["week"], g["minutes"]) for c in chunks for g in c] == [
        ("2026-W23", 20),
        ("2026-W24", 70),
        ("2026-W25", 50),
    ]
    assert {(g["user_name"], g["item_title"]) for c in chunks for g in c} == {("Ada", "Task 3")}
    exact = list(report_chunks(container.views, query, chunk=3))
    assert [len(c) for c in exact] == [3, 0]

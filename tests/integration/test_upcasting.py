"""Old stored events load through the upcasters on both backends."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from domain.contact import contact_id_for
from domain.item_numbers import item_id
from domain.planning.calendar import WorkCalendar
from domain.project import INBOX_ID
from domain.ticket import Ticket
from domain.timesheet import TimesheetEntry
from domain.user import user_id_for
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.ticket_detail import get_ticket

NUMBER = 7


def _store_ticket_opened_v1(c: bootstrap.Container, number: int) -> None:
    """Insert `Ticket.Opened` exactly as version 1 stored it: no channel, no class_version."""
    state = {
        "timestamp": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "originator_topic": "ledgerdesk:Ticket",
        "number": number,
        "title": "Printer jammed",
        "description": "Tray 2 again",
        "requester_email": "ada@example.com",
        "priority": "normal",
        "status": "New",
        "state": "not_started",
        "actor": "system:import",
        "correlation_id": "v1-import",
    }
    stored = StoredEvent(
        originator_id=item_id(number),
        originator_version=1,
        topic="ledgerdesk:Ticket.Opened",
        state=c.app.mapper.transcoder.encode(state),
    )
    c.app.recorder.insert_events([stored])


def test_ticket_opened_v1_event_loads_with_default_channel(
    container: bootstrap.Container,
) -> None:
    # Given a ticket opened before `channel` existed, stored as version 1 did
    _store_ticket_opened_v1(container, NUMBER)

    # When it is loaded as an aggregate and as its list of events
    ticket = container.app.repository.get(item_id(NUMBER))
    events = container.commands.ticket_events(NUMBER)

    # Then the upcaster has given the old event the channel every v1 ticket came from
    assert isinstance(ticket, Ticket)
    assert (ticket.number, ticket.title, ticket.version) == (NUMBER, "Printer jammed", 1)
    assert len(events) == 1
    opened = events[0]
    assert isinstance(opened, Ticket.Opened)
    assert opened.channel == "api"
    assert opened.number == NUMBER


def test_ticket_opened_v1_event_projects_with_default_channel(
    container: bootstrap.Container,
) -> None:
    # Given a ticket opened before `channel` existed, stored as version 1 did
    _store_ticket_opened_v1(container, NUMBER)

    # When the views catch up with the log
    container.runner.catch_up()

    # Then the ticket's detail document shows the upcast channel
    with container.views.read() as tx:
        doc = get_ticket(tx, current_tables(tx, "ticket_detail"), NUMBER)
    assert doc is not None
    assert doc["channel"] == "api"
    assert doc["title"] == "Printer jammed"
    assert container.runner.verify("ticket_detail") == []


def test_user_events_stored_by_version_1_load_as_roles_and_scoped_tokens(
    container: bootstrap.Container,
) -> None:
    # Given an admin registered, and given a token, the way version 1 stored them
    email = "root@example.com"
    stamp = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    registered = {
        "timestamp": stamp,
        "originator_topic": "ledgerdesk:User",
        "email": email,
        "name": "Root",
        "is_admin": True,
        "actor": "system:cli",
        "correlation_id": "cli",
    }
    secret = "s3cret-token-material"
    token_issued = {
        "timestamp": stamp,
        "token_id": "abc123",
        "label": "init",
        "secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
        "actor": "system:cli",
        "correlation_id": "cli",
    }
    encode = container.app.mapper.transcoder.encode
    container.app.recorder.insert_events(
        [
            StoredEvent(user_id_for(email), 1, "ledgerdesk:User.Registered", encode(registered)),
            StoredEvent(user_id_for(email), 2, "ledgerdesk:User.TokenIssued", encode(token_issued)),
        ]
    )

    # When the user is loaded, and the old token is used
    user = container.accounts.user(user_id_for(email))
    caller = container.accounts.authenticate(f"ld_{user_id_for(email).hex}_abc123_{secret}")

    # Then the admin flag became the admin role, and the token kept every scope, unexpiring
    assert (user.role, user.apps, user.flags, user.is_admin) == ("admin", "both", [], True)
    assert caller.scopes == {"read", "write", "admin"}
    assert user.tokens["abc123"]["expires_at"] is None
    container.runner.catch_up(["users"])
    with container.views.read() as tx:
        row = tx.one(f"SELECT role FROM {current_tables(tx, 'users')['users_directory']}")
    assert row == {"role": "admin"}


def test_snapshots_taken_by_version_1_load_in_the_current_shape(
    container: bootstrap.Container,
) -> None:
    # Given a user and a ticket whose newest snapshots were taken by version 1
    email = "old@example.com"
    uid = user_id_for(email)
    stamp = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    encode = container.app.mapper.transcoder.encode
    registered = {
        "timestamp": stamp,
        "originator_topic": "ledgerdesk:User",
        "email": email,
        "name": "Old",
        "is_admin": False,
        "actor": "system:cli",
        "correlation_id": "cli",
    }
    container.app.recorder.insert_events(
        [StoredEvent(uid, 1, "ledgerdesk:User.Registered", encode(registered))]
    )
    _store_ticket_opened_v1(container, NUMBER)
    assert container.app.snapshots is not None
    container.app.snapshots.put(
        [
            Snapshot(
                originator_id=uid,
                originator_version=1,
                timestamp=stamp,
                topic="ledgerdesk:User",
                state={
                    "_created_on": stamp,
                    "_modified_on": stamp,
                    "email": email,
                    "name": "Old",
                    "is_admin": False,
                    "token_hashes": {"t1": "ab" * 32},
                },
            ),
            Snapshot(
                originator_id=item_id(NUMBER),
                originator_version=1,
                timestamp=stamp,
                topic="ledgerdesk:Ticket",
                state={
                    "_created_on": stamp,
                    "_modified_on": stamp,
                    "number": NUMBER,
                    "title": "Printer jammed",
                    "description": "",
                    "priority": "normal",
                    "status": "New",
                    "assignees": [],
                    "followers": [],
                    "message_visibility": {},
                },
            ),
        ]
    )

    # When both are loaded (from their snapshots)
    user = container.accounts.user(uid)
    ticket = container.app.repository.get(item_id(NUMBER))

    # Then their state has today's shape
    assert (user.role, user.is_active, user.password_hash) == ("member", True, None)
    assert user.tokens["t1"]["scopes"] == ["read", "write", "admin"]
    assert (ticket.project_id, ticket.folder_id) == (str(INBOX_ID), None)
    # (v1 -> v2 -> v3: a ticket snapshot taken before conversions existed is unconverted)
    assert ticket.converted_to is None
    ticket.retitle("Still a ticket", Actor.system("tests"), "c")


def test_task_events_and_snapshots_stored_before_time_tracking_load(
    container: bootstrap.Container,
) -> None:
    # Given a task whose actual dates were recorded before `by_hand` existed, and a task
    # snapshot taken by class_version 1 (before logged time)
    from commands.models import OpenTask
    from tests.factories import context

    number = container.commands.open_task(OpenTask(title="Old"), context()).number
    assert number is not None
    stamp = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    encode = container.app.mapper.transcoder.encode
    old = {
        "timestamp": stamp,
        "actual_start": "2026-11-20",
        "actual_finish": None,
        "actor": "system:tests",
        "correlation_id": "old",
    }
    container.app.recorder.insert_events(
        [StoredEvent(item_id(number), 2, "ledgerdesk:Task.ActualsRecorded", encode(old))]
    )
    task = container.app.repository.get(item_id(number))
    assert (task.actual_start, task.actuals_by_hand) == ("2026-11-20", True)

    assert container.app.snapshots is not None
    state = {k: v for k, v in task.__dict__.items() if k not in ("logged", "actuals_by_hand")}
    state["_created_on"] = stamp
    state["_modified_on"] = stamp
    state.pop("_id", None)
    state.pop("_version", None)
    state.pop("_pending_events", None)
    container.app.snapshots.put(
        [
            Snapshot(
                originator_id=item_id(number),
                originator_version=2,
                timestamp=stamp,
                topic="ledgerdesk:Task",
                state=state,
            )
        ]
    )
    fresh = bootstrap.build(container.settings)
    try:
        loaded = fresh.app.repository.get(item_id(number))
        assert (loaded.logged, loaded.actuals_by_hand) == ({}, True)
    finally:
        fresh.close()


def test_timesheet_entry_logged_v1_loads_as_not_imported(container: bootstrap.Container) -> None:
    # Given an entry logged before imports were staged, stored as version 1 did (no import_id)
    entry_id = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/tests/entry-v1")
    state = {
        "timestamp": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        "originator_topic": "ledgerdesk:TimesheetEntry",
        "user_id": str(user_id_for("ada@example.com")),
        "item_number": NUMBER,
        "project_id": str(INBOX_ID),
        "work_date": "2026-03-01",
        "minutes": 90,
        "started_at": None,
        "finished_at": None,
        "billable": True,
        "activity": "",
        "notes": "",
        "source": "import",
        "state": "submitted",
        "corrects": None,
        "actor": "system:import",
        "correlation_id": "v1",
    }
    container.app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=entry_id,
                originator_version=1,
                topic="ledgerdesk:TimesheetEntry.Logged",
                state=container.app.mapper.transcoder.encode(state),
            )
        ]
    )
    # When it is loaded
    entry = container.app.repository.get(entry_id)
    # Then it belongs to no import: it is not staged, it shows and may change
    assert isinstance(entry, TimesheetEntry)
    assert (entry.minutes, entry.import_id) == (90, None)


def test_contact_and_project_snapshots_from_before_passwords_failing_mail_and_slugs_load(
    container: bootstrap.Container,
) -> None:
    # Given a contact and a project whose newest snapshots were taken before portal
    # passwords, failing mail and project slugs existed
    stamp = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    contact_id = contact_id_for("old@acme.example")
    project_id = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/tests/old-project")
    assert container.app.snapshots is not None
    container.app.snapshots.put(
        [
            Snapshot(
                originator_id=contact_id,
                originator_version=1,
                timestamp=stamp,
                topic="ledgerdesk:Contact",
                state={
                    "_created_on": stamp, "_modified_on": stamp, "email": "old@acme.example",
                    "name": "Old", "organisation_id": None, "source": "staff",
                    "sees_colleagues_items": False, "user_id": None,
                    "portal_invitation": None, "portal_sessions": {},
                },
            ),
            Snapshot(
                originator_id=project_id,
                originator_version=1,
                timestamp=stamp,
                topic="ledgerdesk:Project",
                state={
                    "_created_on": stamp, "_modified_on": stamp, "name": "Old project",
                    "customer_ids": [], "portfolio_id": None, "members": {}, "teams": {},
                    "join_requests": [],
                },
            ),
        ]
    )  # fmt: skip
    # When they are loaded (from their snapshots)
    contact = container.app.repository.get(contact_id)
    project = container.app.repository.get(project_id)
    # Then their state has today's shape, and they take today's events
    assert (contact.portal_password_hash, contact.mail_failing) == (None, None)
    assert contact.portal_sign_in_link is None
    assert project.slug is None
    assert project.shared_with == []
    project.change_slug("old", Actor.system("tests"), "c")
    project.share_with_organisation(uuid5(NAMESPACE_URL, "urn:acme"), Actor.system("tests"), "c")
    contact.mail_received(Actor.system("tests"), "c")


def test_a_project_snapshot_from_before_customer_shares_loads_unshared(
    container: bootstrap.Container,
) -> None:
    # Given a project whose newest snapshot was taken by version 2 (a slug, no shares)
    stamp = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    project_id = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/tests/v2-project")
    assert container.app.snapshots is not None
    container.app.snapshots.put(
        [
            Snapshot(
                originator_id=project_id,
                originator_version=3,
                timestamp=stamp,
                topic="ledgerdesk:Project",
                state={
                    "_created_on": stamp, "_modified_on": stamp, "name": "Website",
                    "customer_ids": [], "portfolio_id": None, "members": {}, "teams": {},
                    "join_requests": [], "slug": "website", "class_version": 2,
                },
            )
        ]
    )  # fmt: skip
    # When it is loaded (from its snapshot)
    project = container.app.repository.get(project_id)
    # Then it is shared with no organisation, keeps its slug, and takes a share
    assert (project.name, project.slug, project.shared_with) == ("Website", "website", [])
    acme = uuid5(NAMESPACE_URL, "urn:acme")
    project.share_with_organisation(acme, Actor.system("tests"), "c")
    assert project.shared_with == [str(acme)]
    # And (no calendar then) it works Monday to Friday until it is given its own
    assert project.calendar is None
    assert project.work_calendar.standard
    four_days = WorkCalendar.of(range(4))
    project.set_calendar(four_days, Actor.system("tests"), "c")
    container.app.save(project)
    assert container.app.repository.get(project_id).work_calendar == four_days


def test_chat_opened_v1_event_loads_as_a_chat_that_waited(
    container: bootstrap.Container,
) -> None:
    # Given a chat opened before `offline` existed, stored as version 1 did
    chat_id = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/test-chat")
    state = {
        "timestamp": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "originator_topic": "ledgerdesk:Chat",
        "email": "ann@example.com", "name": "Ann", "contact_id": None, "token_hash": None,
        "source": "portal", "actor": "visitor:ann@example.com", "correlation_id": "v1",
    }  # fmt: skip
    stored = StoredEvent(
        originator_id=chat_id,
        originator_version=1,
        topic="ledgerdesk:Chat.Opened",
        state=container.app.mapper.transcoder.encode(state),
    )
    container.app.recorder.insert_events([stored])

    # When it is loaded, Then it is a chat that was not opened offline
    chat = container.app.repository.get(chat_id)
    (event,) = container.app.events.get(chat_id)
    assert (chat.name, chat.state.value, event.offline) == ("Ann", "waiting", False)

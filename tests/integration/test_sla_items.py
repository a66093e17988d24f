"""Items held to SLA policies, on both backends: what is recorded and when (a fixed clock),
recorded once; and the workers that keep it so (the default policy for a new ticket, a
reply, a policy's change, the tick)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

import workers.sla
from commands.company_settings import CompanySettingsService
from commands.models import ChangeTicketStatus, Context, PostMessage
from commands.recurrence import RecurrenceService
from commands.sla.items import ItemSlaService
from commands.sla.policies import SlaPolicyService
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.sla.item_sla import item_sla_id
from domain.sla.policies import SlaPolicyNotFoundError
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.flat import FlatQuery, list_items
from tests.conftest import wait_until
from tests.factories import SYSTEM, context, open_ticket, register
from workers.actors import Delivery, WorkerServices

STANDARD = {
    "name": "Standard",
    "targets": {"normal": {"first_response": 60, "next_response": 30, "resolution": 480}},
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2000, 1, 1).astimezone()

    def __call__(self) -> datetime:
        return self.now


def opened_at(c: bootstrap.Container, number: int) -> datetime:
    return next(iter(c.app.events.get(item_id(number), lte=1))).timestamp


def sla_events(c: bootstrap.Container, number: int) -> list[str]:
    return [type(e).__name__ for e in c.app.events.get(item_sla_id(item_id(number)))]


def worker_services(c: bootstrap.Container, service: ItemSlaService) -> WorkerServices:
    """What the actors get, with an SLA service on a clock of the test's own."""
    return WorkerServices(
        c.app, c.commands, c.accounts, c.teams, c.customers, c.projects, c.views,
        RecurrenceService(c.app), c.mail_out, sla=service,
    )  # fmt: skip


def reply(c: bootstrap.Container, number: int, as_user: uuid.UUID) -> None:
    ctx = Context(actor=SYSTEM.actor.user(as_user), correlation_id=str(uuid.uuid4()))
    post = PostMessage(message_id=uuid.uuid4(), body="On it", visibility="customer")
    c.commands.change_item(number, [post], ctx)


def test_an_item_held_to_a_policy_records_warnings_and_breaches_once(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    policy_id, _ = SlaPolicyService(c.app).define(STANDARD, SYSTEM)
    number = open_ticket(c)
    start = opened_at(c, number)
    clock.now = start + timedelta(minutes=10)
    service.apply(number, uuid.UUID(policy_id), SYSTEM)
    held = service.of(number, SYSTEM)
    assert held["policy"] == {"id": policy_id, "name": "Standard"}
    first = held["metrics"]["first_response"]
    assert (first["state"], held["state"]) == ("on_track", "on_track")
    assert datetime.fromisoformat(first["due_at"]) == start + timedelta(minutes=60)
    assert datetime.fromisoformat(first["warn_at"]) == start + timedelta(minutes=45)
    assert held["next_due"] == first["warn_at"]
    assert sla_events(c, number) == ["Started", "Applied", "Changed"]
    service.apply(number, uuid.UUID(policy_id), SYSTEM)  # The same again: nothing new.
    assert sla_events(c, number) == ["Started", "Applied", "Changed"]

    # Nothing changed: nothing recorded. Past the warning: recorded once, however often asked.
    service.evaluate(item_id(number), "again")
    clock.now = start + timedelta(minutes=46)
    service.evaluate(item_id(number), "warn")
    service.evaluate(item_id(number), "warn again")
    clock.now = start + timedelta(minutes=61)
    service.evaluate(item_id(number), "breach")
    service.evaluate(item_id(number), "breach again")
    assert sla_events(c, number) == ["Started", "Applied", "Changed", "Changed", "Changed"]
    states = [
        e.metrics["first_response"]["state"]
        for e in c.app.events.get(item_sla_id(item_id(number)))
        if type(e).__name__ == "Changed"
    ]
    assert states == ["on_track", "warning", "breached"]

    # Another ticket, answered at once: met, and its resolution is what comes due next.
    answered = open_ticket(c)
    reply(c, answered, register(c, "agent@example.com", admin=True))
    clock.now = opened_at(c, answered) + timedelta(minutes=10)
    service.apply(answered, uuid.UUID(policy_id), SYSTEM)
    after = service.of(answered, SYSTEM)
    assert after["metrics"]["first_response"]["state"] == "met"
    assert after["metrics"]["first_response"]["answered_at"] is not None
    assert after["metrics"]["resolution"]["state"] == "on_track"
    assert after["next_due"] == after["metrics"]["resolution"]["warn_at"]

    # Held to none: nothing owed.
    service.apply(number, None, SYSTEM)
    assert service.of(number, SYSTEM) == {
        "policy": None, "state": None, "next_due": None, "metrics": {},
    }  # fmt: skip


def test_only_a_live_policy_is_applied_and_a_bad_one_writes_nothing(
    container: bootstrap.Container,
) -> None:
    c = container
    service = ItemSlaService(c.app)
    number = open_ticket(c)
    policy_id, _ = SlaPolicyService(c.app).define(STANDARD, SYSTEM)
    SlaPolicyService(c.app).retire(policy_id, SYSTEM)
    head = c.app.head()
    with pytest.raises(InvalidValueError, match="retired"):
        service.apply(number, uuid.UUID(policy_id), SYSTEM)
    with pytest.raises(SlaPolicyNotFoundError):
        service.apply(number, uuid.uuid4(), SYSTEM)
    assert c.app.head() == head


def recorded(c: bootstrap.Container, number: int) -> dict[str, Any]:
    return ItemSlaService(c.app).of(number, SYSTEM)


def test_workers_keep_items_measured(working: bootstrap.Container) -> None:
    c = working
    # (A reply to the customer puts the ticket in Waiting on customer, a shipped rule: the
    # clock runs on here, to see the new resolution target below.)
    policy = {**STANDARD, "default": True, "pause_while_waiting": False}
    policy_id, _ = SlaPolicyService(c.app).define(policy, SYSTEM)
    number = open_ticket(c)
    # A new ticket is held to the default policy (a shipped rule), measured at once.
    wait_until(lambda: recorded(c, number)["state"] == "on_track", what="the default policy")
    assert recorded(c, number)["policy"]["id"] == policy_id

    # A reply answers the first response: met.
    reply(c, number, register(c, "agent@example.com", admin=True))
    wait_until(
        lambda: recorded(c, number)["metrics"]["first_response"]["state"] == "met",
        what="the first response met",
    )
    wait_until(
        lambda: c.app.repository.get(item_id(number)).status == "Waiting on customer",
        what="the shipped rule moving the ticket",
    )

    # A change of the policy carries over to the items held to it, measured again.
    resolution_due = recorded(c, number)["metrics"]["resolution"]["due_at"]
    SlaPolicyService(c.app).change(policy_id, {"targets": {"normal": {"resolution": 960}}}, SYSTEM)
    wait_until(
        lambda: recorded(c, number)["metrics"]["resolution"]["due_at"] != resolution_due,
        what="the new resolution target",
    )
    start = opened_at(c, number)
    due = datetime.fromisoformat(recorded(c, number)["metrics"]["resolution"]["due_at"])
    assert due == start + timedelta(minutes=960)


def test_the_tick_measures_again_the_items_whose_time_has_come(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    services = worker_services(c, service)
    policy_id, _ = SlaPolicyService(c.app).define({**STANDARD, "default": True}, SYSTEM)
    waiting, quiet = open_ticket(c), open_ticket(c)
    start = opened_at(c, waiting)
    clock.now = start
    for number in (waiting, quiet):
        service.apply_default(number, "opened")
    # Answered at once, `quiet` owes nothing until its resolution warns, hours on.
    reply(c, quiet, register(c, "agent@example.com", admin=True))
    service.evaluate(item_id(quiet), "replied")

    def tick(minutes: int) -> None:
        clock.now = start + timedelta(minutes=minutes)
        c.runner.catch_up(["sla"])
        workers.sla.tick(services, Delivery(f"tick:{minutes}", "sla.tick", {}))

    tick(30)
    assert [recorded(c, n)["state"] for n in (waiting, quiet)] == ["on_track", "on_track"]
    assert recorded(c, quiet)["metrics"]["first_response"]["state"] == "met"
    tick(50)
    assert recorded(c, waiting)["metrics"]["first_response"]["state"] == "warning"
    tick(55)
    tick(70)
    assert recorded(c, waiting)["metrics"]["first_response"]["state"] == "breached"
    assert recorded(c, quiet)["metrics"]["first_response"]["state"] == "met"
    assert sla_events(c, waiting) == ["Started", "Applied", "Changed", "Changed", "Changed"]
    assert sla_events(c, quiet) == ["Started", "Applied", "Changed", "Changed"]
    assert recorded(c, waiting)["policy"]["id"] == policy_id


def test_nothing_is_measured_on_the_items_of_a_switched_off_app_until_it_is_on(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    SlaPolicyService(c.app).define({**STANDARD, "default": True}, SYSTEM)
    number = open_ticket(c)
    start = opened_at(c, number)
    clock.now = start
    service.apply_default(number, "opened")
    held = sla_events(c, number)
    waiting = open_ticket(c)  # its default policy not applied yet

    # Past its first response's due time, with the tickets app off: nothing is recorded,
    # nor is a ticket held to the default policy
    settings = CompanySettingsService(c.app)
    settings.change({"tickets": False}, {}, SYSTEM)
    clock.now = start + timedelta(minutes=70)
    service.evaluate(item_id(number), "tick while off")
    assert sla_events(c, number) == held
    service.apply_default(waiting, "queued before")
    assert sla_events(c, waiting) == []

    # Switched on again, the next measure records the breach, when it happened
    settings.change({"tickets": True}, {}, SYSTEM)
    service.evaluate(item_id(number), "tick when on")
    first = service.of(number, SYSTEM)["metrics"]["first_response"]
    assert first["state"] == "breached"
    assert sla_events(c, number) != held
    service.apply_default(waiting, "again")
    assert sla_events(c, waiting)[:2] == ["Started", "Applied"]


def test_what_is_recorded_never_goes_back_and_nothing_is_written_for_nothing(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    policies = SlaPolicyService(c.app)
    policy_id, _ = policies.define(STANDARD, SYSTEM)
    number = open_ticket(c)
    start = opened_at(c, number)
    # Held to none when it had no SLA: nothing written.
    head = c.app.head()
    service.apply(number, None, SYSTEM)
    assert c.app.head() == head
    clock.now = start + timedelta(minutes=50)
    service.apply(number, uuid.UUID(policy_id), SYSTEM)
    assert recorded(c, number)["metrics"]["first_response"]["state"] == "warning"
    # A worker whose clock is behind measures at the moment already recorded: no going back.
    service.evaluate(item_id(number), "behind", at=start + timedelta(minutes=10))
    assert recorded(c, number)["metrics"]["first_response"]["state"] == "warning"
    # Another policy becoming the default changes nothing this item is measured by.
    policies.define({"name": "Other", "default": True}, SYSTEM)
    policies.change(policy_id, {"default": True}, SYSTEM)
    events = sla_events(c, number)
    service.apply(number, uuid.UUID(policy_id), SYSTEM)
    service.evaluate(item_id(number), "again")
    assert sla_events(c, number) == events == ["Started", "Applied", "Changed"]


def test_one_item_that_cannot_be_measured_does_not_stop_the_others(
    container: bootstrap.Container, caplog: pytest.LogCaptureFixture
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    services = worker_services(c, service)
    SlaPolicyService(c.app).define({**STANDARD, "default": True}, SYSTEM)
    broken, fine = open_ticket(c), open_ticket(c)
    clock.now = opened_at(c, broken)
    for number in (broken, fine):
        service.apply_default(number, "opened")
    measure_again = service.evaluate

    def evaluate(item: uuid.UUID, correlation_id: str, at: datetime | None = None) -> None:
        if item == item_id(broken):
            raise RuntimeError("cannot measure")
        measure_again(item, correlation_id, at)

    service.evaluate = evaluate  # type: ignore[method-assign]
    clock.now = opened_at(c, fine) + timedelta(minutes=50)
    c.runner.catch_up(["sla"])
    workers.sla.tick(services, Delivery("tick:1", "sla.tick", {}))
    assert recorded(c, fine)["metrics"]["first_response"]["state"] == "warning"
    assert recorded(c, broken)["metrics"]["first_response"]["state"] == "on_track"
    assert "1 of 2 SLAs could not be measured again" in caplog.text


def test_the_flat_view_filters_and_sorts_by_sla(container: bootstrap.Container) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    policy_id, _ = SlaPolicyService(c.app).define(STANDARD, SYSTEM)
    late = open_ticket(c)
    clock.now = opened_at(c, late) + timedelta(minutes=61)
    service.apply(late, uuid.UUID(policy_id), SYSTEM)  # breached: due an hour after opening
    urgent_later, sooner, without = open_ticket(c), open_ticket(c), open_ticket(c)
    start = opened_at(c, without)
    clock.now = start + timedelta(minutes=50)  # all past their 45-minute warning
    service.apply(sooner, uuid.UUID(policy_id), SYSTEM)
    service.apply(urgent_later, uuid.UUID(policy_id), SYSTEM)
    reply(c, urgent_later, register(c, "agent@example.com", admin=True))
    service.evaluate(item_id(urgent_later), "replied")
    c.runner.catch_up()

    def page(**given: Any) -> list[dict[str, Any]]:
        with c.views.read() as tx:
            return list_items(tx, current_tables(tx, "flat"), FlatQuery(**given))[0]

    rows = {r["number"]: r for r in page()}
    assert rows[sooner]["sla_state"] == "warning"
    assert rows[sooner]["sla_due"] == recorded(c, sooner)["next_due"]
    assert rows[urgent_later]["sla_state"] == "on_track"  # answered; its resolution runs
    assert (rows[without]["sla_state"], rows[without]["sla_due"]) == (None, None)
    assert [r["number"] for r in page(sla_state="warning")] == [sooner]
    assert rows[late]["sla_state"] == "breached"
    # By the earliest due time of a target still owed: the breached one (past) first, then
    # a first response, then a resolution; items without one last (first, descending).
    order = [late, sooner, urgent_later, without]
    assert [r["number"] for r in page(sort="sla_due")] == order
    assert [r["number"] for r in page(sort="-sla_due")] == order[::-1]
    with c.views.read() as tx:
        _, cursor = list_items(tx, current_tables(tx, "flat"), FlatQuery(sort="sla_due", limit=3))
    assert [r["number"] for r in page(sort="sla_due", limit=3, cursor=cursor)] == [without]

    # Held to none again: the row shows no SLA; SLA events never touch the item's own time.
    service.apply(sooner, None, SYSTEM)
    c.runner.catch_up()
    after = {r["number"]: r for r in page()}[sooner]
    assert (after["sla_state"], after["sla_due"]) == (None, None)
    assert after["updated_at"] == rows[sooner]["updated_at"]


def test_a_change_of_policy_never_rewrites_what_was_answered(
    container: bootstrap.Container,
) -> None:
    c, clock = container, Clock()
    service = ItemSlaService(c.app, clock)
    policies = SlaPolicyService(c.app)
    policy_id, _ = policies.define(STANDARD, SYSTEM)
    owing, done = open_ticket(c), open_ticket(c)
    agent = register(c, "agent@example.com", admin=True)
    for number in (owing, done):
        reply(c, number, agent)  # answered within seconds: met
        clock.now = opened_at(c, number) + timedelta(minutes=1)
        service.apply(number, uuid.UUID(policy_id), SYSTEM)
    c.commands.change_ticket(done, [ChangeTicketStatus(status="Resolved")], context())
    service.evaluate(item_id(done), "resolved")
    assert recorded(c, done)["metrics"]["resolution"]["state"] == "met"
    # The targets shrink to nothing a past answer could have met: what was answered stays.
    tight = {"normal": {"first_response": 1, "resolution": 1}}
    policies.change(policy_id, {"targets": tight}, SYSTEM)
    clock.now += timedelta(minutes=5)
    for number in (owing, done):
        service.evaluate(item_id(number), "later")
    assert recorded(c, owing)["metrics"]["first_response"]["state"] == "met"
    assert recorded(c, owing)["metrics"]["resolution"]["state"] == "breached"  # still owed
    assert recorded(c, done)["metrics"]["first_response"]["state"] == "met"
    assert recorded(c, done)["metrics"]["resolution"]["state"] == "met"

    # An item that owes nothing keeps the policy it was measured against.
    def held(number: int) -> Any:
        sla = c.app.repository.get(item_sla_id(item_id(number)))
        return sla.policy["targets"]["normal"]["first_response"]

    assert (held(owing), held(done)) == (1, 60)

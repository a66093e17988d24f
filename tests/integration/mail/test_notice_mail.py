"""Notifications by mail, end to end against a real SMTP sink: a staff member who asks for a
kind by mail gets one notice per notification (a redelivery sends nothing again), others
none; assignment and mention mails follow the `email` channel of `assigned` and
`mentioned` (on by default, as they always were)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import pytest

from commands.chat.service import ChatService, OpenChat
from commands.company_settings import CompanySettingsService
from commands.models import AddFollower, AssignUser, UnassignUser
from commands.notifications import NotificationService
from commands.portal import PostPortalReply
from commands.unit_of_work import UnitOfWork
from domain.item_numbers import item_id
from domain.mail.outgoing import OutboundMail, outbound_id_for
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.live.reading import notifications_made_by
from tests.conftest import mailing_install, wait_until
from tests.factories import SYSTEM, open_ticket, register
from tests.smtp_sink import Sink
from workers import notices
from workers.actors import Delivery


@pytest.fixture
def desk(settings: Settings, sink: Sink) -> Iterator[bootstrap.Container]:
    container = mailing_install(settings, sink)
    yield container
    container.close()


def test_a_waiting_chat_is_mailed_to_who_asked_for_it_once(
    desk: bootstrap.Container, sink: Sink
) -> None:
    grace = register(desk, "grace@ledgerdesk.example", admin=True)
    linus = register(desk, "linus@ledgerdesk.example", admin=True)
    as_grace = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(grace)})
    as_linus = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(linus)})
    CompanySettingsService(desk.app).change({}, {"anonymous_chats": True}, as_grace)
    NotificationService(desk.app).prefer(linus, {"chat_waiting": {"email": True}}, as_linus)

    chat, _, _ = ChatService(desk.app).open(
        OpenChat(body="Help", name="Ann", email="ann@acme.example"), None, "c1", on_duty=True
    )
    wait_until(lambda: len(sink.to("linus@ledgerdesk.example")) == 1, what="the notice")
    notice = sink.to("linus@ledgerdesk.example")[0].message
    assert notice["Subject"] == "Ann is waiting in a chat"
    assert notice["Auto-Submitted"] == "auto-generated"
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/api/v1/chats/{chat.id}" in text

    # The same notification delivered again (a retry after a crash) mails nothing more
    with desk.views.read() as tx:
        made = notifications_made_by(tx, current_tables(tx, "live"), f"{chat.id}:1")
    ids = {row["user_id"]: orjson.loads(row["payload"])["id"] for row in made}
    mailed = outbound_id_for(f"notice:{ids[str(linus)]}:{linus}")
    wait_until(lambda: UnitOfWork(desk.app).get(mailed, OutboundMail).settled, what="sent")
    head = desk.app.head()
    again = Delivery("again", "mail.notify", {"event": f"{chat.id}:1"})
    notices.notify(desk.workers.services, again)
    assert desk.app.head() == head  # No second mail queued
    assert len(sink.to("linus@ledgerdesk.example")) == 1
    # Grace did not ask for it by mail (chats waiting are not mailed by default): nothing
    # is queued for her, whenever her copy of the delivery runs
    payloads = {row["user_id"]: orjson.loads(row["payload"]) for row in made}
    desk.mail_out.notice(grace, payloads[str(grace)])
    theirs = outbound_id_for(f"notice:{ids[str(grace)]}:{grace}")
    assert UnitOfWork(desk.app).get(theirs, OutboundMail) is None
    assert sink.to("grace@ledgerdesk.example") == []


def test_assignment_mail_follows_the_assigned_preference(
    desk: bootstrap.Container, sink: Sink
) -> None:
    boss = register(desk, "grace@ledgerdesk.example", admin=True)
    agent = register(desk, "linus@ledgerdesk.example", admin=True)
    as_boss = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(boss)})
    as_agent = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(agent)})
    number = open_ticket(desk)
    NotificationService(desk.app).prefer(agent, {"assigned": {"email": False}}, as_agent)
    desk.commands.change_item(number, [AssignUser(user_id=agent)], as_boss)
    assigned = next(
        e for e in reversed(list(desk.app.events.get(item_id(number))))
        if type(e).__name__ == "UserAssigned"
    )  # fmt: skip
    desk.mail_out.assignment(
        item_id(number), assigned.originator_version, str(agent), f"user:{boss}"
    )
    key = f"assign:{item_id(number)}:{assigned.originator_version}"
    assert UnitOfWork(desk.app).get(outbound_id_for(key), OutboundMail) is None

    NotificationService(desk.app).prefer(agent, {"assigned": {"email": True}}, as_agent)
    # Assigning adds to the assignees: take linus off first, so that assigning him again is
    # news (the first assignment's mail may also go now, decided after the preference
    # came back on; what matters is that this one goes)
    desk.commands.change_item(number, [UnassignUser(user_id=agent)], as_boss)
    desk.commands.change_item(number, [AssignUser(user_id=agent)], as_boss)
    again = [e for e in desk.app.events.get(item_id(number)) if type(e).__name__ == "UserAssigned"]
    assert len(again) == 2
    key = f"assign:{item_id(number)}:{again[-1].originator_version}"
    wait_until(
        lambda: UnitOfWork(desk.app).get(outbound_id_for(key), OutboundMail) is not None,
        what="the second assignment's mail",
    )
    wait_until(lambda: len(sink.to("linus@ledgerdesk.example")) >= 1, what="the assignment")


def test_a_customers_reply_is_mailed_to_staff_who_want_replies_by_mail(
    desk: bootstrap.Container, sink: Sink
) -> None:
    grace = register(desk, "grace@ledgerdesk.example", admin=True)
    linus = register(desk, "linus@ledgerdesk.example", admin=True)
    as_linus = SYSTEM.model_copy(update={"actor": SYSTEM.actor.user(linus)})
    number = open_ticket(desk, requester_email="ada@acme.example")
    for follower in (grace, linus):
        desk.commands.change_item(number, [AddFollower(user_id=follower)], SYSTEM)
    NotificationService(desk.app).prefer(linus, {"customer_replied": {"email": False}}, as_linus)
    customer = SYSTEM.model_copy(update={"actor": Actor.customer("ada@acme.example")})
    reply = PostPortalReply(number=number, message_id=uuid.uuid4(), body="Still broken")
    desk.portal.post_reply(reply, customer)
    wait_until(lambda: len(sink.to("grace@ledgerdesk.example")) == 1, what="grace's copy")
    # Linus turned customers' replies off by mail: deciding again queues nothing for him
    desk.mail_out.forward(item_id(number), str(reply.message_id), datetime.now(UTC))
    key = f"message:{reply.message_id}:linus@ledgerdesk.example"
    assert UnitOfWork(desk.app).get(outbound_id_for(key), OutboundMail) is None
    assert sink.to("linus@ledgerdesk.example") == []

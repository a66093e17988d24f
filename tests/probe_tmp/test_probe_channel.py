from __future__ import annotations

from domain.values import Channel
from ledgerdesk import bootstrap
from tests.factories import context, open_ticket
from tests.view_tables import live_rows


def test_channel_kept(container: bootstrap.Container) -> None:
    c = container
    number = open_ticket(c, channel=Channel.EMAIL)
    c.runner.catch_up()
    rows = live_rows(c, "flat")["flat_items"]
    print("BEFORE", [(r["number"], r["kind"], r["channel"]) for r in rows])
    head = c.app.head()
    task = c.commands.convert_ticket(number, context()).number
    for n in c.app.recorder.select_notifications(head + 1, 20):
        print("EV", n.id, n.topic)
    c.runner.catch_up()
    rows = live_rows(c, "flat")["flat_items"]
    print("LIVE", [(r["number"], r["kind"], r["channel"], r["converted_from_ticket"]) for r in rows])
    assert False

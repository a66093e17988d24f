"""Who a message is mailed to: never its author, whether a signed-in customer, a visitor
(an anonymous chat's customer, `visitor:<address>`) or staff."""

from __future__ import annotations

from domain.mail.outgoing import Recipient, message_recipients

ADA = Recipient("ada@acme.example", "Ada", "customer:ada@acme.example")
BOB = Recipient("bob@acme.example", "Bob", "customer:bob@acme.example")
GRACE = Recipient("grace@desk.example", "Grace", "user:7")


def test_a_message_is_never_mailed_back_to_its_author() -> None:
    for author in ("customer:ada@acme.example", "visitor:ada@acme.example"):
        mailed = message_recipients("customer", author, [ADA, BOB], [GRACE])
        assert [p.address for p in mailed] == ["bob@acme.example", "grace@desk.example"]
    by_staff = message_recipients("customer", "user:7", [ADA, BOB], [GRACE])
    assert [p.address for p in by_staff] == ["ada@acme.example", "bob@acme.example"]
    internal = message_recipients("internal", "user:8", [ADA], [GRACE])
    assert [p.address for p in internal] == ["grace@desk.example"]

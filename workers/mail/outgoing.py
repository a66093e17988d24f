"""The mail-out actors: each turns an outbox message into a call on `MailOutService`.

`mail.forward` waits (a dramatiq retry with a delay) until the message is due, so a reader
who opens it first is not mailed; `mail.send` retries with back-off while the SMTP server
may still take the mail (a refusal of our login or our sender included: settings get fixed),
and records a failure for good otherwise."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import dramatiq

from workers.actors import ActorSpec, Delivery, WorkerServices


def forward(services: WorkerServices, delivery: Delivery) -> None:
    payload = delivery.payload
    posted_at = datetime.fromisoformat(payload["posted_at"].replace("Z", "+00:00"))
    wait = services.mail_out.forward(UUID(payload["item_id"]), payload["message_id"], posted_at)
    if wait > 0:
        # Not due yet: come back when it is (a read in the meantime cancels the mail).
        raise dramatiq.Retry("not due yet", delay=int(wait * 1000) + 50)


def mention(services: WorkerServices, delivery: Delivery) -> None:
    services.mail_out.mentions(UUID(delivery.payload["item_id"]), delivery.payload["message_id"])


def assignment(services: WorkerServices, delivery: Delivery) -> None:
    p = delivery.payload
    services.mail_out.assignment(UUID(p["item_id"]), int(p["version"]), p["user_id"], p["by"])


def acknowledge(services: WorkerServices, delivery: Delivery) -> None:
    services.mail_out.acknowledge(UUID(delivery.payload["acknowledgement_id"]))


def send(services: WorkerServices, delivery: Delivery) -> None:
    services.mail_out.send(UUID(delivery.payload["outbound_id"]))


ACTORS = (
    # Waiting for a forward's time uses retries: allow a few early wake-ups.
    ActorSpec("mail.forward", forward, max_retries=40),
    ActorSpec("mail.mention", mention),
    ActorSpec("mail.assignment", assignment),
    ActorSpec("mail.acknowledge", acknowledge),
    # Back-off from 15 s doubling: the 14th retry comes after more than two days, by
    # when `send` has recorded the failure for good.
    ActorSpec("mail.send", send, max_retries=16),
)

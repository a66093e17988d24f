"""Notifications by mail: an event that made notifications has a notice mailed, once the
`live` view holds them, to each staff member who wants that kind mailed and may still see
what it is about (as Web Push does; the mail is queued once per notification and person)."""

from __future__ import annotations

from uuid import UUID

import orjson

from domain.notifications import NOTICE_KINDS
from workers.actors import Delivery, WorkerServices
from workers.push import made_by, may_see


def notify(services: WorkerServices, delivery: Delivery) -> None:
    for row in made_by(services, delivery.payload["event"]):
        if row["kind"] in NOTICE_KINDS and may_see(services, row):
            services.mail_out.notice(UUID(row["user_id"]), orjson.loads(row["payload"]))

"""Every actor and periodic message ledgerdesk runs. A feature adds its entries here."""

from __future__ import annotations

from workers import imports, notices, push, recurrence, reports, sla, webhooks, workflow
from workers.actors import ActorSpec
from workers.mail import imap, outgoing
from workers.ticks import Periodic

# purpose -> handler.
RECURRING = (("apps", "tasks"), ("features", "recurring_items"))
SLA = (("features", "sla"),)
AUTOMATIONS = (("features", "automations"),)
ACTORS: tuple[ActorSpec, ...] = (
    ActorSpec("recurrence.create_due", recurrence.create_due, needs=RECURRING),
    ActorSpec("recurrence.tick", recurrence.tick, needs=RECURRING),
    *outgoing.ACTORS,
    # A tick's poll is not retried: the next tick polls again.
    ActorSpec("mail.imap_poll", imap.poll_mailboxes, max_retries=0),
    ActorSpec("sla.apply_default", sla.apply_default, needs=SLA),
    ActorSpec("sla.evaluate", sla.evaluate, needs=SLA),
    ActorSpec("sla.follow_policy", sla.follow_policy, needs=SLA),
    # Not retried: the next tick looks again.
    ActorSpec("sla.tick", sla.tick, max_retries=0, needs=SLA),
    ActorSpec("workflow.move_items", workflow.move_items),
    ActorSpec("workflow.run_rules", workflow.run_rules, needs=AUTOMATIONS),
    # Not retried: the next tick looks again.
    ActorSpec("workflow.tick", workflow.tick, max_retries=0, needs=AUTOMATIONS),
    ActorSpec("push.notify", push.notify),
    ActorSpec("mail.notify", notices.notify),
    ActorSpec("webhooks.publish", webhooks.publish),
    # Retried on the delivery schedule (`dramatiq.Retry` with its delay), not dramatiq's;
    # no receipt: each attempt is claimed in the write model, once.
    # (dramatiq's own count is no limit: the schedule ends the delivery.)
    ActorSpec("webhooks.deliver", webhooks.deliver, max_retries=10_000, once=False),
    # Not retried: the next tick looks again.
    ActorSpec("webhooks.sweep", webhooks.sweep, max_retries=0),
    # Not retried: the next tick looks again (a run's own retries are in the write model).
    ActorSpec("reports.tick", reports.tick, max_retries=0),
    # No receipt: the write model keeps a run from being made twice (a second message
    # finds its period held or sent), and a long run holds up no other message's receipt.
    ActorSpec("reports.run", reports.run, max_retries=0, once=False),
    # No receipt: the write model starts a job once (a second message finds it running).
    ActorSpec("imports.run", imports.run, max_retries=0, once=False),
    # Not retried: the next tick looks again.
    ActorSpec("imports.tick", imports.tick, max_retries=0),
)
# Sent on every tick to an actor above.
PERIODIC: tuple[Periodic, ...] = (
    Periodic("recurrence.tick"),
    Periodic("mail.imap_poll"),
    Periodic("sla.tick"),
    Periodic("workflow.tick"),
    Periodic("webhooks.sweep"),
    Periodic("reports.tick"),
    Periodic("imports.tick"),
)


def all_actors() -> list[ActorSpec]:
    return list(ACTORS)


def all_periodic() -> list[Periodic]:
    return list(PERIODIC)

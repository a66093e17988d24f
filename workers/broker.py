"""The dramatiq broker named by a URL: Redis, RabbitMQ, or in memory (embedded mode).

Brokers are built per container and actors are declared on them explicitly, never on
dramatiq's global broker, so one process (a test run) may hold several.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker

log = logging.getLogger("ledgerdesk.workers")


class UnsupportedBrokerError(ValueError):
    """Raised when the broker URL's scheme is neither Redis nor AMQP."""


def open_broker(url: str | None, namespace: str) -> dramatiq.Broker:
    """A broker for `url`: redis[s]:// → Redis (keys prefixed by `namespace`),
    amqp[s]:// → RabbitMQ, None → in memory. Connects lazily, on first use."""
    if url is None:
        return StubBroker()
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, namespace=namespace)  # type: ignore[no-untyped-call]
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Confirmed delivery: the relay marks a message sent only once RabbitMQ has it.
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise UnsupportedBrokerError(
        f"unsupported broker {scheme or url!r}: use redis://, rediss://, amqp:// or amqps://,"
        " or no URL for an in-memory broker"
    )


def return_fetched(broker: dramatiq.Broker, queue: str) -> int:
    """Put back on `queue` (and on its delay queue) every message this process fetched from
    Redis and did not finish; how many. Call it once the worker has stopped.

    dramatiq's Redis consumer fetches ahead of its threads. When a worker stops it requeues
    what its threads had not started, but not what the consumer still held in its own
    prefetch cache: those stay claimed by this process until another worker finds it dead
    (its heartbeat a minute old, then a maintenance pass that runs on a random command), so
    a restart could hold a mail back for minutes. What this process holds is in its ack
    sets; requeueing them is what dramatiq does with the messages it does know about.
    RabbitMQ needs nothing: a closed channel's unacknowledged messages go back at once."""
    import redis
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.common import dq_name

    if not isinstance(broker, RedisBroker):
        return 0
    returned = 0
    try:
        for name in (queue, dq_name(queue)):
            acks = f"{broker.namespace}:__acks__.{broker.broker_id}.{name}"
            held = broker.client.smembers(acks)
            if held:
                broker.do_requeue(name, *held)
                returned += len(held)
    except redis.RedisError as away:
        # Redis is away: what this process held comes back once another worker finds it dead.
        log.warning("could not return fetched messages to Redis: %s", away)
    return returned


def is_durable(broker: dramatiq.Broker) -> bool:
    """Whether enqueued messages outlive this process (not so for the in-memory broker)."""
    return not isinstance(broker, StubBroker)


def describe(broker: dramatiq.Broker, queue: str) -> str:
    """The broker for a log line, without credentials."""
    kind = {"RedisBroker": "Redis", "RabbitmqBroker": "RabbitMQ"}.get(
        type(broker).__name__, "in-memory"
    )
    return f"{kind} broker, queue {queue!r}"

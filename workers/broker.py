"""The dramatiq broker named by a URL: Redis, RabbitMQ, or in memory (embedded mode).

Brokers are built per container and actors are declared on them explicitly, never on
dramatiq's global broker, so one process (a test run) may hold several.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker


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


def is_durable(broker: dramatiq.Broker) -> bool:
    """Whether enqueued messages outlive this process (not so for the in-memory broker)."""
    return not isinstance(broker, StubBroker)


def describe(broker: dramatiq.Broker, queue: str) -> str:
    """The broker for a log line, without credentials."""
    kind = {"RedisBroker": "Redis", "RabbitmqBroker": "RabbitMQ"}.get(
        type(broker).__name__, "in-memory"
    )
    return f"{kind} broker, queue {queue!r}"

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
# How long a stopping worker's threads may take to finish the messages they run.
STOP_TIMEOUT_MS = 10_000
# Redis: a worker that has sent no command for this long is dead (kill -9, a lost machine),
# and the messages it had taken go back to the queue at the next maintenance pass. A live
# worker sends one at least every second (its delay-queue consumer polls even while every
# thread is busy); 30 s rides out a Redis failover or a stalled machine (a live worker
# taken for dead would see its messages run a second time), and is half dramatiq's 60 s.
HEARTBEAT_TIMEOUT_MS = 30_000
# Redis: the chance, per million commands, that one also runs the maintenance pass (it finds
# dead workers). Idle workers send a command a second per consumer: at 2 %, a dead worker's
# messages come back within seconds of its heartbeat's timeout, not dramatiq's default
# 0.1 % (a quarter of an hour with two idle workers). A pass is a few sorted-set reads.
MAINTENANCE_CHANCE = 20_000


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

        return RedisBroker(  # type: ignore[no-untyped-call]
            url=url,
            namespace=namespace,
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=MAINTENANCE_CHANCE,
        )
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Confirmed delivery: the relay marks a message sent only once RabbitMQ has it.
        return RabbitmqBroker(url=url, confirm_delivery=True)
    raise UnsupportedBrokerError(
        f"unsupported broker {scheme or url!r}: use redis://, rediss://, amqp:// or amqps://,"
        " or no URL for an in-memory broker"
    )


def stop_worker(worker: dramatiq.Worker, broker: dramatiq.Broker, queue: str) -> None:
    """Stop `worker`: its threads finish the messages they run (up to `STOP_TIMEOUT_MS`),
    those it had not started go back to the queue, and so (on Redis) do those its consumer
    had fetched ahead of its threads.

    dramatiq's Redis consumer fetches ahead of its threads. When a worker stops, dramatiq
    requeues what reached its work queue, but not what the consumer still held in its own
    prefetch cache: those stayed claimed by this process until another worker found it dead
    (its heartbeat a minute old, then a maintenance pass that runs on a random command), so
    a restart could hold a mail back for minutes. Once every thread has ended, whatever this
    process still holds in its ack sets is such a message, and goes back. A thread still
    running a message after the timeout keeps it (it would otherwise run twice at once):
    that one comes back after the heartbeat timeout, as from a killed worker. RabbitMQ needs
    nothing: a closed channel's unacknowledged messages go back at once."""
    import redis

    try:
        worker.stop(timeout=STOP_TIMEOUT_MS)
    except redis.RedisError as away:
        log.warning("the worker stopped without Redis (%s): what it held comes back later", away)
        return
    threads = [*worker.workers, *worker.consumers.values()]
    running = [t for t in threads if t.is_alive()]
    if running:
        log.warning(
            "%d worker thread(s) still running after %d ms: what this worker held comes back"
            " after the broker's heartbeat timeout",
            len(running),
            STOP_TIMEOUT_MS,
        )
        return
    returned = _return_fetched(broker, queue)
    if returned:
        log.info("returned %d fetched but unfinished message(s) to the queue", returned)


def _return_fetched(broker: dramatiq.Broker, queue: str) -> int:
    """Requeue every message this process holds in its Redis ack sets (the queue's and its
    delay queue's); how many ids were held."""
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


def broker_answers(url: str, timeout: float = 2.0) -> None:
    """Raise if the broker at `url` does not answer within `timeout` seconds (a Redis PING;
    for RabbitMQ, a connection opened and closed). For readiness checks."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
        return
    import pika

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = timeout
    parameters.blocked_connection_timeout = timeout
    parameters.connection_attempts = 1
    pika.BlockingConnection(parameters).close()

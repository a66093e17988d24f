"""The servers the tests talk to: PostgreSQL, Redis and RabbitMQ.

Each is used where it already answers (`LEDGERDESK_TEST_DATABASE_URL`,
`LEDGERDESK_TEST_REDIS_URL`, `LEDGERDESK_TEST_AMQP_URL`, or the local defaults). Where none
answers, a throwaway one is started from the installed server binaries for this test run and
stopped afterwards; where the binaries are missing too, the run stops with what to install.
No test skips because a server is down.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

PG_VAR = "LEDGERDESK_TEST_DATABASE_URL"
REDIS_VAR = "LEDGERDESK_TEST_REDIS_URL"
AMQP_VAR = "LEDGERDESK_TEST_AMQP_URL"
DEFAULTS = {
    PG_VAR: "postgresql://postgres@127.0.0.1:5432/test",
    REDIS_VAR: "redis://127.0.0.1:6379/0",
    AMQP_VAR: "amqp://guest:guest@127.0.0.1:5672/%2F",
}
START_TIMEOUT = 60.0


class ServiceUnavailableError(RuntimeError):
    """Raised when a server neither answers nor can be started here; says what to install."""


def url(var: str) -> str:
    return os.environ.get(var) or DEFAULTS[var]


@dataclass
class Provisioned:
    """The throwaway servers this process started (stopped by `stop`)."""

    stops: list[Callable[[], None]] = field(default_factory=list)
    started: list[str] = field(default_factory=list)

    def stop(self) -> None:
        while self.stops:
            self.stops.pop()()


def provision() -> Provisioned:
    """Make sure every server answers; export the URLs the tests (and their workers) use."""
    done = Provisioned()
    try:
        for var, answers, start in (
            (PG_VAR, _postgres_answers, _start_postgres),
            (REDIS_VAR, _redis_answers, _start_redis),
            (AMQP_VAR, _amqp_answers, _start_rabbitmq),
        ):
            found = url(var)
            if not answers(found):
                found, stop = start(found)
                done.stops.append(stop)
                done.started.append(f"{var}={found}")
            os.environ[var] = found
    except BaseException:
        done.stop()
        raise
    return done


def _wait(condition: Callable[[], bool], what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise ServiceUnavailableError(f"{what} did not start in {START_TIMEOUT:.0f} s\n{tail}")
        time.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _popen(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _killer(process: subprocess.Popen[bytes], scratch: Path) -> Callable[[], None]:
    def stop() -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(scratch, ignore_errors=True)

    return stop


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres_answers(dsn: str) -> bool:
    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            return False
        # The server answers but lacks the test database: make it.
        parts = urlsplit(dsn)
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')
    return True


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    return found[-1] if found else shutil.which(name)


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parents[1].name
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` user then."""
    if os.geteuid() != 0:
        return args
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServiceUnavailableError(
            "running as root, and `runuser` is missing to drop to postgres"
        )
    return [runuser, "-u", "postgres", "--", *args]


def _start_postgres(wanted: str) -> tuple[str, Callable[[], None]]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise ServiceUnavailableError(
            f"PostgreSQL does not answer at {wanted} and its server binaries (initdb, pg_ctl)"
            " are not installed. Install them (Debian/Ubuntu: `apt-get install postgresql`),"
            f" or point {PG_VAR} at a server."
        )
    scratch = Path(tempfile.mkdtemp(prefix="ledgerdesk-pg-"))
    data, log = scratch / "data", scratch / "postgres.log"
    if os.geteuid() == 0:
        shutil.chown(scratch, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {scratch} -c listen_addresses=127.0.0.1 -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "start"]),
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(scratch, ignore_errors=True)

    dsn = f"postgresql://postgres@127.0.0.1:{port}/test"
    try:
        _wait(lambda: _postgres_answers(dsn), "PostgreSQL", log)
    except BaseException:
        stop()
        raise
    return dsn, stop


# --- Redis ------------------------------------------------------------------------------


def _redis_answers(location: str) -> bool:
    client = redis.Redis.from_url(location, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _start_redis(wanted: str) -> tuple[str, Callable[[], None]]:
    server = shutil.which("redis-server")
    if server is None:
        raise ServiceUnavailableError(
            f"Redis does not answer at {wanted} and `redis-server` is not installed. Install it"
            f" (Debian/Ubuntu: `apt-get install redis-server`), or point {REDIS_VAR} at a server."
        )
    scratch = Path(tempfile.mkdtemp(prefix="ledgerdesk-redis-"))
    port = _free_port()
    args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    process = _popen([*args, "no", "--dir", str(scratch)], scratch / "redis.log")
    location = f"redis://127.0.0.1:{port}/0"
    stop = _killer(process, scratch)
    try:
        _wait(lambda: _redis_answers(location), "Redis", scratch / "redis.log")
    except BaseException:
        stop()
        raise
    return location, stop


# --- RabbitMQ ---------------------------------------------------------------------------


def _amqp_answers(location: str) -> bool:
    parts = urlsplit(location)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), 2).close()
    except OSError:
        return False
    return True


def _start_rabbitmq(wanted: str) -> tuple[str, Callable[[], None]]:
    found = sorted(glob.glob("/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server"))
    server = found[-1] if found else None
    if server is None or shutil.which("erl") is None:
        raise ServiceUnavailableError(
            f"RabbitMQ does not answer at {wanted} and its server is not installed. Install it"
            f" (Debian/Ubuntu: `apt-get install rabbitmq-server`), or point {AMQP_VAR} at a"
            " server."
        )
    scratch = Path(tempfile.mkdtemp(prefix="ledgerdesk-rabbitmq-"))
    (scratch / "enabled_plugins").write_text("[].\n")
    port = _free_port()
    env = {
        **os.environ,
        "HOME": str(scratch),  # The Erlang cookie lives here.
        "RABBITMQ_NODENAME": f"ldtest{port}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(_free_port()),
        "RABBITMQ_MNESIA_BASE": str(scratch / "mnesia"),
        "RABBITMQ_LOG_BASE": str(scratch / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(scratch / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(scratch / "rabbitmq"),
        "RABBITMQ_PID_FILE": str(scratch / "pid"),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
    }
    process = _popen([server], scratch / "rabbitmq.log", env)
    location = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    stop = _killer(process, scratch)
    try:
        _wait(lambda: _amqp_ready(location), "RabbitMQ", scratch / "rabbitmq.log")
    except BaseException:
        stop()
        raise
    return location, stop


def _amqp_ready(location: str) -> bool:
    """The port answers before the broker accepts logins: wait for a real connection."""
    if not _amqp_answers(location):
        return False
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(location)).close()
    except pika.exceptions.AMQPError:
        return False
    return True

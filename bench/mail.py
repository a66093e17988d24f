"""Mail in: messages/s from SMTP `DATA` to the item in the flat view, and each message's
latency, beside a raw server storing the same bytes; on embedded SQLite and on PostgreSQL.

ledgerdesk: `ledgerdesk init`, then `ledgerdesk serve` as a user runs it (views and workers
following the log in the same process) with `LEDGERDESK_SMTP_LISTEN` on a free loopback
port. CLIENTS threads in this process send distinct messages (a few KB each, most with an
HTML part, one in five with a small attachment) over smtplib, one connection each. A
message's clock starts when its client sends `DATA` and stops when its number (from the 250
reply, `created #42`) is in the flat view's live table, which one poller thread reads every
POLL_SECONDS. The 250 itself comes only once the message is stored and filed, so the time to
it is shown apart.

Raw (`bench.mail_raw`): an aiosmtpd server in its own process that writes the bytes to a
file named by their SHA-256 and inserts one row per message, one commit each. The same
clients send it the same bytes; a message is in place at its 250. Raw and ours alternate in
rounds. The note also gives the rate of that file and row with no SMTP at all, in this
process, one message at a time.
"""

from __future__ import annotations

import os
import random
import re
import smtplib
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from pathlib import Path

from bench.common import (
    REPO,
    Figure,
    percentile,
    pg_schema,
    pg_settings,
    say,
    scratch_dir,
    show,
)
from bench.http_api import _env as pg_env
from bench.http_api import _free_port, _ledgerdesk, _server
from bench.mail_raw import RawStore, raw_server, raw_store
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.db import ViewDatabase, open_views

MESSAGES = 500
SMOKE_MESSAGES = 6
CLIENTS = 4
ROUNDS = 2  # Ours and raw alternate, so that a busy neighbour slows both alike.
WARM_UP = 10
POLL_SECONDS = 0.002
DEADLINE_SECONDS = 120.0
SUPPORT = "support@ledgerdesk.local"
CREATED = re.compile(rb"created #(\d+)")

FIRST = ("Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Alan", "Frances", "Edsger")
LAST = ("Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Turing", "Allen")
COMPANIES = ("acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne")
SUBJECTS = (
    "Invoice {n} shows the wrong VAT rate",
    "Cannot sign in since the password reset",
    "Order #{n} arrived damaged",
    "Export to CSV times out for report {n}",
    "Refund for order #{n} not received",
    "VPN drops every {m} minutes",
    "Printer on floor {m} is jammed again",
    "Please give Sam access to the finance share",
    "Urgent: checkout fails with error {n}",
    "Question about our contract renewal",
)
SENTENCES = (
    "Since this morning the page shows a blank screen after I press the button.",
    "We tried again from two different laptops and the result was the same.",
    "The error message says that the session has expired, although I had just signed in.",
    "Could you please have a look at this before the end of the week?",
    "Our accounts team needs the corrected document for the quarterly close.",
    "I have attached a screenshot of what I see, in case it helps.",
    "This worked fine last month, so I suspect something changed in the last update.",
    "Three of my colleagues are affected; the others can still work normally.",
    "If you need remote access to one of the machines, let me know a time that suits you.",
    "The order was placed through the web shop and paid by credit card.",
    "We would appreciate a call back on the number below rather than a long email thread.",
    "Nothing in the status page mentions an outage, so I am writing to you directly.",
)


@dataclass(frozen=True)
class Message:
    sender: str
    raw: bytes


@dataclass(frozen=True)
class Sent:
    """One message's conversation: when its client sent `DATA`, when the 250 came back,
    and the item number the reply named (None for the raw server)."""

    number: int | None
    data_at: float
    replied_at: float


@dataclass(frozen=True)
class Round:
    """One side's round: the span from its first DATA to its last message in place (s), and
    per message (ms): DATA to in place, DATA to 250, 250 to in place."""

    seconds: float
    latencies: list[float]
    acks: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)


def messages(count: int, start: int = 0) -> list[Message]:
    """`count` distinct, realistic messages (deterministic for a given index)."""
    return [_message(i) for i in range(start, start + count)]


def _message(i: int) -> Message:
    rng = random.Random(i)
    first, last, company = rng.choice(FIRST), rng.choice(LAST), rng.choice(COMPANIES)
    # About sixty people, each writing a few times (a contact is made on first sight).
    sender = f"{first.lower()}.{last.lower()}@{company}.example"
    subject = rng.choice(SUBJECTS).format(n=rng.randint(1000, 99999), m=rng.randint(2, 9))
    paragraphs = [
        " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 6)))
        for _ in range(rng.randint(3, 7))
    ]
    signature = (
        f"Kind regards,\n{first} {last}\n{company.title()} Ltd. · 1 Main Street"
        f" · +44 20 7946 {rng.randint(1000, 9999)}"
    )
    text = "\n\n".join(["Hello support team,", *paragraphs, signature])
    msg = EmailMessage()
    msg["Received"] = (
        f"from mx{rng.randint(1, 4)}.{company}.example (mx.{company}.example [192.0.2.{i % 250}])"
        f" by relay.ledgerdesk.local with ESMTPS id {rng.getrandbits(64):016x};"
        f" {formatdate(1_780_000_000 + i)}"
    )
    msg["From"] = f"{first} {last} <{sender}>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Date"] = formatdate(1_780_000_000 + i)
    msg["Message-ID"] = f"<bench-{i}.{rng.getrandbits(48):012x}@{company}.example>"
    msg["User-Agent"] = "Mozilla Thunderbird"
    msg.set_content(text)
    if rng.random() < 0.6:  # Most mail programs send an HTML part beside the text.
        html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        msg.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
    if rng.random() < 0.2:
        msg.add_attachment(
            rng.randbytes(rng.randint(8_000, 30_000)),
            maintype="image",
            subtype="png",
            filename=f"screenshot-{i}.png",
        )
    return Message(sender, msg.as_bytes(policy=SMTP))


def connect(host: str, port: int) -> smtplib.SMTP:
    deadline = time.monotonic() + 30
    while True:
        try:
            smtp = smtplib.SMTP(host, port, timeout=60)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            smtp.ehlo()
            return smtp


def send(host: str, port: int, batch: Sequence[Message], clients: int = CLIENTS) -> list[Sent]:
    """Send `batch` from `clients` threads, one SMTP connection each; raise unless every
    message was answered 250."""
    clients = max(1, min(clients, len(batch)))
    sent: list[Sent | None] = [None] * len(batch)
    errors: list[BaseException] = []
    ready = threading.Barrier(clients)

    def client(k: int) -> None:
        try:
            smtp = connect(host, port)
        except BaseException as error:
            errors.append(error)
            ready.abort()
            return
        try:
            ready.wait()
            for i in range(k, len(batch), clients):
                message = batch[i]
                _expect(smtp.mail(message.sender), 250, "MAIL FROM")
                _expect(smtp.rcpt(SUPPORT), 250, "RCPT TO")
                data_at = time.perf_counter()
                code, reply = smtp.data(message.raw)
                replied_at = time.perf_counter()
                _expect((code, reply), 250, "DATA")
                found = CREATED.search(reply)
                sent[i] = Sent(int(found.group(1)) if found else None, data_at, replied_at)
            smtp.quit()
        except BaseException as error:
            errors.append(error)
            ready.abort()
        finally:
            smtp.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"a client failed: {errors[0]!r}") from errors[0]
    return [s for s in sent if s is not None]


def _expect(answer: tuple[int, bytes], code: int, what: str) -> None:
    if answer[0] != code:
        raise RuntimeError(f"{what} answered {answer[0]} {answer[1]!r}")


class Watcher:
    """One thread reading the flat view's live table every POLL_SECONDS; it stamps the moment
    each new item number is first seen. It reads only numbers above the highest one below
    which all have been seen, so a poll is one short index range."""

    def __init__(self, views: ViewDatabase) -> None:
        self.views = views
        with views.read() as tx:
            self.table = current_tables(tx, "flat")["flat_items"]
            row = tx.one(f"SELECT COALESCE(MAX(number), 0) AS top FROM {self.table}")
        self.floor = int(row["top"]) if row else 0
        self.seen: dict[int, float] = {}
        self.polls = 0
        self.cancelled = threading.Event()

    def until(self, count: int) -> dict[int, float]:
        """Poll until `count` more numbers have appeared (or the watch is cancelled)."""
        wanted, deadline = len(self.seen) + count, time.monotonic() + DEADLINE_SECONDS
        sql = f"SELECT number FROM {self.table} WHERE number > ?"
        self.cancelled.clear()
        while len(self.seen) < wanted and not self.cancelled.is_set():
            with self.views.read() as tx:
                rows = tx.all(sql, (self.floor,))
            now = time.perf_counter()
            self.polls += 1
            for row in rows:
                self.seen.setdefault(int(row["number"]), now)
            while self.floor + 1 in self.seen:
                self.floor += 1
            if time.monotonic() > deadline:
                raise RuntimeError(f"{wanted - len(self.seen)} items never reached the flat view")
            time.sleep(POLL_SECONDS)
        return self.seen


def ours(host: str, port: int, watcher: Watcher, batch: Sequence[Message]) -> Round:
    """Send `batch` to ledgerdesk while the watcher waits for every item to show."""
    seen: list[dict[int, float]] = []
    errors: list[BaseException] = []

    def watch() -> None:
        try:
            seen.append(watcher.until(len(batch)))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        sent = send(host, port, batch)
        if any(s.number is None for s in sent):
            raise RuntimeError("a message was answered 250 without a new item's number")
    except BaseException:
        watcher.cancelled.set()  # No item will come: the watcher need not wait it out.
        raise
    finally:
        thread.join()
    if errors:
        raise errors[0]
    shown = [seen[0][s.number] for s in sent if s.number is not None]
    return Round(
        seconds=max(shown) - min(s.data_at for s in sent),
        latencies=[(t - s.data_at) * 1000 for s, t in zip(sent, shown, strict=True)],
        acks=[(s.replied_at - s.data_at) * 1000 for s in sent],
        lags=[(t - s.replied_at) * 1000 for s, t in zip(sent, shown, strict=True)],
    )


def raw(host: str, port: int, batch: Sequence[Message]) -> Round:
    """Send `batch` to the raw server: in place once answered."""
    sent = send(host, port, batch)
    span = max(s.replied_at for s in sent) - min(s.data_at for s in sent)
    return Round(span, [(s.replied_at - s.data_at) * 1000 for s in sent])


def bare(store: RawStore, batch: Sequence[Message]) -> Round:
    """The same bytes through the same storage with no SMTP: one at a time, in process."""
    started, latencies = time.perf_counter(), []
    for message in batch:
        before = time.perf_counter()
        store.store(message.raw, message.sender, SUPPORT)
        latencies.append((time.perf_counter() - before) * 1000)
    return Round(time.perf_counter() - started, latencies)


# One backend's run.


def _install(env: dict[str, str]) -> None:
    """`ledgerdesk init`, as a user starts an install (it migrates and makes the admin)."""
    done = subprocess.run(
        [*_ledgerdesk(), "init", "--admin-email", "bench@example.com"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ledgerdesk init failed:\n{done.stderr[-4000:]}")


def _backend(
    backend: str, scratch: Path, schema: str | None, batch: list[Message], rounds: int
) -> list[Figure]:
    if schema is None:
        settings = Settings(data_dir=scratch / "var", database_url=None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERDESK_")}
        env["LEDGERDESK_DATA_DIR"] = str(settings.data_dir)
    else:
        settings = pg_settings(schema, scratch / "var")
        env = pg_env(schema, scratch / "var")
    smtp_port, raw_port = _free_port(), _free_port()
    env["LEDGERDESK_SMTP_LISTEN"] = f"127.0.0.1:{smtp_port}"
    _install(env)
    warm_up = messages(WARM_UP, start=len(batch))
    per_round = -(-len(batch) // rounds)
    chunks = [batch[k : k + per_round] for k in range(0, len(batch), per_round)]
    mine: list[Round] = []
    theirs: list[Round] = []
    with (
        _server(env, _free_port(), scratch / "server.log"),
        raw_server(scratch, raw_port, schema),
    ):
        views = open_views(settings.views_dsn(), settings.database_schema, 1)
        try:
            watcher = Watcher(views)
            ours("127.0.0.1", smtp_port, watcher, warm_up)
            raw("127.0.0.1", raw_port, warm_up)
            for k, chunk in enumerate(chunks, 1):
                say(f"mail: {backend}, round {k}/{len(chunks)}: {len(chunk)} messages each")
                theirs.append(raw("127.0.0.1", raw_port, chunk))
                mine.append(ours("127.0.0.1", smtp_port, watcher, chunk))
            polls = watcher.polls
        finally:
            views.close()
    # The raw server's table (SQLite file or schema) gets the bare run's rows too.
    sqlite = None if schema else scratch / "raw.sqlite3"
    floor = bare(raw_store(scratch / "bare", sqlite, schema), batch)
    return _figures(backend, len(batch), mine, theirs, floor, polls)


def _figures(
    backend: str, count: int, mine: list[Round], theirs: list[Round], floor: Round, polls: int
) -> list[Figure]:
    def pooled(rounds: list[Round], what: str) -> list[float]:
        return [x for r in rounds for x in getattr(r, what)]

    def ms(samples: list[float], p: float) -> str:
        return f"{percentile(samples, p):.1f}"

    ours_ms, raw_ms = pooled(mine, "latencies"), pooled(theirs, "latencies")
    acks, lags = pooled(mine, "acks"), pooled(mine, "lags")
    ours_rate = count / sum(r.seconds for r in mine)
    raw_rate = count / sum(r.seconds for r in theirs)
    rate = Figure(
        name=f"mail in, {backend}: SMTP DATA to flat view, {CLIENTS} clients",
        value=ours_rate,
        unit="msg/s",
        baseline=raw_rate,
        baseline_name="SMTP server: a sha256 file and a 1-row INSERT per message",
        note=(
            f"{count} messages; the same file + INSERT with no SMTP, one at a time:"
            f" {count / floor.seconds:,.0f} msg/s"
        ),
    )
    latency = Figure(
        name=f"mail in p95, {backend}: DATA to item in flat view",
        value=percentile(ours_ms, 95),
        unit="ms",
        baseline=percentile(raw_ms, 95),
        baseline_name="SMTP server: DATA to 250",
        note=(
            f"p50 {ms(ours_ms, 50)} vs {ms(raw_ms, 50)} ms; ours DATA to 250 p50/p95"
            f" {ms(acks, 50)}/{ms(acks, 95)} ms, 250 to view {ms(lags, 50)}/{ms(lags, 95)} ms;"
            f" no SMTP p95 {ms(floor.latencies, 95)} ms; {polls} polls"
        ),
        lower_is_better=True,
    )
    show(rate)
    show(latency)
    return [rate, latency]


def run(count: int = MESSAGES, *, smoke: bool = False, with_sqlite: bool = True) -> list[Figure]:
    count = SMOKE_MESSAGES if smoke else count
    batch = messages(count)
    size = sum(len(m.raw) for m in batch) / count
    say(f"mail: {count} messages (mean {size / 1024:.1f} KiB), {CLIENTS} SMTP clients")
    figures: list[Figure] = []
    if with_sqlite:
        with scratch_dir() as scratch:
            figures += _backend("SQLite", scratch, None, batch, ROUNDS)
    with scratch_dir() as scratch, pg_schema() as schema:
        figures += _backend("PostgreSQL", scratch, schema, batch, ROUNDS)
    return figures

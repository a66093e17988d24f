"""Scheduled reports end to end, on both backends, against a real SMTP sink with the
workers ticking: a saved report is mailed with its file once per period (however often
the workers tick, and again after a restart), its runs recorded with their outcome; a run
that cannot be made is retried and then given up, and a mail refused for good is recorded,
each told to the schedule's owner — in the app and by mail."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdf
import pytest
from fastapi.testclient import TestClient

import commands.views.schedules
import workers.reports
from commands.views.schedules import UNEXPECTED
from domain.values import utc_text
from domain.views.schedule import checked_schedule, latest_at_or_before
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.api.seeded_desk import after, ok
from tests.conftest import mailing_install, wait_until
from tests.factories import admin_token
from tests.smtp_sink import Sink

OWNER = "owner@ledgerdesk.example"
CLIENTS = ["client@agency.example", "boss@agency.example"]
WEEKLY = {"every": "week", "weekday": "monday", "time": "08:00", "time_zone": "Europe/Paris"}


class Clock:
    """The time the schedules' service sees, moved by the test."""

    def __init__(self) -> None:
        real = datetime.now(UTC)
        # The next Monday, 00:00 UTC: the schedule is set up the evening before.
        monday = (real + timedelta(days=7 - real.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self.now = monday - timedelta(hours=1)
        self.first = latest_at_or_before(checked_schedule(WEEKLY), monday + timedelta(days=1))

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    made = Clock()
    monkeypatch.setattr(commands.views.schedules, "utc_now", made)
    return made


@pytest.fixture
def desk(settings: Settings, sink: Sink, clock: Clock) -> Iterator[bootstrap.Container]:
    container = mailing_install(settings, sink, tick_seconds=0.1)
    yield container
    container.close()


@pytest.fixture
def http(desk: bootstrap.Container) -> Iterator[TestClient]:
    token = admin_token(desk, OWNER)
    with TestClient(desk.http_app()) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def schedule(http: TestClient, **changes: Any) -> dict[str, Any]:
    """Two tickets, a saved report of them by priority, scheduled weekly to the clients."""
    for title, priority in (("Leak", "urgent"), ("Noise", "low")):
        ok(http.post("/api/v1/tickets", json={"title": title, "priority": priority}), 201)
    report = ok(
        http.post(
            "/api/v1/reports/saved",
            json={
                "name": "Tickets by priority",
                "definition": {"template": "tickets", "group_by": "priority"},
            },
        ),
        201,
    )
    body = {"report_id": report["id"], "recipients": CLIENTS, "schedule": WEEKLY, **changes}
    return dict(ok(http.post("/api/v1/reports/schedules", json=body), 201))


def runs(http: TestClient, desk: bootstrap.Container, schedule_id: str) -> list[dict[str, Any]]:
    found = http.get(f"/api/v1/reports/schedules/{schedule_id}/runs", headers=after(desk))
    return list(ok(found)["items"])


def ticks(desk: bootstrap.Container) -> int:
    with desk.views.read() as tx:
        row = tx.one(
            "SELECT count(*) AS n FROM worker_receipts WHERE message_id LIKE 'tick:reports%'"
        )
    return int(row["n"]) if row else 0


def more_ticks(desk: bootstrap.Container, n: int = 3) -> None:
    seen = ticks(desk)
    wait_until(lambda: ticks(desk) >= seen + n, what="more ticks")


def test_a_saved_report_is_mailed_with_its_file_once_per_period(
    desk: bootstrap.Container, http: TestClient, sink: Sink, clock: Clock
) -> None:
    made = schedule(http)
    assert made["next_run_at"] == utc_text(clock.first)
    more_ticks(desk)  # Nothing is due before the first Monday
    assert sink.all() == []

    clock.now = clock.first + timedelta(seconds=30)
    wait_until(lambda: all(sink.to(a) for a in CLIENTS), what="the report to both clients")
    more_ticks(desk)  # Ticks go on: the period is sent already
    assert [len(sink.to(a)) for a in CLIENTS] == [1, 1]
    mail = sink.to(CLIENTS[0])[0].message
    day = clock.first.date()
    first_day = (day - timedelta(days=29)).isoformat()
    assert mail["Subject"] == f"Tickets by priority: {first_day} to {day.isoformat()}"
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "per week, by priority" in text
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == f"tickets-{first_day}-{day.isoformat()}.pdf"
    assert attached.get_content_type() == "application/pdf"
    pages = pypdf.PdfReader(io.BytesIO(attached.get_content())).pages
    printed = " ".join(page.extract_text() for page in pages)
    assert "Tickets by priority" in printed
    assert f"for {OWNER}" in printed
    assert "urgent" in printed
    assert "low" in printed
    # Each recipient's mail has its own Message-ID, the same however often it is decided
    ids = {sink.to(a)[0].message["Message-ID"] for a in CLIENTS}
    assert len(ids) == 2

    wait_until(lambda: runs(http, desk, made["id"])[0]["outcome"] == "sent", what="delivered")
    [run] = runs(http, desk, made["id"])
    assert run["period"] == utc_text(clock.first)
    assert (run["attempts"], run["error"]) == (1, None)
    assert run["days"] == {"from": first_day, "to": day.isoformat()}
    assert run["file"]["media_type"] == "application/pdf"
    assert run["file"]["size"] > 1000
    assert sorted((m["recipient"], m["state"]) for m in run["mails"]) == [
        (CLIENTS[1], "sent"), (CLIENTS[0], "sent"),
    ]  # fmt: skip
    read = ok(http.get(f"/api/v1/reports/schedules/{made['id']}", headers=after(desk)))
    assert read["last_period"] == utc_text(clock.first)
    assert read["next_run_at"] == utc_text(clock.first + timedelta(days=7))

    # The next Monday is the next period: one more mail each, under new Message-IDs
    clock.now = clock.first + timedelta(days=7, minutes=5)
    wait_until(lambda: all(len(sink.to(a)) == 2 for a in CLIENTS), what="the second week")
    more_ticks(desk)
    assert [len(sink.to(a)) for a in CLIENTS] == [2, 2]
    assert sink.to(CLIENTS[0])[1].message["Message-ID"] not in ids


def test_a_report_that_cannot_be_made_is_retried_then_its_owner_told(
    desk: bootstrap.Container,
    http: TestClient,
    sink: Sink,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = schedule(http, format="csv")

    def broken(*args: Any) -> Any:
        raise RuntimeError("the views are unreadable")

    monkeypatch.setattr(workers.reports, "template_report", broken)
    clock.now = clock.first + timedelta(minutes=1)
    wait_until(lambda: runs(http, desk, made["id"]) != [], what="the first attempt")
    [run] = runs(http, desk, made["id"])
    assert (run["outcome"], run["attempts"]) == ("retrying", 1)
    assert run["error"] == UNEXPECTED  # (the details are in the workers' log)
    assert run["retry_at"] == utc_text(clock.now + timedelta(minutes=5))
    read = ok(http.get(f"/api/v1/reports/schedules/{made['id']}", headers=after(desk)))
    assert read["next_run_at"] == run["retry_at"]
    more_ticks(desk)  # Not tried again before its time
    assert runs(http, desk, made["id"])[0]["attempts"] == 1

    clock.now += timedelta(minutes=5)
    wait_until(lambda: runs(http, desk, made["id"])[0]["attempts"] == 2, what="the second")
    assert runs(http, desk, made["id"])[0]["outcome"] == "retrying"
    clock.now += timedelta(minutes=30)
    wait_until(lambda: runs(http, desk, made["id"])[0]["attempts"] == 3, what="the third")
    [run] = runs(http, desk, made["id"])
    assert (run["outcome"], run["retry_at"], run["mails"]) == ("failed", None, [])

    # Its owner is told, in the app and by mail; the clients got nothing
    told = ok(http.get("/api/v1/me/notifications", headers=after(desk)))["items"]
    [failed] = [n for n in told if n["kind"] == "report_failed"]
    assert (failed["schedule_id"], failed["error"]) == (made["id"], UNEXPECTED)
    wait_until(lambda: sink.to(OWNER) != [], what="the owner's notice")
    notice = sink.to(OWNER)[0].message
    assert notice["Subject"] == "A scheduled report was not sent"
    assert [sink.to(a) for a in CLIENTS] == [[], []]

    # Mended, the period stays given up; the next one goes out as CSV
    monkeypatch.undo()
    monkeypatch.setattr(commands.views.schedules, "utc_now", clock)
    more_ticks(desk)
    assert [sink.to(a) for a in CLIENTS] == [[], []]
    clock.now = clock.first + timedelta(days=7, minutes=1)
    wait_until(lambda: all(sink.to(a) for a in CLIENTS), what="the next week's report")
    [attached] = list(sink.to(CLIENTS[0])[0].message.iter_attachments())
    assert attached.get_content_type() == "text/csv"
    assert b"urgent" in attached.get_payload(decode=True)


def test_a_mail_refused_for_good_and_a_deleted_report_are_told_to_the_owner(
    desk: bootstrap.Container, http: TestClient, sink: Sink, clock: Clock
) -> None:
    sink.refuse[CLIENTS[1]] = 550
    made = schedule(http)
    clock.now = clock.first + timedelta(minutes=1)
    wait_until(lambda: sink.to(CLIENTS[0]) != [], what="the report to the first client")
    wait_until(lambda: runs(http, desk, made["id"])[0]["outcome"] == "failed", what="refused")
    mails = {m["recipient"]: m for m in runs(http, desk, made["id"])[0]["mails"]}
    assert mails[CLIENTS[0]]["state"] == "sent"
    assert mails[CLIENTS[1]]["state"] == "failed"
    assert "550" in mails[CLIENTS[1]]["error"]
    told = ok(http.get("/api/v1/me/notifications", headers=after(desk)))["items"]
    [refused] = [n for n in told if n["kind"] == "report_failed"]
    assert refused["recipient"] == CLIENTS[1]
    # The schedule's version moved on with it: a change that names it is taken
    read = http.get(f"/api/v1/reports/schedules/{made['id']}", headers=after(desk))
    paused = http.patch(
        f"/api/v1/reports/schedules/{made['id']}",
        json={"recipients": CLIENTS},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert paused.status_code == 200, paused.text

    # A saved report deleted: the next run fails at once (no retry) and the owner is told
    assert http.delete(f"/api/v1/reports/saved/{made['report_id']}").status_code == 204
    clock.now = clock.first + timedelta(days=7, minutes=1)
    wait_until(lambda: len(runs(http, desk, made["id"])) == 2, what="the second run")
    latest = runs(http, desk, made["id"])[0]
    assert (latest["outcome"], latest["attempts"]) == ("failed", 1)
    assert latest["error"] == "the saved report was deleted"
    told = ok(http.get("/api/v1/me/notifications", headers=after(desk)))["items"]
    assert len([n for n in told if n["kind"] == "report_failed"]) == 2


def test_a_schedule_changed_or_switched_on_again_counts_from_then(
    desk: bootstrap.Container, http: TestClient, sink: Sink, clock: Clock
) -> None:
    made = schedule(http, active=False)
    assert made["next_run_at"] is None
    clock.now = clock.first + timedelta(hours=2)
    more_ticks(desk)
    assert sink.all() == []
    # Switched on after this Monday's 08:00: this Monday's is not sent; next Monday's is
    on = http.patch(f"/api/v1/reports/schedules/{made['id']}", json={"active": True})
    assert ok(on)["next_run_at"] == utc_text(clock.first + timedelta(days=7))
    more_ticks(desk)
    assert sink.all() == []
    assert uuid.UUID(made["id"])  # (still the same schedule)


def test_after_the_workers_were_down_the_last_periods_go_out_and_older_ones_are_missed(
    desk: bootstrap.Container, http: TestClient, sink: Sink, clock: Clock
) -> None:
    made = schedule(http)
    # Six Mondays pass with nothing running (as the workers see it)
    clock.now = clock.first + timedelta(weeks=5, hours=1)
    wait_until(lambda: all(len(sink.to(a)) == 3 for a in CLIENTS), what="the last three")
    more_ticks(desk)
    assert [len(sink.to(a)) for a in CLIENTS] == [3, 3]
    subjects = [r.message["Subject"] for r in sink.to(CLIENTS[0])]
    days = [(clock.first + timedelta(weeks=n)).date().isoformat() for n in (3, 4, 5)]
    assert [s.rpartition(" to ")[2] for s in subjects] == days  # Oldest first, each its own
    history = runs(http, desk, made["id"])
    assert [r["outcome"] for r in history][-1] == "missed"
    assert history[-1]["period"] == utc_text(clock.first)
    assert history[-1]["error"] == "3 period(s) missed: the workers were not running then"
    told = ok(http.get("/api/v1/me/notifications", headers=after(desk)))["items"]
    [missed] = [n for n in told if n["kind"] == "report_failed"]
    assert missed["error"] == history[-1]["error"]

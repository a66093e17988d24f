"""When a scheduled report is due: weekly and monthly occurrences in a time zone (across
daylight saving changes and short months), and the schedule's run record — a period
settled once, a failure retried then given up, a change counting from then."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidValueError
from domain.values import utc_text
from domain.views.report_schedule import LEASE, ReportSchedule
from domain.views.schedule import (
    checked_recipients,
    checked_schedule,
    latest_at_or_before,
    next_after,
)

PARIS_MONDAY = checked_schedule(
    {"every": "week", "weekday": "monday", "time": "08:00", "time_zone": "Europe/Paris"}
)
MONTH_END = checked_schedule(
    {"every": "month", "day": 31, "time": "02:30", "time_zone": "Europe/Paris"}
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_weekly_schedule_follows_the_wall_clock_across_daylight_saving() -> None:
    # Winter: 08:00 in Paris is 07:00 UTC; summer: 06:00 UTC
    assert latest_at_or_before(PARIS_MONDAY, at("2026-12-07T07:00")) == at("2026-12-07T07:00")
    assert latest_at_or_before(PARIS_MONDAY, at("2026-12-07T06:59")) == at("2026-11-30T07:00")
    assert next_after(PARIS_MONDAY, at("2026-12-07T07:00")) == at("2026-12-14T07:00")
    # The clocks go forward on Sunday 29 March 2026
    assert next_after(PARIS_MONDAY, at("2026-03-28T00:00")) == at("2026-03-30T06:00")
    assert latest_at_or_before(PARIS_MONDAY, at("2026-03-30T06:30")) == at("2026-03-30T06:00")


def test_a_monthly_day_past_a_months_end_is_its_last_day() -> None:
    assert latest_at_or_before(MONTH_END, at("2027-03-01T00:00")) == at("2027-02-28T01:30")
    assert next_after(MONTH_END, at("2027-03-01T00:00")) == at("2027-03-31T00:30")
    assert next_after(MONTH_END, at("2027-03-31T00:30")) == at("2027-04-30T00:30")
    # 02:30 on 31 March 2030 does not exist in Paris (the clocks skip it): their change
    skipped = checked_schedule({**MONTH_END, "time": "02:30"})
    assert next_after(skipped, at("2030-03-30T00:00")) == at("2030-03-31T01:00")


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"every": "week", "weekday": "monday", "time": "8:00"}, "schedule.time"),
        ({"every": "week", "weekday": "monday", "time": "08:60"}, "schedule.time"),
        ({"every": "month", "day": 0, "time": "08:00"}, "schedule.day"),
        ({"every": "month", "day": True, "time": "08:00"}, "schedule.day"),
        ({"every": "month", "day": 1, "time": "08:00", "time_zone": 1}, "schedule.time_zone"),
        ({"every": "week", "time": "08:00"}, "schedule.weekday"),
        ("weekly", "schedule"),
    ],
)
def test_a_bad_schedule_names_what_is_wrong(given: object, field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        checked_schedule(given)
    assert refused.value.field == field


def test_recipients_are_addresses_each_once() -> None:
    assert checked_recipients(["A@x.example", "a@x.example", "b@x.example"]) == [
        "a@x.example",
        "b@x.example",
    ]
    for bad in (["a@localhost"], ["A <a@x.example>"], ["a@x.example, b@x.example"], [3]):
        with pytest.raises(InvalidValueError):
            checked_recipients(bad)


def scheduled(now: datetime) -> ReportSchedule:
    return ReportSchedule.create(
        schedule_id=uuid.uuid4(),
        report_id=uuid.uuid4(),
        owner=uuid.uuid4(),
        given={"recipients": ["c@x.example"], "schedule": PARIS_MONDAY},
        now=now,
        actor="user:1",
        correlation_id="c",
    )


MADE = {"name": "r.pdf", "media_type": "application/pdf", "size": 1, "sha256": "0" * 64}
SYSTEM = "system:reports"


def send(schedule: ReportSchedule, now: datetime) -> datetime:
    """Run what is due at `now`: start it, then record it sent."""
    period = schedule.due(now)
    assert period is not None
    assert schedule.start(period, now, SYSTEM, "c")
    schedule.sent(period, {**MADE, "days": {}, "recipients": []}, SYSTEM, "c")
    return period


def names_of(schedule: ReportSchedule) -> list[str]:
    return [type(e).__name__ for e in schedule.collect_events()]


def test_a_period_is_due_once_from_the_first_occurrence_after_set_up() -> None:
    schedule = scheduled(at("2026-12-07T09:00"))  # After this Monday's 08:00
    assert schedule.due(at("2026-12-07T10:00")) is None
    assert schedule.next_run_at == at("2026-12-14T07:00")
    assert send(schedule, at("2026-12-14T07:00")) == at("2026-12-14T07:00")
    assert schedule.due(at("2026-12-20T00:00")) is None
    assert schedule.next_run_at == at("2026-12-21T07:00")


def test_a_started_run_holds_its_period_and_one_that_never_finished_is_a_failure() -> None:
    schedule = scheduled(at("2026-12-01T00:00"))
    period = at("2026-12-07T07:00")
    now = period + timedelta(seconds=5)
    assert schedule.start(period, now, SYSTEM, "c") == 1
    assert schedule.runs(period, 1)
    # Another worker finds it held (and not due) until the hold lapses
    assert schedule.due(now + timedelta(minutes=14)) is None
    assert schedule.start(period, now + timedelta(minutes=1), SYSTEM, "c") == 0
    assert schedule.next_run_at == now + LEASE
    # The worker stopped: once the hold lapsed, that was a failed attempt, retried later
    later = now + LEASE
    assert schedule.due(later) == period
    assert schedule.start(period, later, SYSTEM, "c") == 0
    assert not schedule.runs(period, 1)
    assert schedule.pending == {
        "period": "2026-12-07T07:00:00.000000Z",
        "attempts": 1,
        "retry_at": utc_text(later + timedelta(minutes=5)),
    }
    assert schedule.start(period, later + timedelta(minutes=5), SYSTEM, "c") == 2


def test_a_failed_run_is_retried_then_given_up() -> None:
    schedule = scheduled(at("2026-12-01T00:00"))
    period = at("2026-12-07T07:00")
    now = period + timedelta(seconds=5)
    for attempt, wait in ((1, 5), (2, 30)):
        assert schedule.start(period, now, SYSTEM, "c") == attempt
        assert schedule.failed(period, "boom", now, SYSTEM, "c") is False
        assert schedule.due(now + timedelta(minutes=wait - 1)) is None
        assert schedule.next_run_at == now + timedelta(minutes=wait)
        now += timedelta(minutes=wait)
    assert schedule.due(now) == period
    assert schedule.start(period, now, SYSTEM, "c") == 3
    assert schedule.failed(period, "boom", now, SYSTEM, "c") is True
    assert schedule.due(now) is None
    assert schedule.next_run_at == at("2026-12-14T07:00")
    # A failure that retrying will not mend is given up at once
    later = at("2026-12-14T07:00")
    assert schedule.start(later, later, SYSTEM, "c") == 1
    assert schedule.failed(later, "gone", later, SYSTEM, "c", retry=False) is True
    assert schedule.due(later) is None


def test_after_the_workers_were_down_the_last_periods_are_made_and_older_ones_missed() -> None:
    schedule = scheduled(at("2026-11-01T00:00"))
    send(schedule, at("2026-11-02T07:00"))
    schedule.collect_events()
    # Down from 2 November to 5 January: nine Mondays; the last three are still made
    now = at("2027-01-05T00:00")
    assert schedule.next_run_at == at("2026-11-09T07:00")
    assert send(schedule, now) == at("2026-12-21T07:00")
    missed = [e for e in schedule.collect_events() if type(e).__name__ == "Missed"]
    assert [(e.period, e.last, e.count) for e in missed] == [
        ("2026-11-09T07:00:00.000000Z", "2026-12-14T07:00:00.000000Z", 6)
    ]
    assert missed[0].error == "6 period(s) missed: the workers were not running then"
    assert send(schedule, now) == at("2026-12-28T07:00")
    assert send(schedule, now) == at("2027-01-04T07:00")
    assert schedule.due(now) is None
    assert "Missed" not in names_of(schedule)


def test_a_period_still_retried_when_the_next_is_due_is_given_up() -> None:
    schedule = scheduled(at("2026-12-01T00:00"))
    first = at("2026-12-07T07:00")
    schedule.start(first, first, SYSTEM, "c")
    schedule.failed(first, "boom", first, SYSTEM, "c")
    second = at("2026-12-14T07:00")
    # Its retry comes after the next period: the first is still the oldest unsettled, so
    # nothing is due before its retry
    schedule.pending = {**(schedule.pending or {}), "retry_at": "2026-12-20T00:00:00.000000Z"}
    assert schedule.next_run_at == at("2026-12-20T00:00")
    schedule.collect_events()
    assert schedule.due(second) is None
    # A run of the next period gives the first up
    assert schedule.start(second, second, SYSTEM, "c") == 1
    given_up = [e for e in schedule.collect_events() if type(e).__name__ == "RunFailed"]
    assert [(e.period, e.retry_at) for e in given_up] == [("2026-12-07T07:00:00.000000Z", None)]
    assert given_up[0].error == "not made before the next period was due"


def test_a_changed_schedule_counts_from_the_change_and_gives_up_what_waited() -> None:
    schedule = scheduled(at("2026-12-01T00:00"))
    period = at("2026-12-07T07:00")
    schedule.start(period, period, SYSTEM, "c")
    schedule.failed(period, "boom", period, SYSTEM, "c")
    schedule.collect_events()
    schedule.change({"active": False}, at("2026-12-07T08:00"), "user:1", "c")
    assert schedule.next_run_at is None
    assert schedule.due(at("2026-12-07T09:00")) is None
    schedule.change({"active": True}, at("2026-12-07T10:00"), "user:1", "c")
    events = schedule.collect_events()
    assert [type(e).__name__ for e in events] == ["RunFailed", "Changed", "Changed"]
    assert events[0].error == "the schedule changed before its run was done"
    assert schedule.due(at("2026-12-07T11:00")) is None  # This Monday's was before
    assert schedule.next_run_at == at("2026-12-14T07:00")
    version = schedule.version
    schedule.change({"recipients": ["C@x.example"]}, at("2026-12-08T00:00"), "user:1", "c")
    assert schedule.version == version  # The same, in normal form: nothing recorded


def test_a_run_under_way_is_not_recorded_once_deleted_or_its_format_changed() -> None:
    schedule = scheduled(at("2026-12-01T00:00"))
    period = at("2026-12-07T07:00")
    assert schedule.start(period, period, SYSTEM, "c") == 1
    schedule.change({"format": "csv"}, period + timedelta(minutes=1), "user:1", "c")
    assert not schedule.runs(period, 1)  # Its file is the old format's: given up
    assert schedule.last_period == utc_text(period)
    later = at("2026-12-14T07:00")
    assert schedule.start(later, later, SYSTEM, "c") == 1
    schedule.delete("user:1", "c")
    assert not schedule.runs(later, 1)
    assert schedule.due(later + timedelta(hours=1)) is None


def test_while_a_period_waits_the_next_is_due_only_once_it_falls_out_of_the_last_three() -> None:
    schedule = scheduled(at("2026-12-01T00:00"))
    first = at("2026-12-07T07:00")
    schedule.start(first, first, SYSTEM, "c")
    schedule.failed(first, "boom", first, SYSTEM, "c")
    # Its retry is due in 5 minutes: that is when the schedule is next due
    assert schedule.next_run_at == first + timedelta(minutes=5)
    # Were it to wait for weeks, the first would fall out of the last three on the 28th
    schedule.pending = {**(schedule.pending or {}), "retry_at": "2027-02-01T00:00:00.000000Z"}
    assert schedule.next_run_at == at("2026-12-28T07:00")
    assert schedule.due(at("2026-12-21T08:00")) is None
    assert schedule.due(at("2026-12-28T07:00")) == at("2026-12-14T07:00")

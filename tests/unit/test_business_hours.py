"""Business hours and SLA clocks: weekends, holidays, changes of clocks, pauses (fixed
instants throughout, never the machine's clock)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.errors import InvalidValueError
from domain.sla.business_hours import BeyondHorizonError, BusinessHours, Pause
from domain.sla.clock import SlaState, Target

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
HOUR = 3600.0


def office(zone: str = "Europe/Paris", holidays: list[str] | None = None) -> BusinessHours:
    """Monday to Friday, 09:00-17:00."""
    return BusinessHours.parse(
        {
            "time_zone": zone,
            "weekly": {day: [["09:00", "17:00"]] for day in WEEKDAYS},
            "holidays": holidays or [],
        }
    )


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def test_the_clock_runs_only_in_opening_hours_and_skips_the_weekend() -> None:
    friday_4pm = at(PARIS, 2026, 12, 4, 16, 0)
    assert office().add(friday_4pm, 2 * HOUR) == at(PARIS, 2026, 12, 7, 10, 0)
    assert office().between(friday_4pm, at(PARIS, 2026, 12, 7, 10, 0)) == 2 * HOUR
    # Before opening time the clock waits for it; after closing it waits for the next day.
    assert office().add(at(PARIS, 2026, 12, 7, 6, 0), HOUR) == at(PARIS, 2026, 12, 7, 10, 0)
    assert office().add(at(PARIS, 2026, 12, 7, 20, 0), HOUR) == at(PARIS, 2026, 12, 8, 10, 0)
    # A target of exactly what is left today falls due at closing time.
    assert office().add(friday_4pm, HOUR) == at(PARIS, 2026, 12, 4, 17, 0)


def test_a_holiday_is_closed_all_day() -> None:
    hours = office(holidays=["2026-12-25"])
    thursday_4pm = at(PARIS, 2026, 12, 24, 16, 0)
    assert hours.add(thursday_4pm, 3 * HOUR) == at(PARIS, 2026, 12, 28, 11, 0)
    assert hours.between(thursday_4pm, at(PARIS, 2026, 12, 28, 11, 0)) == 3 * HOUR


def test_answers_are_in_utc_whatever_zone_the_question_is_in() -> None:
    due = office("America/New_York").add(at(PARIS, 2026, 12, 7, 16, 0), HOUR)
    # 16:00 in Paris is 10:00 in New York, open there: an hour later is 11:00 New York time.
    assert due == at(NEW_YORK, 2026, 12, 7, 11, 0)
    assert due is not None
    assert due.tzinfo is UTC


def test_wall_clock_hours_hold_across_a_change_of_clocks() -> None:
    # Paris moves to summer time on Sunday 29 March 2026: Friday 16:00 + 2 h is Monday
    # 10:00 summer time, 08:00 UTC (it would be 09:00 UTC a week before).
    assert office().add(at(PARIS, 2026, 3, 27, 16, 0), 2 * HOUR) == datetime(
        2026, 3, 30, 8, 0, tzinfo=UTC
    )
    assert office().add(at(PARIS, 2026, 3, 20, 16, 0), 2 * HOUR) == datetime(
        2026, 3, 23, 9, 0, tzinfo=UTC
    )
    # Around the clock, a day is as long as the clocks make it: 23 h, then 25 h in October.
    always = BusinessHours.always("Europe/Paris")
    spring = always.between(at(PARIS, 2026, 3, 29, 0, 0), at(PARIS, 2026, 3, 30, 0, 0))
    autumn = always.between(at(PARIS, 2026, 10, 25, 0, 0), at(PARIS, 2026, 10, 26, 0, 0))
    assert (spring, autumn) == (23 * HOUR, 25 * HOUR)
    # 24 hours after Saturday noon is Sunday 13:00 summer time.
    assert always.add(at(PARIS, 2026, 3, 28, 12, 0), 24 * HOUR) == at(PARIS, 2026, 3, 29, 13, 0)


def test_a_skipped_wall_time_is_the_moment_the_clocks_change() -> None:
    day = at(PARIS, 2026, 3, 29, 0, 0)  # 02:00 is 03:00 that night (01:00 UTC).
    change = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)

    def sunday(*spans: list[str]) -> BusinessHours:
        return BusinessHours.parse({"time_zone": "Europe/Paris", "weekly": {"sunday": list(spans)}})

    # 00:00-02:30 ends when the clocks change; 03:00-04:00 follows: 2 h + 1 h.
    both = sunday(["00:00", "02:30"], ["03:00", "04:00"])
    assert both.between(day, day + timedelta(days=1)) == 3 * HOUR
    # An opening that never exists that night is empty, and takes nothing from the next.
    inside = sunday(["02:10", "02:20"], ["03:00", "04:00"])
    assert inside.between(day, day + timedelta(days=1)) == HOUR
    assert inside.add(day, 5 * 60) == change + timedelta(minutes=5)
    assert inside.between(day + timedelta(days=7), day + timedelta(days=8)) == 70 * 60
    # One that starts in the skipped hour runs from the change: 03:00-03:15.
    across = sunday(["02:30", "03:15"])
    assert across.between(day, day + timedelta(days=1)) == 15 * 60
    assert across.add(day, 60) == change + timedelta(minutes=1)


def test_other_zones_change_their_clocks_by_other_amounts() -> None:
    # Lord Howe Island moves by half an hour: 23.5 h in October, 24.5 h in April.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    always = BusinessHours.always("Australia/Lord_Howe")
    october = always.between(at(lord_howe, 2026, 10, 4, 0, 0), at(lord_howe, 2026, 10, 5, 0, 0))
    april = always.between(at(lord_howe, 2026, 4, 5, 0, 0), at(lord_howe, 2026, 4, 6, 0, 0))
    assert (october, april) == (23.5 * HOUR, 24.5 * HOUR)
    # New York's change, the second Sunday of March: Monday 10:00 is 14:00 UTC, not 15:00.
    new_york = office("America/New_York")
    due = new_york.add(at(NEW_YORK, 2026, 3, 6, 16, 0), 2 * HOUR)
    assert due == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_adding_and_measuring_agree_across_changes_of_clocks() -> None:
    rng = random.Random(20261206)
    zones = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago")
    for _ in range(300):
        zone = rng.choice(zones)
        weekly = {
            day: [[f"{h:02d}:{m:02d}", f"{h + 1 + d:02d}:{m:02d}"]]
            for day in ("monday", "wednesday", "saturday", "sunday")
            for h, m, d in [
                (rng.randrange(0, 12), rng.choice((0, 15, 30, 45)), rng.randrange(0, 10))
            ]
        }
        hours = BusinessHours.parse({"time_zone": zone, "weekly": weekly})
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 525_600))
        span = timedelta(minutes=rng.randrange(1, 5_000), microseconds=rng.randrange(10**6))
        end = hours.add(start, span)
        assert end is not None
        assert hours.elapsed(start, end) == span, (zone, weekly, start, span)


def test_a_night_shift_runs_through_midnight() -> None:
    night = BusinessHours.parse(
        {
            "time_zone": "UTC",
            "weekly": {"monday": [["22:00", "24:00"]], "tuesday": [["00:00", "06:00"]]},
        }
    )
    monday_11pm = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert night.add(monday_11pm, 3 * HOUR) == datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    # A start inside Monday's span counts from there, not from its opening.
    assert night.between(monday_11pm, datetime(2026, 12, 8, 6, 0, tzinfo=UTC)) == 7 * HOUR


def test_pauses_stop_the_clock() -> None:
    monday_9am = at(PARIS, 2026, 12, 7, 9, 0)
    waiting = [Pause(at(PARIS, 2026, 12, 7, 10, 0), at(PARIS, 2026, 12, 7, 12, 0))]
    assert office().add(monday_9am, 2 * HOUR, waiting) == at(PARIS, 2026, 12, 7, 13, 0)
    assert office().between(monday_9am, at(PARIS, 2026, 12, 7, 13, 0), waiting) == 2 * HOUR
    # A pause outside opening hours changes nothing; overlapping pauses count once.
    night = [Pause(at(PARIS, 2026, 12, 7, 18, 0), at(PARIS, 2026, 12, 8, 8, 0))]
    assert office().add(monday_9am, 9 * HOUR, night) == at(PARIS, 2026, 12, 8, 10, 0)
    twice = [*waiting, Pause(at(PARIS, 2026, 12, 7, 11, 0), at(PARIS, 2026, 12, 7, 12, 30))]
    assert office().add(monday_9am, 2 * HOUR, twice) == at(PARIS, 2026, 12, 7, 13, 30)
    # An open pause stops it until the pause ends: no due time before then.
    still = [Pause(at(PARIS, 2026, 12, 7, 10, 0))]
    assert office().add(monday_9am, 2 * HOUR, still) is None
    assert office().add(monday_9am, 0.5 * HOUR, still) == at(PARIS, 2026, 12, 7, 9, 30)
    assert office().between(monday_9am, at(PARIS, 2026, 12, 9, 9, 0), still) == HOUR


def test_an_sla_target_warns_then_breaches_or_is_met() -> None:
    target = Target(seconds=4 * HOUR, hours=office(), warn_share=0.75)
    opened = at(PARIS, 2026, 12, 4, 15, 0)  # Friday 15:00: 2 h today, 2 h on Monday.
    assert target.warns(opened) == at(PARIS, 2026, 12, 7, 10, 0)
    assert target.due(opened) == at(PARIS, 2026, 12, 7, 11, 0)
    states = [
        target.state(opened, at(PARIS, 2026, 12, 6, 12, 0)),  # Sunday: only 2 h used
        target.state(opened, at(PARIS, 2026, 12, 7, 10, 0)),
        target.state(opened, at(PARIS, 2026, 12, 7, 11, 0)),
    ]
    assert states == [SlaState.ON_TRACK, SlaState.WARNING, SlaState.BREACHED]
    in_time = at(PARIS, 2026, 12, 7, 11, 0)
    assert target.state(opened, now=in_time + timedelta(days=2), answered=in_time) == SlaState.MET
    late = at(PARIS, 2026, 12, 7, 11, 1)
    assert target.state(opened, now=late, answered=late) == SlaState.BREACHED
    # Waiting on the customer from Monday 09:30 to 12:00 moves both times on.
    waiting = [Pause(at(PARIS, 2026, 12, 7, 9, 30), at(PARIS, 2026, 12, 7, 12, 0))]
    assert target.due(opened, waiting) == at(PARIS, 2026, 12, 7, 13, 30)
    assert target.state(opened, at(PARIS, 2026, 12, 7, 12, 0), pauses=waiting) == SlaState.ON_TRACK


def utc(**weekly: Any) -> dict[str, Any]:
    return {"time_zone": "UTC", "weekly": weekly}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"weekly": {"monday": [["09:00", "17:00"]]}}, "time_zone", "IANA"),
        ({"time_zone": "Mars/Olympus", "weekly": {}}, "time_zone", "unknown time zone"),
        (utc(), "weekly", "at least one opening"),
        (utc(funday=[]), "weekly.funday", "not a weekday"),
        (utc(monday=[["9", "17:00"]]), "weekly.monday", "HH:MM"),
        (utc(monday=[["T0900", "17:00"]]), "weekly.monday", "HH:MM"),
        (utc(monday=[["0900Z", "10:00"], ["11:00", "12:00"]]), "weekly.monday", "HH:MM"),
        (utc(monday=[["12+01", "17:00"]]), "weekly.monday", "HH:MM"),
        (utc(monday=[["24:00", "24:00"]]), "weekly.monday", "HH:MM"),
        (utc(monday=[["17:00", "09:00"]]), "weekly.monday", "ends before"),
        (utc(monday=[["09:00", "13:00"], ["12:00", "17:00"]]), "weekly.monday", "overlap"),
        (utc(monday="all day"), "weekly.monday", "spans"),
        ({**utc(monday=[["09:00", "17:00"]]), "holidays": ["25/12"]}, "holidays", "YYYY-MM-DD"),
        ({**utc(monday=[["09:00", "17:00"]]), "holidays": ["20261225"]}, "holidays", "YYYY"),
        ({**utc(monday=[["09:00", "17:00"]]), "holidays": ["2026-W52-5"]}, "holidays", "YYYY"),
        ({**utc(monday=[["09:00", "17:00"]]), "holidays": ["2026-02-30"]}, "holidays", "YYYY"),
        ({**utc(monday=[["09:00", "17:00"]]), "time_zone": "localtime"}, "time_zone", "unknown"),
        ({**utc(monday=[["09:00", "17:00"]]), "time_zone": "Factory"}, "time_zone", "unknown"),
        ({**utc(monday=[["09:00", "17:00"]]), "time_zone": "right/UTC"}, "time_zone", "unknown"),
        (
            {**utc(monday=[["09:00", "17:00"]]), "time_zone": "../etc/passwd"},
            "time_zone",
            "unknown",
        ),
    ],
)
def test_bad_business_hours_name_what_is_wrong(
    data: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidValueError, match=words) as refused:
        BusinessHours.parse(data)
    assert refused.value.field == field


def test_business_hours_read_back_what_they_write() -> None:
    data = {
        "time_zone": "America/New_York",
        "weekly": {
            "monday": [["08:00", "12:00"], ["13:00", "24:00"]],
            "saturday": [["10:00", "14:00"]],
        },
        "holidays": ["2026-07-03", "2026-12-25"],
    }
    assert BusinessHours.parse(data).to_data() == data
    assert BusinessHours.parse(BusinessHours.always().to_data()) == BusinessHours.always()


def test_a_warning_is_due_exactly_when_its_time_comes() -> None:
    rng = random.Random(7)
    for _ in range(500):
        target = Target(rng.randrange(1, 2000) * 60.0, office(), warn_share=rng.uniform(0.01, 0.99))
        opened = at(PARIS, 2026, 12, 7, 9, 0) + timedelta(seconds=rng.randrange(0, 86_400))
        warns = target.warns(opened)
        assert warns is not None
        assert target.state(opened, warns) == SlaState.WARNING
        assert target.state(opened, warns - timedelta(microseconds=1)) == SlaState.ON_TRACK


def test_business_time_that_never_comes_is_refused_not_looped_over() -> None:
    weekly = {"monday": [["09:00", "09:01"]]}
    sparse = BusinessHours.parse({"time_zone": "UTC", "weekly": weekly})
    with pytest.raises(BeyondHorizonError):
        sparse.add(datetime(2026, 12, 7, tzinfo=UTC), 366 * 24 * HOUR)
    with pytest.raises(ValueError, match="at least one opening"):
        BusinessHours("UTC", ())


def test_targets_and_times_must_make_sense() -> None:
    with pytest.raises(InvalidValueError, match="positive"):
        Target(seconds=0, hours=office())
    with pytest.raises(InvalidValueError, match="between 0 and 1"):
        Target(seconds=HOUR, hours=office(), warn_share=1.0)
    with pytest.raises(ValueError, match="aware"):
        office().add(datetime(2026, 12, 7, 9, 0), HOUR)
    with pytest.raises(ValueError, match="end before it starts"):
        Pause(at(PARIS, 2026, 12, 7, 10, 0), at(PARIS, 2026, 12, 7, 9, 0))

"""Microsoft Project XML (MSPDI): files as Project 2002/2003 and 2010+ write them, every link
type and lag format, every constraint, calendars and their exceptions in both forms, what is
refused (not XML, not a Project file, an entity bomb, a task without a UID, a bad value named
where it is), the writer's element order, the round trip, and two files MS Project saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree.ElementTree import Element, fromstring

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.msproject.mspdi import SAVE_VERSION, MspdiError, read_mspdi, write_mspdi
from commands.msproject.mspdi_format import EXTRA
from domain.errors import InvalidValueError
from domain.msproject.plan import (
    CalendarException,
    FileAssignment,
    FileCalendar,
    FileLink,
    FilePlan,
    FileResource,
    FileTask,
    LagUnit,
)
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind

NS = "http://schemas.microsoft.com/project"
SAMPLES = Path(__file__).parents[1] / "data" / "msproject"
WEEKDAY_ON = "<WorkingTimes><WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime>"
WEEKDAY_ON += "</WorkingTime></WorkingTimes>"


def project(body: str, namespace: bool = True) -> bytes:
    xmlns = f' xmlns="{NS}"' if namespace else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Project{xmlns}>{body}</Project>'.encode()


def tasks(*bodies: str) -> bytes:
    return project("<Tasks>" + "".join(f"<Task>{body}</Task>" for body in bodies) + "</Tasks>")


def refusal(data: bytes) -> str:
    with pytest.raises(MspdiError) as refused:
        read_mspdi(data)
    assert isinstance(refused.value, InvalidValueError)
    assert refused.value.field == "file"
    return str(refused.value)


# A Project 2003 file: no SaveVersion, exceptions as WeekDay 0, a resource's derived calendar.
PROJECT_2003 = project(
    """
<Name>Office move.xml</Name><Title>Office move</Title><Author>Ann</Author>
<StartDate>2024-03-04T08:00:00</StartDate><CalendarUID>1</CalendarUID>
<MinutesPerDay>480</MinutesPerDay><MinutesPerWeek>2400</MinutesPerWeek>
<Calendars>
 <Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>
  <BaseCalendarUID>-1</BaseCalendarUID><WeekDays>
  <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
  <WeekDay><DayType>2</DayType><DayWorking>1</DayWorking>{on}</WeekDay>
  <WeekDay><DayType>3</DayType><DayWorking>1</DayWorking>{on}</WeekDay>
  <WeekDay><DayType>4</DayType><DayWorking>1</DayWorking>{on}</WeekDay>
  <WeekDay><DayType>5</DayType><DayWorking>1</DayWorking>{on}</WeekDay>
  <WeekDay><DayType>6</DayType><DayWorking>1</DayWorking>{on}</WeekDay>
  <WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay>
  <WeekDay><DayType>0</DayType><DayWorking>0</DayWorking><TimePeriod>
   <FromDate>2024-12-24T00:00:00</FromDate><ToDate>2024-12-26T23:59:00</ToDate></TimePeriod>
  </WeekDay>
  <WeekDay><DayType>0</DayType><DayWorking>1</DayWorking><TimePeriod>
   <FromDate>2024-03-09T00:00:00</FromDate><ToDate>2024-03-09T23:59:00</ToDate></TimePeriod>
   {on}</WeekDay>
 </WeekDays></Calendar>
 <Calendar><UID>2</UID><Name>Bob</Name><IsBaseCalendar>0</IsBaseCalendar>
  <BaseCalendarUID>1</BaseCalendarUID><WeekDays>
  <WeekDay><DayType>6</DayType><DayWorking>0</DayWorking></WeekDay></WeekDays></Calendar>
</Calendars>
<Tasks>
 <Task><UID>0</UID><ID>0</ID><Name>Office move</Name><Type>1</Type><IsNull>0</IsNull>
  <OutlineNumber>0</OutlineNumber><OutlineLevel>0</OutlineLevel>
  <Start>2024-03-04T08:00:00</Start><Finish>2024-03-08T17:00:00</Finish>
  <Duration>PT40H0M0S</Duration><DurationFormat>53</DurationFormat><Work>PT16H0M0S</Work>
  <Recurring>0</Recurring><Milestone>0</Milestone><Summary>1</Summary>
  <PercentComplete>20</PercentComplete><ConstraintType>0</ConstraintType></Task>
 <Task><UID>7</UID><ID>1</ID><Name>Pack &amp; label</Name><Type>0</Type><IsNull>0</IsNull>
  <OutlineNumber>1</OutlineNumber><OutlineLevel>1</OutlineLevel>
  <Start>2024-03-04T08:00:00</Start><Finish>2024-03-05T17:00:00</Finish>
  <Duration>PT16H0M0S</Duration><DurationFormat>39</DurationFormat><Work>PT16H0M0S</Work>
  <Recurring>0</Recurring><Milestone>0</Milestone><Summary>0</Summary>
  <PercentComplete>50</PercentComplete><ActualStart>2024-03-04T08:00:00</ActualStart>
  <ConstraintType>4</ConstraintType><ConstraintDate>2024-03-04T08:00:00</ConstraintDate>
  <Notes>Boxes in the basement</Notes></Task>
 <Task><UID>9</UID><ID>2</ID><Name>Moved</Name><Type>0</Type><IsNull>0</IsNull>
  <OutlineNumber>2</OutlineNumber><OutlineLevel>1</OutlineLevel>
  <Start>2024-03-08T17:00:00</Start><Finish>2024-03-08T17:00:00</Finish>
  <Duration>PT0H0M0S</Duration><DurationFormat>7</DurationFormat><Work>PT0H0M0S</Work>
  <Recurring>0</Recurring><Milestone>1</Milestone><Summary>0</Summary>
  <PercentComplete>0</PercentComplete><ConstraintType>0</ConstraintType>
  <PredecessorLink><PredecessorUID>7</PredecessorUID><Type>1</Type><CrossProject>0</CrossProject>
   <LinkLag>14400</LinkLag><LagFormat>7</LagFormat></PredecessorLink></Task>
</Tasks>
<Resources>
 <Resource><UID>0</UID><ID>0</ID><Type>1</Type><IsNull>0</IsNull></Resource>
 <Resource><UID>1</UID><ID>1</ID><Name>Bob</Name><Type>1</Type><IsNull>0</IsNull>
  <EmailAddress>bob@example.org</EmailAddress><CalendarUID>2</CalendarUID></Resource>
 <Resource><UID>2</UID><ID>2</ID><Name>Boxes</Name><Type>0</Type><IsNull>0</IsNull></Resource>
</Resources>
<Assignments>
 <Assignment><UID>1</UID><TaskUID>7</TaskUID><ResourceUID>1</ResourceUID>
  <Units>0.5</Units></Assignment>
 <Assignment><UID>2</UID><TaskUID>9</TaskUID><ResourceUID>-65535</ResourceUID>
  <Units>1</Units></Assignment>
</Assignments>
""".replace("{on}", WEEKDAY_ON)
)


def test_a_project_2003_file_is_read_as_it_is() -> None:
    plan = read_mspdi(PROJECT_2003)
    assert plan == FilePlan(
        name="Office move.xml",
        start=datetime(2024, 3, 4, 8),
        calendar_uid=1,
        calendars=(
            FileCalendar(
                1,
                "Standard",
                frozenset(range(5)),
                (
                    CalendarException(date(2024, 12, 24), date(2024, 12, 26), working=False),
                    CalendarException(date(2024, 3, 9), date(2024, 3, 9), working=True),
                ),
            ),
            # Bob's calendar: Friday off, the rest of the week from Standard.
            FileCalendar(2, "Bob", frozenset({0, 1, 2, 3}), base_uid=1, base=False),
        ),
        tasks=(
            FileTask(
                0,
                0,
                "Office move",
                0,
                summary=True,
                start=datetime(2024, 3, 4, 8),
                finish=datetime(2024, 3, 8, 17),
                duration_minutes=2400,
                work_minutes=960,
                percent_complete=20,
                outline_number="0",
            ),
            FileTask(
                7,
                1,
                "Pack & label",
                1,
                notes="Boxes in the basement",
                start=datetime(2024, 3, 4, 8),
                finish=datetime(2024, 3, 5, 17),
                duration_minutes=960,
                work_minutes=960,
                percent_complete=50,
                actual_start=datetime(2024, 3, 4, 8),
                constraint=ConstraintKind.START_NO_EARLIER_THAN,
                constraint_date=datetime(2024, 3, 4, 8),
                outline_number="1",
            ),
            FileTask(
                9,
                2,
                "Moved",
                1,
                milestone=True,
                start=datetime(2024, 3, 8, 17),
                finish=datetime(2024, 3, 8, 17),
                duration_minutes=0,
                work_minutes=0,
                predecessors=(FileLink(7, LinkKind.FINISH_TO_START, 1440.0),),
                outline_number="2",
            ),
        ),
        resources=(
            FileResource(1, "Bob", "bob@example.org", "work"),
            FileResource(2, "Boxes", "", "material"),
        ),
        assignments=(FileAssignment(7, 1, 0.5),),
        save_version=None,
        extra={"Title": "Office move", "Author": "Ann"},
    )
    assert plan.calendar == plan.calendars[0]


# A Project 2010+ file: SaveVersion 14, Active and Manual, GUIDs, exceptions in the 2007+
# form (which win over WeekDay 0, repeated for older readers), recurring ones among them.
PROJECT_2016 = project(
    """
<SaveVersion>16</SaveVersion><Name>Launch</Name><CalendarUID>3</CalendarUID>
<MinutesPerDay>420</MinutesPerDay><MinutesPerWeek>2100</MinutesPerWeek>
<Calendars><Calendar><UID>3</UID><Name>Shop</Name><IsBaseCalendar>1</IsBaseCalendar>
 <IsBaselineCalendar>0</IsBaselineCalendar><BaseCalendarUID>-1</BaseCalendarUID>
 <WeekDays>
  <WeekDay><DayType>7</DayType><DayWorking>1</DayWorking>{on}</WeekDay>
  <WeekDay><DayType>2</DayType><DayWorking>0</DayWorking></WeekDay>
  <WeekDay><DayType>0</DayType><DayWorking>0</DayWorking><TimePeriod>
   <FromDate>2030-01-01T00:00:00</FromDate><ToDate>2030-01-01T23:59:00</ToDate></TimePeriod>
  </WeekDay>
 </WeekDays>
 <Exceptions>
  <Exception><EnteredByOccurrences>0</EnteredByOccurrences><TimePeriod>
   <FromDate>2025-08-04T00:00:00</FromDate><ToDate>2025-08-15T23:59:00</ToDate></TimePeriod>
   <Occurrences>1</Occurrences><Name>Summer</Name><Type>1</Type><DayWorking>0</DayWorking>
  </Exception>
  <Exception><EnteredByOccurrences>1</EnteredByOccurrences><TimePeriod>
   <FromDate>2025-12-25T00:00:00</FromDate><ToDate>2027-12-25T23:59:00</ToDate></TimePeriod>
   <Occurrences>3</Occurrences><Name>Christmas</Name><Type>2</Type><Month>11</Month>
   <MonthDay>25</MonthDay><DayWorking>0</DayWorking></Exception>
 </Exceptions>
 <WorkWeeks><WorkWeek><TimePeriod><FromDate>2025-07-01T00:00:00</FromDate>
  <ToDate>2025-07-31T23:59:00</ToDate></TimePeriod><Name>July</Name></WorkWeek></WorkWeeks>
</Calendar></Calendars>
<Tasks>
 <Task><UID>1</UID><GUID>0D5A2B1C-7E0F-4F4B-9A3C-2B0C6F1E9D01</GUID><ID>1</ID>
  <Name>Draft</Name><Active>0</Active><Manual>1</Manual><Type>0</Type><IsNull>0</IsNull>
  <OutlineNumber>1</OutlineNumber><OutlineLevel>1</OutlineLevel>
  <Duration>P2DT0H0M0S</Duration><ManualDuration>PT14H0M0S</ManualDuration>
  <DurationFormat>7</DurationFormat><Recurring>1</Recurring></Task>
 <Task><UID>2</UID><ID>2</ID><Name>Wait</Name><OutlineLevel>1</OutlineLevel>
  <Duration>PT48H0M0S</Duration><DurationFormat>8</DurationFormat></Task>
 <Task><UID>3</UID><ID>3</ID><IsNull>1</IsNull></Task>
</Tasks>
""".replace("{on}", WEEKDAY_ON)
)


def test_a_project_2010_file_is_read_as_it_is() -> None:
    plan = read_mspdi(PROJECT_2016)
    assert plan.save_version == 16
    assert (plan.minutes_per_day, plan.minutes_per_week) == (420, 2100)
    assert plan.calendar == FileCalendar(
        3,
        "Shop",
        frozenset({1, 2, 3, 4, 5}),  # Saturday on, Monday off, the rest MS Project's default
        (
            CalendarException(date(2025, 8, 4), date(2025, 8, 15), name="Summer"),
            CalendarException(date(2025, 12, 25), date(2025, 12, 25), name="Christmas"),
            CalendarException(date(2026, 12, 25), date(2026, 12, 25), name="Christmas"),
            CalendarException(date(2027, 12, 25), date(2027, 12, 25), name="Christmas"),
        ),
    )
    draft, wait, blank = plan.tasks
    assert draft == FileTask(
        1, 1, "Draft", 1, duration_minutes=840, recurring=True,
        guid="0D5A2B1C-7E0F-4F4B-9A3C-2B0C6F1E9D01", active=False, manual=True,
        outline_number="1",
    )  # fmt: skip
    assert (wait.duration_minutes, wait.duration_elapsed) == (2880, True)
    assert (blank.uid, blank.null, blank.name, blank.outline_level) == (3, True, "", 1)


def test_a_file_without_the_namespace_reads_the_same() -> None:
    body = PROJECT_2003.decode().split(f'<Project xmlns="{NS}">', 1)[1].rsplit("</Project>")[0]
    assert read_mspdi(project(body, namespace=False)) == read_mspdi(PROJECT_2003)


def test_tasks_without_an_id_are_numbered_in_file_order() -> None:
    plan = read_mspdi(tasks("<UID>0</UID>", "<UID>5</UID>", "<UID>3</UID>"))
    assert [(t.uid, t.id, t.outline_level) for t in plan.tasks] == [(0, 0, 0), (5, 1, 1), (3, 2, 1)]
    assert plan.name == ""


LINK = "<UID>2</UID><ID>2</ID><PredecessorLink><PredecessorUID>1</PredecessorUID>{}"


@pytest.mark.parametrize(
    ("link", "kind"),
    [
        ("<Type>0</Type>", LinkKind.FINISH_TO_FINISH),
        ("<Type>1</Type>", LinkKind.FINISH_TO_START),
        ("<Type>2</Type>", LinkKind.START_TO_FINISH),
        ("<Type>3</Type>", LinkKind.START_TO_START),
        ("", LinkKind.FINISH_TO_START),
    ],
)
def test_every_link_type_is_read(link: str, kind: LinkKind) -> None:
    plan = read_mspdi(tasks("<UID>1</UID>", LINK.format(link + "</PredecessorLink>")))
    assert plan.tasks[1].predecessors == (FileLink(1, kind),)


@pytest.mark.parametrize(
    ("lag_format", "link_lag", "lag", "unit"),
    [
        ("3", "600", 60.0, LagUnit.WORKING),  # m
        ("4", "-600", -60.0, LagUnit.ELAPSED),  # em (a lead)
        ("5", "4800", 480.0, LagUnit.WORKING),  # h
        ("6", "14400", 1440.0, LagUnit.ELAPSED),  # eh
        ("7", "4800", 480.0, LagUnit.WORKING),  # d
        ("8", "14400", 1440.0, LagUnit.ELAPSED),  # ed
        ("9", "24000", 2400.0, LagUnit.WORKING),  # w
        ("10", "100800", 10080.0, LagUnit.ELAPSED),  # ew
        ("11", "96000", 9600.0, LagUnit.WORKING),  # mo
        ("12", "432000", 43200.0, LagUnit.ELAPSED),  # emo
        ("19", "25", 25.0, LagUnit.PERCENT),  # %: the percent itself, as MPXJ reads it
        ("20", "50", 50.0, LagUnit.PERCENT),  # e%
        ("35", "5", 0.5, LagUnit.WORKING),  # m? (estimated)
        ("36", "600", 60.0, LagUnit.ELAPSED),
        ("37", "600", 60.0, LagUnit.WORKING),
        ("38", "600", 60.0, LagUnit.ELAPSED),
        ("39", "4800", 480.0, LagUnit.WORKING),
        ("40", "4800", 480.0, LagUnit.ELAPSED),
        ("41", "4800", 480.0, LagUnit.WORKING),
        ("42", "4800", 480.0, LagUnit.ELAPSED),
        ("43", "4800", 480.0, LagUnit.WORKING),
        ("44", "4800", 480.0, LagUnit.ELAPSED),
        ("51", "10", 10.0, LagUnit.PERCENT),
        ("52", "10", 10.0, LagUnit.PERCENT),
        ("53", "4800", 480.0, LagUnit.WORKING),  # null: working time, as MPXJ reads it
        ("21", "4800", 480.0, LagUnit.WORKING),
        ("", "4800.0", 480.0, LagUnit.WORKING),  # no LagFormat
    ],
)
def test_every_lag_format_is_read(
    lag_format: str, link_lag: str, lag: float, unit: LagUnit
) -> None:
    element = f"<LinkLag>{link_lag}</LinkLag>" + (
        f"<LagFormat>{lag_format}</LagFormat>" if lag_format else ""
    )
    plan = read_mspdi(tasks("<UID>1</UID>", LINK.format(element + "</PredecessorLink>")))
    assert plan.tasks[1].predecessors == (FileLink(1, LinkKind.FINISH_TO_START, lag, unit),)


def test_a_link_to_another_project_or_to_nothing_is_left_out() -> None:
    cross = "<PredecessorLink><PredecessorUID>8</PredecessorUID><CrossProject>1</CrossProject>"
    cross += "<CrossProjectName>other.mpp\\3</CrossProjectName></PredecessorLink>"
    nothing = "<PredecessorLink><Type>1</Type></PredecessorLink>"
    plan = read_mspdi(tasks(f"<UID>1</UID>{cross}{nothing}"))
    assert plan.tasks[0].predecessors == ()


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("0", ConstraintKind.AS_SOON_AS_POSSIBLE),
        ("1", ConstraintKind.AS_LATE_AS_POSSIBLE),
        ("2", ConstraintKind.MUST_START_ON),
        ("3", ConstraintKind.MUST_FINISH_ON),
        ("4", ConstraintKind.START_NO_EARLIER_THAN),
        ("5", ConstraintKind.START_NO_LATER_THAN),
        ("6", ConstraintKind.FINISH_NO_EARLIER_THAN),
        ("7", ConstraintKind.FINISH_NO_LATER_THAN),
    ],
)
def test_every_constraint_type_is_read(code: str, kind: ConstraintKind) -> None:
    body = f"<UID>1</UID><ConstraintType>{code}</ConstraintType>"
    body += "<ConstraintDate>2024-05-06T08:00:00</ConstraintDate>"
    task = read_mspdi(tasks(body)).tasks[0]
    assert (task.constraint, task.constraint_date) == (kind, datetime(2024, 5, 6, 8))


def test_no_constraint_is_as_soon_as_possible() -> None:
    task = read_mspdi(tasks("<UID>1</UID>")).tasks[0]
    assert (task.constraint, task.constraint_date) == (ConstraintKind.AS_SOON_AS_POSSIBLE, None)


@pytest.mark.parametrize(
    ("duration", "minutes"),
    [
        ("PT16H0M0S", 960),
        ("PT0H0M0S", 0),
        ("PT7H30M0S", 450),
        ("PT8H0M29S", 480),  # rounded to the minute
        ("PT0H0M90S", 2),
        ("PT1.5H", 90),
        ("P2DT0H0M0S", 840),  # a day field is the project's day (420 minutes here)
        ("P1DT2H", 540),
        ("P1W", 2100),  # a week, the project's week
        ("P1M", 8400),  # a month, 20 days
        (" PT1H0M0S\n", 60),
    ],
)
def test_durations_are_minutes(duration: str, minutes: int) -> None:
    body = "<MinutesPerDay>420</MinutesPerDay><MinutesPerWeek>2100</MinutesPerWeek>"
    body += f"<Tasks><Task><UID>1</UID><Duration>{duration}</Duration></Task></Tasks>"
    assert read_mspdi(project(body)).tasks[0].duration_minutes == minutes


def test_calendar_exceptions_that_recur_are_each_of_their_days() -> None:
    def exception(body: str, start: str, end: str) -> str:
        period = f"<TimePeriod><FromDate>{start}T00:00:00</FromDate>"
        period += f"<ToDate>{end}T23:59:00</ToDate></TimePeriod>"
        return f"<Exception>{period}{body}<DayWorking>0</DayWorking></Exception>"

    exceptions = [
        # Every other Monday and Friday in January 2024 (weeks from Sunday 31 December).
        exception(
            "<Type>6</Type><Period>2</Period><DaysOfWeek>34</DaysOfWeek>",
            "2024-01-01",
            "2024-01-31",
        ),
        # The last Friday of every month, three times.
        exception(
            "<Occurrences>3</Occurrences><Type>5</Type>"
            "<MonthItem>8</MonthItem><MonthPosition>4</MonthPosition>",
            "2024-02-01",
            "2024-12-31",
        ),
        # Every third day, four times.
        exception(
            "<Occurrences>4</Occurrences><Type>7</Type><Period>3</Period>",
            "2024-06-01",
            "2024-06-30",
        ),
        # The 31st of every second month (a month without: its last day).
        exception(
            "<Type>4</Type><Period>2</Period><MonthDay>31</MonthDay>", "2024-02-01", "2024-07-31"
        ),
        # The second Tuesday of March, yearly.
        exception(
            "<Type>3</Type><Month>2</Month><MonthItem>5</MonthItem><MonthPosition>1</MonthPosition>",
            "2024-01-01",
            "2025-12-31",
        ),
        # The first weekday of a month: a pattern not read (left out, as MPXJ does).
        exception(
            "<Type>5</Type><MonthItem>1</MonthItem><MonthPosition>0</MonthPosition>",
            "2024-01-01",
            "2024-12-31",
        ),
    ]
    body = "<Calendars><Calendar><UID>1</UID><Exceptions>" + "".join(exceptions)
    body += "</Exceptions></Calendar></Calendars>"
    (calendar,) = read_mspdi(project(body)).calendars
    assert [(e.starts, e.ends) for e in calendar.exceptions] == [
        (date(2024, 1, 1), date(2024, 1, 1)),
        (date(2024, 1, 5), date(2024, 1, 5)),
        (date(2024, 1, 15), date(2024, 1, 15)),
        (date(2024, 1, 19), date(2024, 1, 19)),
        (date(2024, 1, 29), date(2024, 1, 29)),
        (date(2024, 2, 23), date(2024, 2, 23)),
        (date(2024, 3, 29), date(2024, 3, 29)),
        (date(2024, 4, 26), date(2024, 4, 26)),
        (date(2024, 6, 1), date(2024, 6, 1)),
        (date(2024, 6, 4), date(2024, 6, 4)),
        (date(2024, 6, 7), date(2024, 6, 7)),
        (date(2024, 6, 10), date(2024, 6, 10)),
        (date(2024, 2, 29), date(2024, 2, 29)),
        (date(2024, 4, 30), date(2024, 4, 30)),
        (date(2024, 6, 30), date(2024, 6, 30)),
        (date(2024, 3, 12), date(2024, 3, 12)),
        (date(2025, 3, 11), date(2025, 3, 11)),
    ]


def test_resources_and_their_kinds_are_read() -> None:
    body = """<Resources>
      <Resource><UID>0</UID><ID>0</ID><Type>1</Type></Resource>
      <Resource><UID>1</UID><Name>Ann</Name><Type>1</Type><EmailAddress>ann@x.org</EmailAddress></Resource>
      <Resource><UID>2</UID><Name>Cement</Name><Type>0</Type><IsCostResource>0</IsCostResource></Resource>
      <Resource><UID>3</UID><Name>Travel</Name><Type>0</Type><IsCostResource>1</IsCostResource></Resource>
      <Resource><UID>4</UID><Name>Fees</Name><Type>2</Type></Resource>
      <Resource><UID>5</UID><Name>Bob</Name></Resource>
    </Resources>
    <Assignments>
      <Assignment><UID>1</UID><TaskUID>1</TaskUID><ResourceUID>1</ResourceUID><Units>1.5</Units></Assignment>
      <Assignment><UID>2</UID><TaskUID>1</TaskUID><ResourceUID>5</ResourceUID></Assignment>
      <Assignment><UID>3</UID><TaskUID>2</TaskUID><ResourceUID>-65535</ResourceUID></Assignment>
    </Assignments>"""  # fmt: skip
    plan = read_mspdi(project(body))
    assert plan.resources == (
        FileResource(1, "Ann", "ann@x.org", "work"),
        FileResource(2, "Cement", "", "material"),
        FileResource(3, "Travel", "", "cost"),
        FileResource(4, "Fees", "", "cost"),
        FileResource(5, "Bob", "", "work"),
    )
    assert plan.assignments == (FileAssignment(1, 1, 1.5), FileAssignment(1, 5, 1.0))


# What is refused, and how it is said.


@pytest.mark.parametrize("data", [b"", b"hello", b"<Project><Name>x</Project>", b"\xff\xfe<"])
def test_a_file_that_is_not_xml_is_refused(data: bytes) -> None:
    assert refusal(data).startswith("the file is not XML")


@pytest.mark.parametrize(
    "data",
    [
        b"<Tasks/>",
        b"<project/>",
        b'<Project xmlns="http://example.org/project"/>',
        b'<?xml version="1.0"?><html><body>Project</body></html>',
    ],
)
def test_a_file_whose_root_is_not_a_project_is_refused(data: bytes) -> None:
    assert "is not a Microsoft Project XML file" in refusal(data)


def test_an_entity_bomb_is_refused_before_it_expands() -> None:
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">')
    bomb = f'<?xml version="1.0"?><!DOCTYPE Project [{"".join(entities)}]>'
    bomb += f'<Project xmlns="{NS}"><Name>&lol9;</Name></Project>'
    assert "DTD or entities" in refusal(bomb.encode())


def test_an_external_entity_is_refused() -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    xxe += b"<Project><Name>&x;</Name></Project>"
    assert "DTD or entities" in refusal(xxe)
    assert "DTD or entities" in refusal(b"<!DOCTYPE Project><Project/>")


def test_a_task_without_a_uid_is_refused_by_its_place() -> None:
    assert refusal(tasks("<UID>1</UID>", "<Name>Second</Name>")) == (
        "task 2 of the file has no <UID>"
    )
    assert refusal(tasks("<UID> </UID>")) == "task 1 of the file has no <UID>"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<Start>soon</Start>", "task UID 4: <Start> is not a date and time: 'soon'"),
        (
            "<ConstraintDate>2024-13-01T08:00:00</ConstraintDate>",
            "task UID 4: <ConstraintDate> is not a date and time: '2024-13-01T08:00:00'",
        ),
        (
            "<Duration>16 hours</Duration>",
            "task UID 4: <Duration> is not a duration (such as PT16H0M0S): '16 hours'",
        ),
        ("<Work>PT</Work>", "task UID 4: <Work> is not a duration (such as PT16H0M0S): 'PT'"),
        ("<Milestone>yes</Milestone>", "task UID 4: <Milestone> is not 0 or 1: 'yes'"),
        (
            "<OutlineLevel>1.5</OutlineLevel>",
            "task UID 4: <OutlineLevel> is not a whole number: '1.5'",
        ),
        (
            "<ConstraintType>8</ConstraintType>",
            "task UID 4: <ConstraintType> 8 is not one of 0 to 7",
        ),
        (
            "<PercentComplete>half</PercentComplete>",
            "task UID 4: <PercentComplete> is not a number: 'half'",
        ),
        (
            "<PredecessorLink><PredecessorUID>1</PredecessorUID><Type>4</Type></PredecessorLink>",
            "task UID 4, a <PredecessorLink>: <Type> 4 is not one of 0 to 3",
        ),
        (
            "<PredecessorLink><PredecessorUID>1</PredecessorUID><LinkLag>nan</LinkLag></PredecessorLink>",
            "task UID 4, a <PredecessorLink>: <LinkLag> is not a number: 'nan'",
        ),
    ],
)  # fmt: skip
def test_a_bad_value_is_refused_naming_the_task_and_the_element(body: str, message: str) -> None:
    assert refusal(tasks("<UID>4</UID>" + body)) == message


def test_bad_values_elsewhere_are_named_too() -> None:
    calendar = "<Calendars><Calendar><UID>2</UID><WeekDays><WeekDay><DayType>8</DayType>"
    calendar += "</WeekDay></WeekDays></Calendar></Calendars>"
    assert refusal(project(calendar)) == "calendar UID 2: <DayType> 8 is not 0 to 7"
    resource = "<Resources><Resource><UID>3</UID><Type>5</Type></Resource></Resources>"
    assert refusal(project(resource)) == "resource UID 3: <Type> 5 is not one of 0 to 2"
    units = "<Assignments><Assignment><TaskUID>1</TaskUID><ResourceUID>2</ResourceUID>"
    units += "<Units>all</Units></Assignment></Assignments>"
    assert refusal(project(units)) == "assignment 1 of the file: <Units> is not a number: 'all'"
    assert refusal(project("<StartDate>x</StartDate>")) == (
        "the project: <StartDate> is not a date and time: 'x'"
    )


# Writing.

PLAN = FilePlan(
    name="Launch",
    start=datetime(2024, 3, 4, 8),
    calendar_uid=1,
    calendars=(
        FileCalendar(
            1,
            "Standard",
            frozenset({0, 1, 2, 3, 4, 5}),
            (
                CalendarException(date(2024, 12, 24), date(2024, 12, 26), name="Christmas"),
                CalendarException(date(2024, 3, 10), date(2024, 3, 10), working=True),
            ),
        ),
    ),
    tasks=(
        FileTask(
            1,
            1,
            "Design",
            1,
            start=datetime(2024, 3, 4, 8),
            finish=datetime(2024, 3, 5, 17),
            duration_minutes=960,
            work_minutes=480,
            notes="First\r\nthen\x01 second",
            guid="0D5A2B1C-7E0F-4F4B-9A3C-2B0C6F1E9D01",
        ),
        FileTask(
            2,
            2,
            "Build",
            1,
            duration_minutes=2880,
            duration_elapsed=True,
            manual=True,
            constraint=ConstraintKind.FINISH_NO_LATER_THAN,
            constraint_date=datetime(2024, 4, 1, 17),
            predecessors=(
                FileLink(1, LinkKind.FINISH_TO_START, 480.0),
                FileLink(1, LinkKind.START_TO_START, -1440.0, LagUnit.ELAPSED),
                FileLink(1, LinkKind.FINISH_TO_FINISH, 50.0, LagUnit.PERCENT),
            ),
        ),
        FileTask(3, 3, "Tests", 2),
    ),
    resources=(FileResource(4, "Ann", "ann@x.org"), FileResource(5, "Travel", kind="cost")),
    assignments=(FileAssignment(1, 4, 0.25),),
)


def by_day(exception: CalendarException) -> tuple[date, date]:
    return exception.starts, exception.ends


def children(element: Element) -> list[str]:
    return [child.tag.removeprefix("{" + NS + "}") for child in element]


def in_order_of(written: list[str], order: list[str]) -> bool:
    """`written` (the elements of `order` among them) in the order `order` gives."""
    known = [order.index(tag) for tag in written if tag in order]
    return known == sorted(known)


# The task elements the writer writes, in the order of the schema (mspdi_pj14).
TASK_ORDER = [
    "UID", "GUID", "ID", "Name", "Active", "Manual", "Type", "IsNull", "OutlineNumber",
    "OutlineLevel", "Start", "Finish", "Duration", "ManualStart", "ManualFinish",
    "ManualDuration", "DurationFormat", "Work", "Recurring", "Milestone", "Summary",
    "PercentComplete", "ActualStart", "ActualFinish", "ConstraintType", "ConstraintDate",
    "Notes", "PredecessorLink",
]  # fmt: skip


def test_the_writer_writes_the_elements_in_the_schemas_order() -> None:
    data = write_mspdi(PLAN)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Project')
    root = fromstring(data)
    assert root.tag == f"{{{NS}}}Project"
    assert children(root) == [
        "SaveVersion", "Name", "ScheduleFromStart", "StartDate", "CurrencyCode", "CalendarUID",
        "DefaultStartTime", "DefaultFinishTime", "MinutesPerDay", "MinutesPerWeek",
        "Calendars", "Tasks", "Resources", "Assignments",
    ]  # fmt: skip
    summary, design, build, _ = root.iterfind(f"{{{NS}}}Tasks/{{{NS}}}Task")
    assert children(build) == [
        "UID", "ID", "Name", "Active", "Manual", "Type", "IsNull", "OutlineNumber",
        "OutlineLevel", "Duration", "ManualDuration", "DurationFormat", "Work", "Recurring",
        "Milestone", "Summary", "PercentComplete", "ConstraintType", "ConstraintDate",
        "PredecessorLink", "PredecessorLink", "PredecessorLink",
    ]  # fmt: skip
    for task in (summary, design, build):
        assert in_order_of(children(task), TASK_ORDER)
    # The order MS Project 2010 itself wrote (a sample file) agrees.
    saved = fromstring((SAMPLES / "resource-type-project2010-mspdi.xml").read_bytes())
    saved_task = saved.find(f"{{{NS}}}Tasks/{{{NS}}}Task")
    assert saved_task is not None
    assert in_order_of(children(build), children(saved_task))
    assert in_order_of(children(design), children(saved_task))
    assert in_order_of(children(root), children(saved))
    calendar = root.find(f"{{{NS}}}Calendars/{{{NS}}}Calendar")
    saved_calendar = saved.find(f"{{{NS}}}Calendars/{{{NS}}}Calendar")
    assert calendar is not None
    assert saved_calendar is not None
    assert in_order_of(children(calendar), children(saved_calendar))


def test_the_writer_adds_the_project_summary_task() -> None:
    root = fromstring(write_mspdi(PLAN))
    summary = root.find(f"{{{NS}}}Tasks/{{{NS}}}Task")
    assert summary is not None
    values = {tag: child.text for tag, child in zip(children(summary), summary, strict=True)}
    assert values["UID"] == values["ID"] == values["OutlineLevel"] == "0"
    assert (values["Name"], values["Summary"], values["Start"]) == (
        "Launch",
        "1",
        "2024-03-04T08:00:00",
    )
    plan = read_mspdi(write_mspdi(PLAN))
    assert [(t.uid, t.outline_number) for t in plan.tasks] == [
        (0, "0"),
        (1, "1"),
        (2, "2"),
        (3, "2.1"),
    ]


def test_the_writer_writes_links_lags_calendar_and_resources_as_ms_project_does() -> None:
    text = write_mspdi(PLAN).decode()
    for link in (
        "<Type>1</Type><CrossProject>0</CrossProject><LinkLag>4800</LinkLag><LagFormat>7</LagFormat>",
        "<Type>3</Type><CrossProject>0</CrossProject><LinkLag>-14400</LinkLag><LagFormat>8</LagFormat>",
        "<Type>0</Type><CrossProject>0</CrossProject><LinkLag>50</LinkLag><LagFormat>19</LagFormat>",
    ):
        assert link in "".join(text.split())
    flat = "".join(text.split())
    assert (
        "<Duration>PT48H0M0S</Duration><ManualDuration>PT48H0M0S</ManualDuration><DurationFormat>8</DurationFormat>"
        in flat
    )
    assert (
        "<Duration>PT16H0M0S</Duration><DurationFormat>7</DurationFormat><Work>PT8H0M0S</Work>"
        in flat
    )
    # Saturday (7) works; the exceptions sorted, to the last minute of their last day.
    assert "<DayType>1</DayType><DayWorking>0</DayWorking>" in flat
    assert "<DayType>7</DayType><DayWorking>1</DayWorking><WorkingTimes>" in flat
    assert flat.index("2024-03-10T00:00:00") < flat.index("2024-12-24T00:00:00")
    assert "<FromDate>2024-12-24T00:00:00</FromDate><ToDate>2024-12-26T23:59:00</ToDate>" in flat
    assert (
        "<Name>Travel</Name><Type>0</Type><IsNull>0</IsNull><IsCostResource>1</IsCostResource>"
        in flat
    )
    assert (
        "<Name>Ann</Name><Type>1</Type><IsNull>0</IsNull><EmailAddress>ann@x.org</EmailAddress>"
        in flat
    )
    assert "<TaskUID>1</TaskUID><ResourceUID>4</ResourceUID><Units>0.25</Units>" in flat
    # A character XML cannot hold is left out; a carriage return is kept.
    assert "<Notes>First&#13;\nthen second</Notes>" in text
    assert read_mspdi(text.encode()).tasks[1].notes == "First\r\nthen second"
    # A plan without a calendar gets MS Project's Standard one, Monday to Friday.
    plain = read_mspdi(write_mspdi(FilePlan("Bare")))
    assert plain.calendars == (FileCalendar(1, "Standard"),)
    assert (plain.calendar_uid, plain.start, plain.save_version) == (1, None, SAVE_VERSION)


# The round trip: a plan that holds only what the writer writes reads back as it was.


def test_a_written_plan_reads_back_as_it_was() -> None:
    calendar = replace(PLAN.calendars[0], uid=7, name="Shop", working_weekdays=frozenset({1, 2}))
    plan = replace(
        PLAN,
        calendar_uid=7,
        minutes_per_day=450,
        minutes_per_week=2250,
        calendars=(replace(calendar, exceptions=tuple(sorted(calendar.exceptions, key=by_day))),),
        tasks=(
            FileTask(0, 0, "Launch", 0, summary=True, duration_minutes=0, work_minutes=0),
            *(
                replace(
                    task,
                    notes="n",
                    duration_minutes=task.duration_minutes or 0,
                    work_minutes=task.work_minutes or 0,
                )
                for task in PLAN.tasks
            ),
        ),
        resources=(*PLAN.resources, FileResource(6, "Sand", kind="material")),
        assignments=(*PLAN.assignments, FileAssignment(2, 6, 1e-05)),
        save_version=SAVE_VERSION,
        extra={"Title": "The launch", "Author": "Ann", "Company": "Acme"},
    )
    plan = replace(
        plan,
        tasks=tuple(
            replace(task, outline_number=number)
            for task, number in zip(plan.tasks, ["0", "1", "2", "2.1"], strict=True)
        ),
    )
    assert read_mspdi(write_mspdi(plan)) == plan
    # What the writer fills in (outline numbers, no duration) reads back filled in.
    bare = replace(plan, tasks=tuple(replace(task, outline_number="") for task in plan.tasks))
    assert read_mspdi(write_mspdi(bare)).tasks == plan.tasks


XML_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")) | st.sampled_from("\t\n\r"),
    max_size=12,
)
NAMES = XML_TEXT.filter(bool)
MOMENTS = st.datetimes(datetime(1990, 1, 1), datetime(2100, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
DAYS = st.dates(date(1990, 1, 1), date(2100, 12, 31))


@st.composite
def links(draw: st.DrawFn, uids: list[int]) -> FileLink:
    unit = draw(st.sampled_from(LagUnit))
    if unit == LagUnit.PERCENT:
        lag = float(draw(st.integers(-100, 1000)))
    else:
        lag = draw(st.integers(-(10**7), 10**7)) / 10
    return FileLink(draw(st.sampled_from(uids)), draw(st.sampled_from(LinkKind)), lag, unit)


@st.composite
def task(draw: st.DrawFn, uid: int, level: int, uids: list[int]) -> FileTask:
    return FileTask(
        uid=uid,
        id=uid,
        name=draw(XML_TEXT),
        outline_level=level,
        summary=draw(st.booleans()),
        milestone=draw(st.booleans()),
        notes=draw(XML_TEXT),
        start=draw(st.none() | MOMENTS),
        finish=draw(st.none() | MOMENTS),
        duration_minutes=draw(st.integers(0, 10**6)),
        work_minutes=draw(st.integers(0, 10**6)),
        percent_complete=draw(st.integers(0, 100)),
        actual_start=draw(st.none() | MOMENTS),
        actual_finish=draw(st.none() | MOMENTS),
        constraint=draw(st.sampled_from(ConstraintKind)),
        constraint_date=draw(st.none() | MOMENTS),
        predecessors=tuple(draw(st.lists(links(uids), max_size=3))),
        recurring=draw(st.booleans()),
        guid=draw(st.none() | st.uuids().map(lambda u: str(u).upper())),
        null=draw(st.booleans()),
        active=draw(st.booleans()),
        manual=draw(st.booleans()),
        outline_number=draw(
            st.from_regex(r"[1-9][0-9]{0,2}(\.[1-9][0-9]{0,2}){0,3}", fullmatch=True)
        ),
        duration_elapsed=draw(st.booleans()),
    )


@st.composite
def plans(draw: st.DrawFn) -> FilePlan:
    name = draw(NAMES)
    count = draw(st.integers(0, 6))
    uids = list(range(count + 1))
    summary = draw(task(0, 0, uids))
    tasks = [summary] + [draw(task(uid, draw(st.integers(1, 4)), uids)) for uid in uids[1:]]
    spans = draw(st.lists(st.tuples(DAYS, st.integers(0, 30), st.booleans(), XML_TEXT), max_size=4))
    exceptions = sorted(
        (
            CalendarException(start, start + timedelta(days=length), working, label)
            for start, length, working, label in spans
        ),
        key=by_day,
    )
    calendar_uid = draw(st.integers(1, 1000))
    calendar = FileCalendar(
        calendar_uid, draw(NAMES), draw(st.frozensets(st.integers(0, 6))), tuple(exceptions)
    )
    resource_uids = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=4))
    resources = tuple(
        FileResource(
            uid, draw(NAMES), draw(XML_TEXT), draw(st.sampled_from(["work", "material", "cost"]))
        )
        for uid in resource_uids
    )
    assigned = draw(st.lists(st.sampled_from(resource_uids), max_size=4)) if resource_uids else []
    assignments = tuple(
        FileAssignment(draw(st.sampled_from(uids)), uid, draw(st.floats(0, 100)))
        for uid in assigned
    )
    return FilePlan(
        name=name,
        start=draw(st.none() | MOMENTS),
        calendar_uid=calendar_uid,
        minutes_per_day=draw(st.integers(1, 1440)),
        minutes_per_week=draw(st.integers(1, 10080)),
        calendars=(calendar,),
        tasks=tuple(tasks),
        resources=resources,
        assignments=assignments,
        save_version=SAVE_VERSION,
        extra=draw(st.dictionaries(st.sampled_from(EXTRA), NAMES)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_any_plan_of_what_is_written_reads_back_as_it_was(plan: FilePlan) -> None:
    assert read_mspdi(write_mspdi(plan)) == plan


# Files MS Project saved (MPXJ's test data: see tests/data/msproject/README.md).


def test_a_plan_project_2003_saved_reads_with_its_links() -> None:
    plan = read_mspdi((SAMPLES / "task-links-project2003-mspdi.xml").read_bytes())
    assert (plan.name, plan.save_version, plan.start) == (
        "task-links-project2003-mspdi.xml", None, datetime(2014, 10, 17, 8)
    )  # fmt: skip
    assert len(plan.tasks) == 17  # 16 and the project summary task
    assert plan.calendars == (FileCalendar(1, "Standard"),)
    links_read = [(task.uid, task.predecessors) for task in plan.tasks if task.predecessors]
    fs, day = LinkKind.FINISH_TO_START, 480.0
    assert links_read == [
        (2, (FileLink(1, fs, 0.0),)),
        (4, (FileLink(3, fs, day),)),
        (6, (FileLink(5, fs, 2 * day),)),
        (8, (FileLink(7, fs, 5 * day),)),  # a week
        (10, (FileLink(9, fs, 10 * day),)),
        (12, (FileLink(11, LinkKind.START_TO_FINISH, 2 * day),)),
        (14, (FileLink(13, LinkKind.START_TO_START, 2 * day),)),
        (16, (FileLink(15, LinkKind.FINISH_TO_FINISH, 2 * day),)),
    ]
    assert {task.duration_minutes for task in plan.tasks[1:]} == {480}
    assert (plan.resources, plan.assignments) == ((), ())  # all to no resource


def test_a_plan_project_2010_saved_reads_with_its_resources() -> None:
    plan = read_mspdi((SAMPLES / "resource-type-project2010-mspdi.xml").read_bytes())
    assert (plan.save_version, plan.calendar_uid, plan.extra) == (14, 1, {"Author": "Project User"})
    assert [task.uid for task in plan.tasks] == [0]
    assert len(plan.calendars) == 16  # Standard, and each resource's own derived from it
    assert [(c.uid, c.name, c.base, c.base_uid) for c in plan.calendars[:2]] == [
        (1, "Standard", True, None),
        (3, "Cost Resource 1", False, 1),
    ]
    assert {c.base_uid for c in plan.calendars[1:]} == {1}
    assert {c.working_weekdays for c in plan.calendars} == {frozenset(range(5))}
    kinds = [resource.kind for resource in plan.resources]
    assert kinds == ["cost"] * 5 + ["material"] * 5 + ["work"] * 5  # not the blank UID 0
    assert plan.resources[0] == FileResource(1, "Cost Resource 1", "", "cost")

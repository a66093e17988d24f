"""MPP and MPT plans through the `msproject` extra: MPXJ, on a real Java runtime through
JPype, reads the file and writes MSPDI, which the one importer reads. Without the extra an
MPP file is refused with what to install; a file MPXJ cannot read is a clear 422.

(`make test` installs the extra and `.ci/run` a headless Java runtime, so these run.)"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from commands.msproject.export import ExportFolder, ExportLink, ExportTask, project_plan
from commands.msproject.mpp import available, mpp_to_mspdi
from commands.msproject.mspdi import read_mspdi, write_mspdi
from commands.msproject.plan_files import OLE2, read_plan_file
from domain.errors import InvalidValueError
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind

SAMPLE = Path(__file__).parents[1] / "data" / "msproject" / "task-links-project2003-mspdi.xml"


def test_this_install_reads_plans_through_mpxj() -> None:
    assert available(), (
        "MPP plans cannot be read: install a Java runtime (apt-get install"
        " default-jre-headless); make test installs the msproject extra"
    )


def test_mpxj_converts_a_plan_to_the_same_mspdi_plan() -> None:
    """MPXJ reads whatever plan it is given (here the sample Project 2003 saved) and
    writes MSPDI: the same tasks and links come out."""
    original = read_mspdi(SAMPLE.read_bytes())
    converted = read_mspdi(mpp_to_mspdi(SAMPLE.read_bytes()))

    def shape(plan: object) -> list[tuple[object, ...]]:
        return [
            (t.uid, t.name, t.outline_level, t.start, t.finish,
             tuple((k.predecessor_uid, k.kind, k.lag, k.lag_unit) for k in t.predecessors))
            for t in plan.tasks  # type: ignore[attr-defined]
            if t.outline_level > 0
        ]  # fmt: skip

    assert len(shape(converted)) == 16
    assert shape(converted) == shape(original)


def test_a_binary_file_mpxj_cannot_read_is_a_clear_problem() -> None:
    with pytest.raises(InvalidValueError) as refused:
        read_plan_file(OLE2 + b"\0" * 2048)
    assert "MPXJ" in str(refused.value)
    assert refused.value.field == "file"


def test_without_the_extra_an_mpp_file_says_what_to_install() -> None:
    """A process where JPype cannot be imported (the extra not installed)."""
    script = (
        "import sys\n"
        "sys.modules['jpype'] = None\n"  # `import jpype` raises ImportError
        "from commands.msproject.mpp import UnsupportedPlanFormatError\n"
        "from commands.msproject.plan_files import OLE2, read_plan_file\n"
        "try:\n"
        "    read_plan_file(OLE2 + bytes(600))\n"
        "except UnsupportedPlanFormatError as error:\n"
        "    print(error)\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert "pip install 'ledgerdesk[msproject]'" in done.stdout
    assert "the msproject extra is not installed" in done.stdout


def test_mpxj_reads_an_exported_project_whole() -> None:
    """A plan as the export writes it (folders as summaries, a parent task, links of every
    kind, constraints, a milestone), read by MPXJ — another reader than ours — and written
    back: the same outline, dates and links come out."""
    folder = ExportFolder("f1", "Phase <1> & more", None)
    day = date(2027, 3, 1)
    tasks = [
        ExportTask(1, "Parent", "f1", None, day, day + timedelta(days=4), 5, False, 20, 40.0,
                   ConstraintKind.AS_SOON_AS_POSSIBLE, None, day, None, ()),
        ExportTask(2, "Child", "f1", 1, day, day + timedelta(days=1), 2, False, 0, None,
                   ConstraintKind.START_NO_EARLIER_THAN, day, None, None, ()),
        ExportTask(3, "Gate", None, None, day + timedelta(days=7), day + timedelta(days=7), 0,
                   True, 0, None, ConstraintKind.MUST_START_ON, day + timedelta(days=7), None,
                   None, ()),
    ]  # fmt: skip
    links = [
        ExportLink(2, 3, LinkKind.FINISH_TO_START, 2),
        ExportLink(1, 3, LinkKind.FINISH_TO_FINISH, -1),
    ]
    written = write_mspdi(project_plan("Export", [folder], tasks, links, []))
    ours, theirs = read_mspdi(written), read_mspdi(mpp_to_mspdi(written))

    def shape(plan: object) -> list[tuple[object, ...]]:
        return [
            (t.name, t.outline_level, t.summary, t.milestone, t.start, t.finish, t.constraint,
             t.constraint_date, tuple((k.predecessor_uid, k.kind, k.lag) for k in t.predecessors))
            for t in plan.tasks  # type: ignore[attr-defined]
            if t.outline_level > 0
        ]  # fmt: skip

    assert [row[0] for row in shape(theirs)] == ["Phase <1> & more", "Parent", "Child", "Gate"]
    assert shape(theirs) == shape(ours)

"""MPP and MPT files, through the optional extra `pip install 'ledgerdesk[msproject]'`: the
MPXJ library (its Python package runs it on a Java runtime through JPype) reads the binary
file and writes it as MSPDI XML, which the one importer reads.

Without the extra, or without a Java runtime, an MPP file is refused with what to install.
The Java virtual machine starts once per process, on the first MPP file, and stays.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from commands.msproject.mpp_recurrence import recurrences_of
from domain.errors import DomainError, InvalidValueError
from domain.msproject.plan import FileRecurrence

INSTALL = (
    "an MPP or MPT file needs the msproject extra: pip install 'ledgerdesk[msproject]'"
    " and a Java runtime (e.g. apt-get install default-jre-headless); or save the plan"
    " from Microsoft Project as XML and send that"
)
_started = threading.Lock()


class UnsupportedPlanFormatError(DomainError):
    """Raised for an MPP or MPT file when this install cannot read one (what to install)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{INSTALL} ({reason})")


class ProtectedPlanError(InvalidValueError):
    def __init__(self) -> None:
        super().__init__(
            "file",
            "the plan is protected by a password: save it without one in Microsoft Project"
            " and send it again",
        )


def _jvm() -> Any:
    """JPype with the JVM started and MPXJ on its class path."""
    try:
        import jpype
        import mpxj  # noqa: F401 - puts MPXJ's jars on JPype's class path
    except ImportError:
        raise UnsupportedPlanFormatError("the msproject extra is not installed") from None
    with _started:
        if not jpype.isJVMStarted():
            try:
                jpype.startJVM(convertStrings=True)
            except (jpype.JVMNotFoundException, OSError) as error:
                raise UnsupportedPlanFormatError(f"no Java runtime: {error}") from None
    return jpype


def available() -> bool:
    """Whether this install reads MPP and MPT files."""
    try:
        _jvm()
    except UnsupportedPlanFormatError:
        return False
    return True


def mpp_to_mspdi(data: bytes) -> bytes:
    """The MPP or MPT file `data` as MSPDI XML."""
    return mpp_plan(data)[0]


def mpp_plan(data: bytes) -> tuple[bytes, dict[int, FileRecurrence | None]]:
    """The MPP or MPT file `data` as MSPDI XML, and its recurring tasks' patterns by UID
    (which MSPDI does not hold: `commands.msproject.mpp_recurrence`)."""
    jpype = _jvm()
    reader_class = jpype.JClass("org.mpxj.reader.UniversalProjectReader")
    writer_class = jpype.JClass("org.mpxj.mspdi.MSPDIWriter")
    with tempfile.TemporaryDirectory(prefix="ledgerdesk-mpp-") as folder:
        source, target = Path(folder) / "plan.mpp", Path(folder) / "plan.xml"
        source.write_bytes(data)
        try:
            project = reader_class().read(str(source))
        except jpype.JException as error:
            message = str(error)
            if "password" in message.lower() or "encrypt" in message.lower():
                raise ProtectedPlanError from None
            raise InvalidValueError("file", f"not a plan MPXJ can read: {message}") from None
        if project is None:
            raise InvalidValueError("file", "not a Microsoft Project file MPXJ can read")
        writer_class().write(project, str(target))
        patterns = recurrences_of(project, jpype.JClass("java.time.DayOfWeek"))
        return target.read_bytes(), patterns

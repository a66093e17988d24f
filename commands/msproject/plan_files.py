"""A plan file as sent: MS Project XML (MSPDI) is read as it is; an MPP or MPT file (an OLE2
compound file) is first converted to MSPDI by the optional `msproject` extra
(`commands.msproject.mpp`)."""

from __future__ import annotations

from commands.msproject.mpp import mpp_plan
from commands.msproject.mspdi import read_mspdi
from domain.msproject.plan import FilePlan

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # MPP, MPT (and other Office binary files)


def is_binary_plan(data: bytes) -> bool:
    return data.startswith(OLE2)


def read_plan_file(data: bytes) -> FilePlan:
    """The plan a file holds (raises `MspdiError`, `UnsupportedPlanFormatError` or
    `ProtectedPlanError`, each naming what is wrong)."""
    if is_binary_plan(data):
        xml, patterns = mpp_plan(data)
        return read_mspdi(xml).with_recurrences(patterns)
    return read_mspdi(data)

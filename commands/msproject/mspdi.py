"""Microsoft Project XML (MSPDI, the Project XML Data Interchange format): the plan a file
holds (`read_mspdi`) and a plan as a file (`write_mspdi`), a pure codec over
`domain.msproject.plan`. Reading is in `mspdi_read`, writing in `mspdi_write`, calendars in
`mspdi_calendars`, the format's codes and value forms in `mspdi_format`."""

from __future__ import annotations

from commands.msproject.mspdi_format import SAVE_VERSION, MspdiError
from commands.msproject.mspdi_read import read_mspdi
from commands.msproject.mspdi_write import write_mspdi

__all__ = ["SAVE_VERSION", "MspdiError", "read_mspdi", "write_mspdi"]

"""A report's CSV or XLSX attachment, streamed from its rows a chunk at a time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import chain
from typing import Any

from fastapi import Response
from starlette.responses import StreamingResponse

from projections.reports.export import csv_blocks, file_blocks, xlsx_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES: dict[str, dict[str, object]] = {"text/csv": {}, XLSX: {}}


def attachment(
    response: Response,
    name: str,
    output: str,
    columns: list[str],
    chunks: Iterator[list[dict[str, Any]]],
) -> StreamingResponse:
    """`name`.csv or `name`.xlsx of every row `chunks` gives, with the headers the route
    set on `response`. The first chunk is read now: a failure is a problem response, not a
    cut-off download."""
    rows = chain.from_iterable(chain([next(chunks)], chunks))
    headers = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    headers["Content-Disposition"] = f'attachment; filename="{name}.{output}"'
    if output == "csv":
        return StreamingResponse(
            csv_blocks(columns, rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    workbook = xlsx_file(columns, rows)
    headers["Content-Length"] = str(workbook.seek(0, io.SEEK_END))
    workbook.seek(0)
    return StreamingResponse(file_blocks(workbook), media_type=XLSX, headers=headers)

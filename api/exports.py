"""A report's CSV, XLSX or PDF attachment, streamed from its rows a chunk at a time."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from fastapi import Response
from starlette.responses import StreamingResponse

from api.deps import Services
from projections.reports.export import csv_blocks, file_blocks, xlsx_file
from projections.reports.pdf import Brand, pdf_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
EXPORT_TYPES: dict[str, dict[str, object]] = {"text/csv": {}, XLSX: {}}


@dataclass(frozen=True)
class PdfPage:
    """How a report prints: its brand, title, what was asked, and wider columns."""

    brand: Brand
    title: str
    subtitle: str
    weights: dict[str, float] = field(default_factory=dict)


def brand_of(svc: Services) -> Brand:
    """The company's brand, for a printed report: its name, colour and uploaded logo."""
    return Brand(*svc.mail_out.brand())


def attachment(
    response: Response,
    name: str,
    output: str,
    columns: list[str],
    chunks: Iterator[list[dict[str, Any]]],
    pdf: PdfPage | None = None,
    chart: dict[str, Any] | None = None,
) -> StreamingResponse:
    """`name`.csv, `name`.xlsx or (with `pdf`) `name`.pdf of every row `chunks` gives,
    with the headers the route set on `response` (the PDF with `chart` before its table).
    The first chunk is read now: a failure is a problem response, not a cut-off download."""
    rows = chain.from_iterable(chain([next(chunks)], chunks))
    headers = {
        k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")
    }
    headers["Content-Disposition"] = f'attachment; filename="{name}.{output}"'
    if output == "csv":
        return StreamingResponse(
            csv_blocks(columns, rows), media_type="text/csv; charset=utf-8", headers=headers
        )
    if output == "pdf" and pdf is not None:
        made, media_type = (
            pdf_file(pdf.brand, pdf.title, pdf.subtitle, columns, rows, pdf.weights, chart),
            PDF,
        )
    else:
        made, media_type = xlsx_file(columns, rows), XLSX
    headers["Content-Length"] = str(made.seek(0, io.SEEK_END))
    made.seek(0)
    return StreamingResponse(file_blocks(made), media_type=media_type, headers=headers)

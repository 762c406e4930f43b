"""A full-size CBI workbook: the fixture's 18 yearly sheets, every one filled with daily rows.

The real fixture trims 2012–2017 to their headers; here each of those gets the daily rows
of the nearest full year before it (same layout, year cells rewritten), so the file is as
big as the CBI's own when every year is present.
"""

from __future__ import annotations

import io

import openpyxl

from tests.upstream import fixture

FULL_ROWS = 100  # a sheet with fewer rows is one of the fixture's trimmed years


def full_workbook(edition: int = 0) -> bytes:
    """``edition`` changes the newest sheet's title: other bytes, the same quotes."""
    book = openpyxl.load_workbook(io.BytesIO(fixture("cbi_major_currencies_and_gold.xlsx")))
    if edition:
        title = book.worksheets[-1].cell(row=1, column=1)
        title.value = f"{title.value} ({edition})"
    donor = None
    for sheet in book.worksheets:
        if sheet.max_row >= FULL_ROWS:
            donor = sheet
            continue
        if donor is None:
            continue
        year = int(sheet.title.strip())
        donor_year = int(donor.title.strip())
        for row in donor.iter_rows():
            for cell in row:
                value = cell.value
                if value == donor_year:
                    value = year
                elif isinstance(value, str) and str(donor_year) in value:
                    value = value.replace(str(donor_year), str(year))
                sheet.cell(row=cell.row, column=cell.column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def describe(payload: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(payload), read_only=True)
    rows = sum(sheet.max_row or 0 for sheet in book.worksheets)
    return f"{len(book.sheetnames)} yearly sheets, {rows} rows, {len(payload) / 1e6:.2f} MB"

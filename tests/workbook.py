"""A full-size CBI workbook built in test code from the two real layouts.

The fixture workbook was trimmed by its earlier publisher: only January 2024 and
January–February 2026 hold days. :func:`build` makes one sheet per year from 2009 on,
each with every day of the year, as the CBI types them: month rows, day numbers 1–31 for
every month, empty weekend rows, a holiday with text, ``Average`` rows. Years before 2025
use the 2024 layout (Buy and Sell, gold in column AD, codes on their own row, ``S.FR``
and ``UAE``); 2025 on use the 2026 layout (Buy, Sell and Sell 2, codes inside the names,
gold in column BG). The dollar moves partway through 2020 and 2023, as it did.

The builder also returns what it wrote (:class:`Built`), so tests and the bench compare
the adapter's reading with numbers that never went through it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import openpyxl

OLD_CODES = ["USD", "EUR", "GBP", "CAD", "S.FR", "SEK", "NOK", "DKK", "JPY", "CNY", "UAE", "JOD", "AUD", "SDR"]
NEW_CODES = [
    "USD", "EUR", "GBP", "CAD", "CHF", "SEK", "NOK", "DKK", "JPY", "CNY",
    "AED", "JOD", "AUD", "SAR", "OMR", "INR", "TRY", "QAR", "SDR",
]  # fmt: skip
ISO = {"S.FR": "CHF", "UAE": "AED"}
BASE = {
    "EUR": "1.1", "GBP": "1.3", "CAD": "0.75", "CHF": "1.05", "SEK": "0.1", "NOK": "0.1", "DKK": "0.15",
    "JPY": "0.0075", "CNY": "0.14", "AED": "0.2723", "JOD": "1.41", "AUD": "0.7", "SAR": "0.2667",
    "OMR": "2.6", "INR": "0.012", "TRY": "0.03", "QAR": "0.2747", "SDR": "1.36",
}  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
THOUSANDTH = Decimal("0.001")


def dollar(day: date) -> tuple[Decimal, Decimal]:
    """The CBI's buy and sell for one dollar on ``day``: 1182/1190, then 1450/1460, then 1300/1310."""
    if day < date(2020, 12, 20):
        return Decimal(1182), Decimal(1190)
    if day < date(2023, 2, 8):
        return Decimal(1450), Decimal(1460)
    return Decimal(1300), Decimal(1310)


def working(day: date) -> bool:
    """Iraq's weekend is Friday and Saturday; 1 January is a holiday."""
    return day.weekday() not in (4, 5) and (day.month, day.day) != (1, 1)


@dataclass
class Built:
    payload: bytes
    # day → code → (buy, sell, sell2 or None); gold as ``XAU`` → (ounce, None, None).
    days: dict[date, dict[str, tuple[Decimal, Decimal | None, Decimal | None]]] = field(default_factory=dict)


def quote(code: str, day: date, new_layout: bool) -> tuple[Decimal, Decimal, Decimal | None]:
    usd_buy, usd_sell = dollar(day)
    if code == "USD":
        buy, sell = usd_buy, usd_sell
    else:
        wobble = 1 + Decimal(day.toordinal() % 97) / 10000
        sell = (usd_sell * Decimal(BASE[code]) * wobble).quantize(THOUSANDTH)
        buy = (sell * Decimal("0.993")).quantize(THOUSANDTH)
    return buy, sell, (sell + sell - buy if new_layout else None)


def gold(day: date) -> Decimal:
    return (Decimal(1_500_000) + Decimal(day.toordinal() - 733_000) * Decimal("1234.56")).quantize(Decimal("0.01"))


def build(first_year: int = 2009, last: date = date(2026, 2, 26)) -> Built:
    book = openpyxl.Workbook(write_only=True)
    built = Built(b"")
    for year in range(first_year, last.year + 1):
        sheet = book.create_sheet(str(year))
        new_layout = year >= 2025
        for row in _sheet(year, last, new_layout, built):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    built.payload = out.getvalue()
    return built


def _sheet(year: int, last: date, new_layout: bool, built: Built) -> list[list[object]]:
    codes = NEW_CODES if new_layout else OLD_CODES
    width = 3 if new_layout else 2
    gold_col = 1 + width * len(codes)  # 2024: 29 (AD); 2026: 58 (BG)
    names: list[object] = ["Date"] + [None] * gold_col
    code_row: list[object] = [None] * (gold_col + 1)
    labels: list[object] = [year]
    for index, code in enumerate(codes):
        col = 1 + width * index
        if new_layout:
            names[col] = f"name {code}"
        else:
            names[col], code_row[col] = "name", code
        labels += ["  Buy      ID   ", " Sell    ID  ", " Sell  ID 2 "][:width]
    names[gold_col], code_row[gold_col] = "الذهب للاونسة ", "Gold"
    rows: list[list[object]] = [["أسعار صرف الدينار العراقي اليومية"], ["Daily Exchange Rate"], names, code_row, labels]
    for month in range(1, 13):
        rows.append([f"{MONTHS[month - 1]}. {year}"])
        for number in range(1, 32):
            rows.append(_day_row(year, month, number, last, codes, width, gold_col, built))
        rows.append(["Average"])
    return rows


def _day_row(
    year: int, month: int, number: int, last: date, codes: list[str], width: int, gold_col: int, built: Built
) -> list[object]:
    try:
        day = date(year, month, number)
    except ValueError:
        return [number]  # the sheet lists 29–31 for every month
    if (month, number) == (1, 1):
        return [number, None, None, "اعياد رأس السنة الميلادية "]
    if day > last or not working(day):
        return [number]
    row: list[object] = [number] + [None] * gold_col
    written: dict[str, tuple[Decimal, Decimal | None, Decimal | None]] = {}
    for index, code in enumerate(codes):
        iso = ISO.get(code, code)
        if iso == "QAR":
            continue  # its columns stay empty, as in 2026
        buy, sell, sell2 = quote(iso, day, width == 3)
        col = 1 + width * index
        row[col], row[col + 1] = float(buy), float(sell)
        if sell2 is not None:
            row[col + 2] = float(sell2)
        if iso != "SDR":
            written[iso] = (buy, sell, sell2)
    ounce = gold(day)
    row[gold_col] = float(ounce)
    written["XAU"] = (ounce, None, None)
    built.days[day] = written
    return row


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]

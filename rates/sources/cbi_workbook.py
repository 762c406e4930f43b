"""The CBI's workbook of daily rates: one sheet per year, typed by hand.

Under a title, a header row names each currency with its ISO code, a labels row marks
each currency's columns ``Buy ID`` / ``Sell ID`` / ``Sell ID 2``, and column A below
holds month rows, day numbers and ``Average`` rows. Numbers are IQD per one unit of the
currency. The layout drifts from year to year, so everything is found by its label,
never by a fixed cell address. Pure: bytes in, quotes out.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from rates.models import Quote

Column = Literal["buy", "sell", "sell2", "mid"]
Row = tuple[object, ...]

# A code is three capitals standing alone: 'الدولار الأمريكي USD ', 'Qatari Rial  QAR'.
_CODE = re.compile(r"(?<![A-Za-z])[A-Z]{3}(?![A-Za-z])")
# Older sheets write these two by country or by an old abbreviation.
_ALIASES = {"UAE": "AED", "S.FR": "CHF"}
# The sheet also quotes special drawing rights and precious metals: not currencies.
_NOT_CURRENCIES = frozenset({"SDR", "XDR", "XAU", "XAG", "XPT", "XPD"})
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_MONTH_ROW = re.compile(r"^([A-Za-z]{3})[A-Za-z]*\.?\s*(\d{4})?$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


class UnreadableWorkbook(Exception):
    """The workbook is not what the CBI publishes; the message is the one-line reason."""


def read_quotes(payload: bytes, column: Column) -> tuple[int, tuple[Quote, ...]]:
    """The quotes of the latest dated day row with numbers, from the newest year's sheet.

    In the first days of January the CBI may add the new year's sheet before it has any
    numbers (or even headers): then the year before still holds the latest rates.
    """
    (year, rows), *older = _read_recent_sheets(payload)
    try:
        quotes = _Sheet.read(rows, year).quotes(column)
    except UnreadableWorkbook:
        if not older:
            raise
        quotes = ()
    if quotes or not older:
        return year, quotes
    previous, previous_rows = older[0]
    try:
        return previous, _Sheet.read(previous_rows, previous).quotes(column)
    except UnreadableWorkbook:
        return year, ()


def _read_recent_sheets(payload: bytes, count: int = 2) -> list[tuple[int, list[Row]]]:
    """The year and rows of the newest ``count`` year sheets, newest first, trailing blanks trimmed."""
    import openpyxl  # here, not at the top: importing it is a third of the service's start-up

    try:
        book = openpyxl.load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    except Exception as exc:  # a damaged file raises zip, zlib, XML, KeyError... alike
        reason = f"the payload is not a readable XLSX workbook ({_describe(exc)})"
        raise UnreadableWorkbook(reason) from None
    try:
        years = {int(name.strip()): name for name in book.sheetnames if name.strip().isdigit()}
        if not years:
            raise UnreadableWorkbook("the workbook has no sheet named after a year")
        # Rows are read in full here so a damaged sheet fails as unreadable, not mid-scan.
        return [
            (year, [_trim(row) for row in book[years[year]].iter_rows(values_only=True)])
            for year in sorted(years, reverse=True)[:count]
        ]
    except UnreadableWorkbook:
        raise
    except Exception as exc:  # see above: sheet data is decompressed lazily
        raise UnreadableWorkbook(f"the workbook cannot be read ({_describe(exc)})") from None
    finally:
        book.close()


def _describe(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _trim(row: Row) -> Row:
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


@dataclass
class _Group:
    """The columns of one currency: role (``buy``/``sell``/``sell2``) → column index."""

    columns: dict[str, int]

    @property
    def first(self) -> int:
        return min(self.columns.values())

    @property
    def last(self) -> int:
        return max(self.columns.values())


@dataclass(frozen=True)
class _Currency:
    code: str
    group: _Group

    def numbers(self, row: Row) -> dict[str, Decimal]:
        cells = {role: _number(_cell(row, col)) for role, col in self.group.columns.items()}
        return {role: number for role, number in cells.items() if number is not None}

    def has_text(self, row: Row) -> bool:
        return any(_is_text(_cell(row, col)) for col in self.group.columns.values())

    def quote(self, row: Row, day: date, column: Column) -> Quote | None:
        numbers = self.numbers(row)
        buy, sell = numbers.get("buy"), numbers.get("sell")
        value = _mid(buy, sell) if column == "mid" else numbers.get(column)
        if value is None:
            return None
        return Quote(code=self.code, value=value, published=day, buy=buy, sell=sell)


@dataclass(frozen=True)
class _Sheet:
    """A year's sheet reduced to its currencies and its latest day row with numbers."""

    currencies: tuple[_Currency, ...]
    day: date | None
    row: Row

    @classmethod
    def read(cls, rows: Sequence[Row], year: int) -> _Sheet:
        labels = next((i for i, row in enumerate(rows) if _labels_row(row)), None)
        if labels is None:
            raise UnreadableWorkbook(f"sheet {year} has no row of Buy/Sell labels")
        currencies = _currencies(rows[:labels], _groups(rows[labels]))
        if not currencies:
            raise UnreadableWorkbook(f"sheet {year} has no currency header with an ISO code")
        day, row = _latest_day(rows[labels + 1 :], year, currencies)
        return cls(currencies, day, row)

    def quotes(self, column: Column) -> tuple[Quote, ...]:
        if self.day is None:
            return ()
        found = (c.quote(self.row, self.day, column) for c in self.currencies)
        return tuple(q for q in found if q is not None)


def _mid(buy: Decimal | None, sell: Decimal | None) -> Decimal | None:
    return None if buy is None or sell is None else (buy + sell) / 2


def _role(value: object) -> str | None:
    """``Buy ID`` → buy, ``Sell ID`` → sell, ``Sell ID 2`` → sell2, whatever the spacing."""
    if not isinstance(value, str):
        return None
    label = "".join(value.split()).lower()
    if label.startswith("buy"):
        return "buy"
    if label.startswith("sell"):
        return "sell2" if label.endswith("2") else "sell"
    return None


def _labels_row(row: Row) -> bool:
    roles = {_role(value) for value in row}
    return "buy" in roles and "sell" in roles


def _groups(labels: Row) -> list[_Group]:
    """Each ``Buy`` label opens a currency's group; the Sell labels after it join it."""
    groups: list[_Group] = []
    for col, value in enumerate(labels):
        role = _role(value)
        if role == "buy":
            groups.append(_Group({"buy": col}))
        elif role is not None and groups and role not in groups[-1].columns:
            groups[-1].columns[role] = col
    return [g for g in groups if "sell" in g.columns]


def _code(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.upper() in _ALIASES:
        return _ALIASES[text.upper()]
    codes = _CODE.findall(text)
    return _ALIASES.get(codes[-1], codes[-1]) if codes else None


def _header(rows: Sequence[Row]) -> dict[int, str]:
    """Column → code from the row above the labels that names the most codes.

    Column A is the date column; its 'Date' heading is not a currency.
    """
    candidates = [{c: code for c, v in enumerate(row) if c and (code := _code(v))} for row in rows]
    return max(candidates, key=len, default={})


def _currencies(rows: Sequence[Row], groups: list[_Group]) -> tuple[_Currency, ...]:
    """Pair each labelled group with its header's code; drop SDR and gold."""
    codes = _header(rows)
    columns = sorted(codes)
    pairs = list(zip(columns, groups, strict=False))
    # Headers drift a column or so from their group (2026: INR, QAR), so when there are as
    # many codes as groups and each is near its group, order alone pairs them.
    if len(columns) == len(groups) and all(_near(c, g) for c, g in pairs):
        named = [(codes[c], g) for c, g in pairs]
    else:
        named = list(_by_territory(codes, groups))
    seen: set[str] = set()
    kept = []
    for code, group in named:
        if code not in _NOT_CURRENCIES and code not in seen:
            seen.add(code)
            kept.append(_Currency(code, group))
    return tuple(kept)


def _near(col: int, group: _Group) -> bool:
    width = group.last - group.first + 1
    return abs(col - group.first) <= width


def _by_territory(codes: dict[int, str], groups: list[_Group]) -> Iterator[tuple[str, _Group]]:
    """Fallback pairing: the one code between the previous group's end and this group's end.

    A group with no code or with several there is left out rather than guessed.
    """
    left = 0
    for group in groups:
        inside = [code for col, code in codes.items() if left < col <= group.last]
        if len(inside) == 1:
            yield inside[0], group
        left = group.last


def _latest_day(rows: Sequence[Row], year: int, currencies: Sequence[_Currency]) -> tuple[date | None, Row]:
    """The latest dated row where some currency has numbers and none has holiday text."""
    calendar = _Calendar(year)
    best: tuple[date | None, Row] = (None, ())
    for row in rows:
        day = calendar.read(_cell(row, 0))
        if day is None or any(c.has_text(row) for c in currencies):
            continue
        if not any(c.numbers(row) for c in currencies):
            continue
        if best[0] is None or day >= best[0]:
            best = (day, row)
    return best


@dataclass
class _Calendar:
    """Works out the month of each day row from the column-A rows above it."""

    year: int
    month: int = 1  # January's month row is sometimes left out (2026)
    last_day: int = field(default=0)

    def read(self, value: object) -> date | None:
        """The date of a day row; month and Average rows move the calendar on."""
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        day = _day_number(value)
        if day is not None:
            return self._day(day)
        if isinstance(value, str):
            self._label(value.strip())
        return None

    def _day(self, day: int) -> date | None:
        if day <= self.last_day:
            self.month += 1  # the days restarted: a month row and its Average were both left out
        self.last_day = day
        try:
            return date(self.year, self.month, day)
        except ValueError:  # the sheet lists 29-31 for every month
            return None

    def _label(self, text: str) -> None:
        if text.lower().startswith("average"):
            self.month, self.last_day = self.month + 1, 0
            return
        match = _MONTH_ROW.match(text)
        if match and match.group(1).lower() in _MONTHS:
            self.month, self.last_day = _MONTHS[match.group(1).lower()], 0
            self.year = int(match.group(2) or self.year)


def _day_number(value: object) -> int | None:
    """Day numbers are typed as numbers or as text ('4'); years in column A are not days."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 1 <= value <= 31 else None


def _cell(row: Row, col: int) -> object:
    return row[col] if col < len(row) else None


def _number(value: object) -> Decimal | None:
    """A positive number as an exact Decimal of what the cell shows; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        text = str(value)  # the shortest repr: 1547.634, never 1547.6340000000000145
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        text = value.strip()
    else:
        return None
    number = Decimal(text)
    return number if number.is_finite() and number > 0 else None


def _is_text(value: object) -> bool:
    """Words where numbers belong: a holiday note."""
    return isinstance(value, str) and bool(value.strip()) and _number(value) is None

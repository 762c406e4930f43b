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


# Bounds on what is read, whatever the sheet declares: a sheet padded to column XFD or
# to a million rows must cost no more than a real one. The real sheets use 59 columns,
# at most ~900 rows, and their labels row is the fifth.
MAX_COLUMNS = 256
MAX_ROWS = 4000
HEADER_ROWS = 40
GOLD = "XAU"
_GOLD_WORDS = ("الذهب", "gold")

Days = dict[date, tuple[Quote, ...]]


@dataclass(frozen=True)
class Record:
    """The whole workbook: every dated day of every yearly sheet, and the latest day."""

    year: int
    latest: tuple[Quote, ...]
    days: Days


def read_quotes(payload: bytes, column: Column) -> tuple[int, tuple[Quote, ...]]:
    """The quotes of the latest dated day row with numbers, from the newest year's sheet.

    In the first days of January the CBI may add the new year's sheet before it has any
    numbers (or even headers): then the year before still holds the latest rates.
    Only those two sheets are read, as a stream.
    """
    with _Book(payload) as book:
        years = book.years()
        try:
            latest = _latest(book.sheet_days(years[0], column, strict=True))
        except UnreadableWorkbook:
            if len(years) == 1:
                raise
            latest = ()
        if latest or len(years) == 1:
            return years[0], latest
        previous = _latest(book.sheet_days(years[1], column, strict=False))
        return (years[1], previous) if previous else (years[0], latest)


def read_record(payload: bytes, column: Column) -> Record:
    """Every yearly sheet's days (an empty or unlabelled sheet adds none) and the latest day."""
    with _Book(payload) as book:
        years = book.years()
        days: Days = {}
        for year in sorted(years):
            days.update(book.sheet_days(year, column, strict=False))
    if not days:
        return Record(years[0], (), days)
    newest = max(days)
    return Record(newest.year, days[newest], days)


def _latest(days: Iterator[tuple[date, tuple[Quote, ...]]]) -> tuple[Quote, ...]:
    best: tuple[date | None, tuple[Quote, ...]] = (None, ())
    for day, quotes in days:
        if best[0] is None or day >= best[0]:
            best = (day, quotes)
    return best[1]


class _Book:
    """An open workbook whose year sheets are read row by row, never whole."""

    def __init__(self, payload: bytes) -> None:
        import openpyxl  # here, not at the top: importing it is a third of the service's start-up

        try:
            self._book = openpyxl.load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
        except Exception as exc:  # a damaged file raises zip, zlib, XML, KeyError... alike
            reason = f"the payload is not a readable XLSX workbook ({_describe(exc)})"
            raise UnreadableWorkbook(reason) from None
        self._names = {int(name.strip()): name for name in self._book.sheetnames if name.strip().isdigit()}

    def __enter__(self) -> _Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self._book.close()

    def years(self) -> list[int]:
        """Year sheets, newest first."""
        if not self._names:
            raise UnreadableWorkbook("the workbook has no sheet named after a year")
        return sorted(self._names, reverse=True)

    def sheet_days(self, year: int, column: Column, *, strict: bool) -> Iterator[tuple[date, tuple[Quote, ...]]]:
        """The sheet's dated days with numbers; ``strict`` raises on a sheet without labels."""
        try:
            rows = (
                _trim(row)
                for row in self._book[self._names[year]].iter_rows(
                    max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True
                )
            )
            try:
                sheet = _Sheet.open(rows, year)
            except UnreadableWorkbook:
                if strict:
                    raise
                return
            yield from sheet.days(rows, column)
        except UnreadableWorkbook:
            raise
        except Exception as exc:  # sheet data is decompressed and parsed lazily
            raise UnreadableWorkbook(f"the workbook cannot be read ({_describe(exc)})") from None


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
    """A year's sheet reduced to its currencies' columns and its gold column."""

    year: int
    currencies: tuple[_Currency, ...]
    gold: int | None

    @classmethod
    def open(cls, rows: Iterator[Row], year: int) -> _Sheet:
        """Reads the rows down to the labels row; the day rows are left in ``rows``."""
        above: list[Row] = []
        for row in rows:
            if _labels_row(row):
                groups = _groups(row)
                currencies = _currencies(above, groups)
                if not currencies:
                    raise UnreadableWorkbook(f"sheet {year} has no currency header with an ISO code")
                return cls(year, currencies, _gold_column(above, groups))
            if len(above) >= HEADER_ROWS:
                break
            above.append(row)
        raise UnreadableWorkbook(f"sheet {year} has no row of Buy/Sell labels")

    def days(self, rows: Iterator[Row], column: Column) -> Iterator[tuple[date, tuple[Quote, ...]]]:
        """Each dated row where some currency has numbers and none has holiday text."""
        calendar = _Calendar(self.year)
        for row in rows:
            day = calendar.read(_cell(row, 0))
            if day is None or any(c.has_text(row) for c in self.currencies) or _is_text(self._gold(row)):
                continue
            found = [q for c in self.currencies if (q := c.quote(row, day, column)) is not None]
            if not found:
                continue
            ounce = _number(self._gold(row))
            if ounce is not None:
                found.append(Quote(code=GOLD, value=ounce, published=day))
            yield day, tuple(found)

    def _gold(self, row: Row) -> object:
        return None if self.gold is None else _cell(row, self.gold)


def _gold_column(rows: Sequence[Row], groups: list[_Group]) -> int | None:
    """The first column, from the gold header on, that no Buy/Sell label claims.

    The gold figure has no labels of its own (2024: AD; 2026: BG), and its header may stand
    over the last currency's Sell label when the labels drift a column right.
    """
    headed = [
        col
        for row in rows
        for col, value in enumerate(row)
        if col and isinstance(value, str) and any(word in value.lower() for word in _GOLD_WORDS)
    ]
    if not headed:
        return None
    claimed = {col for group in groups for col in group.columns.values()}
    col = min(headed)
    while col in claimed:
        col += 1
    return col if col < MAX_COLUMNS else None


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

"""The daily record in the store: plain, versioned entries, one per year.

Keys (values are JSON-able: strings, lists and dicts, with ``"v"`` their format version):
- ``("record", SOURCE, YEAR)``: ``{"v": 1, "days": {"YYYY-MM-DD": {"USD": [value, buy, sell]}}}``,
  a recorded source's own daily quotes (the CBI's workbook), to tell which days changed.
- ``("points", CODE, YEAR)``: ``{"v": 1, "points": {"YYYY-MM-DD": [rate, buy, sell, source]}}``,
  one point per currency per publication date, never pruned.
- ``"points-index"``: ``{"v": 1, "years": {CODE: {YEAR: n}}}``, the years that hold points
  and a counter bumped by each write of one, so a reader reloads only what changed.

Numbers are exact decimal strings; ``buy``/``sell`` are null when unknown. Entries from
before this format (``("history", CODE)``: date → Decimal, rate only) are still read.
Blocking: call from a thread.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from rates.history import DailyRecord, Point
from rates.models import Quote
from rates.present import plain, significant
from rates.record import RecordView, Series
from rates.store import Store

FORMAT = 1
FIRST_YEAR = 1990
Entries = dict[Any, Any]


def _number(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _decimal(value: object) -> Decimal | None:
    return Decimal(value) if isinstance(value, str) else None


def _years(store: Store, key: str, owner: str, years: Iterable[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for year in years:
        entry = store.read((key, owner, year), None)
        if isinstance(entry, dict) and entry.get("v") == FORMAT:
            found[year] = entry
    return found


# The recorded source's own days -------------------------------------------------


def stored_days(store: Store, source_id: str, years: Iterable[int]) -> dict[date, tuple[Quote, ...]]:
    days: dict[date, tuple[Quote, ...]] = {}
    for entry in _years(store, "record", source_id, years).values():
        for iso, quotes in entry["days"].items():
            day = date.fromisoformat(iso)
            days[day] = tuple(
                Quote(code, Decimal(value), day, _decimal(buy), _decimal(sell))
                for code, (value, buy, sell) in quotes.items()
            )
    return days


def day_entries(source_id: str, record: DailyRecord, years: Iterable[int]) -> Entries:
    """The whole years ``years`` of ``record`` as store entries."""
    by_year: dict[int, dict[str, Any]] = {year: {} for year in years}
    for day, quotes in record.items():
        if day.year in by_year:
            by_year[day.year][day.isoformat()] = {
                q.code: [plain(q.value), _number(q.buy), _number(q.sell)] for q in quotes
            }
    return {("record", source_id, year): {"v": FORMAT, "days": days} for year, days in by_year.items()}


# Points ------------------------------------------------------------------------


def encode_point(point: Point) -> list[str | None]:
    rounded = [significant(point.rate), *(None if v is None else significant(v) for v in (point.buy, point.sell))]
    return [*(_number(v) for v in rounded), point.source]


def decode_point(raw: list[Any]) -> Point:
    rate, buy, sell, source = raw
    return Point(Decimal(rate), _decimal(buy), _decimal(sell), str(source))


def point_entries(store: Store, points: Mapping[str, Mapping[date, Point]]) -> Entries:
    """Store entries that put ``points`` over what is stored; only the years they touch."""
    touched: dict[tuple[str, int], dict[str, list[str | None]]] = defaultdict(dict)
    for code, series in points.items():
        for day, point in series.items():
            touched[(code, day.year)][day.isoformat()] = encode_point(point)
    entries: Entries = {}
    for (code, year), new in touched.items():
        old = store.read(("points", code, year), None)
        kept: dict[str, Any] = old["points"] if isinstance(old, dict) and old.get("v") == FORMAT else {}
        merged = {**kept, **new}
        if merged != kept:
            entries[("points", code, year)] = {"v": FORMAT, "points": dict(sorted(merged.items()))}
    if entries:
        index = points_index(store)
        for code, year in touched:
            if ("points", code, year) in entries:
                years = index.setdefault(code, {})
                years[year] = years.get(year, 0) + 1
        entries["points-index"] = {
            "v": FORMAT,
            "years": {code: {str(y): n for y, n in years.items()} for code, years in index.items()},
        }
    return entries


def points_index(store: Store) -> dict[str, dict[int, int]]:
    """For each code, the years that hold points and how often each was written."""
    entry = store.read("points-index", None)
    if not isinstance(entry, dict) or entry.get("v") != FORMAT:
        return {}
    return {code: {int(y): int(n) for y, n in years.items()} for code, years in entry["years"].items()}


def load_year(store: Store, code: str, year: int) -> dict[date, Point]:
    entry = _years(store, "points", code, [year]).get(year)
    if entry is None:
        return {}
    return {date.fromisoformat(iso): decode_point(raw) for iso, raw in entry["points"].items()}


def legacy_points(store: Store, code: str) -> dict[date, Point]:
    """Points kept before this format: rate only."""
    return {day: Point(rate, None, None, "") for day, rate in store.legacy_history(code).items()}


def load_points(store: Store, codes: Iterable[str]) -> dict[str, dict[date, Point]]:
    """Every stored point of ``codes``, by date (older formats included, newer entries win)."""
    index = points_index(store)
    history: dict[str, dict[date, Point]] = {}
    for code in codes:
        series = legacy_points(store, code)
        for year in sorted(index.get(code, {})):
            series.update(load_year(store, code, year))
        history[code] = dict(sorted(series.items()))
    return history


def points_before(store: Store, wanted: Mapping[str, date]) -> dict[str, dict[date, Decimal]]:
    """For each code, its latest stored rate dated before the given date (the ``change`` base)."""
    index = points_index(store)
    found: dict[str, dict[date, Decimal]] = {}
    for code, day in wanted.items():
        for year in sorted((y for y in index.get(code, {}) if y <= day.year), reverse=True):
            entry = _years(store, "points", code, [year]).get(year)
            earlier = max((iso for iso in entry["points"] if iso < day.isoformat()), default=None) if entry else None
            if entry is not None and earlier is not None:
                found[code] = {date.fromisoformat(earlier): Decimal(entry["points"][earlier][0])}
                break
        if code not in found:
            older = {d: p.rate for d, p in legacy_points(store, code).items() if d < day}
            if older:
                found[code] = {max(older): older[max(older)]}
    return found


class RecordCache:
    """The record as last read, reloading only the (code, year) entries written since.

    A new day rewrites one year of each code: the other seventeen years are not read again.
    """

    def __init__(self) -> None:
        self._years: dict[tuple[str, int], tuple[int, dict[date, Point]]] = {}
        self._series: dict[str, tuple[tuple[tuple[int, int], ...], Series]] = {}

    def view(self, store: Store, codes: Iterable[str]) -> RecordView:
        index = points_index(store)
        return RecordView({code: self._code(store, code, index.get(code, {})) for code in codes})

    def _code(self, store: Store, code: str, years: dict[int, int]) -> Series:
        key = tuple(sorted(years.items()))
        cached = self._series.get(code)
        if cached is not None and cached[0] == key:
            return cached[1]
        points = legacy_points(store, code)
        for year, count in key:
            entry = self._years.get((code, year))
            if entry is None or entry[0] != count:
                entry = (count, load_year(store, code, year))
                self._years[(code, year)] = entry
            points.update(entry[1])
        series = Series(points)
        self._series[code] = (key, series)
        return series

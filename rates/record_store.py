"""The daily record in the store: plain, versioned entries, one per year.

Keys (values are JSON-able: strings, lists and dicts, with ``"v"`` their format version):
- ``("record", SOURCE, YEAR)``: ``{"v": 1, "days": {"YYYY-MM-DD": {"USD": [value, buy, sell]}}}``,
  a recorded source's own daily quotes (the CBI's workbook), to tell which days changed.
- ``("points", CODE, YEAR)``: ``{"v": 1, "points": {"YYYY-MM-DD": [rate, buy, sell, source]}}``,
  one point per currency per publication date, never pruned.
- ``"points-version"``: bumped by every write of points, so readers reload only then.

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
        entries["points-version"] = points_version(store) + 1
    return entries


def points_version(store: Store) -> int:
    version = store.read("points-version", 0)
    return version if isinstance(version, int) else 0


def load_points(store: Store, codes: Iterable[str], last_year: int) -> dict[str, dict[date, Point]]:
    """Every stored point of ``codes``, by date (older formats included, newer entries win)."""
    history: dict[str, dict[date, Point]] = {}
    for code in codes:
        series: dict[date, Point] = {}
        legacy: dict[Any, Any] = store.read(("history", code), {})
        if isinstance(legacy, dict):
            series.update(
                (day, Point(rate, None, None, ""))
                for day, rate in legacy.items()
                if isinstance(day, date) and isinstance(rate, Decimal)
            )
        for entry in _years(store, "points", code, range(FIRST_YEAR, last_year + 1)).values():
            series.update((date.fromisoformat(iso), decode_point(raw)) for iso, raw in entry["points"].items())
        history[code] = dict(sorted(series.items()))
    return history


def points_before(store: Store, wanted: Mapping[str, date]) -> dict[str, dict[date, Decimal]]:
    """For each code, its latest stored rate dated before the given date (the ``change`` base)."""
    found: dict[str, dict[date, Decimal]] = {}
    for code, day in wanted.items():
        for year in range(day.year, FIRST_YEAR - 1, -1):
            entry = _years(store, "points", code, [year]).get(year)
            earlier = [iso for iso in entry["points"] if iso < day.isoformat()] if entry else []
            if earlier:
                latest = max(earlier)
                found[code] = {date.fromisoformat(latest): Decimal(entry["points"][latest][0])}  # type: ignore[index]
                break
            if entry is None and year < day.year - 1:
                break  # no points that year and the year before: nothing older either
        if code not in found:
            legacy: dict[Any, Any] = store.read(("history", code), {})
            older = [d for d in legacy if isinstance(d, date) and d < day] if isinstance(legacy, dict) else []
            if older:
                found[code] = {max(older): legacy[max(older)]}
    return found

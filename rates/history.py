"""The daily record, computed: a source's daily quotes → one point per currency per date.

Pure: no I/O, no clock. Section 7 of the contract: a currency has a point on each date on
which its changing side published, computed with the other side's quote in force that day
(a ``fixed`` quote is in force from its ``published`` date on); the point is dated as
section 4 dates ``published``: the older of the non-``fixed`` dates used, or, when every
quote used is ``fixed``, the latest of theirs. No holds apply: this is what the sources
said on each day, not what the service chose to show.

Only a source that publishes its past (the CBI's workbook) and the ``fixed`` sources take
part here; network aggregators add points only through the live merge, for the dates
they were seen to publish.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rates.config import Config
from rates.models import BASE, Quote
from rates.sources.fixed import FixedSettings

DailyRecord = Mapping[date, tuple[Quote, ...]]


@dataclass(frozen=True)
class Point:
    """One currency on one publication date: IQD per unit, and which source gave it."""

    rate: Decimal
    buy: Decimal | None
    sell: Decimal | None
    source: str


@dataclass(frozen=True)
class _Dated:
    point: Point
    day: date
    fixed: bool  # every quote used comes from a fixed source


def dated(sides: Iterable[tuple[date, bool]]) -> date:
    """Section 4: the older of the changing (non-fixed) dates, else the latest fixed date."""
    sides = list(sides)
    changing = [day for day, fixed in sides if not fixed]
    return min(changing) if changing else max(day for day, _ in sides)


def points_on(
    config: Config, source_id: str, record: DailyRecord, days: Iterable[date], codes: Iterable[str]
) -> dict[str, dict[date, Point]]:
    """The points of ``codes`` dated on ``days`` (days the recorded source published)."""
    resolver = _Resolver(config, source_id, record)
    found: dict[str, dict[date, Point]] = {}
    wanted = sorted(set(days))
    for code in codes:
        for day in wanted:
            resolved = resolver.resolve(code, day, frozenset())
            if resolved is not None and resolved.day == day:
                found.setdefault(code, {})[day] = resolved.point
    return found


class _Resolver:
    def __init__(self, config: Config, source_id: str, record: DailyRecord) -> None:
        self.config = config
        self.source_id = source_id
        by_code: dict[str, dict[date, Quote]] = {}
        for day, quotes in record.items():
            for quote in quotes:
                by_code.setdefault(quote.code, {})[day] = quote
        self.by_code = by_code
        self.fixed = {s.id: s for s in config.sources if isinstance(s, FixedSettings)}

    def resolve(self, code: str, day: date, visiting: frozenset[str]) -> _Dated | None:
        """The first source in ``code``'s preference that quotes it on ``day``."""
        if code in visiting:
            return None
        for source_id in self.config.preference(code):
            if source_id == self.source_id:
                found = self._recorded(code, day)
            elif source_id in self.fixed:
                found = self._fixed(self.fixed[source_id], code, day, visiting | {code})
            else:
                continue  # an aggregator's past is unknown: it adds points only live
            if found is not None:
                return found
        return None

    def _recorded(self, code: str, day: date) -> _Dated | None:
        # A point dated ``day`` needs the changing side published that very day; a quote of
        # an earlier day would date it earlier, and then a later source may still serve.
        quote = self.by_code.get(code, {}).get(day)
        if quote is None or quote.published is None:
            return None
        return _Dated(Point(quote.value, quote.buy, quote.sell, self.source_id), quote.published, False)

    def _fixed(self, settings: FixedSettings, code: str, day: date, visiting: frozenset[str]) -> _Dated | None:
        entry = settings.rates.get(code)
        if entry is None or settings.published > day or code == settings.ref:
            return None
        if settings.ref == BASE:
            return _Dated(Point(entry.rate, entry.buy, entry.sell, settings.id), settings.published, True)
        ref = self.resolve(settings.ref, day, visiting)
        if ref is None:
            return None
        per_ref = entry.rate
        point = Point(
            rate=ref.point.rate / per_ref,
            buy=None if ref.point.buy is None else ref.point.buy / per_ref,
            sell=None if ref.point.sell is None else ref.point.sell / per_ref,
            source=settings.id,
        )
        when = dated([(settings.published, True), (ref.day, ref.fixed)])
        return _Dated(point, when, ref.fixed)


def changed_days(old: DailyRecord, new: DailyRecord) -> tuple[list[date], int]:
    """Days of ``new`` that are not in ``old`` or differ from it, and how many of them differ."""
    changed = [day for day, quotes in new.items() if _key(old.get(day)) != _key(quotes)]
    corrected = sum(1 for day in changed if day in old)
    return sorted(changed), corrected


def _key(quotes: tuple[Quote, ...] | None) -> frozenset[tuple[str, Decimal, Decimal | None, Decimal | None]] | None:
    return None if quotes is None else frozenset((q.code, q.value, q.buy, q.sell) for q in quotes)

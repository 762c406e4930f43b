"""Prepared compatibility bodies for one published snapshot.

One :class:`CompatViews` per :class:`rates.snapshot.Snapshot`: every answer is rendered
once, on first use, into a :class:`Body` (raw and gzip bytes, strong ETags) and kept in
a bounded cache that dies with the snapshot, exactly like the native API's variants. So
between two refreshes every request for the same answer gets the same bytes and ETag.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from babel.numbers import get_currency_name

from rates.compat import currency_api, exchangerate_api, frankfurter, oxr
from rates.compat.table import History, Table, from_document, on_day
from rates.document import encode
from rates.models import BASE
from rates.snapshot import JSON, Body, BoundedCache

VARIANTS = 256  # small answers per snapshot, as the native API
RANGES = 16  # Frankfurter time series can be megabytes: fewer of them


class _Cache(BoundedCache[Hashable, Body]):
    def find(self, key: Hashable) -> Body | None:
        """The cached body, without rendering one (ranges are rendered off the event loop)."""
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]


def english_names(codes: Iterable[str]) -> dict[str, str]:
    """CLDR's English names (Babel): the imitated APIs are English-language."""
    return {code: get_currency_name(code, locale="en") for code in codes}


class CompatViews:
    def __init__(self, document: Mapping[str, Any], history: Callable[[], History]) -> None:
        self.table: Table = from_document(document)
        self.codes = [e["code"] for e in document["rates"]]
        self.names = english_names([*self.codes, *([BASE] if BASE not in self.codes else [])])
        self._make_history = history
        self._history: History | None = None
        self._bodies = _Cache(VARIANTS)
        self._ranges = _Cache(RANGES)

    @property
    def history(self) -> History:
        if self._history is None:  # built on the first historical question, not on every refresh
            self._history = self._make_history()
        return self._history

    def _body(self, key: Hashable, make: Callable[[], Any]) -> Body:
        return self._bodies.get(key, lambda: Body.of(encode(make()), JSON))

    def on_day(self, day: date) -> Table | None:
        return on_day(self.history, self.codes, day)

    # Frankfurter ---------------------------------------------------------------

    def frankfurter_latest(self, query: frankfurter.Query) -> Body:
        return self._body(("fr-latest", query), lambda: frankfurter.day_answer(self.table, query))

    def frankfurter_day(self, day: date, query: frankfurter.Query) -> Body:
        return self._body(("fr-day", day, query), lambda: frankfurter.day_answer(self.on_day(day), query))

    def frankfurter_range_cached(self, first: date, last: date, query: frankfurter.Query) -> Body | None:
        return self._ranges.find((first, last, query))

    def frankfurter_range(self, first: date, last: date, query: frankfurter.Query) -> Body:
        """Rendered in a worker thread by the caller; stored with :meth:`keep_range` on the loop."""
        answer = frankfurter.range_answer(self.history, self.codes, query, first, last)
        return Body.of(encode(answer), JSON)

    def keep_range(self, first: date, last: date, query: frankfurter.Query, body: Body) -> Body:
        return self._ranges.get((first, last, query), lambda: body)

    def frankfurter_currencies(self) -> Body:
        return self._body("fr-currencies", lambda: frankfurter.currencies(self.names))

    # Open Exchange Rates ----------------------------------------------------------

    def oxr_latest(self, base: str, symbols: frozenset[str] | None) -> Body:
        return self._body(("oxr-latest", base, symbols), lambda: oxr.answer(self.table, base, symbols))

    def oxr_day(self, day: date, base: str, symbols: frozenset[str] | None) -> Body:
        return self._body(("oxr-day", day, base, symbols), lambda: self._oxr_day(day, base, symbols))

    def _oxr_day(self, day: date, base: str, symbols: frozenset[str] | None) -> dict[str, Any]:
        table = self.on_day(day)
        if table is None:
            raise oxr.not_available(day.isoformat())
        return oxr.answer(table, base, symbols)

    def oxr_currencies(self) -> Body:
        return self._body("oxr-currencies", lambda: oxr.currencies(self.names))

    # currency-api and ExchangeRate-API -------------------------------------------------

    def currency_api(self, code: str) -> Body:
        return self._body(("ca", code), lambda: currency_api.answer(self.table, code))

    def currency_api_currencies(self) -> Body:
        return self._body("ca-currencies", lambda: currency_api.currencies(self.names))

    def exchangerate_api(self, base: str, next_update: datetime | None) -> Body:
        key = ("er", base, next_update)
        return self._body(key, lambda: exchangerate_api.answer(self.table, base, next_update))

"""The daily record read through the :class:`rates.compat.table.History` protocol."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Protocol


class _Point(Protocol):
    @property
    def rate(self) -> Decimal: ...


class DailyRecord(Protocol):
    """The read side of the record (``rates.record.RecordView``), as far as the shapes need it."""

    def on_or_before(self, code: str, day: date) -> tuple[tuple[date, _Point] | None, tuple[date, _Point] | None]: ...

    def points(self, code: str, first: date | None, last: date) -> list[tuple[date, _Point]]: ...


class RecordHistory:
    """The record's points: IQD per unit of each code on each of its publication dates."""

    def __init__(self, record: DailyRecord) -> None:
        self._record = record

    def rate_on(self, code: str, day: date) -> tuple[date, Decimal] | None:
        at, _ = self._record.on_or_before(code, day)
        return None if at is None else (at[0], at[1].rate)

    def days(self, code: str, first: date, last: date) -> list[date]:
        return [day for day, _ in self._record.points(code, first, last)]


class SeriesHistory:
    """Per-code series ``{date: IQD per unit}``, searched by bisection."""

    def __init__(self, series: Mapping[str, Mapping[date, Decimal]]) -> None:
        self._series = series
        self._days = {code: sorted(points) for code, points in series.items()}

    def rate_on(self, code: str, day: date) -> tuple[date, Decimal] | None:
        days = self._days.get(code, [])
        index = bisect_right(days, day)
        if index == 0:
            return None
        when = days[index - 1]
        return when, self._series[code][when]

    def days(self, code: str, first: date, last: date) -> list[date]:
        days = self._days.get(code, [])
        return days[bisect_left(days, first) : bisect_right(days, last)]

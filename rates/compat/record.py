"""The daily record read through the :class:`rates.compat.table.History` protocol."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date
from decimal import Decimal


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

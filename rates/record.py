"""The daily record as served: points of a code between two dates, and past documents.

This is the read side other modules build on (history endpoints, ``?date=``, the widget's
trend line, the compatibility endpoints' historical answers). It is immutable and pure:
one :class:`RecordView` per published snapshot (``Published.record``).

- :meth:`RecordView.points` — ``points(code, first, last)``: the points of ``code`` dated
  from ``first`` (None: the oldest) to ``last``, both included, oldest first, as
  ``(date, Point)``; ``Point`` has ``rate``, ``buy``, ``sell`` (Decimal or None) and
  ``source``.
- :meth:`RecordView.document_on` — ``document_on(day, current)``: the rates document as it
  stood on ``day`` (contract section 7): each entry of ``current`` (the live document, for
  order, names and ``per``) becomes its latest point on or before ``day``, ``published``
  that point's date, ``change`` the difference from the point before it, ``fetched_at`` and
  ``updated_at`` null, ``status`` ``ok`` or ``unavailable``.
- :meth:`RecordView.latest_date` — the latest date on or before ``day`` on which any
  code has a point (Frankfurter's "the latest date on or before it with data").
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from rates.history import Point
from rates.present import plain, significant

NO_POINT = "لا يوجد سعر مسجّل لهذه العملة في هذا التاريخ أو قبله"


class Series:
    """One code's points, with its dates sorted once."""

    def __init__(self, points: Mapping[date, Point]) -> None:
        self.points = dict(points)
        self.days = sorted(self.points)


class RecordView:
    def __init__(self, series: Mapping[str, Series]) -> None:
        self._points = {code: s.points for code, s in series.items()}
        self._days = {code: s.days for code, s in series.items()}

    @classmethod
    def of(cls, history: Mapping[str, Mapping[date, Point]]) -> RecordView:
        return cls({code: Series(points) for code, points in history.items()})

    @property
    def codes(self) -> list[str]:
        return list(self._points)

    def points(self, code: str, first: date | None, last: date) -> list[tuple[date, Point]]:
        days = self._days.get(code, [])
        start = 0 if first is None else bisect_left(days, first)
        end = bisect_right(days, last)
        series = self._points[code] if days else {}
        return [(day, series[day]) for day in days[start:end]]

    def last(self, code: str, count: int) -> list[tuple[date, Point]]:
        """The latest ``count`` points of ``code``, oldest first."""
        days = self._days.get(code, [])[-count:]
        return [(day, self._points[code][day]) for day in days]

    def on_or_before(self, code: str, day: date) -> tuple[tuple[date, Point] | None, tuple[date, Point] | None]:
        """The latest point on or before ``day`` and the point before that one."""
        days = self._days.get(code, [])
        index = bisect_right(days, day)
        at = (days[index - 1], self._points[code][days[index - 1]]) if index else None
        before = (days[index - 2], self._points[code][days[index - 2]]) if index > 1 else None
        return at, before

    def rate_on(self, code: str, day: date) -> tuple[date, Decimal] | None:
        """The latest point of ``code`` on or before ``day``: its date and rate (the compat ``History``)."""
        at = self.on_or_before(code, day)[0]
        return None if at is None else (at[0], at[1].rate)

    def days(self, code: str, first: date, last: date) -> list[date]:
        """The publication dates of ``code`` from ``first`` to ``last``, both included."""
        days = self._days.get(code, [])
        return days[bisect_left(days, first) : bisect_right(days, last)]

    def latest_date(self, day: date) -> date | None:
        found = [at[0] for code in self._points if (at := self.on_or_before(code, day)[0]) is not None]
        return max(found, default=None)

    def document_on(self, day: date, current: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "base": current["base"],
            "updated_at": None,
            "rates": [self._entry_on(entry, day) for entry in current["rates"]],
        }

    def _entry_on(self, entry: Mapping[str, Any], day: date) -> dict[str, Any]:
        at, before = self.on_or_before(entry["code"], day)
        base = {"code": entry["code"], "name": entry["name"]}
        if at is None:
            return {
                **base,
                **dict.fromkeys(("rate", "buy", "sell"), None),
                "per": entry["per"],
                **dict.fromkeys(("source", "published", "fetched_at"), None),
                "status": "unavailable",
                "change": None,
                "reason": NO_POINT,
                "note": entry.get("note"),
            }
        when, point = at
        rate = significant(point.rate)
        return {
            **base,
            "rate": rate,
            "buy": _shown(point.buy),
            "sell": _shown(point.sell),
            "per": entry["per"],
            "source": point.source or None,
            "published": when.isoformat(),
            "fetched_at": None,
            "status": "ok",
            "change": None if before is None else significant(rate - significant(before[1].rate)),
            "reason": None,
            "note": entry.get("note"),
        }


def _shown(value: Decimal | None) -> Decimal | None:
    return None if value is None else significant(value)


def points_json(code: str, base: str, points: list[tuple[date, Point]]) -> dict[str, Any]:
    return {
        "code": code,
        "base": base,
        "points": [
            {"date": day.isoformat(), "rate": significant(p.rate), "buy": _shown(p.buy), "sell": _shown(p.sell)}
            for day, p in points
        ],
    }


def points_csv(points: list[tuple[date, Point]]) -> bytes:
    """``date,rate,buy,sell``, one line per point, empty fields for null."""
    lines = ["date,rate,buy,sell"]
    for day, p in points:
        cells = (significant(p.rate), _shown(p.buy), _shown(p.sell))
        lines.append(",".join([day.isoformat(), *("" if v is None else plain(v) for v in cells)]))
    return ("\n".join(lines) + "\n").encode("utf-8")

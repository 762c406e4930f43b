"""The one IQD table every compatibility answer derives from, and its cross rates.

A :class:`Table` is IQD per one unit of each available currency (IQD itself is 1), as
the published rates document shows them (or as the daily record had them on a day).
Every cross is ``IQD per A ÷ IQD per B`` units of B per one A, in ``Decimal``, rounded
once at the end to at most 6 significant digits: so 1 USD is 1310 IQD and a cross never
goes through an aggregator's own dinar figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Protocol

from rates.models import BASE
from rates.present import significant


@dataclass(frozen=True)
class Table:
    """IQD per one unit of each available code; unavailable codes are simply absent."""

    iqd: Mapping[str, Decimal]
    published: Mapping[str, date]  # each rate's publication date (IQD itself has none)
    moment: datetime  # when these rates came to be (the document's updated_at, or the day's start)

    def has(self, code: str) -> bool:
        return code in self.iqd

    @property
    def codes(self) -> list[str]:
        """The available codes in alphabetical order, as the compatible APIs list them."""
        return sorted(self.iqd)

    def day(self, codes: Iterable[str]) -> date:
        """The newest publication date among ``codes``: the date an answer about them carries."""
        return max((self.published[c] for c in codes if c in self.published), default=self.moment.date())

    def per(self, base: str, codes: Iterable[str], amount: Decimal = Decimal(1)) -> dict[str, Decimal]:
        """Units of each of ``codes`` for ``amount`` of ``base``; codes not in the table are left out."""
        dinars = amount * self.iqd[base]
        return {code: significant(dinars / self.iqd[code]) for code in codes if code in self.iqd}

    @property
    def unix(self) -> int:
        return int(self.moment.timestamp())


def from_document(document: Mapping[str, Any]) -> Table:
    """The table of the live document: its available rates, and IQD."""
    iqd: dict[str, Decimal] = {}
    published: dict[str, date] = {}
    for entry in document["rates"]:
        if entry["rate"] is None:
            continue
        iqd[entry["code"]] = Decimal(entry["rate"])
        if entry["published"] is not None:
            published[entry["code"]] = date.fromisoformat(entry["published"])
    iqd.setdefault(BASE, Decimal(1))
    return Table(iqd=iqd, published=published, moment=_parse_time(document.get("updated_at")))


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class History(Protocol):
    """The daily record as the compatibility shapes read it."""

    def rate_on(self, code: str, day: date) -> tuple[date, Decimal] | None:
        """The latest point of ``code`` on or before ``day``: its date and IQD per unit."""

    def days(self, code: str, first: date, last: date) -> list[date]:
        """The publication dates of ``code`` from ``first`` to ``last``, both included, oldest first."""


def on_day(history: History, codes: Iterable[str], day: date) -> Table | None:
    """The table as it stood on ``day``: each code's latest point on or before it (rounded as published)."""
    iqd: dict[str, Decimal] = {}
    published: dict[str, date] = {}
    for code in codes:
        point = history.rate_on(code, day)
        if point is not None:
            published[code], rate = point
            iqd[code] = significant(rate)
    if not published:
        return None
    iqd.setdefault(BASE, Decimal(1))
    return Table(iqd=iqd, published=published, moment=datetime.combine(max(published.values()), time(), UTC))


def publication_days(history: History, codes: Iterable[str], first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last`` on which any of ``codes`` has a point."""
    found: set[date] = set()
    for code in codes:
        found.update(history.days(code, first, last))
    return sorted(found)

"""Frozen value types that flow through the pipeline.

A :class:`Quote` is what one source says about one currency, in that source's own
terms: ``value`` is units of ``code`` per one unit of the quote set's ``ref``. When the
ref is ``IQD`` the source quotes dinars directly, and ``value`` is IQD per one ``code``
(the Central Bank's own convention), with ``buy``/``sell`` where the source has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

BASE = "IQD"


@dataclass(frozen=True)
class Quote:
    code: str
    value: Decimal
    # None when the payload carries no date: the refresh dates it by its fetch.
    published: date | None
    buy: Decimal | None = None
    sell: Decimal | None = None


@dataclass(frozen=True)
class QuoteSet:
    """Everything one payload said: quotes relative to ``ref``."""

    ref: str
    quotes: tuple[Quote, ...]
    # A source that publishes its past (the CBI's workbook) gives every day it holds, when
    # that past may have changed since it was last read; None otherwise.
    record: Mapping[date, tuple[Quote, ...]] | None = field(default=None, compare=False, hash=False)

    @property
    def direct(self) -> bool:
        return self.ref == BASE

    def by_code(self) -> dict[str, Quote]:
        return {q.code: q for q in self.quotes}


@dataclass(frozen=True)
class StoredQuote:
    """A quote that passed validation, with the time it was fetched."""

    quote: Quote
    fetched_at: datetime


@dataclass(frozen=True)
class SourceQuotes:
    """A source's last accepted quotes, as kept in the store between fetches."""

    source_id: str
    ref: str
    quotes: dict[str, StoredQuote] = field(default_factory=dict)

    @property
    def direct(self) -> bool:
        return self.ref == BASE


@dataclass(frozen=True)
class Hold:
    """A move larger than ``max_jump`` waiting for a second source or an admin."""

    code: str
    source: str
    old: Decimal
    new: Decimal
    since: datetime


@dataclass(frozen=True)
class Resolved:
    """A currency's IQD rate as one source (or a cross through its ref) gives it."""

    code: str
    rate: Decimal
    source: str
    published: date
    fetched_at: datetime
    stale: bool
    buy: Decimal | None = None
    sell: Decimal | None = None


@dataclass(frozen=True)
class Rejection:
    """An admin dropped this value from this source; it is skipped until it changes."""

    code: str
    source: str
    rate: Decimal


@dataclass(frozen=True)
class Rate:
    """One row of the rates document, before presentation rounding."""

    code: str
    per: int
    status: str  # ok | stale | held | unavailable
    rate: Decimal | None = None
    buy: Decimal | None = None
    sell: Decimal | None = None
    source: str | None = None
    published: date | None = None
    fetched_at: datetime | None = None
    change: Decimal | None = None
    reason: str | None = None

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
class KeptQuote:
    """A valid quote, with the time it was fetched."""

    quote: Quote
    fetched_at: datetime


@dataclass(frozen=True)
class KeptQuotes:
    """A source's last valid quote per currency, as kept in the store between fetches.

    Not a :class:`QuoteSet` (what one payload said): a currency a later payload lacks keeps
    its last quote here, with the time that quote was fetched.
    """

    source_id: str
    ref: str
    quotes: dict[str, KeptQuote] = field(default_factory=dict)

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
    fixed: bool = False  # every quote it rests on is a peg or decree
    provisional: bool = False  # chosen while a preferred network source had never answered


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
    reason: str | None = None


@dataclass(frozen=True)
class SourceStatus:
    source_id: str
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    next_run: datetime | None = None
    failures: int = 0
    rejected: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.failures == 0 and self.last_success is not None


@dataclass(frozen=True)
class MergeState:
    """What the merge carries from one run to the next."""

    baselines: dict[str, Resolved] = field(default_factory=dict)  # the last value each jump is measured from
    holds: dict[str, Hold] = field(default_factory=dict)
    rejections: dict[str, Rejection] = field(default_factory=dict)
    # Source id → (code, reason) for values the merge refused (outside a currency's range).
    refused: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

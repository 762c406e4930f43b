"""Pure: sources' accepted quotes + last accepted values → one IQD rate per currency.

Preference per currency, crosses through the official dinar rate of the reference
currency, holds for large moves, ``unavailable`` for what nobody quotes. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from rates.config import Config
from rates.history import dated
from rates.models import BASE, Hold, Rate, Rejection, Resolved, SourceQuotes, StoredQuote
from rates.present import significant
from rates.validate import relative_gap

# Why a rate is unavailable, as codes: the widget words them in its language (widget.texts).
NO_SOURCE = "no_source"
NOT_REACHED = "not_reached"


@dataclass(frozen=True)
class MergeInput:
    config: Config
    sources: Mapping[str, SourceQuotes]
    accepted: Mapping[str, Resolved]
    holds: Mapping[str, Hold]
    rejections: Mapping[str, Rejection]
    now: datetime


@dataclass(frozen=True)
class MergeResult:
    rates: tuple[Rate, ...]
    accepted: dict[str, Resolved]
    holds: dict[str, Hold]


def merge(state: MergeInput) -> MergeResult:
    resolver = _Resolver(state)
    rates = tuple(resolver.rate(c.code, c.per) for c in state.config.currencies)
    return MergeResult(rates, resolver.accepted, resolver.holds)


class _Cycle(Exception):
    """A reference chain came back to ``code``: that candidate gives nothing."""

    def __init__(self, code: str) -> None:
        self.code = code


class _Resolver:
    def __init__(self, state: MergeInput) -> None:
        self.state = state
        self.config = state.config
        self.shown = set(self.config.codes)
        self.network = {s.id for s in self.config.sources if s.network}  # fixed sources neither age nor fail
        self.accepted = dict(state.accepted)
        self.holds = {code: hold for code, hold in state.holds.items() if code in self.shown}
        self._effective: dict[str, tuple[Resolved | None, bool]] = {}
        self._visiting: set[str] = set()
        # Values that rest on an aggregator's own dinar figure: the last resort.
        self._fallbacks: set[Resolved] = set()

    def rate(self, code: str, per: int) -> Rate:
        resolved, held = self.effective(code)
        if resolved is None:
            return Rate(code=code, per=per, status="unavailable", reason=self._why_unavailable(code))
        status = "held" if held else ("stale" if resolved.stale else "ok")
        return Rate(
            code=code,
            per=per,
            status=status,
            rate=resolved.rate,
            buy=resolved.buy,
            sell=resolved.sell,
            source=resolved.source,
            published=resolved.published,
            fetched_at=resolved.fetched_at,
        )

    def _why_unavailable(self, code: str) -> str:
        """Sources that never answered may yet quote it; sources that answered do not."""
        silent = [sid for sid in self.config.preference(code) if sid in self.network and sid not in self.state.sources]
        return NOT_REACHED if silent else NO_SOURCE

    def effective(self, code: str) -> tuple[Resolved | None, bool]:
        """The value to show for ``code`` and whether it is a held old value."""
        if code not in self._effective:
            if code in self._visiting:
                raise _Cycle(code)
            self._visiting.add(code)
            try:
                self._effective[code] = self._decide(code)
            finally:
                self._visiting.discard(code)
        return self._effective[code]

    def _decide(self, code: str) -> tuple[Resolved | None, bool]:
        candidates = self.candidates(code)
        first = next(candidates, None)
        if first is None:
            self.holds.pop(code, None)
            previous = self.accepted.get(code)
            if previous is not None and code in self.state.rejections:
                # An admin rejected the only new value: the old one stays, shown with its date as stale.
                return replace(previous, stale=True), False
            return None, False
        if code not in self.shown:
            return first, False
        previous = self.accepted.get(code)
        if previous is None or self._confirmed(first, previous, candidates):
            self.accepted[code] = first
            self.holds.pop(code, None)
            return first, False
        self._hold(code, previous, first)
        return previous, True

    def _confirmed(self, new: Resolved, previous: Resolved, others: Iterator[Resolved]) -> bool:
        policy = self.config.policy
        if relative_gap(new.rate, previous.rate) <= policy.max_jump:
            return True
        return any(o.source != new.source and relative_gap(o.rate, new.rate) <= policy.agree_within for o in others)

    def _hold(self, code: str, previous: Resolved, new: Resolved) -> None:
        existing = self.holds.get(code)
        same_move = existing is not None and existing.source == new.source and existing.new == new.rate
        since = existing.since if same_move and existing is not None else self.state.now
        self.holds[code] = Hold(code=code, source=new.source, old=previous.rate, new=new.rate, since=since)

    def candidates(self, code: str) -> Iterator[Resolved]:
        """Each source's IQD rate for ``code``, most preferred first, minus rejected values.

        Lazy: later sources are only resolved when a held move looks for agreement. A value
        that rests on an aggregator's own dinar figure (that figure itself, or a cross through
        it) is the last resort: it comes after every value that does not, e.g. after a fixed
        official rate listed later.
        """
        last_resort: list[Resolved] = []
        for source_id in self.config.preference(code):
            try:
                resolved = self._from_source(code, source_id)
            except _Cycle as cycle:
                if cycle.code != code:
                    raise
                continue
            if resolved is None or self._rejected(resolved):
                continue
            if resolved in self._fallbacks:
                last_resort.append(resolved)
            else:
                yield resolved
        yield from last_resort

    def _rejected(self, resolved: Resolved) -> bool:
        rejection = self.state.rejections.get(resolved.code)
        return (
            rejection is not None
            and rejection.source == resolved.source
            and significant(rejection.rate) == significant(resolved.rate)
        )

    def _from_source(self, code: str, source_id: str) -> Resolved | None:
        quotes = self.state.sources.get(source_id)
        if quotes is None:
            return None
        if quotes.direct:
            stored = quotes.quotes.get(code)
            return None if stored is None else self._direct(code, source_id, stored)
        if code == quotes.ref:
            return self._own_dinar_figure(quotes)
        stored = quotes.quotes.get(code)
        return None if stored is None else self._cross(code, quotes, stored)

    def _direct(self, code: str, source_id: str, stored: StoredQuote) -> Resolved:
        quote = stored.quote
        assert quote.published is not None  # the refresh dates undated quotes
        return Resolved(
            code=code,
            rate=quote.value,
            source=source_id,
            published=quote.published,
            fetched_at=stored.fetched_at,
            stale=self._stale(source_id, stored),
            buy=quote.buy,
            sell=quote.sell,
        )

    def _own_dinar_figure(self, quotes: SourceQuotes) -> Resolved | None:
        """The aggregator's own IQD per ref: the last resort, named as the source."""
        stored = quotes.quotes.get(BASE)
        if stored is None:
            return None
        direct = self._direct(quotes.ref, quotes.source_id, stored)
        own = replace(direct, buy=None, sell=None)
        self._fallbacks.add(own)
        return own

    def _cross(self, code: str, quotes: SourceQuotes, stored: StoredQuote) -> Resolved | None:
        """IQD per C = (IQD per ref) ÷ (C per ref), the ref's dinar rate resolved by its own list."""
        ref, _ = self.effective(quotes.ref)
        if ref is None:
            ref = self._own_dinar_figure(quotes)
        if ref is None:
            return None
        quote = stored.quote
        assert quote.published is not None
        per_ref = quote.value
        resolved = Resolved(
            code=code,
            rate=ref.rate / per_ref,
            source=quotes.source_id,
            # Section 4: dated by the changing side; a peg fixed in 2001 does not age today's rate.
            published=dated(
                [
                    (quote.published, quotes.source_id not in self.network),
                    (ref.published, ref.source not in self.network),
                ]
            ),
            fetched_at=self._fetched_at(quotes.source_id, stored.fetched_at, ref),
            stale=ref.stale or self._stale(quotes.source_id, stored),
            buy=None if ref.buy is None else ref.buy / per_ref,
            sell=None if ref.sell is None else ref.sell / per_ref,
        )
        if ref in self._fallbacks:
            self._fallbacks.add(resolved)
        return resolved

    def _fetched_at(self, source_id: str, fetched_at: datetime, ref: Resolved) -> datetime:
        """A cross is as fresh as its older network side; a peg or decree side has no fetch time to speak of."""
        network = [t for sid, t in ((source_id, fetched_at), (ref.source, ref.fetched_at)) if sid in self.network]
        return min(network) if network else min(fetched_at, ref.fetched_at)

    def _stale(self, source_id: str, stored: StoredQuote) -> bool:
        if source_id not in self.network:
            return False  # decrees and pegs do not age
        return self.state.now - stored.fetched_at > self.config.policy.stale_after

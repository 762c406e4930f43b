"""One refresh: fetch → validate → keep quotes → merge → store the document.

:meth:`Refresher.run_source` is the failure boundary of a source: whatever it raises,
foreseen (:class:`SourceError`) or not, becomes that source's failure, and the other
sources go on. A failure never overwrites last good data: the source's previous quotes
stay in the store and keep serving (and go stale).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rates.clock import Clock, baghdad_day, utc_now
from rates.config import Config
from rates.document import build_document, decode, encode, keep_updated_at
from rates.errors import SourceError
from rates.fetch import Fetcher
from rates.merge import MergeInput, merge
from rates.models import KeptQuote, KeptQuotes, MergeState, Quote, QuoteSet
from rates.record_store import point_entries, points_before
from rates.recording import GOLD_KEY, gold_entry, keep_record, live_points, with_tracked
from rates.sources import Source, build_sources
from rates.store import Store, StoreWriteError
from rates.validate import check

log = logging.getLogger(__name__)
FetchObserver = Callable[[str, str, float], None]  # source id, outcome, seconds
ADMIN_RACE_RETRIES = 5


@dataclass(frozen=True)
class Outcome:
    source_id: str
    ok: bool
    message: str
    network: bool


class Refresher:
    """Holds what a refresh needs (config, store, fetcher, sources); the service and ``rates fetch`` drive it."""

    def __init__(
        self,
        config: Config,
        store: Store,
        fetcher: Fetcher,
        *,
        clock: Clock = utc_now,
        on_fetch: FetchObserver | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.on_fetch = on_fetch
        self.sources = {s.id: s for s in build_sources(config.sources)}
        self._merge_lock = asyncio.Lock()
        # Why the store refuses writes (full, read-only, ...), None while it takes them.
        self.store_problem: str | None = None
        # Set when a merge stored a new gold entry: the snapshot is rebuilt even if the
        # rates document's bytes did not change (XAU need not be listed).
        self.gold_changed = False

    def reconfigure(self, config: Config) -> None:
        """Take a reloaded config: sources added, removed or retuned."""
        self.config = config
        self.sources = {s.id: s for s in build_sources(config.sources)}

    async def refresh_all(self) -> tuple[list[Outcome], bytes]:
        outcomes = await asyncio.gather(*(self.run_source(s) for s in self.sources.values()))
        return list(outcomes), await self.remerge()

    async def run_source(self, source: Source[Any]) -> Outcome:
        started = time.perf_counter()
        network = source.settings.network
        try:
            quote_set = await source.fetch(self.fetcher)
            fetched_at = self.clock()
            message = await asyncio.to_thread(self._keep, source, quote_set, fetched_at)
        except Exception as exc:  # the boundary: anything a source raises is its failure, not ours
            if isinstance(exc, StoreWriteError):
                self._store_refused(exc)
            reason = _reason(exc)
            await self._record_failure(source.id, reason, exc)
            self._observe(source.id, "error", started)
            return Outcome(source.id, False, reason, network)
        self._observe(source.id, "ok", started)
        return Outcome(source.id, True, message, network)

    def _observe(self, source_id: str, outcome: str, started: float) -> None:
        if self.on_fetch is not None:
            self.on_fetch(source_id, outcome, time.perf_counter() - started)

    def _keep(self, source: Source[Any], quote_set: QuoteSet, fetched_at: datetime) -> str:
        """Validate and store; raises SourceError when nothing valid is left."""
        source_id = source.id
        today = baghdad_day(fetched_at)
        checked = check(quote_set.quotes, today)
        if not checked.valid:
            raise SourceError(source_id, f"no usable numbers ({checked.summary()})")
        dated = [q if q.published is not None else replace(q, published=today) for q in checked.valid]
        kept = self._updated_quotes(source, quote_set.ref, dated, fetched_at)
        status = self.store.status(source_id)
        if status.failures:
            log.info("%s recovered after %d failed fetches", source_id, status.failures)
        newest = max(q.published or today for q in dated)
        message = f"{len(dated)} quotes published {newest.isoformat()}"
        if checked.rejected:
            message += f"; rejected {checked.summary()}"
        new_status = replace(status, last_success=fetched_at, failures=0, rejected=checked.rejected)
        if quote_set.record is not None:
            message += keep_record(self.store, self.config, source_id, quote_set.record, today)
        log.info("%s: %s", source_id, message)
        self.store.save_fetch(KeptQuotes(source_id, quote_set.ref, kept), new_status)
        return message

    def _updated_quotes(
        self, source: Source[Any], ref: str, quotes: list[Quote], fetched_at: datetime
    ) -> dict[str, KeptQuote]:
        """The stored quotes with these new ones over them: a currency missing now keeps its last good quote."""
        previous = self.store.source_quotes([source.id]).get(source.id)
        kept = dict(previous.quotes) if previous is not None and previous.ref == ref else {}
        network = source.settings.network  # the settings being run: a reload may have dropped them from the config
        for quote in quotes:
            # A decree re-read from the config is not news: it keeps the time it was first stored.
            if network or quote.code not in kept or kept[quote.code].quote != quote:
                kept[quote.code] = KeptQuote(quote, fetched_at)
        return kept

    async def _record_failure(self, source_id: str, reason: str, exc: Exception) -> None:
        if not isinstance(exc, SourceError):
            log.debug("%s: unforeseen error", source_id, exc_info=exc)
        try:
            await asyncio.to_thread(self._save_failure, source_id, reason)
        except Exception as again:  # the store itself failing: say so, the rest goes on
            log.error("%s failed (%s) and the failure could not be stored: %s", source_id, reason, _reason(again))

    def _save_failure(self, source_id: str, reason: str) -> None:
        status = self.store.status(source_id)
        if status.failures == 0:
            log.warning("%s failed: %s (last good data keeps serving)", source_id, reason)
        else:
            log.debug("%s still failing (%d): %s", source_id, status.failures + 1, reason)
        failed = replace(status, last_error=reason, last_error_at=self.clock(), failures=status.failures + 1)
        self.store.save_fetch(None, failed)

    async def remerge(self, kept: Mapping[str, KeptQuotes] | None = None) -> bytes:
        """Merge the stored quotes into a document and store it; returns its bytes.

        With ``kept`` (quotes read earlier), only time moves on: the document ages, but no
        baseline or hold is decided on those old quotes.
        """
        async with self._merge_lock:
            return await asyncio.to_thread(self._remerge, kept)

    def read_kept(self) -> dict[str, KeptQuotes]:
        return self.store.source_quotes(self.sources)

    def _remerge(self, kept: Mapping[str, KeptQuotes] | None) -> bytes:
        # An admin's accept/reject (another process) may commit while we merge; saving our
        # state then would silently undo it. The store refuses that save: merge again.
        for _ in range(ADMIN_RACE_RETRIES):
            payload, saved = self._merge_once(kept)
            if saved:
                return payload
        return payload

    def _merge_once(self, kept: Mapping[str, KeptQuotes] | None) -> tuple[bytes, bool]:
        config = self.config
        revision = self.store.revision()
        state = self.store.merge_state()
        now = self.clock()
        tracked = with_tracked(config)  # gold is resolved for its prices even when not listed
        result = merge(
            MergeInput(
                config=tracked,
                sources=self.read_kept() if kept is None else kept,
                baselines=state.baselines,
                holds=state.holds,
                rejections=state.rejections,
                now=now,
            )
        )
        points = live_points(result.rates)
        history = points_before(self.store, {r.code: r.published for r in result.rates if r.published is not None})
        previous = self.store.document()
        shown = tuple(r for r in result.rates if r.code in config.codes)
        document = keep_updated_at(
            build_document(config, shown, history, now), None if previous is None else decode(previous)
        )
        payload = encode(document)
        new_state = (
            state if kept is not None else MergeState(result.baselines, result.holds, state.rejections, result.refused)
        )
        gold = gold_entry(tracked, result.rates, history, now)
        gold_changed = gold != self.store.read(GOLD_KEY, None)
        if payload != previous or new_state != state or gold_changed:
            try:
                entries = {**point_entries(self.store, points), **({GOLD_KEY: gold} if gold is not None else {})}
                saved = self.store.save_merge(new_state, payload, entries, revision=revision)
            except StoreWriteError as exc:
                # Serve what was computed anyway: its staleness must advance though nothing is kept.
                self._store_refused(exc)
                return payload, True
            self._store_took()
            self.gold_changed = self.gold_changed or (saved and gold_changed)
            return payload, saved
        return payload, self.store.revision() == revision  # an admin acted meanwhile: merge again

    def _store_refused(self, exc: StoreWriteError) -> None:
        if self.store_problem is None:
            log.error("%s; serving what was computed, nothing new is kept until it can write again", exc)
        self.store_problem = str(exc)

    def _store_took(self) -> None:
        if self.store_problem is not None:
            log.info("the store takes writes again")
        self.store_problem = None


def _reason(exc: BaseException) -> str:
    """One line for the log and ``/api/v1/sources``; an unforeseen error is named by its type."""
    if isinstance(exc, SourceError):
        return exc.reason
    text = " ".join(str(exc).split())[:200]
    return f"unexpected {type(exc).__name__}" + (f": {text}" if text else "")


def failed_network(outcomes: Iterable[Outcome]) -> bool:
    """True when every network source failed (a ``fixed`` source does not count)."""
    network = [o for o in outcomes if o.network]
    return bool(network) and not any(o.ok for o in network)

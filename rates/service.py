"""The running service: its resources, opened together and closed together, and what runs
when — the first batch, each source's job, the tick, a new config.

:meth:`Service.running` opens the store and the HTTP client and starts the scheduler; the
app holds the service only while it runs (aiohttp's ``cleanup_ctx``), so every attribute
exists from the start. Handlers read the :class:`Publisher`, never the service.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from rates.clock import Clock, utc_now
from rates.config import Config
from rates.document import aged, encode
from rates.fetch import Fetcher
from rates.models import KeptQuotes
from rates.publisher import Publisher
from rates.refresh import Refresher
from rates.scheduler import Scheduler
from rates.store import Store
from rates.watcher import ConfigWatcher

log = logging.getLogger(__name__)


def tick_interval() -> timedelta:
    """How often admin actions, staleness and config edits are looked at (``RATES_TICK``, whole seconds)."""
    return timedelta(seconds=int(os.environ.get("RATES_TICK", "5")))


class Service:
    def __init__(
        self, config: Config, store: Store, fetcher: Fetcher, publisher: Publisher, *, clock: Clock = utc_now
    ) -> None:
        self.config = config
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.refresher = Refresher(config, store, fetcher, clock=clock, on_fetch=publisher.observe_fetch)
        self.scheduler = Scheduler(self.run_source, self.tick, tick_interval(), clock=clock)
        self.watcher = ConfigWatcher(config, self._apply)
        # No merge before every source's first answer (or failure): a fast aggregator must
        # not set a currency's baseline while the official source is still on its way.
        self._first_batch_done = False
        self._first_batch: asyncio.Task[None] | None = None
        # Until then the tick only ages what the store held at start (its staleness must not freeze).
        self._kept_at_start: dict[str, KeptQuotes] = {}

    @classmethod
    @asynccontextmanager
    async def running(cls, config: Config, publisher: Publisher) -> AsyncIterator[Service]:
        store = await asyncio.to_thread(Store, config.storage.dir)
        with store:
            async with Fetcher() as fetcher:
                service = cls(config, store, fetcher, publisher)
                await service._start()
                try:
                    yield service
                finally:
                    await service._stop()

    async def _start(self) -> None:
        await self.publisher.use_mirror(self.config)
        stored = await asyncio.to_thread(self.store.document)
        if stored is not None:  # serve what we had before any source answers
            self._kept_at_start = await asyncio.to_thread(self.refresher.read_kept)
            await self.publisher.publish(stored, self.store)
        self.scheduler.start(self.config)
        await self._report()  # /api/v1/sources from the store while the first batch runs
        self._first_batch = asyncio.create_task(self._run_first_batch())

    async def _run_first_batch(self) -> None:
        await self.scheduler.run_all()
        self._first_batch_done = True
        await self.remerge(force=True)  # force: a reload meanwhile changed what is rendered

    async def _stop(self) -> None:
        if self._first_batch is not None and not self._first_batch.done():
            self._first_batch.cancel()
        self.scheduler.shutdown()
        await self.publisher.close()

    # Data ----------------------------------------------------------------

    async def run_source(self, source_id: str) -> bool:
        """Fetch one source, then merge; True when the fetch succeeded."""
        source = self.refresher.sources.get(source_id)
        if source is None:
            return True  # removed by a reload while queued
        outcome = await self.refresher.run_source(source)
        await self.remerge()
        return outcome.ok

    async def remerge(self, *, force: bool = False) -> None:
        try:
            if self._first_batch_done:
                payload = await self.refresher.remerge()
            elif self._kept_at_start:
                payload = await self.refresher.remerge(self._kept_at_start)
            else:
                return  # a cold start: nothing to show before the first batch
        except Exception as exc:  # the store cannot even be read: age what is served
            aged_payload = self._aged_snapshot(exc)
            if aged_payload is None:
                return
            payload = aged_payload
        # A new gold entry rebuilds the snapshot though the rates document's bytes are the same.
        force, self.refresher.gold_changed = force or self.refresher.gold_changed, False
        self.publisher.store_condition(self.refresher.store_problem)
        await self._report()  # first: whoever sees a held rate finds the move in /api/v1/sources
        await self.publisher.publish(payload, self.store, force=force)

    def _aged_snapshot(self, exc: Exception) -> bytes | None:
        if self.refresher.store_problem is None:
            log.error("merging failed (%s); the served rates age until it works again", exc)
        self.refresher.store_problem = f"merging failed: {' '.join(str(exc).split())[:200]}"
        snapshot = self.publisher.snapshot
        if snapshot is None:
            return None
        fixed = {s.id for s in self.config.sources if not s.network}
        return encode(aged(snapshot.document, self.clock(), self.config.policy.stale_after, fixed))

    async def tick(self) -> None:
        """Config edits, admin actions (store revision) and the passing of time (staleness)."""
        await self.watcher.check()
        await self.remerge()  # cheap when nothing changed: nothing is written or re-rendered

    async def reload(self) -> bool:
        """Re-read the config file now (SIGHUP); True when it was valid and applied."""
        return await self.watcher.reload()

    async def _report(self) -> None:
        next_runs = {s.id: self.scheduler.next_run(s.id) for s in self.config.sources}
        await self.publisher.report(self.store, next_runs)

    # Config --------------------------------------------------------------

    async def _apply(self, config: Config) -> None:
        if config.storage.dir != self.config.storage.dir:
            log.warning("storage.dir changes take effect after a restart; keeping %s", self.config.storage.dir)
            config = config.model_copy(update={"storage": self.config.storage})
        before = {s.id: s for s in self.config.sources}
        changed = [s for s in config.sources if s.id in before and before[s.id] != s]
        self.config = config
        self.publisher.use_config(config)
        await self.publisher.use_mirror(config)
        self.refresher.reconfigure(config)
        self.scheduler.schedule(config)
        # A fixed source's config is its payload: re-read it before re-rendering. Changed
        # network sources are run now by the scheduler.
        sources = self.refresher.sources
        await asyncio.gather(*(self.refresher.run_source(sources[s.id]) for s in changed if not s.network))
        # Re-render everything under the new config; the old snapshot serves until then.
        await self.remerge(force=True)

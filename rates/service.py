"""The running service: its config, store, pipeline, scheduler and published snapshot.

State is passed explicitly: the app holds one :class:`Service`; handlers read
``service.published`` (swapped whole after each data change) and never do I/O.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rates.config import Config, load_config
from rates.errors import ConfigError
from rates.fetch import Fetcher
from rates.gold import gold_document
from rates.metrics import Metrics
from rates.mirror import Mirror
from rates.openapi import openapi_body
from rates.publish import Published, default_widget, embed_js, widget_renderer
from rates.record_store import RecordCache
from rates.recording import stored_gold, tracked_codes
from rates.refresh import Pipeline
from rates.responses import Responder
from rates.scheduler import Scheduler
from rates.store import Store, source_report
from widget.render import WidgetOptions

log = logging.getLogger(__name__)


def tick_interval() -> timedelta:
    """How often admin actions, staleness and config edits are looked at (``RATES_TICK``, whole seconds)."""
    return timedelta(seconds=int(os.environ.get("RATES_TICK", "5")))


@dataclass
class ConfigStatus:
    path: Path
    loaded_at: datetime
    errors: list[str] = field(default_factory=list)
    mtime: float | None = None


class Service:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = Metrics()
        self.published: Published | None = None
        self._use_widget_config(config)
        self.openapi = openapi_body(config)
        self.store: Store | None = None
        self.fetcher: Fetcher | None = None
        self.pipeline: Pipeline | None = None
        self.scheduler: Scheduler | None = None
        self.mirror = Mirror(config.publish, self.metrics) if config.publish is not None else None
        self._record = RecordCache()  # the daily record, re-read only where it changed
        self.source_report: list[dict[str, Any]] = []
        self._first_batch: asyncio.Task[None] | None = None
        self.config_status = ConfigStatus(config.path, config.loaded_at, mtime=_mtime(config.path))
        self._reload_lock = asyncio.Lock()

    def _use_widget_config(self, config: Config) -> None:
        """The renderer, the response headers and the widget's security headers: built once per config."""
        self.responder = Responder(config.server.max_age, config.server.cors_origins)
        self.renderer = widget_renderer(config)
        self.embed_js = embed_js(config, self.published.document if self.published else None)
        self.widget_headers = {
            "Content-Security-Policy": self.renderer.content_security_policy(config.server.frame_ancestors),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    def default_widget(self) -> WidgetOptions:
        return default_widget(self.config)

    # Lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        self.store = await asyncio.to_thread(Store, self.config.storage.dir)
        self.fetcher = await Fetcher().__aenter__()
        self.pipeline = Pipeline(self.config, self.store, self.fetcher, on_fetch=self._observe_fetch)
        stored = await asyncio.to_thread(self.store.document)
        if stored is not None:  # serve what we had before any source answers
            await self.publish(stored)
        self.scheduler = Scheduler(self.run_source, self.tick, tick_interval())
        self.scheduler.start(self.config)
        await self.refresh_report()  # /api/v1/sources from the store while the first batch runs
        self._first_batch = asyncio.create_task(self.refresh_all())

    async def refresh_all(self) -> None:
        """Every source at once, then one merge: no source's answer is judged before the others'."""
        assert self.pipeline is not None and self.scheduler is not None
        outcomes, payload = await self.pipeline.refresh_all()
        for outcome in outcomes:
            self.scheduler.record(outcome.source_id, outcome.ok)
        force, self.pipeline.gold_changed = self.pipeline.gold_changed, False
        await self.publish(payload, force=force)
        await self.refresh_report()

    async def stop(self) -> None:
        if self._first_batch is not None and not self._first_batch.done():
            self._first_batch.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.mirror is not None:
            await self.mirror.close()
        if self.fetcher is not None:
            await self.fetcher.close()
        if self.store is not None:
            self.store.close()

    # Data ----------------------------------------------------------------

    async def run_source(self, source_id: str) -> bool:
        assert self.pipeline is not None and self.store is not None
        if source_id not in self.pipeline.sources:
            return True  # removed by a reload while queued
        outcome = await self.pipeline.run_source(self.pipeline.sources[source_id])
        await self.remerge()
        return outcome.ok

    async def remerge(self, *, force: bool = False) -> None:
        assert self.pipeline is not None
        payload = await self.pipeline.remerge()
        force = force or self.pipeline.gold_changed
        self.pipeline.gold_changed = False
        await self.publish(payload, force=force)
        await self.refresh_report()

    async def publish(self, payload: bytes, *, force: bool = False) -> None:
        """Swap in a new snapshot when the document bytes changed (or ``force``: a new config)."""
        if not force and self.published is not None and self.published.rates.raw == payload:
            return
        assert self.store is not None
        store, codes, gold_settings = self.store, tracked_codes(self.config), self.config.widget.gold

        def build() -> tuple[Published, int]:
            record = self._record.view(store, codes)
            gold = None if gold_settings is None else gold_document(gold_settings, *stored_gold(store))
            published = Published.build(payload, record, self.renderer, self.default_widget(), gold)
            return published, len(store.merge_state().holds)

        published, holds = await asyncio.to_thread(build)
        previous, self.published = self.published, published
        self.embed_js = embed_js(self.config, published.document)
        self.metrics.document(published.document, holds)
        if self.mirror is not None:
            self.mirror.update(published, previous, self.embed_js, self.config)

    def sources_report(self) -> list[dict[str, Any]]:
        """``/api/v1/sources``: each source, then the publish directory when one is configured."""
        return self.source_report + ([self.mirror.report()] if self.mirror is not None else [])

    def _observe_fetch(self, source_id: str, outcome: str, seconds: float) -> None:
        success = datetime.now(UTC).timestamp() if outcome == "ok" else None
        self.metrics.fetch_done(source_id, outcome, seconds, success)

    async def tick(self) -> None:
        """Config edits, admin actions (store revision) and the passing of time (staleness)."""
        if _mtime(self.config.path) != self.config_status.mtime:
            await self.reload()
        await self.remerge()  # cheap when nothing changed: nothing is written or re-rendered

    async def refresh_report(self) -> None:
        """Record next runs in the store and rebuild ``/api/v1/sources`` off the request path."""
        assert self.store is not None and self.scheduler is not None
        next_runs = {s.id: self.scheduler.next_run(s.id) for s in self.config.sources}
        store, config = self.store, self.config

        def record_and_report() -> list[dict[str, Any]]:
            store.set_next_runs(next_runs)
            return source_report(store, config, next_runs)

        self.source_report = await asyncio.to_thread(record_and_report)

    # Config --------------------------------------------------------------

    async def reload(self) -> bool:
        """Re-read the config file; swap it in if valid, else keep the running one."""
        async with self._reload_lock:
            path = self.config.path
            self.config_status.mtime = _mtime(path)
            try:
                config = await asyncio.to_thread(load_config, path)
            except ConfigError as exc:
                self.config_status.errors = exc.lines()
                for line in exc.lines():
                    log.error("config rejected, the running config stays: %s", line)
                return False
            await self._apply(config)
            return True

    async def _apply(self, config: Config) -> None:
        if config.storage.dir != self.config.storage.dir:
            log.warning("storage.dir changes take effect after a restart; keeping %s", self.config.storage.dir)
            config = config.model_copy(update={"storage": self.config.storage})
        before = {s.id: s for s in self.config.sources}
        changed = [s for s in config.sources if s.id in before and before[s.id] != s]
        if config.publish != self.config.publish:
            if self.mirror is not None:
                await self.mirror.close()
            self.mirror = Mirror(config.publish, self.metrics) if config.publish is not None else None
        self.config = config
        self._use_widget_config(config)
        self.openapi = openapi_body(config)
        self.config_status = ConfigStatus(config.path, config.loaded_at, mtime=self.config_status.mtime)
        assert self.pipeline is not None and self.scheduler is not None
        self.pipeline.reconfigure(config)
        self.scheduler.schedule(config)
        # A fixed source's config is its payload: re-read it before re-rendering. Changed
        # network sources are run now by the scheduler.
        pipeline = self.pipeline
        await asyncio.gather(*(pipeline.run_source(pipeline.sources[s.id]) for s in changed if not s.network))
        # Re-render everything under the new config; the old snapshot serves until then.
        await self.remerge(force=True)
        log.info("config reloaded from %s", config.path)


def _mtime(path: Path) -> float | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns + stat.st_size

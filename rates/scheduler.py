"""APScheduler jobs: one per source, plus a tick for admin actions, staleness and config edits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from rates.clock import Clock, utc_now
from rates.config import Config
from rates.sources import SourceSettings

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(seconds=30)
RunSource = Callable[[str], Awaitable[bool]]  # True when the fetch succeeded


class Scheduler:
    """Runs each source at its ``every`` (all at once at start), retrying failures sooner.

    The one owner of retry backoff: every run, the first batch included, goes through :meth:`run`.
    """

    def __init__(
        self,
        run_source: RunSource,
        tick: Callable[[], Awaitable[None]],
        tick_every: timedelta,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._run_source = run_source
        self._clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._failures: dict[str, int] = {}
        self._every: dict[str, timedelta] = {}
        self._settings: dict[str, SourceSettings] = {}
        self._scheduler.add_job(
            tick, "interval", seconds=tick_every.total_seconds(), id="tick", max_instances=1, coalesce=True
        )

    def start(self, config: Config) -> None:
        """Schedule every source one ``every`` from now: :meth:`run_all` is the first batch."""
        self.schedule(config, first_run_now=False)
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def schedule(self, config: Config, *, first_run_now: bool = True) -> None:
        """Make the jobs match ``config``: sources added or changed run now, removed ones stop."""
        wanted = {s.id: s for s in config.sources}
        for source_id in list(self._every):
            if source_id not in wanted:
                self._scheduler.remove_job(source_id)
                del self._every[source_id], self._settings[source_id]
        for source_id, settings in wanted.items():
            if self._settings.get(source_id) == settings and self._scheduler.get_job(source_id) is not None:
                continue
            every = getattr(settings, "every", None)
            if not isinstance(every, timedelta):
                every = timedelta(days=1)  # fixed sources only need re-reading now and then
            self._every[source_id] = every
            self._settings[source_id] = settings
            self._scheduler.add_job(
                self._run,
                "interval",
                args=[source_id],
                id=source_id,
                replace_existing=True,
                seconds=every.total_seconds(),
                jitter=min(every.total_seconds() * 0.05, 60),
                next_run_time=self._clock() + (timedelta(0) if first_run_now else every),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(every.total_seconds()),
            )

    def next_run(self, source_id: str) -> datetime | None:
        job = self._scheduler.get_job(source_id)
        return None if job is None else job.next_run_time

    async def run_all(self) -> None:
        """Every scheduled source at once, each retried like any other run when it fails."""
        await asyncio.gather(*(self._run(source_id) for source_id in list(self._every)))

    async def _run(self, source_id: str) -> None:
        self._record(source_id, await self._run_source(source_id))

    def _record(self, source_id: str, ok: bool) -> None:
        """After a failure, retry sooner: 30s, 1m, 2m, … capped at the source's ``every``."""
        if ok:
            self._failures.pop(source_id, None)
            return
        failures = self._failures.get(source_id, 0) + 1
        self._failures[source_id] = failures
        every = self._every.get(source_id)
        if every is None:
            return
        retry = min(every, FIRST_RETRY * 2 ** (failures - 1))
        job = self._scheduler.get_job(source_id)
        if job is not None:
            job.modify(next_run_time=self._clock() + retry)
            log.debug("%s: retry in %s", source_id, retry)

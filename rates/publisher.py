"""What the handlers read, kept current off the request path: the snapshot, the metrics
and the source report, all under the running config's presentation.

Each is replaced whole (a new object per change), so a handler never sees half an update
and never does I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rates.clock import Clock, utc_now
from rates.config import Config
from rates.document import iso_time
from rates.gold import gold_document
from rates.metrics import Metrics
from rates.mirror import Mirror
from rates.models import Hold, MergeState, SourceStatus
from rates.openapi import openapi_body
from rates.present import significant
from rates.record_store import RecordCache
from rates.recording import stored_gold, tracked_codes
from rates.redact import redact
from rates.responses import Responder, widget_security_headers
from rates.snapshot import Snapshot, default_widget, embed_js, widget_renderer
from rates.store import Store, StoreWriteError
from widget.render import WidgetOptions


class Publisher:
    def __init__(self, config: Config, *, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.metrics = Metrics()
        self.snapshot: Snapshot | None = None  # None until a first document exists: /readyz says so
        self.source_report: list[dict[str, Any]] = []
        self.next_update: datetime | None = None  # the earliest next run in that report
        self.store_problem: str | None = None  # /readyz answers 503 with it
        self.mirror: Mirror | None = None
        self.mirror_settings: object = None
        self._record = RecordCache()  # the daily record, re-read only where it changed
        self.use_config(config)

    def use_config(self, config: Config) -> None:
        """The config whose presentation is served: widget renderer and headers built once per config."""
        self.config = config
        self.responder = Responder(config.server.max_age, config.server.cors_origins)
        self.openapi = openapi_body(config)
        self.renderer = widget_renderer(config)
        self.embed_js = embed_js(config, self.snapshot.document if self.snapshot else None)
        self.widget_headers = widget_security_headers(self.renderer, config.server.frame_ancestors)

    def default_widget(self) -> WidgetOptions:
        return default_widget(self.config)

    async def publish(self, payload: bytes, store: Store, *, force: bool = False) -> None:
        """Swap in a new snapshot when the document bytes changed (or ``force``: a new config)."""
        if not force and self.snapshot is not None and self.snapshot.rates.raw == payload:
            return
        codes, renderer, default = tracked_codes(self.config), self.renderer, self.default_widget()
        gold_settings = self.config.widget.gold

        def build() -> tuple[Snapshot, int]:
            gold = None if gold_settings is None else gold_document(gold_settings, *stored_gold(store))
            snapshot = Snapshot.build(payload, self._record.view(store, codes), renderer, default, gold)
            return snapshot, len(store.merge_state().holds)

        snapshot, holds = await asyncio.to_thread(build)
        previous, self.snapshot = self.snapshot, snapshot
        self.embed_js = embed_js(self.config, snapshot.document)
        self.metrics.document(snapshot.document, holds)
        if self.mirror is not None:
            self.mirror.update(snapshot, previous, self.embed_js, self.config)

    async def use_mirror(self, config: Config) -> None:
        """The publish directory of ``config`` (a new one when its section changed)."""
        if self.mirror is not None and config.publish == self.mirror_settings:
            return
        await self.close()
        self.mirror_settings = config.publish
        self.mirror = Mirror(config.publish, self.metrics) if config.publish is not None else None

    async def close(self) -> None:
        if self.mirror is not None:
            await self.mirror.close()
            self.mirror = None

    def sources_report(self) -> list[dict[str, Any]]:
        """``/api/v1/sources``: each source, then the publish directory when one is configured."""
        return self.source_report + ([self.mirror.report()] if self.mirror is not None else [])

    async def report(self, store: Store, next_runs: Mapping[str, datetime | None]) -> None:
        """Record next runs in the store (for ``rates status``) and rebuild ``/api/v1/sources``."""
        config = self.config

        problem = self.store_problem

        def record_and_report() -> list[dict[str, Any]]:
            # The merge reports a refusing store; next runs are only a courtesy to `rates status`.
            with contextlib.suppress(StoreWriteError):
                if problem is None:
                    store.set_next_runs(next_runs)
            return read_report(store, config, next_runs)

        report = await asyncio.to_thread(record_and_report)
        self.source_report = [{**entry, "store": problem} for entry in report]
        runs = [datetime.fromisoformat(e["next_run"].replace("Z", "+00:00")) for e in report if e["next_run"]]
        self.next_update = min(runs, default=None)

    def store_condition(self, problem: str | None) -> None:
        """The store's state as ``/readyz``, ``/api/v1/sources`` and the metrics tell it."""
        self.store_problem = problem
        self.metrics.store(problem)

    def observe_fetch(self, source_id: str, outcome: str, seconds: float) -> None:
        success = self.clock().timestamp() if outcome == "ok" else None
        self.metrics.fetch_done(source_id, outcome, seconds, success)


def read_report(store: Store, config: Config, next_runs: Mapping[str, datetime | None]) -> list[dict[str, Any]]:
    statuses = {s.id: store.status(s.id) for s in config.sources}
    return source_report(config, statuses, store.merge_state(), next_runs)


def source_report(
    config: Config,
    statuses: Mapping[str, SourceStatus],
    state: MergeState,
    next_runs: Mapping[str, datetime | None],
) -> list[dict[str, Any]]:
    """Each source's health as ``/api/v1/sources`` and ``rates status`` show it."""
    holds = state.holds
    report = []
    for settings in config.sources:
        status = statuses.get(settings.id, SourceStatus(settings.id))
        next_run = next_runs.get(settings.id, status.next_run)
        report.append(
            {
                "id": settings.id,
                "kind": settings.kind,
                "ok": status.ok,
                "last_success": _iso(status.last_success),
                # Redacted again here: a reason stored by a version that did not redact must not leak now.
                "last_error": None if status.last_error is None else redact(status.last_error),
                "last_error_at": _iso(status.last_error_at),
                "next_run": _iso(next_run),
                "failures": status.failures,
                "rejected": [
                    {"code": c, "reason": r} for c, r in (*status.rejected, *state.refused.get(settings.id, ()))
                ],
                "held": [_hold(h) for h in holds.values() if h.source == settings.id],
            }
        )
    return report


def _hold(hold: Hold) -> dict[str, Any]:
    return {"code": hold.code, "from": significant(hold.old), "to": significant(hold.new), "since": _iso(hold.since)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_time(moment)

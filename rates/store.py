"""The store: a diskcache directory, and the only module that imports diskcache.

Everything a restart needs lives here: each source's last accepted quotes and status,
the merge state (accepted values, holds, admin rejections), the current document and
one history point per currency per publication date. Writes that belong together go
in one SQLite transaction, so a ``kill -9`` leaves either the old state or the new.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import diskcache

from rates.config import Config
from rates.document import iso_time
from rates.errors import StoreError
from rates.models import Hold, Rejection, Resolved, SourceQuotes
from rates.present import significant
from rates.redact import redact

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    accepted: dict[str, Resolved] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    rejections: dict[str, Rejection] = field(default_factory=dict)


class Store:
    """Blocking: call it from a thread on the refresh path, never from a handler."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache = self._open(directory)

    def _open(self, directory: Path) -> diskcache.Cache:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            cache = diskcache.Cache(str(directory), timeout=10, size_limit=2**30)
            cache.get("revision")  # touch the database so a corrupt file fails here
            return cache
        except (sqlite3.DatabaseError, OSError) as exc:
            if isinstance(exc, OSError) and not directory.exists():
                raise StoreError(f"cannot create the store directory {directory}: {exc.strerror}") from None
            return self._rebuild(directory, exc)

    def _rebuild(self, directory: Path, exc: Exception) -> diskcache.Cache:
        aside = directory.with_name(f"{directory.name}.corrupt-{datetime.now():%Y%m%d%H%M%S}")
        log.error("the store at %s is unreadable (%s); moved it to %s and starting empty", directory, exc, aside)
        try:
            shutil.move(str(directory), str(aside))
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            return diskcache.Cache(str(directory), timeout=10, size_limit=2**30)
        except (OSError, sqlite3.DatabaseError) as again:
            raise StoreError(f"the store at {directory} is unreadable and cannot be rebuilt: {again}") from None

    def close(self) -> None:
        self._cache.close()

    def _get(self, key: Any, default: T) -> T:
        try:
            value = self._cache.get(key, default)
        except (sqlite3.DatabaseError, OSError, ValueError, AttributeError, ImportError, EOFError) as exc:
            log.error("store entry %r is unreadable (%s); ignoring it until the next refresh", key, exc)
            return default
        return value  # type: ignore[no-any-return]

    # Sources -------------------------------------------------------------

    def source_quotes(self, source_ids: Iterable[str]) -> dict[str, SourceQuotes]:
        found: dict[str, object] = {sid: self._get(("quotes", sid), None) for sid in source_ids}
        return {sid: q for sid, q in found.items() if isinstance(q, SourceQuotes)}

    def status(self, source_id: str) -> SourceStatus:
        status = self._get(("status", source_id), None)
        return status if isinstance(status, SourceStatus) else SourceStatus(source_id)

    def save_fetch(self, quotes: SourceQuotes | None, status: SourceStatus) -> None:
        """A fetch outcome: new quotes (None after a failure: the old ones stay) and status."""
        with self._cache.transact():
            if quotes is not None:
                self._cache.set(("quotes", quotes.source_id), quotes)
            self._cache.set(("status", status.source_id), status)

    def set_next_runs(self, next_runs: Mapping[str, datetime | None]) -> None:
        """Written by the server so ``rates status`` can tell without it."""
        with self._cache.transact():
            for source_id, when in next_runs.items():
                current = self.status(source_id)
                if current.next_run != when:
                    self._cache.set(("status", source_id), replace(current, next_run=when))

    # Merge state ---------------------------------------------------------

    def merge_state(self) -> MergeState:
        return MergeState(
            accepted=self._get("accepted", {}), holds=self._get("holds", {}), rejections=self._get("rejections", {})
        )

    def revision(self) -> int:
        """Bumped by every admin action, so a running server notices within a tick."""
        return int(self._get("revision", 0))

    def accept_hold(self, code: str, source: str | None) -> Hold | None:
        with self._cache.transact():
            state = self.merge_state()
            hold = state.holds.get(code)
            if hold is None or (source is not None and hold.source != source):
                return None
            accepted = dict(state.accepted)
            previous = accepted.get(code)
            if previous is not None:
                accepted[code] = replace(previous, rate=hold.new, source=hold.source, buy=None, sell=None)
            self._cache.set("accepted", accepted)
            self._cache.set("holds", {c: h for c, h in state.holds.items() if c != code})
            self._bump()
            return hold

    def reject_hold(self, code: str) -> Hold | None:
        with self._cache.transact():
            state = self.merge_state()
            hold = state.holds.get(code)
            if hold is None:
                return None
            rejections = {**state.rejections, code: Rejection(code=code, source=hold.source, rate=hold.new)}
            self._cache.set("rejections", rejections)
            self._cache.set("holds", {c: h for c, h in state.holds.items() if c != code})
            self._bump()
            return hold

    def _bump(self) -> None:
        self._cache.set("revision", self.revision() + 1)

    # Document and history ------------------------------------------------

    def document(self) -> bytes | None:
        value = self._get("document", None)
        return value if isinstance(value, bytes) else None

    def save_merge(
        self,
        state: MergeState,
        document: bytes,
        points: Mapping[Any, Any],
        *,
        revision: int | None = None,
    ) -> bool:
        """The outcome of one merge, all or nothing.

        With ``revision`` (read before the merge read its state), nothing is written when an
        admin action landed since: the merge would overwrite it. False then; merge again.
        """
        with self._cache.transact():
            if revision is not None and self.revision() != revision:
                return False
            self._cache.set("accepted", state.accepted)
            self._cache.set("holds", state.holds)
            self._cache.set("rejections", state.rejections)
            self._cache.set("document", document)
            for key, value in points.items():  # the record's entries (rates/record_store.py)
                self._cache.set(key, value)
        return True

    # Plain entries of other modules (the daily record) ---------------------

    def read(self, key: Any, default: T) -> T:
        return self._get(key, default)

    def write(self, entries: Mapping[Any, Any]) -> None:
        """Entries that belong together, all or nothing."""
        with self._cache.transact():
            for key, value in entries.items():
                self._cache.set(key, value)


def source_report(store: Store, config: Config, next_runs: Mapping[str, datetime | None]) -> list[dict[str, Any]]:
    """Each source's health as ``/api/v1/sources`` and ``rates status`` show it."""
    holds = store.merge_state().holds
    report = []
    for settings in config.sources:
        status = store.status(settings.id)
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
                "rejected": [{"code": c, "reason": r} for c, r in status.rejected],
                "held": [_hold(h) for h in holds.values() if h.source == settings.id],
            }
        )
    return report


def _hold(hold: Hold) -> dict[str, Any]:
    return {"code": hold.code, "from": significant(hold.old), "to": significant(hold.new), "since": _iso(hold.since)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else iso_time(moment)

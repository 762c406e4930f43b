"""The store: a diskcache directory, and the only module that imports diskcache.

Everything a restart needs lives here: each source's kept quotes and status, the merge
state (baselines, holds, admin rejections), the current document and one history point per
currency per publication date, each a plain versioned record (``rates/records.py``).
Writes that belong together go in one SQLite transaction, so a ``kill -9`` leaves either
the old state or the new.

A store that cannot be written (a full disk, a read-only filesystem) is reported as such
and left where it is; only a file that cannot be read as SQLite is moved aside, and only
by a command that writes (never by ``rates status``).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Self, TypeVar

import diskcache

from rates import records
from rates.errors import StoreError
from rates.models import Hold, KeptQuotes, MergeState, Rejection, SourceStatus

log = logging.getLogger(__name__)
T = TypeVar("T")
_UNREADABLE = (sqlite3.DatabaseError, OSError, ValueError, KeyError, TypeError, records.RecordError, EOFError)


class _Disk(diskcache.Disk):  # type: ignore[misc]
    """diskcache's disk, reading pickles (keys, and values of stores before records) without running our classes."""

    def get(self, key: Any, raw: bool) -> Any:
        if raw:
            return super().get(key, raw)
        return records.legacy_load(bytes(key))

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode != diskcache.core.MODE_PICKLE:
            return super().fetch(mode, filename, value, read)
        if value is None:
            assert filename is not None
            return records.legacy_load((Path(self._directory) / filename).read_bytes())
        return records.legacy_load(bytes(value))


def condition(exc: BaseException, directory: Path | None = None) -> str:
    """What is wrong with a store that failed: ``full``, ``read-only`` or ``corrupt`` (else ``unusable``).

    SQLite often says only "unable to open database file": the filesystem then tells.
    """
    found = _condition(exc)
    if found == "unusable" and directory is not None:
        try:
            if os.statvfs(directory).f_flag & os.ST_RDONLY:
                return "read-only"
            if shutil.disk_usage(directory).free < 64 * 1024:
                return "full"
        except OSError:
            pass
    return found


def _condition(exc: BaseException) -> str:
    text = str(exc).lower()
    code = getattr(exc, "errno", None) or getattr(exc, "sqlite_errorcode", None)
    if code == errno.ENOSPC or "disk is full" in text or "no space" in text:
        return "full"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text:
        return "read-only"
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return "corrupt"
    return "unusable"


class StoreWriteError(StoreError):
    """A write was refused: the store is full, read-only or otherwise unusable (``condition``)."""

    def __init__(self, directory: Path, exc: BaseException) -> None:
        self.condition = condition(exc, directory)
        super().__init__(f"the store at {directory} is {self.condition}: {' '.join(str(exc).split())}")


class Store:
    """Blocking: call it from a thread on the refresh path, never from a handler.

    ``read_only`` (``rates status``, ``rates export``) never creates, moves or writes anything.
    """

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.directory = directory
        self.read_only = read_only
        self._cache = self._open(directory)

    def _open(self, directory: Path) -> diskcache.Cache:
        try:
            if not self.read_only:
                directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            elif not (directory / "cache.db").exists():
                raise StoreError(f"there is no store at {directory} yet: run `rates fetch` or `rates serve`")
            cache = diskcache.Cache(str(directory), timeout=10, size_limit=2**30, disk=_Disk)
            cache.get("revision")  # touch the database so a corrupt file fails here
            return cache
        except (sqlite3.DatabaseError, OSError) as exc:
            if isinstance(exc, OSError) and not directory.exists():
                raise StoreError(f"cannot create the store directory {directory}: {exc.strerror}") from None
            found = condition(exc, directory)
            if found != "corrupt" or self.read_only:
                raise StoreError(f"the store at {directory} is {found} ({exc}); nothing was moved") from None
            return self._rebuild(directory, exc)

    def _rebuild(self, directory: Path, exc: Exception) -> diskcache.Cache:
        aside = directory.with_name(f"{directory.name}.corrupt-{datetime.now():%Y%m%d%H%M%S}")
        try:
            shutil.move(str(directory), str(aside))
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            cache = diskcache.Cache(str(directory), timeout=10, size_limit=2**30, disk=_Disk)
        except (OSError, sqlite3.DatabaseError) as again:
            raise StoreError(f"the store at {directory} is unreadable and cannot be rebuilt: {again}") from None
        log.error("the store at %s is unreadable (%s); moved it to %s and starting empty", directory, exc, aside)
        return cache

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Reading and writing records -----------------------------------------------------------

    def _read(self, key: Any, decode: Callable[[records.Record], T], default: T) -> T:
        try:
            value = self._cache.get(key, None)
            return default if value is None else decode(records.loads(value))
        except _UNREADABLE as exc:
            log.error("store entry %r is unreadable (%s); ignoring it until the next refresh", key, exc)
            return default

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One transaction; a refused write is a :class:`StoreWriteError` naming the condition."""
        if self.read_only:
            raise StoreError(f"the store at {self.directory} was opened read-only")
        try:
            with self._cache.transact():
                yield
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreWriteError(self.directory, exc) from None

    def _put(self, key: Any, body: records.Record) -> None:
        self._cache.set(key, records.dumps(body))

    # Sources -------------------------------------------------------------

    def source_quotes(self, source_ids: Iterable[str]) -> dict[str, KeptQuotes]:
        found = {sid: self._read(("quotes", sid), records.kept_quotes, None) for sid in source_ids}
        return {sid: q for sid, q in found.items() if q is not None}

    def status(self, source_id: str) -> SourceStatus:
        return self._read(("status", source_id), records.source_status, SourceStatus(source_id))

    def save_fetch(self, quotes: KeptQuotes | None, status: SourceStatus) -> None:
        """A fetch outcome: new quotes (None after a failure: the old ones stay) and status."""
        with self._writing():
            if quotes is not None:
                self._put(("quotes", quotes.source_id), records.kept_quotes_record(quotes))
            self._put(("status", status.source_id), records.status_record(status))

    def set_next_runs(self, next_runs: Mapping[str, datetime | None]) -> None:
        """Written by the server so ``rates status`` can tell without it."""
        with self._writing():
            for source_id, when in next_runs.items():
                current = self.status(source_id)
                if current.next_run != when:
                    self._put(("status", source_id), records.status_record(replace(current, next_run=when)))

    # Merge state ---------------------------------------------------------

    def merge_state(self) -> MergeState:
        def refused(record: records.Record) -> dict[str, tuple[tuple[str, str], ...]]:
            items = record.get("items", {})
            return {sid: tuple((str(c), str(r)) for c, r in pairs) for sid, pairs in items.items()}

        return MergeState(
            baselines=self._read("accepted", lambda r: records.by_code(r, records.resolved), {}),
            holds=self._read("holds", lambda r: records.by_code(r, records.hold), {}),
            rejections=self._read("rejections", lambda r: records.by_code(r, records.rejection), {}),
            refused=self._read("refused", refused, {}),
        )

    def _put_state(self, state: MergeState) -> None:
        self._put("accepted", records.items_record(state.baselines, records.resolved_record))
        self._put("holds", records.items_record(state.holds, records.hold_record))
        self._put("rejections", records.items_record(state.rejections, records.rejection_record))
        self._put("refused", {"items": {sid: [list(p) for p in pairs] for sid, pairs in state.refused.items()}})

    def revision(self) -> int:
        """Bumped by every admin action, so a running server notices within a tick."""
        value = self._cache.get("revision", 0)
        return value if isinstance(value, int) else 0

    def accept_hold(self, code: str, source: str | None) -> Hold | None:
        with self._writing():
            state = self.merge_state()
            hold = state.holds.get(code)
            if hold is None or (source is not None and hold.source != source):
                return None
            baselines = dict(state.baselines)
            previous = baselines.get(code)
            if previous is not None:
                baselines[code] = replace(previous, rate=hold.new, source=hold.source, buy=None, sell=None)
            holds = {c: h for c, h in state.holds.items() if c != code}
            self._put_state(replace(state, baselines=baselines, holds=holds))
            self._bump()
            return hold

    def reject_hold(self, code: str) -> Hold | None:
        with self._writing():
            state = self.merge_state()
            hold = state.holds.get(code)
            if hold is None:
                return None
            rejections = {**state.rejections, code: Rejection(code=code, source=hold.source, rate=hold.new)}
            holds = {c: h for c, h in state.holds.items() if c != code}
            self._put_state(replace(state, rejections=rejections, holds=holds))
            self._bump()
            return hold

    def _bump(self) -> None:
        self._cache.set("revision", self.revision() + 1)

    # Document and history ------------------------------------------------

    def document(self) -> bytes | None:
        try:
            value = self._cache.get("document", None)
        except _UNREADABLE as exc:
            log.error("the stored document is unreadable (%s); ignoring it until the next refresh", exc)
            return None
        return value if isinstance(value, bytes) else None

    def legacy_history(self, code: str) -> dict[date, Decimal]:
        """A currency's rates as kept before the daily record (``rates/record_store.py``): date → rate."""
        return self._read(("history", code), records.history, {})

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
        with self._writing():
            if revision is not None and self.revision() != revision:
                return False
            self._put_state(state)
            self._cache.set("document", document)
            for key, value in points.items():  # the daily record's entries (rates/record_store.py)
                self._put(key, value)
        return True

    # Plain entries of other modules (the daily record) ---------------------

    def read(self, key: Any, default: T) -> T:
        """A plain versioned record (``{"v": 1, ...}``) as a dict, or ``default``."""
        return self._read(key, lambda record: record, default)  # type: ignore[arg-type,return-value]

    def write(self, entries: Mapping[Any, records.Record]) -> None:
        """Plain versioned records that belong together, all or nothing."""
        with self._writing():
            for key, value in entries.items():
                self._put(key, value)

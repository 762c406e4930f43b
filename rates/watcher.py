"""Watching ``config.yaml``: a changed file is re-read once it has stayed unchanged for a
whole tick, so a file caught half-written (an editor saving in place) is never applied.

A valid file is handed to ``apply``; an invalid one is kept out, its ``check-config`` lines
logged and shown in ``/api/v1/config``, and the running config stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rates.config import Config, load_config
from rates.errors import ConfigError

log = logging.getLogger(__name__)
Signature = tuple[int, int, int] | None  # (inode, mtime ns, size); None when the file is missing
Apply = Callable[[Config], Awaitable[None]]


@dataclass(frozen=True)
class ConfigStatus:
    path: Path
    loaded_at: datetime
    errors: list[str] = field(default_factory=list)


class ConfigWatcher:
    def __init__(self, config: Config, apply: Apply) -> None:
        self.path = config.path
        self.status = ConfigStatus(config.path, config.loaded_at)
        self._apply = apply
        self._read = _signature(self.path)  # the file as last read
        self._seen = self._read  # the file as the last tick saw it
        self._lock = asyncio.Lock()

    async def check(self) -> None:
        """Each tick: re-read a file that changed, once two ticks in a row saw it the same."""
        current = _signature(self.path)
        settled = current == self._seen
        self._seen = current
        if settled and current != self._read:
            await self.reload()

    async def reload(self) -> bool:
        """Re-read the file now (SIGHUP); True when the new config was applied."""
        async with self._lock:
            self._read = self._seen = _signature(self.path)
            try:
                config = await asyncio.to_thread(load_config, self.path)
            except ConfigError as exc:
                self.status = ConfigStatus(self.status.path, self.status.loaded_at, exc.lines())
                for line in exc.lines():
                    log.error("config rejected, the running config stays: %s", line)
                return False
            await self._apply(config)
            self.status = ConfigStatus(config.path, config.loaded_at)
            log.info("config reloaded from %s", config.path)
            return True


def _signature(path: Path) -> Signature:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

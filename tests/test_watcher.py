"""The config watcher: a changed file is read only once it has stayed the same for a tick."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rates.config import Config, load_config
from rates.watcher import ConfigWatcher

FULL = """\
currencies: [USD, EUR, GBP, KWD, TRY, SAR, AED, JOD]
sources:
  - id: official
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {USD: 1310}
server:
  cors_origins: ["https://news.example"]
  frame_ancestors: ["https://news.example"]
"""


def _touch(path: Path, text: str, step: int) -> None:
    """Write in place (an editor saving), with an mtime that surely differs from the last write."""
    path.write_text(text, encoding="utf-8")
    stamp = 1_700_000_000_000_000_000 + step * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


async def test_a_half_written_file_is_not_applied(write_config: Callable[[str], Path]) -> None:
    path = write_config(FULL.replace("EUR", "CHF"))
    applied: list[Config] = []

    async def apply(config: Config) -> None:
        applied.append(config)

    watcher = ConfigWatcher(load_config(path), apply)
    half = FULL[: FULL.index("server:")]  # valid YAML, but without the server section
    _touch(path, half, 1)
    await watcher.check()  # first seen changed: not yet
    _touch(path, FULL, 2)  # the editor finishes writing
    await watcher.check()  # changed again since the last tick: not yet
    assert applied == []
    await watcher.check()  # unchanged across two ticks: now
    assert len(applied) == 1
    assert applied[0].server.cors_origins == ["https://news.example"]
    assert applied[0].codes[1] == "EUR"
    await watcher.check()
    assert len(applied) == 1, "read once"


async def test_sighup_reads_at_once_and_a_bad_file_keeps_the_running_config(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(FULL)
    applied: list[Config] = []

    async def apply(config: Config) -> None:
        applied.append(config)

    watcher = ConfigWatcher(load_config(path), apply)
    _touch(path, FULL.replace("rates: {USD: 1310}", "rates: {USD: -1}"), 1)
    assert await watcher.reload() is False
    assert applied == [] and watcher.status.errors and ":7: sources[0].rates.USD.rate" in watcher.status.errors[0]
    _touch(path, FULL.replace("1310", "1320"), 2)
    assert await watcher.reload() is True
    assert watcher.status.errors == []
    await watcher.check()
    await watcher.check()
    assert len(applied) == 1, "a file read by SIGHUP is not read again by the tick"

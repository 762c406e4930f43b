"""The store: survives reopening, and a corrupted store is reported and rebuilt, never a crash."""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

import pytest

from rates.cli import main
from rates.config import Config
from rates.document import decode
from rates.store import Store


async def fetch(config: Config) -> int:
    return await asyncio.to_thread(main, ["fetch", "-c", str(config.path)])


async def test_document_survives_reopening(bundled_config: Config) -> None:
    assert await fetch(bundled_config) == 0
    store = Store(bundled_config.storage.dir)
    try:
        payload = store.document()
    finally:
        store.close()
    assert payload is not None
    usd = next(e for e in decode(payload)["rates"] if e["code"] == "USD")
    assert (usd["rate"], usd["buy"], usd["sell"], usd["source"]) == (1310, 1300, 1310, "cbi")


def test_store_directory_is_private(tmp_path: Path) -> None:
    Store(tmp_path / "store").close()
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700


async def test_corrupted_store_is_moved_aside_and_rebuilt(
    bundled_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    directory = bundled_config.storage.dir
    assert await fetch(bundled_config) == 0
    (directory / "cache.db").write_bytes(b"this is not an SQLite database" * 100)
    for leftover in directory.glob("cache.db-*"):
        leftover.unlink()

    with caplog.at_level(logging.ERROR, logger="rates.store"):
        store = Store(directory)
    try:
        assert store.document() is None  # nothing wrong is served from a broken file
    finally:
        store.close()
    assert "unreadable" in caplog.text and "moved it to" in caplog.text
    assert list(directory.parent.glob(f"{directory.name}.corrupt-*")), "the broken store is kept for inspection"

    assert await fetch(bundled_config) == 0  # the next fetch rebuilds it
    store = Store(directory)
    try:
        rebuilt = store.document()
    finally:
        store.close()
    assert rebuilt is not None
    assert next(e for e in decode(rebuilt)["rates"] if e["code"] == "USD")["rate"] == 1310

"""The store: survives reopening, and a corrupted store is reported and rebuilt, never a crash."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
import stat
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from rates.cli import main
from rates.config import Config
from rates.document import decode
from rates.errors import StoreError
from rates.models import Hold, Rejection
from rates.record_store import load_points
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


# --- the format --------------------------------------------------------------------------------

V0_STORE = Path(__file__).parent / "fixtures" / "store-v0"  # pickled dataclasses; see store-v0.md


def test_a_store_written_by_the_previous_version_is_read_whole(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    shutil.copytree(V0_STORE, directory)
    with Store(directory) as store:
        state = store.merge_state()
        quotes = store.source_quotes(["cbi", "er-api", "pegs", "floatrates", "cbi-official"])
        floatrates = store.status("floatrates")
        document = store.document()
        history = load_points(store, ["USD", "EUR"])  # the daily record reads the old history too
    since = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert state.holds == {
        "EGP": Hold("EGP", "er-api", Decimal("26.82318026477345520749009667"), Decimal("99.5"), since)
    }
    assert state.rejections == {"TRY": Rejection("TRY", "er-api", Decimal("50.25"))}
    usd = state.baselines["USD"]
    assert (usd.rate, usd.source, usd.published, usd.buy, usd.sell) == (
        Decimal(1310),
        "cbi",
        date(2026, 2, 26),
        Decimal(1300),
        Decimal(1310),
    )
    assert set(quotes) == {"cbi", "er-api", "pegs", "floatrates", "cbi-official"}
    assert (quotes["er-api"].ref, len(quotes["er-api"].quotes)) == ("USD", 161)
    eur = quotes["er-api"].quotes["EUR"].quote
    assert (eur.value, eur.published) == (Decimal("0.907539"), date(2024, 8, 19))
    cbi_usd = quotes["cbi"].quotes["USD"].quote
    assert (cbi_usd.value, cbi_usd.buy, cbi_usd.sell) == (Decimal(1310), Decimal(1300), Decimal(1310))
    assert (floatrates.failures, floatrates.last_error, floatrates.rejected) == (
        2,
        "HTTP 503 from upstream",
        (("XYZ", "zero"),),
    )
    assert floatrates.last_success is not None
    assert document is not None and decode(document)["rates"][0]["rate"] == 1310
    assert {day: point.rate for day, point in history["USD"].items()} == {date(2026, 2, 26): Decimal(1310)}


async def test_an_old_store_keeps_serving_and_is_rewritten_as_plain_records(
    bundled_config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = bundled_config.storage.dir
    shutil.copytree(V0_STORE, directory)
    assert await asyncio.to_thread(main, ["status", "-c", str(bundled_config.path)]) == 0
    assert "held: EGP 26.8232 -> 99.5 since 2026-11-29T09:00:00Z" in capsys.readouterr().out
    assert await fetch(bundled_config) == 0
    with Store(directory) as store:
        assert store.merge_state().rejections["TRY"].rate == Decimal("50.25")  # the admin's word survived
        assert store.status("cbi").ok
    with sqlite3.connect(directory / "cache.db") as db:
        kinds = {kind for (kind,) in db.execute("SELECT DISTINCT mode FROM Cache WHERE key LIKE '%quotes%'")}
        values = [v for (v,) in db.execute("SELECT value FROM Cache WHERE value LIKE '{\"v\":1,%'")]
    assert values and all(json.loads(v)["v"] == 1 for v in values)
    assert 4 not in kinds, "no quotes are pickled any more"  # diskcache's MODE_PICKLE


def test_a_read_only_command_never_moves_a_store(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(StoreError, match="corrupt"):
        Store(directory, read_only=True)
    assert (directory / "cache.db").read_bytes().startswith(b"this is not")
    assert not list(tmp_path.glob("store.corrupt-*"))

"""Admin commands on the store, without a server: status, accept, reject, export (contract section 1).

The store is produced by ``rates fetch`` against the in-process fixture upstream; every
command runs through ``rates.cli.main`` exactly as the console script does.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import rates.refresh
from rates.cli import main
from rates.config import Config, load_config
from rates.document import decode
from rates.fetch import Fetcher
from rates.refresh import Refresher
from rates.store import Store
from tests.service_process import (
    ER_API_PATH,
    FEED_PATH,
    cross,
    er_api_body,
    er_api_rate,
    feed_body,
    rates_config,
)
from tests.upstream import Upstream

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
JUMP = Decimal("1.4")


@pytest.fixture
def config(upstream: tuple[Upstream, str], tmp_path: Path) -> Config:
    """USD by decree; EUR, GBP, KWD, TRY from ExchangeRate-API; EUR and KWD also from a json feed."""
    server, origin = upstream
    server.fault(FEED_PATH, body=feed_body({"USD": 1, "EUR": er_api_rate("EUR"), "KWD": er_api_rate("KWD")}).encode())
    path = tmp_path / "config.yaml"
    path.write_text(rates_config(origin, tmp_path / "store"), encoding="utf-8")
    return load_config(path)


def rates_cli(config: Config, *args: str) -> int:
    return main([*args, "-c", str(config.path)])


async def fetch(config: Config) -> int:
    """``rates fetch`` (it runs its own event loop, so in a thread)."""
    return await asyncio.to_thread(main, ["fetch", "-c", str(config.path)])


def stored(config: Config) -> bytes | None:
    store = Store(config.storage.dir)
    try:
        return store.document()
    finally:
        store.close()


def entries(config: Config) -> dict[str, dict[str, Any]]:
    payload = stored(config)
    assert payload is not None
    return {e["code"]: e for e in decode(payload)["rates"]}


def moved(code: str) -> tuple[Decimal, Decimal]:
    """A 40 % dearer ``code``: its new units per USD, and the IQD rate that gives."""
    per_usd = (er_api_rate(code) / JUMP).quantize(Decimal("0.000001"))
    return per_usd, cross(code, per_usd)


async def hold(config: Config, server: Upstream, *codes: str) -> dict[str, Decimal]:
    """Jump ``codes`` by 40 % at er-api and fetch: each is held. Returns the held new rates."""
    new = {code: moved(code) for code in codes}
    server.fault(ER_API_PATH, body=er_api_body({code: per_usd for code, (per_usd, _) in new.items()}).encode())
    assert await fetch(config) == 0
    held = entries(config)
    assert {code: held[code]["status"] for code in codes} == dict.fromkeys(codes, "held")
    return {code: rate for code, (_, rate) in new.items()}


# status --------------------------------------------------------------------------------


async def test_status_prints_each_source_with_success_error_next_run_and_holds(
    config: Config, upstream: tuple[Upstream, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, origin = upstream
    assert await fetch(config) == 0
    server.fault(ER_API_PATH, status=503, body=b"down")
    assert await fetch(config) == 0  # the feed still answered
    capsys.readouterr()

    assert rates_cli(config, "status") == 0
    out = capsys.readouterr().out
    blocks = _blocks(out)
    assert list(blocks) == ["official (fixed): ok", "er-api (open-er-api): FAILING", "feed (json): ok"]
    er_api = blocks["er-api (open-er-api): FAILING"]
    assert re.fullmatch(rf"  last success: {ISO}", er_api[0])
    assert re.fullmatch(rf"  last error:   {re.escape(origin + ER_API_PATH)} answered HTTP 503 .* at {ISO}", er_api[1])
    assert er_api[2] == "  next run:     -"  # only a server schedules runs
    assert blocks["feed (json): ok"][1] == "  last error:   -"

    # A running server records next runs in the store; status shows them.
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    store = Store(config.storage.dir)
    store.set_next_runs({"er-api": when})
    store.close()
    # ...and a held move, with how to act on it.
    server.clear(ER_API_PATH)
    gbp = (await hold(config, server, "GBP"))["GBP"]
    capsys.readouterr()
    assert rates_cli(config, "status") == 0
    er_api = _blocks(capsys.readouterr().out)["er-api (open-er-api): ok"]
    assert er_api[2] == "  next run:     2030-01-02T03:04:05Z"
    assert re.fullmatch(rf"  held: GBP 1693.91 -> {gbp} since {ISO} \(rates accept GBP / rates reject GBP\)", er_api[3])


def _blocks(out: str) -> dict[str, list[str]]:
    """``status`` output: each source's header line → its indented lines."""
    blocks: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("  "):
            blocks[list(blocks)[-1]].append(line)
        else:
            blocks[line] = []
    return blocks


async def test_status_with_an_empty_store_lists_sources_never_fetched(
    config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rates_cli(config, "status") == 0
    out = capsys.readouterr().out
    assert "er-api (open-er-api): never fetched" in out
    assert "  last success: -" in out


# accept / reject -------------------------------------------------------------------------


async def test_accept_and_reject_exit_codes(
    config: Config, upstream: tuple[Upstream, str], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = upstream
    assert await fetch(config) == 0
    assert rates_cli(config, "accept", "GBP") == 1  # nothing held yet
    assert rates_cli(config, "reject", "GBP") == 1
    before = entries(config)
    new = await hold(config, server, "GBP", "TRY")
    capsys.readouterr()

    assert rates_cli(config, "accept", "GBP", "--source", "feed") == 1  # held, but from er-api
    assert "nothing is held for GBP from feed" in capsys.readouterr().out
    assert rates_cli(config, "accept", "USD") == 1
    assert rates_cli(config, "accept", "gbp", "--source", "er-api") == 0  # codes are case-insensitive
    assert "accepted GBP" in capsys.readouterr().out
    assert rates_cli(config, "accept", "GBP") == 1  # already done
    assert rates_cli(config, "reject", "TRY") == 0
    assert rates_cli(config, "reject", "TRY") == 1
    assert rates_cli(config, "accept", "TRY") == 1

    assert await fetch(config) == 0
    after = entries(config)
    assert (Decimal(str(after["GBP"]["rate"])), after["GBP"]["status"]) == (new["GBP"], "ok")
    # The rejected value never shows: the old one stays (marked stale: its source moved on).
    assert Decimal(str(after["TRY"]["rate"])) == Decimal(str(before["TRY"]["rate"]))
    assert after["TRY"]["status"] == "stale"
    store = Store(config.storage.dir)
    try:
        assert store.merge_state().holds == {}
    finally:
        store.close()


async def test_an_accept_during_a_server_merge_is_not_undone(
    config: Config, upstream: tuple[Upstream, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rates accept`` commits while a running server merges: the server must not write the hold back."""
    server, _ = upstream
    now = [datetime.now(UTC) - timedelta(minutes=10)]
    store = Store(config.storage.dir)
    try:
        async with Fetcher() as fetcher:
            pipeline = Refresher(config, store, fetcher, clock=lambda: now[0])
            await pipeline.refresh_all()
            new = moved("GBP")
            server.fault(ER_API_PATH, body=er_api_body({"GBP": new[0]}).encode())
            now[0] += timedelta(minutes=1)
            await pipeline.refresh_all()
            assert set(store.merge_state().holds) == {"GBP"}

            now[0] += timedelta(minutes=1)
            await pipeline.run_source(pipeline.sources["official"])  # the document will change
            merge = rates.refresh.merge
            admin: list[int] = []

            def merge_while_an_admin_accepts(state: Any) -> Any:
                result = merge(state)
                if not admin:  # between the server's read and its write
                    admin.append(rates_cli(config, "accept", "GBP"))
                return result

            monkeypatch.setattr(rates.refresh, "merge", merge_while_an_admin_accepts)
            document = decode(await pipeline.remerge())
    finally:
        store.close()
    assert admin == [0]
    gbp = next(e for e in document["rates"] if e["code"] == "GBP")
    assert (Decimal(str(gbp["rate"])), gbp["status"]) == (new[1], "ok")
    assert entries(config)["GBP"]["status"] == "ok"


# export ------------------------------------------------------------------------------------


async def test_export_writes_the_stored_document_and_the_widget(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await fetch(config) == 0
    target = tmp_path / "public" / "rates"  # created when missing
    assert rates_cli(config, "export", str(target)) == 0
    assert sorted(p.name for p in target.iterdir()) == ["rates.json", "widget.html"]
    assert (target / "rates.json").read_bytes() == stored(config)
    html = (target / "widget.html").read_text(encoding="utf-8")
    assert re.search(r'<html lang="ar" dir="rtl"[ >]', html)
    assert re.findall(r'<tr data-code="([A-Z]{3})"', html) == ["USD", "EUR", "GBP", "KWD", "TRY"]
    assert "١٬٣١٠" in html  # USD 1310 in Arabic-Indic digits (config default)
    assert "١٬٤٤٣" in html  # EUR 1443.46, in whole dinars

    # Exporting again replaces the files whole.
    assert rates_cli(config, "export", str(target)) == 0
    assert (target / "rates.json").read_bytes() == stored(config)
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


async def test_export_with_no_document_exits_1_and_writes_nothing(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out"
    assert rates_cli(config, "export", str(target)) == 1
    assert "no rates document" in capsys.readouterr().out
    assert not target.exists() or not any(target.iterdir())

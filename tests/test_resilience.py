"""Hostile timing against a real ``rates serve``: reloads mid-fetch, a slow official source.

Each test asserts the numbers served afterwards, not only that nothing crashed.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from rates.store import Store
from tests.service_process import (
    ER_API_PATH,
    FEED_PATH,
    Processes,
    UpstreamProcess,
    cross,
    er_api_rate,
    feed_body,
    rates_config,
    run_rates,
    wait_for,
    write_atomically,
)

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow

OFFICIAL_PATH = "/custom/official.json"
OFFICIAL_TRY = Decimal("29.841")  # the CBI's own TRY of the fixture workbook


def test_a_source_dropped_by_a_reload_while_it_fetches_does_not_stall_the_service(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    """The feed answers after the reload dropped it: its fetch ends, the first merge happens."""
    upstream_proc.fault(FEED_PATH, body=feed_body({"USD": 1, "EUR": er_api_rate("EUR")}), delay=6)
    config = tmp_path / "config.yaml"
    write_atomically(config, rates_config(upstream_proc.origin, tmp_path / "store", every="1h", timeout="10s"))
    service = processes.service(config, wait=False)
    wait_for(lambda: service.get("/healthz").status == 200, 20, "the service to answer")
    assert service.get("/readyz").status == 503, "a cold start merges once every source answered"
    write_atomically(config, rates_config(upstream_proc.origin, tmp_path / "store", every="1h", feed=False))
    service.send(signal.SIGHUP)

    service.wait_ready(timeout=15)  # the feed's late answer did not hang the first batch
    want = {"USD": (Decimal(1310), "ok"), **{c: (cross(c), "ok") for c in ("EUR", "GBP", "KWD", "TRY")}}
    wait_for(lambda: all(service.numbers()[c] == v for c, v in want.items()), 8, "the expected numbers")
    assert set(service.sources()) == {"official", "er-api"}
    assert service.rates()["EUR"]["source"] == "er-api"
    service.assert_running()


def _official_first_config(origin: str, store: Path, timeout: str) -> str:
    """TRY and USD from a slow official dinar feed first, then the decree, then ExchangeRate-API."""
    return f"""\
currencies: [USD, TRY]
sources:
  - id: official-feed
    kind: json
    url: {origin}{OFFICIAL_PATH}
    ref: IQD
    path: data.quotes
    published_path: data.asof
    timeout: {timeout}
  - id: official
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {{USD: 1310}}
  - id: er-api
    kind: open-er-api
    url: {origin}{ER_API_PATH}
storage:
  dir: {store}
"""


def test_a_slow_official_source_is_not_judged_against_a_fast_aggregator_on_a_cold_start(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    upstream_proc.fault(OFFICIAL_PATH, body=feed_body({"USD": 1310, "TRY": OFFICIAL_TRY}), delay=3)
    config = tmp_path / "config.yaml"
    write_atomically(config, _official_first_config(upstream_proc.origin, tmp_path / "store", "10s"))
    service = processes.service(config, wait=False)
    service.wait_ready(timeout=20)
    # The first document already has the official TRY: er-api's cross (38.8644) was never shown.
    assert service.numbers() == {"USD": (Decimal(1310), "ok"), "TRY": (OFFICIAL_TRY, "ok")}
    assert service.rates()["TRY"]["source"] == "official-feed"
    assert service.held() == {}


# The store on a small filesystem of its own --------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs: really full when filled, really read-only when remounted so (needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_not_a_corrupt_store_and_the_served_rates_still_age(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path, small_disk: Path
) -> None:
    store = small_disk / "store"
    config = tmp_path / "config.yaml"
    write_atomically(config, rates_config(upstream_proc.origin, store, stale_after="4s"))
    service = processes.service(config)
    want = {"USD": (Decimal(1310), "ok"), **{c: (cross(c), "ok") for c in ("EUR", "GBP", "KWD", "TRY")}}
    wait_for(lambda: all(service.numbers()[c] == v for c, v in want.items()), 10, "the first numbers")

    filler = _fill(small_disk)
    refused = wait_for(lambda: service.get("/readyz").status == 503 and service.get("/readyz").json(), 15, "a 503")
    assert refused["error"]["code"] == "cannot_store" and "full" in refused["error"]["message"]
    assert "full" in (service.sources()["er-api"]["store"] or "")
    assert "rates_store_writable 0.0" in service.get("/metrics").body.decode()
    # Nothing new is kept, and what is served ages: stale after stale_after, same numbers.
    stale = {"USD": (Decimal(1310), "ok"), **{c: (cross(c), "stale") for c in ("EUR", "GBP", "KWD", "TRY")}}
    wait_for(lambda: all(service.numbers()[c] == v for c, v in stale.items()), 15, "the rates to go stale")
    status = service.rates_cli("status")  # read-only: it may fail to open, but it moves nothing
    assert "corrupt" not in status.stdout + status.stderr
    assert not list(small_disk.glob("store.corrupt-*")) and (store / "cache.db").exists()
    assert service.log_text().count("serving what was computed") == 1, "one line per streak"

    filler.unlink()
    wait_for(lambda: service.get("/readyz").status == 200, 15, "ready again")
    wait_for(lambda: all(service.numbers()[c] == v for c, v in want.items()), 15, "fresh numbers again")
    assert service.sources()["er-api"]["store"] is None
    service.assert_running()


def test_a_read_only_store_is_reported_and_never_moved(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path, small_disk: Path
) -> None:
    """The store seen through a read-only mount: every command says so in one line and moves nothing."""
    writable = tmp_path / "writable.yaml"
    write_atomically(writable, rates_config(upstream_proc.origin, small_disk / "store"))
    assert run_rates("fetch", "-c", str(writable)).returncode == 0
    view = tmp_path / "view"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(small_disk), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=True)
        config = tmp_path / "config.yaml"
        write_atomically(config, rates_config(upstream_proc.origin, view / "store"))
        status = run_rates("status", "-c", str(config))
        serve = run_rates("serve", "-c", str(config), "--port", "0", timeout=30)
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True, check=False)
    for answer in (status, serve):
        problem = [line for line in answer.stderr.splitlines() if "read-only" in line]
        assert answer.returncode == 1 and len(problem) == 1, answer.stderr
        assert "nothing was moved" in problem[0] and "corrupt" not in answer.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["store"]  # nothing moved aside
    with Store(small_disk / "store") as store:
        assert store.document() is not None and store.status("er-api").ok

"""The real ``rates serve`` process against a misbehaving upstream process.

Every test asserts the NUMBERS a front page would print, not only status codes: an
upstream fault, a bad config, a signal or a ``kill -9`` never changes a served rate
to a wrong one and never loses the last good one.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import random
import re
import signal
import sqlite3
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from rates.store import Store
from tests.service_process import (
    CHF,
    DIRECT_PATHS,
    ER_API_PATH,
    FEED_PATH,
    FIXTURES,
    OFFICIAL_USD,
    Processes,
    ServiceProcess,
    UpstreamProcess,
    cross,
    er_api_body,
    er_api_payload,
    er_api_rate,
    feed_body,
    rates_config,
    run_rates,
    set_direct_feeds,
    wait_for,
    write_atomically,
)
from widget.format import format_number

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow

# What the service must publish from the fixtures (section 4: crosses through the official
# USD rate, six significant digits). Written out once so the formula is checked too.
EXPECTED = {
    "USD": Decimal("1310"),
    "EUR": Decimal("1443.46"),
    "GBP": Decimal("1693.91"),
    "KWD": Decimal("4285.08"),
    "TRY": Decimal("38.8644"),
}
NETWORK_CODES = ("EUR", "GBP", "KWD", "TRY")
MiB = 1024 * 1024
JUMP = Decimal("1.4")  # a 40 % rise of the dinar price


def test_expected_numbers_follow_the_contract_formula() -> None:
    assert all(cross(code) == EXPECTED[code] for code in NETWORK_CODES)
    assert EXPECTED["USD"] == OFFICIAL_USD


# Fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def agreeing_feed(upstream_proc: UpstreamProcess) -> None:
    """The second source (``feed``) quotes EUR and KWD exactly as ExchangeRate-API does."""
    upstream_proc.fault(FEED_PATH, body=feed_body({"USD": 1, "EUR": er_api_rate("EUR"), "KWD": er_api_rate("KWD")}))


def write_config(tmp_path: Path, upstream: UpstreamProcess, **options: Any) -> Path:
    path = tmp_path / "config.yaml"
    write_atomically(path, rates_config(upstream.origin, tmp_path / "store", **options))
    return path.resolve()


Numbers = dict[str, tuple[Decimal | None, str]]  # code → (rate, status)


def expected_ok(overrides: Numbers | None = None) -> Numbers:
    numbers: Numbers = {code: (rate, "ok") for code, rate in EXPECTED.items()}
    return {**numbers, **(overrides or {})}


def wait_numbers(service: ServiceProcess, want: Numbers, timeout: float = 8) -> None:
    """Until the served (rate, status) of each code in ``want`` is as given."""

    def matches() -> bool:
        served = service.numbers()
        return all(served[code] == value for code, value in want.items())

    try:
        wait_for(matches, timeout, "the served numbers")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nwanted {want}\nserved {service.numbers()}") from None


def assert_numbers(service: ServiceProcess, want: Numbers) -> None:
    served = service.numbers()
    assert {code: served[code] for code in want} == want


def widget_rows(service: ServiceProcess) -> dict[str, tuple[str, str | None]]:
    """code → (data-status, the headline number as printed) of ``/widget?digits=latn``."""
    reply = service.get("/widget?digits=latn")
    assert reply.status == 200
    html = reply.body.decode("utf-8")
    rows: dict[str, tuple[str, str | None]] = {}
    for match in re.finditer(r'<tr data-code="([A-Z]{3})" data-status="(\w+)">(.*?)</tr>', html, re.S):
        number = re.search(r'<td class="r"><b>([^<]*)</b>', match.group(3))
        rows[match.group(1)] = (match.group(2), None if number is None else number.group(1))
    return rows


def assert_widget(service: ServiceProcess, want: Numbers) -> None:
    """The widget prints the same numbers (display-rounded) with the same status."""
    rows = widget_rows(service)
    printed = {
        code: (None if rate is None else format_number(rate, "latn"), status) for code, (rate, status) in want.items()
    }
    assert {code: (rows[code][1], rows[code][0]) for code in want} == printed
    assert all(text not in ("0", "0.00") for _, text in rows.values()), "a rate is never shown as 0"


def wait_source(
    service: ServiceProcess, source_id: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 8
) -> dict[str, Any]:
    def look() -> dict[str, Any] | None:
        entry = service.sources()[source_id]
        return entry if check(entry) else None

    return wait_for(look, timeout, f"{source_id}: {what}")


def wait_fetches(service: ServiceProcess, source_id: str, count: int, timeout: float = 10) -> None:
    """Until ``source_id`` has succeeded ``count`` more times (its ``last_success`` moved on):
    the event an assertion about "later" needs, instead of a fixed sleep."""
    seen = {service.sources()[source_id]["last_success"]}

    def moved_on() -> bool:
        seen.add(service.sources()[source_id]["last_success"])
        return len(seen) > count

    wait_for(moved_on, timeout, f"{count} more fetches of {source_id}")


def moved(code: str) -> tuple[Decimal, Decimal]:
    """A 40 % dearer ``code``: (its new units per USD, the IQD rate that gives)."""
    per_usd = (er_api_rate(code) / JUMP).quantize(Decimal("0.000001"))
    return per_usd, cross(code, per_usd)


def log_count(service: ServiceProcess, needle: str) -> int:
    return service.log_text().count(needle)


# Upstream faults -----------------------------------------------------------------------


def _all_rates(value: int) -> str:
    return er_api_body({code: value for code in er_api_payload()["rates"]})


OVERSIZE = 5 * MiB + 64 * 1024  # valid JSON (trailing spaces), just too big
JSON = "application/json"
FIXTURE_BYTES = (FIXTURES / "open_er_api_latest_USD.json").read_bytes()

# name → (how to break the er-api path, the reason /api/v1/sources must show)
FAULTS: dict[str, tuple[Callable[[UpstreamProcess], None], str]] = {
    "http-503": (lambda up: up.fault(ER_API_PATH, status=503, body='{"error": "maintenance"}'), "HTTP 503"),
    "http-500-html": (
        lambda up: up.fault(ER_API_PATH, status=500, body="<h1>oops</h1>", content_type="text/html"),
        "HTTP 500",
    ),
    "hang-past-timeout": (lambda up: up.fault(ER_API_PATH, delay=4), "within 1s"),
    "html-instead-of-json": (
        lambda up: up.fault(
            ER_API_PATH, body="<!doctype html><html><body>Service Unavailable</body></html>", content_type="text/html"
        ),
        "HTML",
    ),
    "error-body-with-200": (
        lambda up: up.fault(ER_API_PATH, body='{"result": "error", "error-type": "quota-reached"}'),
        "quota-reached",
    ),
    "zeros": (lambda up: up.fault(ER_API_PATH, body=_all_rates(0)), "zero"),
    "negatives": (lambda up: up.fault(ER_API_PATH, body=_all_rates(-1)), "negative"),
    "body-over-5MiB": (
        lambda up: up.raw_fault(ER_API_PATH, FIXTURE_BYTES, pad_to=OVERSIZE, content_type=JSON),
        "byte cap",
    ),
    "gzip-bomb-over-5MiB": (
        lambda up: up.raw_fault(
            ER_API_PATH,
            gzip.compress(FIXTURE_BYTES + b" " * OVERSIZE),
            content_type=JSON,
            headers={"Content-Encoding": "gzip"},
        ),
        "byte cap",
    ),
}


@pytest.fixture(scope="module")
def steady(
    request: pytest.FixtureRequest, upstream_process: UpstreamProcess, tmp_path_factory: pytest.TempPathFactory
) -> ServiceProcess:
    """One service for the payload faults: each case must leave it as it found it."""
    directory = tmp_path_factory.mktemp("steady")
    pool = Processes(directory / "logs")
    request.addfinalizer(pool.cleanup)
    upstream_process.clear()
    upstream_process.fault(FEED_PATH, body=feed_body({"USD": 1, "EUR": er_api_rate("EUR"), "KWD": er_api_rate("KWD")}))
    service = pool.service(write_config(directory, upstream_process))
    wait_numbers(service, expected_ok())
    return service


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_bad_answer_keeps_the_last_good_numbers(
    fault: str, steady: ServiceProcess, upstream_proc: UpstreamProcess
) -> None:
    service = steady
    wait_source(service, "er-api", lambda s: s["ok"], "healthy before the fault")
    break_upstream, reason = FAULTS[fault]
    break_upstream(upstream_proc)

    failing = wait_source(
        service,
        "er-api",
        lambda s: s["failures"] >= 2 and reason in (s["last_error"] or ""),
        f"two failed fetches with {reason!r}",
    )
    assert not failing["ok"]
    assert failing["last_success"] is not None  # the last good fetch is still on record

    # Nothing lost, nothing wrong: the last accepted numbers, status ok (stale_after is 1h).
    assert service.get("/readyz").status == 200
    assert_numbers(service, expected_ok())
    assert_widget(service, expected_ok())
    assert service.get("/api/v1/rates/GBP").json()["source"] == "er-api"

    upstream_proc.clear(ER_API_PATH)
    wait_source(service, "er-api", lambda s: s["ok"] and s["failures"] == 0, "recovered")
    assert_numbers(service, expected_ok())


def test_some_bad_numbers_in_a_good_answer_keep_those_currencies(
    steady: ServiceProcess, upstream_proc: UpstreamProcess
) -> None:
    """Zero GBP and negative KWD in an otherwise good payload: those two keep their last value."""
    service = steady
    upstream_proc.fault(ER_API_PATH, body=er_api_body({"GBP": 0, "KWD": -1, "EUR": er_api_rate("EUR")}))
    report = wait_source(
        service, "er-api", lambda s: {r["code"] for r in s["rejected"]} == {"GBP", "KWD"}, "GBP and KWD rejected"
    )
    assert report["ok"]
    assert {r["code"]: r["reason"] for r in report["rejected"]} == {"GBP": "zero", "KWD": "negative"}
    assert_numbers(service, expected_ok())
    assert_widget(service, expected_ok())
    upstream_proc.clear(ER_API_PATH)
    wait_source(service, "er-api", lambda s: not s["rejected"], "clean again")


# Large moves -----------------------------------------------------------------------------


def test_a_jump_from_one_source_is_held_until_an_admin_accepts_or_rejects(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    service = processes.service(write_config(tmp_path, upstream_proc))
    wait_numbers(service, expected_ok())
    gbp_per_usd, gbp_new = moved("GBP")
    kwd_per_usd, kwd_new = moved("KWD")
    try_per_usd, try_new = moved("TRY")
    upstream_proc.fault(ER_API_PATH, body=er_api_body({"GBP": gbp_per_usd, "KWD": kwd_per_usd, "TRY": try_per_usd}))

    held = {code: (EXPECTED[code], "held") for code in ("GBP", "KWD", "TRY")}
    wait_numbers(service, expected_ok(held))
    moves = service.held()
    assert {code: (m["source"], Decimal(str(m["from"])), Decimal(str(m["to"]))) for code, m in moves.items()} == {
        "GBP": ("er-api", EXPECTED["GBP"], gbp_new),
        "KWD": ("er-api", EXPECTED["KWD"], kwd_new),
        "TRY": ("er-api", EXPECTED["TRY"], try_new),
    }
    assert_widget(service, expected_ok(held))
    status = service.rates_cli("status")
    assert status.returncode == 0
    assert f"held: GBP {EXPECTED['GBP']} -> {gbp_new}" in status.stdout

    # accept GBP (a separate process): the new value within a tick.
    accepted = service.rates_cli("accept", "gbp")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    # Within a tick (RATES_TICK=1); the bound is loose so a loaded CI machine does not flake.
    wait_numbers(service, expected_ok({**held, "GBP": (gbp_new, "ok")}), timeout=10)

    # reject KWD: the feed still agrees with the old value, which stays (and is ok).
    rejected = service.rates_cli("reject", "KWD")
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    # reject TRY, which only er-api quotes: the old value stays, marked stale (never the rejected one).
    assert service.rates_cli("reject", "TRY").returncode == 0
    after = expected_ok({"GBP": (gbp_new, "ok"), "TRY": (EXPECTED["TRY"], "stale")})
    wait_numbers(service, after, timeout=10)
    assert service.rates()["KWD"]["source"] == "feed"
    wait_fetches(service, "er-api", 2)  # the rejected values keep coming from er-api: they must not come back
    assert_numbers(service, after)
    assert_widget(service, after)
    assert service.held() == {}
    nothing = service.rates_cli("accept", "KWD")
    assert nothing.returncode == 1
    assert "nothing is held for KWD" in nothing.stdout
    assert service.rates_cli("reject", "KWD").returncode == 1


def test_a_jump_confirmed_by_a_second_source_is_accepted(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    service = processes.service(write_config(tmp_path, upstream_proc))
    wait_numbers(service, expected_ok())
    eur_per_usd, eur_new = moved("EUR")
    upstream_proc.fault(ER_API_PATH, body=er_api_body({"EUR": eur_per_usd}))
    upstream_proc.fault(FEED_PATH, body=feed_body({"USD": 1, "EUR": eur_per_usd, "KWD": er_api_rate("KWD")}))

    wait_numbers(service, expected_ok({"EUR": (eur_new, "ok")}))
    assert service.held() == {}
    assert service.rates()["EUR"]["source"] == "er-api"
    wait_fetches(service, "er-api", 1)
    wait_fetches(service, "feed", 1)
    assert_numbers(service, expected_ok({"EUR": (eur_new, "ok")}))
    assert_widget(service, expected_ok({"EUR": (eur_new, "ok")}))


# Config changes while serving ------------------------------------------------------------


def test_a_source_removed_from_the_config_stops_while_rates_keep_serving(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    config = write_config(tmp_path, upstream_proc)
    service = processes.service(config)
    wait_numbers(service, expected_ok())
    assert "feed" in service.sources()

    write_atomically(config, rates_config(upstream_proc.origin, tmp_path / "store", feed=False))
    wait_for(lambda: "feed" not in service.sources(), 5, "feed to leave /api/v1/sources")
    assert set(service.sources()) == {"official", "er-api"}
    assert service.get_json("/api/v1/config")["errors"] == []
    assert_numbers(service, expected_ok())

    fetched = log_count(service, "rates.refresh: feed:")
    wait_fetches(service, "er-api", 2)  # feed was polled as often as er-api: no more
    assert log_count(service, "rates.refresh: feed:") == fetched
    assert_numbers(service, expected_ok())
    assert_widget(service, expected_ok())


def _line_of(text: str, needle: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[: text.index(needle, start)].count("\n") + 1


def test_an_invalid_config_is_rejected_and_the_running_one_stays(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    config = write_config(tmp_path, upstream_proc)
    service = processes.service(config)
    wait_numbers(service, expected_ok())
    loaded_at = service.get_json("/api/v1/config")["loaded_at"]

    good = config.read_text(encoding="utf-8")
    bad = good.replace("every: 1s", "every: 1 fortnight", 1).replace("  max_age: 60s", "  max_age: 60s\n  colour: red")
    assert bad != good
    write_atomically(config, bad)
    every_line = _line_of(bad, "every: 1 fortnight")
    colour_line = _line_of(bad, "colour: red")

    errors = wait_for(lambda: service.get_json("/api/v1/config")["errors"], 5, "the reload to be rejected")
    assert all(re.match(rf"^{re.escape(str(config))}:\d+: [\w.\[\]]+: .+$", line) for line in errors), errors
    assert any(line.startswith(f"{config}:{every_line}: sources[1].every: ") for line in errors), errors
    assert f"{config}:{colour_line}: server.colour: unknown key" in errors
    check = run_rates("check-config", str(config))
    assert check.returncode == 2
    assert check.stderr.splitlines() == errors  # the same lines as `rates check-config`
    status = service.get_json("/api/v1/config")
    assert status["loaded_at"] == loaded_at and status["path"] == str(config)

    # The old sources keep running under the old config; the numbers do not move.
    last = service.sources()["er-api"]["last_success"]
    wait_source(service, "er-api", lambda s: s["ok"] and s["last_success"] > last, "fetching on")
    assert set(service.sources()) == {"official", "er-api", "feed"}
    assert_numbers(service, expected_ok())
    assert_widget(service, expected_ok())

    # A YAML syntax error is rejected the same way.
    write_atomically(config, good.replace("currencies: [", "currencies: [[", 1))
    syntax = wait_for(
        lambda: service.get_json("/api/v1/config")["errors"] != errors and service.get_json("/api/v1/config")["errors"],
        5,
        "the syntax error",
    )
    assert syntax == [f"{config}:2: YAML syntax: expected ',' or ']', but got '<scalar>'"]
    assert_numbers(service, expected_ok())

    # Fixing the file clears the errors.
    write_atomically(config, good.replace("  max_age: 60s", "  max_age: 30s"))
    wait_for(lambda: service.get_json("/api/v1/config")["errors"] == [], 5, "errors to clear")
    assert service.get("/api/v1/rates").headers["Cache-Control"].startswith("public, max-age=30,")
    assert_numbers(service, expected_ok())


def test_sighup_reloads_the_config(processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path) -> None:
    config = write_config(tmp_path, upstream_proc)
    # A tick of an hour: only the signal can make it re-read the file.
    service = processes.service(config, env={"RATES_TICK": "3600"})
    wait_numbers(service, expected_ok())
    loaded_at = service.get_json("/api/v1/config")["loaded_at"]
    write_atomically(config, rates_config(upstream_proc.origin, tmp_path / "store", feed=False, title="أسعار اليوم"))
    wait_fetches(service, "er-api", 2)
    assert "feed" in service.sources(), "without SIGHUP (and with an hour's tick) nothing is re-read yet"

    # loaded_at has whole seconds: let the service's own clock pass the second it was loaded in.
    wait_for(lambda: service.sources()["er-api"]["last_success"] > loaded_at, 5, "a later second")
    service.send(signal.SIGHUP)
    wait_for(lambda: "feed" not in service.sources(), 5, "SIGHUP to drop feed")
    # The re-render under the new config follows the sources report by a moment; the old one serves till then.
    wait_for(lambda: "أسعار اليوم" in service.get("/widget").body.decode("utf-8"), 5, "the widget's new title")
    assert service.get_json("/api/v1/config")["loaded_at"] > loaded_at
    service.assert_running()
    assert_numbers(service, expected_ok())
    service.stop()


# Crashes and restarts --------------------------------------------------------------------


def _integrity(store: Path) -> str:
    with sqlite3.connect(store / "cache.db") as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _stored_document(store: Path) -> bytes:
    opened = Store(store)
    try:
        document = opened.document()
    finally:
        opened.close()
    assert document is not None
    return document


def test_kill_9_during_store_writes_loses_nothing(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    set_direct_feeds(upstream_proc)
    config = write_config(tmp_path, upstream_proc, direct=True)
    store = tmp_path / "store"
    want = expected_ok({"CHF": (CHF, "ok")})
    service = processes.service(config)
    wait_numbers(service, want)
    seed = random.randrange(1 << 30)
    chance = random.Random(seed)
    for round_ in range(3):
        # Five sources polled every second: the store is written several times a second.
        time.sleep(chance.uniform(0.2, 1.0))
        service.kill()
        service = processes.restart(service)
        served = service.numbers()  # the first answer after the crash
        assert {code: served[code] for code in want} == want, f"round {round_}, seed {seed}"
    time.sleep(chance.uniform(0.2, 1.0))
    service.kill()

    assert _integrity(store) == "ok"
    assert not list(store.parent.glob(f"{store.name}.corrupt-*")), "the store was never found unreadable"
    stored = _entries(_stored_document(store))
    assert {code: (Decimal(str(e["rate"])), e["status"]) for code, e in stored.items()} == want
    # Every upstream down: the restart serves the stored numbers, and keeps serving them.
    for path in (ER_API_PATH, FEED_PATH, *DIRECT_PATHS):
        upstream_proc.fault(path, status=503, body="down")
    service = processes.restart(service)
    assert _numbers_of(_entries(service.get("/api/v1/rates").body)) == _numbers_of(stored), f"seed {seed}"
    wait_source(service, "direct-1", lambda s: s["failures"] >= 1, "the first failed batch")
    assert _numbers_of(_entries(service.get("/api/v1/rates").body)) == _numbers_of(stored), f"seed {seed}"
    assert_widget(service, want)
    service.stop()


def _unfetched(document: bytes) -> dict[str, Any]:
    """A document minus what re-reading the config's fixed decree may move (its fetched_at)."""
    parsed = json.loads(document, parse_float=Decimal)
    rates = [{**e, "fetched_at": None} if e["source"] == "official" else e for e in parsed["rates"]]
    return {**parsed, "updated_at": None, "rates": rates}


def _entries(document: bytes) -> dict[str, dict[str, Any]]:
    return {e["code"]: e for e in json.loads(document, parse_float=Decimal)["rates"]}


def _numbers_of(entries: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What a reader sees of each entry (``fetched_at`` may move: a fetch can land before the crash)."""
    keys = ("rate", "buy", "sell", "per", "status", "published", "source", "change")
    return {code: tuple(e[k] for k in keys) for code, e in entries.items()}


def test_restart_with_every_upstream_down_serves_stored_rates_at_once_then_stale(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    # stale_after leaves room for a restart on a loaded machine (seconds of Python start-up).
    config = write_config(tmp_path, upstream_proc, timeout="20s", stale_after="8s")
    service = processes.service(config)
    wait_numbers(service, expected_ok())
    wait_source(service, "feed", lambda s: s["ok"], "a first fetch")
    service.stop()  # SIGTERM: exit 0 within 5 s
    stored = _stored_document(tmp_path / "store")

    for path in (ER_API_PATH, FEED_PATH):  # hang: no source can answer during this test
        upstream_proc.fault(path, delay=30)
    service = processes.restart(service)
    first = service.get("/api/v1/rates").body  # at once, before any source answers
    assert first == stored or _unfetched(first) == _unfetched(stored)
    sources = service.sources()
    assert all(sources[s]["failures"] == 0 and sources[s]["last_error"] is None for s in ("er-api", "feed")), sources
    assert all(sources[s]["last_success"] is not None for s in ("er-api", "feed"))
    assert_numbers(service, {code: (EXPECTED[code], service.numbers()[code][1]) for code in EXPECTED})

    # stale_after (8s) passes with no answer: same numbers, marked stale; the decree stays ok.
    stale = expected_ok({code: (EXPECTED[code], "stale") for code in NETWORK_CODES})
    wait_numbers(service, stale, timeout=15)
    assert_widget(service, stale)
    assert "قديم" in service.get("/widget").body.decode("utf-8")  # the visible stale mark
    assert service.sources()["er-api"]["failures"] == 0, "the fetches are still hanging"
    service.stop()  # a clean stop while fetches hang


# Load -------------------------------------------------------------------------------------


async def test_500_concurrent_clients_during_refreshes(
    processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    set_direct_feeds(upstream_proc)
    service = processes.service(write_config(tmp_path, upstream_proc, direct=True))
    wait_numbers(service, expected_ok({"CHF": (CHF, "ok")}))
    clients, waves = 500, 6
    bodies: dict[str, set[bytes]] = {}
    answers = 0

    async def one(session: aiohttp.ClientSession, n: int) -> tuple[int, str, bytes]:
        headers = {"Accept-Encoding": "gzip"} if n % 2 else {"Accept-Encoding": "identity"}
        async with session.get(f"{service.url}/api/v1/rates", headers=headers) as response:
            return response.status, response.headers.get("ETag", ""), await response.read()

    connector = aiohttp.TCPConnector(limit=1000, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        started = time.monotonic()
        for _ in range(waves):
            replies = await asyncio.gather(*(one(session, n) for n in range(clients)))
            for status, etag, body in replies:
                assert status == 200
                bodies.setdefault(etag, set()).add(body)
                answers += 1
            # At least two waves, however slow a loaded machine makes the first.
            if answers >= 2 * clients and len(bodies) >= 2 and time.monotonic() - started > 1.2:
                break
    assert answers >= 2 * clients
    assert len(bodies) >= 2, "the burst spanned at least one refresh"
    for etag, variants in bodies.items():
        assert len(variants) == 1, f"{etag}: {len(variants)} different bodies under one ETag"
        (body,) = variants
        digest = hashlib.sha256(body).hexdigest()[:32]
        assert etag in (f'"{digest}"', f'"{digest}-gz"')  # one strong tag per encoding
        served = {e["code"]: e for e in json.loads(body)["rates"]}
        assert Decimal(str(served["USD"]["rate"])) == EXPECTED["USD"]
        assert Decimal(str(served["CHF"]["rate"])) == CHF
        assert all(Decimal(str(served[c]["rate"])) == EXPECTED[c] for c in NETWORK_CODES)
    service.stop()

"""End to end: `rates fetch` and the refresh pipeline against the local upstream, a real store."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path
from typing import Any

import pytest

from rates.cli import main
from rates.config import Config, load_config
from rates.document import decode
from rates.fetch import MAX_BODY, Fetcher
from rates.refresh import Refresher, failed_network
from rates.store import Store
from tests.upstream import CBI_WORKBOOK, Upstream, bundled_config_text, exact_json, fixture

Served = tuple[Upstream, str]
Capture = pytest.CaptureFixture[str]

CBI_PAGE, ER, FLOAT = "/page/144", "/v6/latest/USD", "/daily/gbp.json"
NETWORK = {"cbi": CBI_PAGE, "er-api": ER, "floatrates": FLOAT}
ER_USD = json.loads(fixture("open_er_api_latest_USD.json"), parse_float=Decimal, parse_int=Decimal)
FLOAT_GBP = json.loads(fixture("floatrates_daily_gbp.json"), parse_float=Decimal, parse_int=Decimal)
CODES = ["USD", "EUR", "GBP", "TRY", "SAR", "AED", "KWD", "JOD", "QAR", "BHD", "OMR", "EGP", "IRR", "SYP", "LBP", "YER"]
# Every fixture quotes the old Syrian pound; the config's range keeps the new pound unavailable.
SHOWN = [code for code in CODES if code != "SYP"]
CBI_DAY, ER_DAY, FLOAT_DAY = "2026-02-26", "2024-08-19", "2024-01-13"
# Read off the CBI workbook's latest day row (2026-02-26), as tests/test_source_cbi.py does.
CBI_BUY_SELL = {
    "USD": ("1300", "1310"),
    "EUR": ("1535.82", "1547.634"),
    "GBP": ("1758.835", "1772.365"),
    "TRY": ("29.613", "29.841"),
    "SAR": ("346.667", "349.333"),
    "AED": ("353.944", "356.666"),
    "JOD": ("1836.158", "1850.282"),
    "OMR": ("3381.014", "3407.022"),
}
PEGS = {"QAR": "3.64", "BHD": "0.376"}
HTML = b"<!DOCTYPE html><html><body><h1>Service unavailable</h1></body></html>"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def sig6(value: Decimal) -> Decimal:
    return Context(prec=6, rounding=ROUND_HALF_EVEN).plus(value)


def via(iqd: str | Decimal, per: Decimal) -> Decimal:
    """IQD per C from IQD per ref and C per ref, as published."""
    return sig6(Decimal(iqd) / per)


def expected_rows() -> dict[str, tuple[Decimal, Decimal | None, Decimal | None, str, str]]:
    """code → (rate, buy, sell, source, published) for the bundled config, every source up."""
    rows: dict[str, tuple[Decimal, Decimal | None, Decimal | None, str, str]] = {}
    for code, (buy, sell) in CBI_BUY_SELL.items():
        rows[code] = (sig6(Decimal(sell)), sig6(Decimal(buy)), sig6(Decimal(sell)), "cbi", CBI_DAY)
    for code, peg in PEGS.items():  # the CBI sheet has no QAR in 2026, nor BHD
        per = Decimal(peg)
        rows[code] = (via("1310", per), via("1300", per), via("1310", per), "pegs", CBI_DAY)  # the changing side
    for code in ("KWD", "EGP", "IRR", "LBP", "YER"):  # SYP: the 2024 payload quotes the old pound
        per = ER_USD["rates"][code]
        rows[code] = (via("1310", per), via("1300", per), via("1310", per), "er-api", ER_DAY)
    return rows


def write_bundled(tmp_path: Path, origin: str, *, short_timeouts: bool = False) -> Path:
    text = bundled_config_text(origin, str(tmp_path / "store"))
    if short_timeouts:
        text = text.replace("timeout: 20s", "timeout: 1s")
        for path in (ER, FLOAT):
            text = text.replace(f"url: {origin}{path}\n", f"url: {origin}{path}\n    timeout: 1s\n")
        assert text.count("timeout: 1s") == 3
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def failed(self) -> dict[str, str]:
        """Source id → reason, from the stderr lines."""
        found = {}
        for line in self.err.splitlines():
            source_id, _, reason = line.partition(": ")
            found[source_id] = reason
        return found

    def table(self) -> dict[str, dict[str, str]]:
        lines = self.out.strip().splitlines()
        head = lines[0].split()
        assert head == ["code", "rate", "buy", "sell", "per", "published", "source", "status"]
        assert lines[-1].startswith("updated_at ")
        rows = [dict(zip(head, line.split(), strict=True)) for line in lines[1:-1]]
        return {row["code"]: row for row in rows}


async def fetch(capsys: Capture, config: Path, *args: str) -> Run:
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["fetch", "-c", str(config), *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def stored(config: Path) -> tuple[bytes, dict[str, Any]]:
    """The document in the store, read through a fresh Store on the configured directory."""
    store = Store(load_config(config).storage.dir)
    try:
        payload = store.document()
    finally:
        store.close()
    assert payload is not None
    return payload, decode(payload)


def entries(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["code"]: entry for entry in document["rates"]}


def assert_nothing_wrong(document: dict[str, Any]) -> None:
    """No 0, no negative, no number without a status that says it is usable."""
    assert [e["code"] for e in document["rates"]] == CODES
    for entry in document["rates"]:
        for key in ("rate", "buy", "sell"):
            assert entry[key] is None or entry[key] > 0, entry
        assert (entry["rate"] is None) == (entry["status"] == "unavailable"), entry
        if entry["rate"] is not None:
            assert entry["source"] and entry["published"], entry


# --- the happy path ----------------------------------------------------------------------


async def test_fetch_prints_every_currency_with_the_contract_values(
    upstream: Served, bundled_config: Config, capsys: Capture
) -> None:
    run = await fetch(capsys, bundled_config.path)
    assert run.code == 0, run.err
    assert run.err == ""
    table = run.table()
    assert list(table) == CODES
    for code, (rate, buy, sell, source, published) in expected_rows().items():
        row = table[code]
        assert Decimal(row["rate"]) == rate, code
        assert (Decimal(row["buy"]), Decimal(row["sell"])) == (buy, sell), code
        assert (row["source"], row["published"], row["status"]) == (source, published, "ok"), code
    assert table["USD"]["rate"] == "1310" and table["SAR"]["rate"] == "349.333"
    assert Decimal(table["KWD"]["rate"]) == sig6(Decimal(1310) / Decimal(str(ER_USD["rates"]["KWD"])))
    assert table["BHD"]["rate"] == "3484.04"
    assert (table["IRR"]["per"], table["SYP"]["per"], table["LBP"]["per"]) == ("10", "1", "1000")
    # The config names the new pound (range [1, 100] IQD); the payload's old-pound quote is refused.
    assert (table["SYP"]["rate"], table["SYP"]["status"]) == ("-", "unavailable")
    assert_nothing_wrong(stored(bundled_config.path)[1])


async def test_fetch_json_prints_the_rates_document(upstream: Served, bundled_config: Config, capsys: Capture) -> None:
    run = await fetch(capsys, bundled_config.path, "--json")
    assert run.code == 0 and run.err == ""
    printed = decode(run.out.encode())
    payload, document = stored(bundled_config.path)
    assert run.out == payload.decode() + "\n"
    assert printed == document
    assert printed["base"] == "IQD"
    datetime.strptime(printed["updated_at"], "%Y-%m-%dT%H:%M:%SZ")
    rows = entries(printed)
    assert list(rows) == CODES
    keys = {"code", "name", "rate", "buy", "sell", "per", "source", "published", "fetched_at", "status", "change"}
    for entry in printed["rates"]:
        assert keys <= set(entry)
    usd = rows["USD"]
    assert (usd["rate"], usd["buy"], usd["sell"], usd["per"]) == (1310, 1300, 1310, 1)
    assert (usd["source"], usd["published"], usd["status"]) == ("cbi", CBI_DAY, "ok")
    assert usd["name"] == "دولار أمريكي"
    assert rows["IRR"]["name"] == "تومان إيراني" and rows["IRR"]["per"] == 10
    for code, (rate, buy, sell, source, published) in expected_rows().items():
        assert (rows[code]["rate"], rows[code]["buy"], rows[code]["sell"]) == (rate, buy, sell), code
        assert (rows[code]["source"], rows[code]["published"]) == (source, published), code
    # Exact decimals in the JSON text, never float noise.
    assert '"rate":3484.04,' in run.out and '"rate":349.333,' in run.out


async def test_the_store_survives_reopening(upstream: Served, bundled_config: Config, capsys: Capture) -> None:
    run = await fetch(capsys, bundled_config.path, "--json")
    assert run.code == 0
    store = Store(bundled_config.storage.dir)
    try:
        assert store.document() == run.out.rstrip("\n").encode()
        quotes = store.source_quotes(["cbi", "er-api", "floatrates", "pegs", "cbi-official"])
        assert set(quotes) == {"cbi", "er-api", "floatrates", "pegs", "cbi-official"}
        assert quotes["er-api"].quotes["KWD"].quote.value == ER_USD["rates"]["KWD"]
        assert store.status("er-api").ok and store.status("er-api").last_error is None
    finally:
        store.close()


async def test_a_subprocess_prints_exactly_one_line_per_failed_source(upstream: Served, bundled_config: Config) -> None:
    """The real console: no log lines repeating the failures."""
    server, origin = upstream
    server.fault(ER, status=500)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rates",
        "fetch",
        "-c",
        str(bundled_config.path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    assert err.decode().splitlines() == [f"er-api: {origin}{ER} answered HTTP 500 Internal Server Error"]
    assert out.decode().splitlines()[1].split()[:2] == ["USD", "1310"]


# --- one source failing ------------------------------------------------------------------


def every_rate(value: str) -> bytes:
    return exact_json({**ER_USD, "rates": {code: Decimal(value) for code in ER_USD["rates"]}})


FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "500": ({"status": 500, "body": b"oops"}, "HTTP 500"),
    "html": ({"body": HTML, "content_type": "text/html"}, "HTML"),
    "result-error": ({"body": b'{"result":"error","error-type":"quota-reached"}'}, "quota-reached"),
    "truncated": ({"body": fixture("open_er_api_latest_USD.json")[:1000]}, "not valid JSON"),
    "zeros": ({"body": every_rate("0")}, "zero"),
    "negatives": ({"body": every_rate("-1.5")}, "negative"),
    "over-cap": ({"body": b" " * (MAX_BODY + 1)}, "cap"),
    "hang": ({"delay": 3}, "within 1s"),
}


def float_cross(code: str) -> Decimal:
    """IQD per C through floatrates (per GBP) and the CBI's GBP."""
    return via(CBI_BUY_SELL["GBP"][1], FLOAT_GBP[code.lower()]["rate"])


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_failed_aggregator_never_poisons_the_others(
    upstream: Served, tmp_path: Path, capsys: Capture, fault: str
) -> None:
    server, origin = upstream
    config = write_bundled(tmp_path, origin, short_timeouts=True)
    settings, words = FAULTS[fault]
    server.fault(ER, **settings)
    run = await fetch(capsys, config)
    assert run.code == 0
    assert list(run.failed) == ["er-api"], run.err
    assert words in run.failed["er-api"]
    table = run.table()
    expected = expected_rows()
    for code in ("USD", "EUR", "SAR", "BHD", "QAR", "OMR"):
        assert Decimal(table[code]["rate"]) == expected[code][0], code
        assert table[code]["source"] == expected[code][3]
    # KWD, EGP, IRR, LBP fall back to floatrates, crossed through the CBI's pound.
    for code in ("KWD", "EGP", "IRR", "LBP"):
        assert (Decimal(table[code]["rate"]), table[code]["source"]) == (float_cross(code), "floatrates"), code
        assert table[code]["published"] == FLOAT_DAY
    # floatrates has no SYP nor YER: unavailable, never 0.
    for code in ("SYP", "YER"):
        assert (table[code]["rate"], table[code]["status"]) == ("-", "unavailable")
    _, document = stored(config)
    assert_nothing_wrong(document)
    store = Store(load_config(config).storage.dir)
    try:
        assert store.source_quotes(["er-api"]) == {}  # nothing of the bad payload was kept
        assert store.status("er-api").last_error == run.failed["er-api"]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("source_id", "fault"),
    [
        ("floatrates", "500"),
        ("floatrates", "html"),
        ("floatrates", "truncated"),
        ("floatrates", "hang"),
        ("cbi", "500"),
        ("cbi", "html"),
        ("cbi", "hang"),
    ],
)
async def test_other_sources_failing(
    upstream: Served, tmp_path: Path, capsys: Capture, source_id: str, fault: str
) -> None:
    server, origin = upstream
    config = write_bundled(tmp_path, origin, short_timeouts=True)
    settings, words = FAULTS[fault]
    server.fault(NETWORK[source_id], **settings)
    run = await fetch(capsys, config)
    assert run.code == 0
    assert list(run.failed) == [source_id], run.err
    if source_id != "cbi" or fault != "html":  # the CBI page is HTML anyway: no workbook link in it
        assert words in run.failed[source_id]
    table = run.table()
    expected = expected_rows()
    if source_id == "floatrates":  # not used while the others are up: same numbers
        for code, (rate, _, _, source, published) in expected.items():
            assert (Decimal(table[code]["rate"]), table[code]["source"], table[code]["published"]) == (
                rate,
                source,
                published,
            ), code
    else:  # no CBI: the official dollar decree, pegs through it, the rest crossed through it
        assert (table["USD"]["rate"], table["USD"]["source"], table["USD"]["published"]) == (
            "1310",
            "cbi-official",
            "2023-02-08",
        )
        assert (table["SAR"]["rate"], table["SAR"]["source"]) == ("349.333", "pegs")
        assert table["SAR"]["published"] == "2023-02-08"  # only decrees used: the latest of their dates
        assert table["BHD"]["rate"] == "3484.04"
        for code in ("EUR", "GBP", "KWD", "TRY"):
            rate = via("1310", ER_USD["rates"][code])
            assert (Decimal(table[code]["rate"]), table[code]["source"]) == (rate, "er-api"), code
            assert table[code]["published"] == ER_DAY  # its changing side, not the decree's date
    assert_nothing_wrong(stored(config)[1])


async def test_a_workbook_failing_after_the_page_names_the_cbi(
    upstream: Served, bundled_config: Config, capsys: Capture
) -> None:
    server, _ = upstream
    server.fault(CBI_WORKBOOK, body=b"PK\x03\x04 not really a workbook")
    run = await fetch(capsys, bundled_config.path)
    assert run.code == 0 and list(run.failed) == ["cbi"]
    assert "XLSX" in run.failed["cbi"]


async def test_some_bad_numbers_are_dropped_and_the_rest_kept(
    upstream: Served, bundled_config: Config, capsys: Capture
) -> None:
    server, _ = upstream
    first = await fetch(capsys, bundled_config.path)
    assert first.code == 0
    body = {**ER_USD, "rates": {**ER_USD["rates"], "KWD": 0, "EGP": -48, "IRR": "n/a"}}
    server.fault(ER, body=exact_json(body))
    run = await fetch(capsys, bundled_config.path)
    assert run.code == 0 and run.err == ""  # the source answered; its bad numbers are dropped
    table = run.table()
    # The last accepted KWD, EGP and IRR from er-api keep serving; nothing became 0.
    for code in ("KWD", "EGP", "IRR"):
        assert Decimal(table[code]["rate"]) == via("1310", ER_USD["rates"][code])
        assert table[code]["source"] == "er-api"
    assert_nothing_wrong(stored(bundled_config.path)[1])
    store = Store(bundled_config.storage.dir)
    try:
        assert dict(store.status("er-api").rejected) == {"KWD": "zero", "EGP": "negative", "IRR": "not a number"}
    finally:
        store.close()


# --- everything down -------------------------------------------------------------------


def all_down(server: Upstream) -> None:
    for path in NETWORK.values():
        server.fault(path, status=503, body=b"down")


async def test_every_network_source_down_exits_1_and_keeps_the_stored_document(
    upstream: Served, bundled_config: Config, capsys: Capture
) -> None:
    server, _ = upstream
    good = await fetch(capsys, bundled_config.path, "--json")
    assert good.code == 0
    before, _ = stored(bundled_config.path)
    all_down(server)
    run = await fetch(capsys, bundled_config.path, "--json")
    assert run.code == 1
    assert sorted(run.failed) == ["cbi", "er-api", "floatrates"]
    assert all("HTTP 503" in reason for reason in run.failed.values())
    after, document = stored(bundled_config.path)
    assert after == before  # byte-identical: same rates, same updated_at
    assert run.out == before.decode() + "\n"
    assert_nothing_wrong(document)


async def test_every_network_source_down_from_the_start_shows_the_official_rates(
    upstream: Served, bundled_config: Config, capsys: Capture
) -> None:
    server, _ = upstream
    all_down(server)
    run = await fetch(capsys, bundled_config.path)
    assert run.code == 1
    table = run.table()
    usd = table["USD"]
    assert (usd["rate"], usd["buy"], usd["sell"], usd["source"], usd["status"]) == (
        "1310",
        "1300",
        "1310",
        "cbi-official",
        "ok",
    )
    for code, peg in {
        "SAR": "3.75",
        "AED": "3.6725",
        "QAR": "3.64",
        "OMR": "0.3845",
        "BHD": "0.376",
        "JOD": "0.709",
    }.items():
        assert (Decimal(table[code]["rate"]), table[code]["source"]) == (via("1310", Decimal(peg)), "pegs"), code
    for code in ("EUR", "GBP", "TRY", "KWD", "EGP", "IRR", "SYP", "LBP", "YER"):
        assert (table[code]["rate"], table[code]["status"]) == ("-", "unavailable"), code
    assert_nothing_wrong(stored(bundled_config.path)[1])


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def refresh(config: Config, clock: Clock) -> tuple[bool, dict[str, Any], dict[str, str]]:
    store = Store(config.storage.dir)
    try:
        async with Fetcher() as fetcher:
            outcomes, payload = await Refresher(config, store, fetcher, clock=clock).refresh_all()
    finally:
        store.close()
    failures = {o.source_id: o.message for o in outcomes if not o.ok}
    return failed_network(outcomes), decode(payload), failures


async def test_stored_quotes_keep_serving_and_go_stale_after_stale_after(
    upstream: Served, bundled_config: Config
) -> None:
    server, _ = upstream
    clock = Clock(T0)
    all_failed, first, failures = await refresh(bundled_config, clock)
    assert not all_failed and failures == {}
    assert {e["code"]: e["status"] for e in first["rates"] if e["status"] != "ok"} == {"SYP": "unavailable"}
    assert entries(first)["USD"]["fetched_at"] == "2026-03-01T09:00:00Z"

    all_down(server)
    clock.now = T0 + timedelta(hours=35)
    all_failed, still, failures = await refresh(bundled_config, clock)
    assert all_failed and set(failures) == {"cbi", "er-api", "floatrates"}
    assert still == first  # same numbers, same statuses, same updated_at

    clock.now = T0 + timedelta(hours=36, minutes=1)
    all_failed, late, _ = await refresh(bundled_config, clock)
    assert all_failed
    old, new = entries(first), entries(late)
    assert new["SYP"]["status"] == "unavailable" and new["SYP"]["rate"] is None
    for code in SHOWN:
        assert (new[code]["rate"], new[code]["source"], new[code]["published"]) == (
            old[code]["rate"],
            old[code]["source"],
            old[code]["published"],
        ), code
        assert new[code]["fetched_at"] == "2026-03-01T09:00:00Z"
        # Every row rests on a network source: the CBI's own, a peg through the CBI dollar,
        # or an aggregator's cross.
        assert new[code]["status"] == "stale", code
    assert_nothing_wrong(late)
    assert late["updated_at"] != first["updated_at"]  # the statuses changed

    # Back up: fresh again.
    server.clear()
    clock.now = T0 + timedelta(hours=40)
    all_failed, back, failures = await refresh(bundled_config, clock)
    assert not all_failed and failures == {}
    assert {e["code"] for e in back["rates"] if e["status"] == "ok"} == set(SHOWN)
    assert entries(back)["USD"]["fetched_at"] == "2026-03-03T01:00:00Z"  # T0 + 40h


async def test_quotes_dated_in_the_future_are_refused(upstream: Served, bundled_config: Config) -> None:
    """The CBI's sheet is dated 2026-02-26; a clock still on the 25th in Baghdad refuses it."""
    clock = Clock(datetime(2026, 2, 25, 20, 0, tzinfo=UTC))  # 23:00 in Baghdad
    all_failed, document, failures = await refresh(bundled_config, clock)
    assert not all_failed
    assert list(failures) == ["cbi"] and "dated in the future (2026-02-26)" in failures["cbi"]
    usd = entries(document)["USD"]
    assert (usd["rate"], usd["source"]) == (1310, "cbi-official")
    assert_nothing_wrong(document)


async def test_the_publication_day_is_baghdad_s(upstream: Served, bundled_config: Config) -> None:
    clock = Clock(datetime(2026, 2, 25, 22, 0, tzinfo=UTC))  # already the 26th in Baghdad
    _, document, failures = await refresh(bundled_config, clock)
    assert failures == {}
    usd = entries(document)["USD"]
    assert (usd["rate"], usd["source"], usd["published"]) == (1310, "cbi", "2026-02-26")


async def test_a_hold_survives_in_the_store(upstream: Served, bundled_config: Config) -> None:
    """A CBI jump of more than 10% is held, stored, and the old value keeps being served."""
    server, _ = upstream
    clock = Clock(T0)
    await refresh(bundled_config, clock)
    body = {**ER_USD, "rates": {**ER_USD["rates"], "KWD": ER_USD["rates"]["KWD"] / 2}}
    server.fault(ER, body=exact_json(body))
    clock.now = T0 + timedelta(hours=1)
    _, document, failures = await refresh(bundled_config, clock)
    assert failures == {}
    kwd = entries(document)["KWD"]
    assert (kwd["status"], kwd["rate"]) == ("held", via("1310", ER_USD["rates"]["KWD"]))
    store = Store(bundled_config.storage.dir)
    try:
        hold = store.merge_state().holds["KWD"]
        assert (hold.source, hold.new) == ("er-api", Decimal(1310) / (ER_USD["rates"]["KWD"] / 2))
    finally:
        store.close()


async def test_undated_quotes_get_the_baghdad_day_of_their_fetch(upstream: Served, tmp_path: Path) -> None:
    """A json source without published_path: its quotes are dated by the day of the fetch."""
    _, origin = upstream
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
currencies: [USD, KWD]
sources:
  - id: feed
    kind: json
    url: {origin}/custom/rates.json
    ref: USD
    path: data.quotes
  - id: official
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {{USD: 1310}}
""",
        encoding="utf-8",
    )
    clock = Clock(datetime(2026, 11, 30, 21, 30, tzinfo=UTC))  # 00:30 on 1 December in Baghdad
    _, document, failures = await refresh(load_config(path), clock)
    assert failures == {}
    store = Store(load_config(path).storage.dir)
    try:
        kwd = store.source_quotes(["feed"])["feed"].quotes["KWD"].quote
    finally:
        store.close()
    assert (kwd.value, kwd.published) == (Decimal("0.3068"), date(2026, 12, 1))
    assert entries(document)["KWD"]["published"] == "2026-12-01"  # its changing side: the feed's Baghdad day


async def test_a_json_source_end_to_end(upstream: Served, tmp_path: Path, capsys: Capture) -> None:
    _, origin = upstream
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""\
currencies: [USD, KWD, EGP]
sources:
  - id: official
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {{USD: 1310}}
  - id: feed
    kind: json
    url: {origin}/custom/rates.json
    ref: USD
    path: data.quotes
    published_path: data.asof
storage:
  dir: store
""",
        encoding="utf-8",
    )
    run = await fetch(capsys, path, "--json")
    assert run.code == 0 and run.err == ""
    rows = entries(decode(run.out.encode()))
    assert (rows["KWD"]["rate"], rows["KWD"]["source"]) == (via("1310", Decimal("0.3068")), "feed")
    assert rows["KWD"]["published"] == "2026-11-20"  # the feed's date: the decree does not age it
    assert rows["EGP"]["rate"] == via("1310", Decimal("48.35"))
    assert (tmp_path / "store").is_dir()


# --- the failure boundary ------------------------------------------------------------------


@pytest.mark.parametrize("stamp", ["1e12", "-1e20", "1e400"])
async def test_any_error_a_source_raises_is_that_source_s_failure(
    upstream: Served, tmp_path: Path, capsys: Capture, stamp: str
) -> None:
    """An out-of-range ``time_last_update_unix`` fails er-api alone, with a one-line reason, stored."""
    server, origin = upstream
    config = write_bundled(tmp_path, origin)
    body = fixture("open_er_api_latest_USD.json")
    server.fault(
        ER, body=body.replace(b'"time_last_update_unix":1724025751', f'"time_last_update_unix":{stamp}'.encode())
    )
    run = await fetch(capsys, config)
    assert run.code == 0
    assert list(run.failed) == ["er-api"], run.err
    reason = run.failed["er-api"]
    assert reason and "\n" not in reason
    table = run.table()
    # Every other source's refresh went on: the CBI's, the pegs', floatrates' crosses.
    assert Decimal(table["USD"]["rate"]) == 1310 and table["USD"]["source"] == "cbi"
    assert Decimal(table["SAR"]["rate"]) == Decimal("349.333") and table["SAR"]["source"] == "cbi"
    assert (Decimal(table["KWD"]["rate"]), table["KWD"]["source"]) == (float_cross("KWD"), "floatrates")
    with Store(load_config(config).storage.dir) as store:
        assert store.status("er-api").last_error == reason
        assert store.status("er-api").failures == 1
        assert store.source_quotes(["er-api"]) == {}

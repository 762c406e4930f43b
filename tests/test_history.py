"""The daily record (contract section 7): every day of every yearly sheet, from the first fetch.

Real parts: the adapter reads real workbook bytes (the fixture, and a full-size workbook
built in ``tests/workbook.py`` from its two layouts) served over HTTP by the local
upstream; the store is a real diskcache directory; the API is the real app. Expected
numbers come from what the builder wrote or from openpyxl directly, never from the code.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from rates.clock import BAGHDAD
from rates.config import Config, load_config
from rates.fetch import Fetcher
from rates.present import significant
from rates.refresh import Refresher
from rates.sources.cbi import CbiSettings, CbiSource
from rates.store import Store
from rates.web import create_app
from tests.upstream import CBI_WORKBOOK, FIXTURES, Upstream
from tests.workbook import Built, build

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
FIXTURE = (FIXTURES / "cbi_major_currencies_and_gold.xlsx").read_bytes()
LAST = date(2026, 2, 26)


@cache
def full() -> Built:
    return build(last=LAST)


def config_text(origin: str, store: Path, currencies: str = "[USD, EUR, CHF, AED, SAR, QAR, XAU]") -> str:
    return f"""\
currencies: {currencies}
sources:
  - id: cbi
    kind: cbi
    url: {origin}/page/144
    column: sell
  - id: pegs
    kind: fixed
    ref: USD
    published: 2001-07-09
    rates: {{SAR: 3.75, AED: 3.6725, QAR: 3.64}}
policy: {{published_within: 3650d}}  # the workbook's last day is 2026-02-26
storage: {{dir: {store}}}
"""


def make_config(tmp_path: Path, origin: str, name: str = "config.yaml") -> Config:
    path = tmp_path / name
    path.write_text(config_text(origin, tmp_path / "store"), encoding="utf-8")
    return load_config(path)


async def get_json(client: Client, path: str, **params: str) -> Any:
    response = await client.get(path, params=params)
    assert response.status == 200, await response.text()
    return json.loads(await response.read(), parse_float=Decimal)


async def wait_ready(client: Client) -> None:
    """Until the CBI's answer is published (a fixed source alone makes /readyz 200 sooner)."""
    for _ in range(1200):
        response = await client.get("/api/v1/rates/USD")
        body = await response.read()
        if response.status == 200 and json.loads(body)["status"] == "ok":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("USD never became ok")


def shown(value: Decimal | None) -> Decimal | None:
    return None if value is None else significant(value)


# --- the full-size workbook, end to end -------------------------------------------------------


async def test_full_record_from_the_first_fetch(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    server, origin = upstream
    built = full()
    server.fault(CBI_WORKBOOK, body=built.payload)
    config = make_config(tmp_path, origin)
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)

    # Every day the builder wrote, 2009 to 2026, both layouts, from the first fetch.
    usd = (await get_json(client, "/api/v1/history/USD", **{"from": "2009-01-01"}))["points"]
    assert [p["date"] for p in usd] == [d.isoformat() for d in sorted(built.days)]
    for point in usd:
        buy, sell, _ = built.days[date.fromisoformat(point["date"])]["USD"]
        assert (point["rate"], point["buy"], point["sell"]) == (sell, buy, sell), point
    # The dollar moved partway through 2020 (Sunday 20 December) and 2023 (8 February).
    rates = {p["date"]: p["rate"] for p in usd}
    assert (rates["2020-12-17"], rates["2020-12-20"]) == (1190, 1460)
    assert (rates["2023-02-07"], rates["2023-02-08"]) == (1460, 1310)

    # Another currency, under its older name (S.FR) before 2025.
    chf = (await get_json(client, "/api/v1/history/chf", **{"from": "2012-03-01", "to": "2012-03-31"}))["points"]
    march = sorted(d for d in built.days if (d.year, d.month) == (2012, 3))
    assert [p["date"] for p in chf] == [d.isoformat() for d in march]
    for point in chf:
        buy, sell, _ = built.days[date.fromisoformat(point["date"])]["CHF"]
        assert (point["buy"], point["sell"]) == (shown(buy), shown(sell))

    # Cross rates on old dates: SAR is not in the older sheets, so it is the dollar of that
    # day through the peg, dated by the dollar; from 2025 the CBI quotes SAR itself.
    sar = (await get_json(client, "/api/v1/history/SAR", **{"from": "2015-06-01", "to": "2015-06-07"}))["points"]
    june = sorted(d for d in built.days if date(2015, 6, 1) <= d <= date(2015, 6, 7))
    assert [p["date"] for p in sar] == [d.isoformat() for d in june]
    for point in sar:
        buy, sell, _ = built.days[date.fromisoformat(point["date"])]["USD"]
        peg = Decimal("3.75")
        assert (point["rate"], point["buy"], point["sell"]) == (shown(sell / peg), shown(buy / peg), shown(sell / peg))
    recent = (await get_json(client, "/api/v1/history/SAR", **{"from": "2026-02-26"}))["points"]
    sar_buy, sar_sell, _ = built.days[LAST]["SAR"]
    assert recent == [{"date": "2026-02-26", "rate": shown(sar_sell), "buy": shown(sar_buy), "sell": shown(sar_sell)}]

    # Gold has a record too: one figure a day, no buy or sell.
    xau = (await get_json(client, "/api/v1/history/XAU", **{"from": "2010-01-01", "to": "2010-01-31"}))["points"]
    assert xau and all(p["buy"] is None and p["sell"] is None for p in xau)
    assert [p["rate"] for p in xau] == [shown(built.days[date.fromisoformat(p["date"])]["XAU"][0]) for p in xau]

    # The CSV: same points, text/csv.
    response = await client.get("/api/v1/history/USD.csv", params={"from": "2020-12-17", "to": "2020-12-21"})
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["ETag"]
    assert (await response.text()).splitlines() == [
        "date,rate,buy,sell",
        "2020-12-17,1190,1182,1190",
        "2020-12-20,1460,1450,1460",
        "2020-12-21,1460,1450,1460",
    ]

    # The document as it stood on a past day: a Friday answers with Thursday's rates.
    doc = await get_json(client, "/api/v1/rates", date="2020-12-18")
    assert doc["updated_at"] is None
    entries = {e["code"]: e for e in doc["rates"]}
    assert [e["code"] for e in doc["rates"]] == ["USD", "EUR", "CHF", "AED", "SAR", "QAR", "XAU"]
    usd_then = entries["USD"]
    assert (usd_then["rate"], usd_then["buy"], usd_then["published"], usd_then["fetched_at"]) == (
        1190, 1182, "2020-12-17", None,
    )  # fmt: skip
    assert (usd_then["status"], usd_then["change"]) == ("ok", 0)
    assert entries["SAR"]["published"] == "2020-12-17" and entries["SAR"]["source"] == "pegs"
    after = (await get_json(client, "/api/v1/rates", date="2020-12-20", symbols="usd"))["rates"]
    assert [(e["code"], e["rate"], e["change"]) for e in after] == [("USD", 1460, 270)]
    before = (await get_json(client, "/api/v1/rates", date="2008-12-31"))["rates"]
    assert {(e["status"], e["rate"]) for e in before} == {("unavailable", None)}

    # Today's SAR is dated by its changing side, not by the 2001 peg (section 4): QAR here.
    qar = await get_json(client, "/api/v1/rates/QAR")
    assert (qar["source"], qar["published"]) == ("pegs", LAST.isoformat())

    # The record is on disk: a restart with the CBI down serves it whole.
    await client.close()
    server.fault(CBI_WORKBOOK, status=500, body=b"down")
    again = await aiohttp_client(create_app(config))
    await wait_ready(again)
    assert (await get_json(again, "/api/v1/history/USD", **{"from": "2009-01-01"}))["points"] == usd

    # And the command line prints the same CSV from the store.
    cli = subprocess.run(
        [sys.executable, "-m", "rates", "history", "usd", "--from", "2020-12-17", "--to", "2020-12-21",
         "-c", str(config.path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.splitlines()[1:] == ["2020-12-17,1190,1182,1190", "2020-12-20,1460,1450,1460",
                                           "2020-12-21,1460,1450,1460"]  # fmt: skip


# --- the fixture workbook: both real layouts ----------------------------------------------------


def real_days(sheet: str, columns: dict[str, tuple[int, int]]) -> dict[date, dict[str, tuple[Any, Any]]]:
    """Days of a fixture sheet read with openpyxl: column A's month and day, and the
    given (buy, sell) columns; rows with any text right of column A are holidays."""
    book = openpyxl.load_workbook(io.BytesIO(FIXTURE), read_only=True, data_only=True)
    year, month, found = int(sheet), 1, {}
    for row in book[sheet].iter_rows(min_row=6, max_col=60, values_only=True):
        first = row[0]
        if isinstance(first, str) and first.strip()[:3] in ("Jan", "Feb"):
            month = 1 if first.strip().startswith("Jan") else 2
        elif isinstance(first, str) and first.startswith("Average"):
            month += 1
        elif str(first).strip().isdigit() and int(str(first)) <= 31 and isinstance(row[1], int | float):
            if any(isinstance(v, str) for v in row[1:]):
                continue
            day = date(year, month, int(str(first)))
            found[day] = {code: (row[b], row[s]) for code, (b, s) in columns.items()}
    return found


def test_fixture_record_matches_an_independent_read() -> None:
    record = CbiSource(CbiSettings(id="cbi", kind="cbi", url="https://cbi.iq/page/144")).parse_record(FIXTURE).record
    assert record is not None
    old = real_days("2024", {"USD": (1, 2), "EUR": (3, 4), "CHF": (9, 10), "AED": (21, 22), "XAU": (29, 29)})
    new = real_days("2026", {"USD": (1, 2), "EUR": (4, 5), "TRY": (49, 50), "XAU": (58, 58)})
    assert set(record) == set(old) | set(new)
    assert len(old) > 15 and len(new) > 30
    for day, expected in {**old, **new}.items():
        got = {q.code: q for q in record[day]}
        for code, (buy, sell) in expected.items():
            if code == "XAU":
                assert got[code].value == Decimal(str(sell)), (day, code)
                continue
            assert (got[code].buy, got[code].sell) == (Decimal(str(buy)), Decimal(str(sell))), (day, code)
    # Issue 10's figures, read off the sheets.
    assert {q.code: q.value for q in record[date(2024, 1, 2)]}["XAU"] == Decimal("2676539.71")
    assert {q.code: q.value for q in record[date(2026, 1, 4)]}["XAU"] == Decimal("5628857")


async def test_unchanged_workbook_is_not_read_again(upstream: tuple[Upstream, str]) -> None:
    server, origin = upstream
    source = CbiSource(CbiSettings(id="cbi", kind="cbi", url=f"{origin}/page/144"))
    async with Fetcher() as fetcher:
        first = await source.fetch(fetcher)
        second = await source.fetch(fetcher)
        server.fault(CBI_WORKBOOK, body=edited(lambda book: book["2024"].cell(8, 2, 1299)))
        third = await source.fetch(fetcher)
    assert first.record is not None and len(first.record) > 50
    assert second.record is None  # the old sheets were not read: only the latest day
    assert second.quotes == first.quotes
    assert third.record is not None and third.quotes == first.quotes


def edited(change: Callable[[Any], object]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(FIXTURE))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_corrected_old_day_replaces_its_point(upstream: tuple[Upstream, str], tmp_path: Path) -> None:
    server, origin = upstream
    config = make_config(tmp_path, origin)
    store = Store(config.storage.dir)
    # openpyxl drops cached formula values when it re-saves: compare re-saved with re-saved.
    server.fault(CBI_WORKBOOK, body=edited(lambda book: None))
    try:
        async with Fetcher() as fetcher:
            pipeline = Refresher(config, store, fetcher)
            outcomes, _ = await pipeline.refresh_all()
            assert "0 corrected" in outcomes[0].message
            # Row 8 of the 2024 sheet is 2 January 2024: the CBI corrects its dollar buy.
            server.fault(CBI_WORKBOOK, body=edited(lambda book: book["2024"].cell(8, 2, 1299)))
            outcomes, _ = await pipeline.refresh_all()
            assert "0 new, 1 corrected" in outcomes[0].message
            outcomes, _ = await pipeline.refresh_all()
            assert outcomes[0].message.endswith("quotes published 2026-02-26")  # unchanged: not read again
    finally:
        store.close()
    client_config = config
    app = create_app(client_config)
    async with ServedApp(app) as client:
        points = (await get_json(client, "/api/v1/history/USD", **{"from": "2024-01-02", "to": "2024-01-04"}))["points"]
    assert [(p["date"], p["buy"]) for p in points] == [("2024-01-02", 1299), ("2024-01-03", 1300), ("2024-01-04", 1300)]


class ServedApp:
    """A real server for ``app`` on a free loopback port, ready before use."""

    def __init__(self, app: web.Application) -> None:
        from aiohttp.test_utils import TestServer

        self.client = TestClient(TestServer(app, host="127.0.0.1"))

    async def __aenter__(self) -> Client:
        await self.client.start_server()
        await wait_ready(self.client)
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()


# --- bad dates ---------------------------------------------------------------------------------


@pytest.fixture
async def client(aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path) -> Client:
    _, origin = upstream
    app_client = await aiohttp_client(create_app(make_config(tmp_path, origin)))
    await wait_ready(app_client)
    return app_client


TOMORROW = (datetime.now(BAGHDAD).date() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/history/USD", {"from": "2024-13-01"}),
        ("/api/v1/history/USD", {"from": "2024-02-30"}),
        ("/api/v1/history/USD", {"from": "20240101"}),
        ("/api/v1/history/USD", {"from": "٢٠٢٤-٠١-٠١"}),
        ("/api/v1/history/USD", {"from": " 2024-01-01"}),
        ("/api/v1/history/USD", {"from": ""}),
        ("/api/v1/history/USD", {"from": "2024-01-01", "to": "2024-1-2"}),
        ("/api/v1/history/USD", {"from": "2024-02-01", "to": "2024-01-31"}),
        ("/api/v1/history/USD", {"from": "2024-01-01", "days": "30"}),
        ("/api/v1/history/USD.csv", {"from": "2024-01-01", "days": "30"}),
        ("/api/v1/rates", {"date": TOMORROW}),
        ("/api/v1/rates", {"date": "2024-02-30"}),
        ("/api/v1/rates", {"date": "yesterday"}),
        ("/api/v1/rates", {"date": ""}),
    ],
)
async def test_bad_date(client: Client, path: str, params: dict[str, str]) -> None:
    response = await client.get(path, params=params)
    body = await response.json()
    assert response.status == 400
    assert body["error"]["code"] == "bad_date"
    assert response.headers["Cache-Control"] == "no-store"
    assert "\n" not in body["error"]["message"]


async def test_history_body_is_prepared_once_per_version(client: Client) -> None:
    first = await client.get("/api/v1/history/USD", params={"from": "2024-01-01"})
    etag = first.headers["ETag"]
    again = await client.get("/api/v1/history/USD", params={"from": "2024-01-01"}, headers={"If-None-Match": etag})
    assert again.status == 304
    gz = await client.get("/api/v1/history/USD", params={"from": "2024-01-01"}, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert json.loads(await gz.read()) == json.loads(await first.read())


# --- hostile workbooks ---------------------------------------------------------------------------


def padding_bomb(rows: int = 20_000) -> bytes:
    """A small workbook whose 2026 sheet has ``rows`` rows, each with one cell in column XFD."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "2026"
    for row in [["Date", "USD"], [None, "USD"], [2026, "Buy ID", "Sell ID"], ["Jan. 2026"], [4, 1300, 1310]]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    padded = io.BytesIO()
    with zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                extra = "".join(f'<row r="{n}"><c r="XFD{n}" t="n"><v>1</v></c></row>' for n in range(6, 6 + rows))
                data = data.replace(b"</sheetData>", extra.encode() + b"</sheetData>")
                data = data.replace(b'<dimension ref="A1:C5"/>', f'<dimension ref="A1:XFD{5 + rows}"/>'.encode())
            target.writestr(item, data)
    return padded.getvalue()


def test_padding_bomb_is_bounded() -> None:
    bomb = padding_bomb()
    assert len(bomb) < 400_000
    source = CbiSource(CbiSettings(id="cbi", kind="cbi", url="https://cbi.iq/page/144"))
    tracemalloc.start()
    try:
        quotes = source.parse_record(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert quotes.by_code()["USD"].value == Decimal(1310)
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_workbook_link_to_another_host_is_not_followed() -> None:
    source = CbiSource(CbiSettings(id="cbi", kind="cbi", url="https://cbi.iq/page/144"))
    page = '<a href="https://files.example/rates.xlsx">العملات الرئيسية والذهب</a>'.encode()
    with pytest.raises(Exception, match=r"not the page's own host cbi\.iq"):
        source.workbook_url(page, "https://cbi.iq/page/144")


async def test_a_currency_added_later_gets_its_past(upstream: tuple[Upstream, str], tmp_path: Path) -> None:
    _, origin = upstream
    path = tmp_path / "config.yaml"
    path.write_text(config_text(origin, tmp_path / "store", currencies="[USD]"), encoding="utf-8")
    wider = tmp_path / "wider.yaml"
    wider.write_text(config_text(origin, tmp_path / "store", currencies="[USD, QAR]"), encoding="utf-8")
    for config in (load_config(path), load_config(wider)):  # a reload builds its sources anew
        store = Store(config.storage.dir)
        try:
            async with Fetcher() as fetcher:
                await Refresher(config, store, fetcher).refresh_all()
        finally:
            store.close()
    async with ServedApp(create_app(load_config(wider))) as client:
        qar = (await get_json(client, "/api/v1/history/QAR", **{"from": "2024-01-02", "to": "2024-01-02"}))["points"]
    peg = Decimal("3.64")
    expected = {"rate": shown(1310 / peg), "buy": shown(1300 / peg), "sell": shown(1310 / peg)}
    assert qar == [{"date": "2024-01-02", **expected}]

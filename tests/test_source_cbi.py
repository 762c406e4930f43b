"""The CBI adapter: page → workbook link, workbook → the latest day's quotes."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web

from rates.errors import FetchError, ParseError
from rates.fetch import Fetcher
from rates.sources.cbi import CbiSettings, CbiSource, Column

UPSTREAM = Path(__file__).parent / "fixtures" / "upstream"
PAGE = (UPSTREAM / "cbi_page144.html").read_bytes()
WORKBOOK = (UPSTREAM / "cbi_major_currencies_and_gold.xlsx").read_bytes()
WORKBOOK_PATH = "/static/uploads/up/file-177909880482668.xlsx"
PAGE_URL = "https://cbi.iq/page/144"
LATEST = date(2026, 2, 26)


def source(column: Column = "sell", url: str = PAGE_URL) -> CbiSource:
    return CbiSource(CbiSettings(id="cbi", kind="cbi", url=url, column=column, timeout=timedelta(seconds=5)))


def xlsx(sheets: dict[str, Sequence[Sequence[object]]]) -> bytes:
    """A workbook whose sheets hold these rows, as bytes."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def edited_fixture(edit: Callable[[Any], None]) -> bytes:
    """The fixture workbook with its 2026 sheet changed by ``edit``."""
    book = openpyxl.load_workbook(io.BytesIO(WORKBOOK))
    edit(book["2026"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the real workbook -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "usd"),
    [("buy", "1300"), ("sell", "1310"), ("sell2", "1320"), ("mid", "1305")],
)
def test_fixture_usd_per_column(column: Column, usd: str) -> None:
    quote = source(column).parse(WORKBOOK).by_code()["USD"]
    assert quote.value == Decimal(usd)
    assert (quote.buy, quote.sell) == (Decimal("1300"), Decimal("1310"))
    assert quote.published == LATEST


def test_fixture_latest_row_of_every_currency() -> None:
    quotes = source("sell").parse(WORKBOOK)
    assert quotes.ref == "IQD" and quotes.direct
    by_code = quotes.by_code()
    # Read off row 65 of sheet 2026 (day '26' under 'Feb.2026').
    expected = {
        "EUR": ("1535.82", "1547.634"),
        "GBP": ("1758.835", "1772.365"),
        "JPY": ("8.328", "8.392"),
        "AED": ("353.944", "356.666"),
        "JOD": ("1836.158", "1850.282"),
        "SAR": ("346.667", "349.333"),
        "OMR": ("3381.014", "3407.022"),  # header over the group's first column
        "INR": ("14.3", "14.41"),  # header one column right of its Buy label
        "TRY": ("29.613", "29.841"),
    }
    for code, (buy, sell) in expected.items():
        quote = by_code[code]
        assert (quote.buy, quote.sell, quote.value) == (Decimal(buy), Decimal(sell), Decimal(sell))
        assert quote.published == LATEST
    assert len(by_code) == 18
    # QAR's columns are empty all through 2026; SDR is not a currency; gold is XAU (column BG).
    assert not {"QAR", "SDR", "XDR", "GOLD"} & set(by_code)
    gold = by_code["XAU"]
    assert (gold.value, gold.buy, gold.sell, gold.published) == (Decimal("6742918"), None, None, LATEST)


def test_fixture_sell2_and_mid_of_another_currency() -> None:
    assert source("sell2").parse(WORKBOOK).by_code()["EUR"].value == Decimal("1559.448")
    assert source("mid").parse(WORKBOOK).by_code()["EUR"].value == Decimal("1541.727")


def test_fixture_skips_average_and_holiday_rows() -> None:
    # The 'Average' row after the 26th has EUR buy 1537.82...; a holiday with a stray number
    # on the 27th must not win either.
    def holiday(sheet: Any) -> None:
        sheet["B66"] = "عطلة"
        sheet["X66"] = 1466.676

    for payload in (WORKBOOK, edited_fixture(holiday)):
        eur = source().parse(payload).by_code()["EUR"]
        assert (eur.published, eur.buy) == (LATEST, Decimal("1535.82"))


def test_fixture_a_later_filled_day_wins() -> None:
    def fill_27th(sheet: Any) -> None:
        for col in range(2, 60):
            sheet.cell(66, col).value = sheet.cell(65, col).value
        sheet["B66"] = 1301

    quote = source("buy").parse(edited_fixture(fill_27th)).by_code()["USD"]
    assert (quote.published, quote.value) == (date(2026, 2, 27), Decimal("1301"))


# --- an older layout, built here --------------------------------------------------------

OLD_HEAD: list[list[object]] = [
    ["أسعار صرف الدينار العراقي اليومية"],
    ["Daily Exchange Rate for Iraqi Dinar"],
    ["Date", "الدولار", None, "الدرهم", None, "حقوق السحب الخاصة", None, "الذهب"],
    [None, "USD", None, "UAE", None, "SDR", None, "Gold"],
    # The labels sit one column right of their code: USD's Buy is under nothing, its Sell
    # under 'UAE'.
    [2024, None, " Buy   ID ", "Sell     ID", "  Buy ID", " Sell ID ", "Buy  ID", "Sell ID"],
]


def old_sheet(*rows: list[object]) -> list[list[object]]:
    return [*OLD_HEAD, *rows]


def test_older_layout_buy_sell_codes_on_their_own_row() -> None:
    previous_year = old_sheet(["Jan. 2023"], [5, None, 1, 2, 3, 4, 5, 6])
    latest = old_sheet(
        ["Jan. 2024"],
        [1, None, "اعياد رأس السنة الميلادية"],
        ["2", None, 1300, 1310, 353.982, 356.705, 1740.973, 1754.365, 2676539.71],
        [31, None, 1300.5, 1310.5, 353.9, 356.7, 1741, 1755],
        ["Average", None, 1300, 1310, 354, 356, 1740, 1754],
        ["Feb.2024"],
        [1, None, 1301, 1311, 353.5, 356.25, 1742, 1756],
        [2, None, "عطلة", None, None, 356.1],  # a holiday, with a stray number
        [3],
        ["Average", None, 1302, 1312, 354, 356, 1741, 1755],
    )
    payload = xlsx({"2023": previous_year, "Notes": [["x"]], "2024": latest})
    quotes = source("mid").parse(payload).by_code()
    assert set(quotes) == {"USD", "AED"}
    usd, aed = quotes["USD"], quotes["AED"]
    assert (usd.published, usd.buy, usd.sell, usd.value) == (
        date(2024, 2, 1),
        Decimal("1301"),
        Decimal("1311"),
        Decimal("1306"),
    )
    assert (aed.buy, aed.sell, aed.value) == (
        Decimal("353.5"),
        Decimal("356.25"),
        Decimal("354.875"),
    )


def test_older_layout_without_sell2_gives_no_sell2_rates() -> None:
    payload = xlsx({"2024": old_sheet(["Jan. 2024"], [2, None, 1300, 1310])})
    with pytest.raises(ParseError, match="no dated day row with sell2 rates"):
        source("sell2").parse(payload)


def test_missing_january_row_and_restarting_days() -> None:
    # No month rows at all: January is assumed, and the days restarting means February.
    rows = old_sheet([2024], [30, None, 1, 2], [31], [1, None, 3, 4], [2])
    usd = source().parse(xlsx({"2024": rows})).by_code()["USD"]
    assert (usd.published, usd.value) == (date(2024, 2, 1), Decimal("4"))


# --- faults ------------------------------------------------------------------------------


def new_year(sheet: list[list[object]]) -> bytes:
    """The fixture workbook with a 2027 sheet added in front of 2026, as in early January."""
    book = openpyxl.load_workbook(io.BytesIO(WORKBOOK))
    fresh = book.create_sheet("2027")
    for row in sheet:
        fresh.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "sheet",
    [
        [["أسعار صرف الدينار العراقي اليومية"]],  # only a title so far
        old_sheet(["Jan. 2027"], [1, None, "عطلة رأس السنة"], [2]),  # headers, a holiday, no numbers
    ],
)
def test_an_empty_new_year_sheet_falls_back_to_the_year_before(sheet: list[list[object]]) -> None:
    quotes = source().parse(new_year(sheet)).by_code()
    assert quotes["USD"].published == date(2026, 2, 26)
    assert (quotes["USD"].buy, quotes["USD"].sell) == (Decimal(1300), Decimal(1310))


def test_a_new_year_sheet_with_numbers_wins() -> None:
    sheet = old_sheet(["Jan. 2027"], [1, None, "عطلة"], [4, None, 1300, 1310])
    quotes = source().parse(new_year(sheet)).by_code()
    assert quotes["USD"].published == date(2027, 1, 4)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (PAGE, "not a readable XLSX workbook"),
        (WORKBOOK[: len(WORKBOOK) // 2], "not a readable XLSX workbook"),
        (b"", "not a readable XLSX workbook"),
        (xlsx({"Sheet": [["x"]]}), "no sheet named after a year"),
        (xlsx({"2026": [["Date", "USD"], ["x"]]}), "sheet 2026 has no row of Buy/Sell labels"),
        (xlsx({"2026": [["Date"], [None, "Buy", "Sell"]]}), "no currency header with an ISO code"),
        (
            xlsx({"2026": old_sheet(["Jan. 2026"], [1, None, "عطلة"], [2], ["Average"])}),
            "sheet 2026 has no dated day row with sell rates",
        ),
    ],
)
def test_unreadable_workbooks(payload: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        source().parse(payload)
    assert caught.value.source_id == "cbi"
    assert "\n" not in str(caught.value)


def test_workbook_url_from_the_page() -> None:
    url = source().workbook_url(PAGE, PAGE_URL)
    assert url == "https://cbi.iq" + WORKBOOK_PATH


def test_workbook_url_resolves_relative_links() -> None:
    page = '<p><a href="/a.xlsx">x</a> <a href="up/b.xlsx"><span>العملات و</span>الذهب</a></p>'
    url = source().workbook_url(page.encode(), "https://cbi.iq/page/144")
    assert url == "https://cbi.iq/page/up/b.xlsx"


def test_page_without_the_gold_link() -> None:
    page = PAGE.replace("الذهب".encode(), "المعادن".encode())
    with pytest.raises(ParseError, match="links no workbook whose text contains 'الذهب'"):
        source().workbook_url(page, PAGE_URL)


# --- over real HTTP ----------------------------------------------------------------------


async def serve_cbi(aiohttp_server: Any, workbook_status: int = 200) -> str:
    """A local CBI: the page with its links pointing here, and the workbook."""

    async def page(request: web.Request) -> web.Response:
        origin = str(request.url.origin())
        body = PAGE.replace(b"https://cbi.iq", origin.encode())
        return web.Response(body=body, content_type="text/html", charset="utf-8")

    async def workbook(request: web.Request) -> web.Response:
        if workbook_status != 200:
            return web.Response(status=workbook_status, text="boom")
        return web.Response(body=WORKBOOK, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/page/144", page)
    app.router.add_get(WORKBOOK_PATH, workbook)
    server = await aiohttp_server(app, host="127.0.0.1")
    return str(server.make_url("/page/144"))


async def test_fetch_end_to_end(aiohttp_server: Any) -> None:
    url = await serve_cbi(aiohttp_server)
    async with Fetcher() as fetcher:
        quotes = await source("sell", url=url).fetch(fetcher)
    usd = quotes.by_code()["USD"]
    assert (usd.published, usd.value, usd.buy, usd.sell) == (
        LATEST,
        Decimal("1310"),
        Decimal("1300"),
        Decimal("1310"),
    )
    assert quotes.by_code()["JOD"].value == Decimal("1850.282")


async def test_fetch_workbook_error_names_the_url(aiohttp_server: Any) -> None:
    url = await serve_cbi(aiohttp_server, workbook_status=500)
    workbook_url = url.replace("/page/144", WORKBOOK_PATH)
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError, match="HTTP 500") as caught:
            await source(url=url).fetch(fetcher)
    assert workbook_url in str(caught.value)
    assert caught.value.source_id == "cbi"

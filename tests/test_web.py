"""The HTTP API (contract section 5) and the widget's HTTP side (section 6).

Real parts only: the real app through ``aiohttp_client(create_app(config))``, a real
diskcache store in tmp_path, and the local fixture upstream over real HTTP. Expected
numbers are computed here from the fixture payloads, not read back from the code.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from babel.numbers import get_currency_name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rates.clock import BAGHDAD
from rates.config import Config, load_config
from rates.fetch import Fetcher
from rates.present import significant
from rates.refresh import Refresher
from rates.snapshot import VARIANTS_PER_SNAPSHOT
from rates.store import Store
from rates.web import PUBLISHER, SERVICE, create_app
from tests.upstream import CBI_WORKBOOK, FIXTURES, Upstream, bundled_config_text
from widget.texts import MESSAGES, OUT_OF_RANGE

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]

CACHE_60 = "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400"
STRONG_ETAG = re.compile(r'^"[^"\s]+"$')
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ROW = re.compile(r'<tr data-code="([A-Z]{3})" data-status="(ok|stale|held|unavailable)">(.*?)</tr>', re.S)
ENTRY_KEYS = {"code", "name", "rate", "buy", "sell", "per", "source", "published", "fetched_at", "status", "change"}
SOURCE_KEYS = {"id", "kind", "ok", "last_success", "last_error", "next_run", "held"}
UPSTREAM_PATHS = ("/page/144", CBI_WORKBOOK, "/v6/latest/USD", "/daily/gbp.json")
CBI_DAY = "2026-02-26"  # the latest day row of the fixture workbook

# The fixture feed, read independently of the adapters.
ER_API = json.loads((FIXTURES / "open_er_api_latest_USD.json").read_bytes(), parse_float=Decimal)
ER_API_DAY = datetime.fromtimestamp(ER_API["time_last_update_unix"], BAGHDAD).date().isoformat()


def er_cross(code: str, usd_iqd: int = 1310) -> Decimal:
    """IQD per one ``code`` through the official dollar: 1310 ÷ (code per USD)."""
    return significant(Decimal(usd_iqd) / Decimal(ER_API["rates"][code]))


def decimal_json(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


def by_code(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["code"]: entry for entry in document["rates"]}


def vary(response: Any) -> str:
    return ", ".join(response.headers.getall("Vary", []))


async def wait_ready(client: Client) -> None:
    """Poll /readyz until the first batch has published a document (at most ~10 s)."""
    for _ in range(200):
        response = await client.get("/readyz")
        await response.read()
        if response.status == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("/readyz never answered 200")


async def get_json(client: Client, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = await client.get(path, **kwargs)
    raw = await response.read()
    assert response.status == status, (path, response.status, raw[:300])
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return decimal_json(raw)


async def assert_error(client: Client, path: str, status: int, code: str, **kwargs: Any) -> Any:
    """The contract's error shape: JSON {"error": {"code", "message"}}, no-store, CORS."""
    response = await client.get(path, **kwargs)
    raw = await response.read()
    assert response.status == status, (path, response.status, raw[:300])
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    body = json.loads(raw)
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return response


def edited_config(
    tmp_path: Path, origin: str, edit: Callable[[str], str] = lambda t: t, name: str = "config.yaml"
) -> Config:
    """The bundled config pointed at the local upstream, changed by ``edit``, loaded from disk."""
    text = bundled_config_text(origin, str(tmp_path / "store"))
    changed = edit(text)
    path = tmp_path / name
    path.write_text(changed, encoding="utf-8")
    return load_config(path)


def replace_once(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return edit


def fault_all(upstream: Upstream, status: int = 500, delay: float = 0.0) -> None:
    for path in UPSTREAM_PATHS:
        upstream.fault(path, status=status, body=b"upstream down", delay=delay)


@pytest.fixture
async def client(aiohttp_client: MakeClient, bundled_config: Config) -> Client:
    """The app on the bundled config, after its first batch (the usual case)."""
    app_client = await aiohttp_client(create_app(bundled_config))
    await wait_ready(app_client)
    return app_client


@pytest.fixture
async def raw_client(aiohttp_client: MakeClient, bundled_config: Config) -> Client:
    """Same, with the client's decompression off to see the bytes on the wire."""
    app_client = await aiohttp_client(create_app(bundled_config), auto_decompress=False)
    await wait_ready(app_client)
    return app_client


# /api/v1/rates -------------------------------------------------------------------------


async def test_rates_document_shape_and_numbers(client: Client, bundled_config: Config) -> None:
    response = await client.get("/api/v1/rates")
    raw = await response.read()
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "دولار أمريكي".encode() in raw  # UTF-8, not \u escapes
    document = decimal_json(raw)
    assert set(document) >= {"base", "updated_at", "rates"}
    assert document["base"] == "IQD"
    assert ISO_UTC.match(document["updated_at"])
    assert [e["code"] for e in document["rates"]] == bundled_config.codes
    for entry in document["rates"]:
        assert set(entry) >= ENTRY_KEYS, entry["code"]
        if entry["code"] == "SYP":  # the fixtures quote the old pound, outside the config's range
            assert (entry["status"], entry["rate"], entry["buy"], entry["sell"]) == ("unavailable", None, None, None)
            assert entry["reason"] == MESSAGES[OUT_OF_RANGE]["ar"]  # not "no source quotes it": one did
            continue
        assert entry["status"] in ("ok", "stale", "held", "unavailable")
        assert isinstance(entry["rate"], int | Decimal) and entry["rate"] > 0, entry
        assert ISO_UTC.match(entry["fetched_at"])
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", entry["published"])
        assert isinstance(entry["name"], str) and entry["name"]

    rates = by_code(document)
    usd = rates["USD"]
    assert (usd["rate"], usd["buy"], usd["sell"]) == (1310, 1300, 1310)
    assert (usd["source"], usd["published"], usd["status"], usd["per"]) == ("cbi", CBI_DAY, "ok", 1)
    assert usd["name"] == get_currency_name("USD", locale="ar")
    assert b'"rate":1310,"buy":1300,"sell":1310' in raw  # exact numbers, no float noise

    # Cross rates go through the official dollar, never through er-api's own IQD figure.
    for code in ("KWD", "EGP"):
        assert rates[code]["source"] == "er-api"
        assert rates[code]["published"] == ER_API_DAY
        assert rates[code]["rate"] == er_cross(code), code
        assert rates[code]["buy"] == er_cross(code, 1300), code
        assert rates[code]["sell"] == er_cross(code, 1310), code
    assert rates["KWD"]["rate"] != significant(Decimal(ER_API["rates"]["IQD"]) / ER_API["rates"]["KWD"])

    # A peg from the config: 1310 ÷ 3.64.
    assert rates["QAR"]["source"] == "pegs"
    assert rates["QAR"]["rate"] == significant(Decimal(1310) / Decimal("3.64")) == Decimal("359.89")
    assert rates["QAR"]["published"] == "2026-02-26"  # dated by its changing side, the CBI dollar

    # per is only a display hint: rate stays IQD per ONE unit; the config's name wins.
    assert rates["IRR"]["per"] == 10 and rates["IRR"]["name"] == "تومان إيراني"
    assert rates["IRR"]["rate"] == er_cross("IRR")
    assert rates["LBP"]["per"] == 1000 and rates["LBP"]["rate"] == er_cross("LBP")


@pytest.mark.parametrize("asked", ["eur,USD", "USD,EUR", "usd,eur", "EUR,usd,EUR", " eur , usd "])
async def test_symbols_follow_config_order(client: Client, asked: str) -> None:
    document = await get_json(client, "/api/v1/rates", params={"symbols": asked})
    assert [e["code"] for e in document["rates"]] == ["USD", "EUR"]
    assert document["rates"][0]["rate"] == 1310
    assert document["base"] == "IQD" and ISO_UTC.match(document["updated_at"])


async def test_symbols_subset_matches_full_document(client: Client) -> None:
    full = by_code(await get_json(client, "/api/v1/rates"))
    subset = await get_json(client, "/api/v1/rates", params={"symbols": "KWD,IRR,SAR"})
    assert [e["code"] for e in subset["rates"]] == ["SAR", "KWD", "IRR"]
    assert all(e == full[e["code"]] for e in subset["rates"])


@pytest.mark.parametrize(
    "symbols",
    [
        "XYZ",
        "USD,XYZ",
        "US",
        "USDX",
        "<script>",
        "U$D",
        "USD;EUR",
        "دولار",
        "USD,,EU",
        ",".join(["USD"] * 65),
        "USD," + "A" * 600,
    ],
)
async def test_bad_symbols(client: Client, symbols: str) -> None:
    response = await assert_error(client, "/api/v1/rates", 400, "bad_symbol", params={"symbols": symbols})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_empty_symbols_is_the_whole_document(client: Client, bundled_config: Config) -> None:
    whole = await (await client.get("/api/v1/rates")).read()
    for asked in ("", " ", ","):
        response = await client.get("/api/v1/rates", params={"symbols": asked})
        assert response.status == 200
        assert await response.read() == whole, repr(asked)


# /api/v1/rates/{code} ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["USD", "usd", "Usd"])
async def test_one_rate(client: Client, code: str) -> None:
    full = by_code(await get_json(client, "/api/v1/rates"))
    entry = await get_json(client, f"/api/v1/rates/{code}")
    assert entry == full["USD"]
    assert (entry["code"], entry["rate"], entry["buy"], entry["sell"]) == ("USD", 1310, 1300, 1310)


async def test_one_cross_rate(client: Client) -> None:
    entry = await get_json(client, "/api/v1/rates/kwd")
    assert entry["rate"] == er_cross("KWD") and entry["source"] == "er-api"


@pytest.mark.parametrize("code", ["XYZ", "CHF", "EURO", "US", "%3Cscript%3E"])
async def test_unknown_currency(client: Client, code: str) -> None:
    response = await assert_error(client, f"/api/v1/rates/{code}", 404, "unknown_currency")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# /api/v1/history/{code} ----------------------------------------------------------------


async def test_history_shape_and_default_window(client: Client) -> None:
    today = datetime.now(BAGHDAD).date()
    history = await get_json(client, "/api/v1/history/usd")
    assert set(history) == {"code", "base", "points"}
    assert (history["code"], history["base"]) == ("USD", "IQD")
    # Every day of the fixture workbook is in the record; the default window is 30 days.
    recorded = fixture_usd_days()
    expected = [p for p in recorded if today - date.fromisoformat(p["date"]) < timedelta(30)]
    assert history["points"] == expected
    explicit = await (await client.get("/api/v1/history/USD", params={"days": "30"})).read()
    assert decimal_json(explicit) == history
    wide = await get_json(client, "/api/v1/history/USD", params={"days": "366"})
    assert wide["points"] == [p for p in recorded if today - date.fromisoformat(p["date"]) < timedelta(366)]
    assert {"date": CBI_DAY, "rate": 1310, "buy": 1300, "sell": 1310} in recorded


def fixture_usd_days() -> list[dict[str, Any]]:
    """USD's days in the fixture workbook, read here with openpyxl: columns B and C of the
    2024 and 2026 sheets, under month rows, skipping holidays, blanks and Average rows."""
    book = openpyxl.load_workbook(FIXTURES / "cbi_major_currencies_and_gold.xlsx", read_only=True, data_only=True)
    points = []
    for year in (2024, 2026):
        month = 1
        for row in list(book[str(year)].iter_rows(min_row=6, max_col=60, values_only=True)):
            first = row[0]
            if isinstance(first, str) and first.strip()[:3] in ("Jan", "Feb"):
                month = 1 if first.strip().startswith("Jan") else 2
            elif isinstance(first, str) and first.startswith("Average"):
                month += 1
            elif (
                str(first).strip().isdigit()
                and int(str(first)) != year
                and isinstance(row[1], int | float)
                and not any(isinstance(v, str) for v in row[1:])
            ):
                day = date(year, month, int(str(first)))
                points.append({"date": day.isoformat(), "rate": row[2], "buy": row[1], "sell": row[2]})
    return sorted(points, key=lambda p: str(p["date"]))


@pytest.mark.parametrize("days", ["0", "367", "abc", "-1", "", "1.5", "1e2", "²", "٣", " 5", "99999999999"])
async def test_bad_days(client: Client, days: str) -> None:
    await assert_error(client, "/api/v1/history/USD", 400, "bad_days", params={"days": days})


async def test_history_unknown_currency(client: Client) -> None:
    await assert_error(client, "/api/v1/history/XYZ", 404, "unknown_currency")


def decree_config(tmp_path: Path, published: date, usd: int, name: str = "config.yaml") -> Config:
    """A network-free config: the CBI's dollar decree as a fixed source."""
    path = tmp_path / name
    path.write_text(
        "currencies: [USD, EUR]\n"
        "sources:\n"
        "  - id: decree\n"
        "    kind: fixed\n"
        "    ref: IQD\n"
        f"    published: {published.isoformat()}\n"
        f"    rates: {{USD: {{rate: {usd}, buy: {usd - 10}, sell: {usd}}}}}\n"
        f"storage: {{dir: {tmp_path / 'store'}}}\n",
        encoding="utf-8",
    )
    return load_config(path)


async def seed(config: Config, at: datetime) -> None:
    """One real refresh of ``config`` into its store, as if run at ``at``."""
    store = Store(config.storage.dir)
    try:
        async with Fetcher() as fetcher:
            await Refresher(config, store, fetcher, clock=lambda: at).refresh_all()
    finally:
        store.close()


async def test_history_points_one_per_publication_date(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    today = datetime.now(BAGHDAD).date()
    now = datetime.now(UTC)
    days = [today - timedelta(40), today - timedelta(10), today - timedelta(10), today - timedelta(2)]
    config = None
    for step, (day, usd) in enumerate(zip(days, (1300, 1305, 1310, 1320), strict=True)):
        config = decree_config(tmp_path, day, usd)
        await seed(config, now - timedelta(hours=len(days) - step))
    assert config is not None
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)

    def point(day: date, rate: int) -> dict[str, Any]:
        return {"date": day.isoformat(), "rate": rate, "buy": rate - 10, "sell": rate}

    async def points(n: int) -> list[dict[str, Any]]:
        body = await get_json(client, "/api/v1/history/USD", params={"days": str(n)})
        assert (body["code"], body["base"]) == ("USD", "IQD")
        return body["points"]  # type: ignore[no-any-return]

    # One point per publication date (the later value of a re-published day), oldest first.
    assert await points(366) == [point(days[0], 1300), point(days[2], 1310), point(days[3], 1320)]
    assert await points(41) == await points(366)
    assert await points(40) == [point(days[2], 1310), point(days[3], 1320)]  # today-40 is outside
    assert await points(30) == [point(days[2], 1310), point(days[3], 1320)]
    assert await points(11) == [point(days[2], 1310), point(days[3], 1320)]
    assert await points(10) == [point(days[3], 1320)]
    assert await points(3) == [point(days[3], 1320)]
    assert await points(2) == []
    assert await points(1) == []
    default = await get_json(client, "/api/v1/history/usd")
    assert default["points"] == await points(30)
    # EUR is configured but quoted by nobody: an empty series, not an error.
    assert (await get_json(client, "/api/v1/history/EUR"))["points"] == []

    # change: the difference from the rate at the previous publication date.
    usd = await get_json(client, "/api/v1/rates/USD")
    assert (usd["rate"], usd["buy"], usd["published"], usd["change"]) == (1320, 1310, days[3].isoformat(), 10)


# Caching ---------------------------------------------------------------------------------

CACHED = [
    "/api/v1/rates",
    "/api/v1/rates?symbols=EUR,USD",
    "/api/v1/rates/USD",
    "/api/v1/history/USD",
    "/api/v1/history/EUR?days=366",
    "/widget",
    "/widget?digits=latn&theme=dark&symbols=USD",
    "/widget.js",
]
STATUS = ["/api/v1/sources", "/api/v1/config", "/healthz", "/readyz", "/metrics"]


@pytest.mark.parametrize("path", CACHED)
async def test_cached_responses(client: Client, path: str) -> None:
    first = await client.get(path)
    first_body = await first.read()
    assert first.status == 200
    etag = first.headers["ETag"]
    assert STRONG_ETAG.match(etag), etag
    assert first.headers["Cache-Control"] == CACHE_60
    assert "Accept-Encoding" in vary(first)
    assert first.headers["Access-Control-Allow-Origin"] == "*"

    # Between two refreshes: byte-identical bodies, the same ETag.
    second = await client.get(path)
    assert await second.read() == first_body
    assert second.headers["ETag"] == etag

    for condition in (etag, f"W/{etag}", f'"nope", {etag}'):
        revalidated = await client.get(path, headers={"If-None-Match": condition})
        assert revalidated.status == 304, condition
        assert await revalidated.read() == b""
        assert revalidated.headers["ETag"] == etag
        assert revalidated.headers["Cache-Control"] == CACHE_60
        assert revalidated.headers["Access-Control-Allow-Origin"] == "*"

    stale = await client.get(path, headers={"If-None-Match": '"something-else"'})
    assert stale.status == 200 and await stale.read() == first_body


async def test_etags_differ_between_variants(client: Client) -> None:
    tags = set()
    for path in (
        "/api/v1/rates",
        "/api/v1/rates?symbols=USD",
        "/api/v1/rates/USD",
        "/widget",
        "/widget?digits=latn",
        "/widget.js",
        "/api/v1/history/USD?days=7",
    ):
        response = await client.get(path)
        await response.read()
        tags.add(response.headers["ETag"])
    assert len(tags) == 7


@pytest.mark.parametrize("path", STATUS)
async def test_status_endpoints_are_not_cached(client: Client, path: str) -> None:
    response = await client.get(path)
    await response.read()
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rates",
        "/api/v1/rates/USD",
        "/api/v1/history/USD?days=366",
        "/widget",
        "/widget.js",
        "/api/v1/config",
        "/healthz",  # status answers: built per request, gzipped on the fly
    ],
)
async def test_gzip_when_asked(raw_client: Client, path: str) -> None:
    plain = await raw_client.get(path, headers={"Accept-Encoding": "identity"})
    plain_body = await plain.read()
    assert plain.status == 200 and "Content-Encoding" not in plain.headers

    zipped = await raw_client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    zipped_body = await zipped.read()
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped_body != plain_body
    assert gzip.decompress(zipped_body) == plain_body
    assert "Accept-Encoding" in vary(zipped) and "Accept-Encoding" in vary(plain)
    assert zipped.headers["Content-Type"] == plain.headers["Content-Type"]

    refused = await raw_client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers
    assert await refused.read() == plain_body


async def test_max_age_follows_the_config(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    config = edited_config(tmp_path, origin, replace_once("max_age: 60s", "max_age: 5m"))
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)
    expected = "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400"
    for path in ("/api/v1/rates", "/api/v1/rates/EUR", "/api/v1/history/EUR", "/widget", "/widget.js"):
        response = await client.get(path)
        await response.read()
        assert response.headers["Cache-Control"] == expected, path
    # The widget refreshes itself at max_age too.
    page = await (await client.get("/widget")).text()
    assert 'data-refresh="300"' in page


# Errors and CORS ---------------------------------------------------------------------------


async def test_errors_carry_no_store_and_cors(client: Client) -> None:
    await assert_error(client, "/no/such/page", 404, "not_found")
    await assert_error(client, "/api/v1/rate", 404, "not_found")
    await assert_error(client, "/api/v1/rates/XYZ", 404, "unknown_currency")
    await assert_error(client, "/api/v1/rates", 400, "bad_symbol", params={"symbols": "XYZ"})
    await assert_error(client, "/widget", 400, "bad_theme", params={"theme": "neon"})
    response = await client.post("/api/v1/rates", data=b"{}")
    body = json.loads(await response.read())
    assert response.status == 405
    assert body["error"]["code"] == "method_not_allowed"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_head_answers_like_get(client: Client) -> None:
    got = await client.get("/api/v1/rates")
    await got.read()
    head = await client.head("/api/v1/rates")
    assert head.status == 200
    assert head.headers["ETag"] == got.headers["ETag"]
    assert await head.read() == b""


async def test_preflight(client: Client) -> None:
    response = await client.options(
        "/api/v1/rates",
        headers={
            "Origin": "https://news.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status == 204
    assert await response.read() == b""
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert "GET" in methods
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "if-none-match" in response.headers["Access-Control-Allow-Headers"].lower()


async def test_cors_origin_list(aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path) -> None:
    _, origin = upstream
    config = edited_config(
        tmp_path, origin, replace_once('cors_origins: ["*"]', 'cors_origins: ["https://news.example"]')
    )
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)
    allowed = {"Origin": "https://news.example"}

    for path, status in (
        ("/api/v1/rates", 200),
        ("/widget", 200),
        ("/api/v1/rates/XYZ", 404),
        ("/api/v1/rates?symbols=XYZ", 400),
        ("/nowhere", 404),
        ("/api/v1/sources", 200),
    ):
        response = await client.get(path, headers=allowed)
        await response.read()
        assert response.status == status, path
        assert response.headers.getall("Access-Control-Allow-Origin") == ["https://news.example"], path
        assert "Origin" in vary(response), path

        other = await client.get(path, headers={"Origin": "https://evil.example"})
        await other.read()
        assert "Access-Control-Allow-Origin" not in other.headers, path
        assert "Origin" in vary(other), path

    preflight = await client.options("/api/v1/rates", headers={**allowed, "Access-Control-Request-Method": "GET"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


# /api/v1/sources -------------------------------------------------------------------------------


async def test_sources_report_and_failure_keeps_last_numbers(
    client: Client, upstream: tuple[Upstream, str], bundled_config: Config
) -> None:
    sources = await get_json(client, "/api/v1/sources")
    assert [s["id"] for s in sources] == [s.id for s in bundled_config.sources]
    assert [s["kind"] for s in sources] == ["cbi", "fixed", "open-er-api", "floatrates", "fixed"]
    for source in sources:
        assert set(source) >= SOURCE_KEYS
        assert source["ok"] is True and source["last_error"] is None and source["held"] == []
        assert ISO_UTC.match(source["last_success"]) and ISO_UTC.match(source["next_run"])
    # The one refusal says what and why: er-api's old Syrian pound, outside the new pound's range.
    refused = {s["id"]: s["rejected"] for s in sources if s["rejected"]}
    assert refused == {"er-api": [{"code": "SYP", "reason": f"out of range 1..100 IQD ({er_cross('SYP')})"}]}
    before = await get_json(client, "/api/v1/rates")

    fake, _ = upstream
    fake.fault("/v6/latest/USD", status=500, body=b"internal error")
    service = client.app[SERVICE]
    assert await service.run_source("er-api") is False

    after = {s["id"]: s for s in await get_json(client, "/api/v1/sources")}
    assert after["er-api"]["ok"] is False
    assert "500" in after["er-api"]["last_error"]
    assert after["er-api"]["last_success"] is not None  # the last success is remembered
    assert all(after[s]["ok"] for s in ("cbi", "pegs", "floatrates", "cbi-official"))

    # Nothing lost: er-api's last numbers keep serving.
    rates = by_code(await get_json(client, "/api/v1/rates"))
    assert rates["KWD"]["rate"] == er_cross("KWD") and rates["KWD"]["source"] == "er-api"
    assert rates["KWD"]["status"] == "ok"  # far from stale_after
    assert by_code(before) == rates

    # Recovery clears the error.
    fake.clear("/v6/latest/USD")
    assert await service.run_source("er-api") is True
    recovered = {s["id"]: s for s in await get_json(client, "/api/v1/sources")}
    assert recovered["er-api"]["ok"] is True


# /api/v1/config -------------------------------------------------------------------------------


BROKEN = """\
currencies:
  - USD
  - EURO
sources:
  - id: cbi
    kind: cbi
    url: https://cbi.iq/page/144
    every: soon
  - id: cbi
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {USD: 1310}
colour: blue
"""


async def test_config_status_and_rejected_reload(client: Client, bundled_config: Config) -> None:
    status = await get_json(client, "/api/v1/config")
    assert set(status) >= {"path", "loaded_at", "errors"}
    assert status["path"] == str(bundled_config.path)
    assert ISO_UTC.match(status["loaded_at"])
    assert status["errors"] == []
    rates = await client.get("/api/v1/rates")
    rates_body, rates_etag = await rates.read(), rates.headers["ETag"]

    good_text = bundled_config.path.read_text(encoding="utf-8")
    bundled_config.path.write_text(BROKEN, encoding="utf-8")
    service = client.app[SERVICE]
    assert await service.reload() is False

    rejected = await get_json(client, "/api/v1/config")
    assert rejected["path"] == status["path"] and rejected["loaded_at"] == status["loaded_at"]
    file = str(bundled_config.path)
    line = re.compile(rf"^{re.escape(file)}:(\d+): ([\w.\[\]]*): .+$")
    parsed = [line.match(e) for e in rejected["errors"]]
    assert all(parsed), rejected["errors"]
    places = {(int(m.group(1)), m.group(2)) for m in parsed if m}
    assert (3, "currencies[1]") in places or (3, "currencies[1].code") in places, places
    assert (8, "sources[0].every") in places, places
    assert (9, "sources[1].id") in places, places  # the duplicate points at its later line
    assert (14, "colour") in places, places

    # The old config keeps serving, byte for byte.
    again = await client.get("/api/v1/rates")
    assert again.status == 200
    assert await again.read() == rates_body and again.headers["ETag"] == rates_etag
    assert (await get_json(client, "/api/v1/rates/EUR"))["rate"] > 0

    # A good config clears the errors.
    bundled_config.path.write_text(good_text.replace("max_age: 60s", "max_age: 2m"), encoding="utf-8")
    assert await service.reload() is True
    accepted = await get_json(client, "/api/v1/config")
    assert accepted["errors"] == []
    response = await client.get("/api/v1/rates")
    assert await response.read() == rates_body
    assert response.headers["Cache-Control"].startswith("public, max-age=120,")


async def test_good_reload_never_drops_readiness(client: Client, bundled_config: Config) -> None:
    """A valid reload re-renders everything, but readers never see a gap (503)."""
    text = bundled_config.path.read_text(encoding="utf-8")
    bundled_config.path.write_text(text.replace("theme: light", "theme: dark"), encoding="utf-8")
    service = client.app[SERVICE]
    reload = asyncio.create_task(service.reload())
    statuses = []
    while not reload.done():
        responses = await asyncio.gather(*(client.get("/api/v1/rates") for _ in range(5)))
        statuses += [r.status for r in responses]
        for r in responses:
            await r.read()
    assert await reload is True
    assert statuses and set(statuses) == {200}
    page = await (await client.get("/widget")).text()
    assert 'data-theme="dark"' in page


async def test_reload_takes_a_changed_fixed_source(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    today = datetime.now(BAGHDAD).date()
    config = decree_config(tmp_path, today - timedelta(3), 1310)
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)
    assert (await get_json(client, "/api/v1/rates/USD"))["rate"] == 1310

    decree_config(tmp_path, today - timedelta(1), 1320)  # the admin edits the decree
    assert await client.app[SERVICE].reload() is True
    usd = await get_json(client, "/api/v1/rates/USD")
    assert (usd["rate"], usd["published"], usd["change"]) == (1320, (today - timedelta(1)).isoformat(), 10)


# /readyz, /healthz, restart ----------------------------------------------------------------------


def network_only(text: str) -> str:
    """The bundled config without its two fixed sources."""
    text = re.sub(r"\n  - id: pegs\n.*?(?=\n  # ExchangeRate-API)", "\n", text, flags=re.S)
    text = re.sub(r"\n  - id: cbi-official\n.*?(?=\npolicy:)", "\n", text, flags=re.S)
    assert "kind: fixed" not in text
    return text


async def test_readyz_once_a_document_exists_even_all_unavailable(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    fake, origin = upstream
    fault_all(fake)
    config = edited_config(tmp_path, origin, network_only)
    client = await aiohttp_client(create_app(config))

    healthz = await get_json(client, "/healthz")
    assert healthz is not None
    # Let the first batch fail everywhere.
    for _ in range(200):
        sources = await get_json(client, "/api/v1/sources")
        if sources and all(s["last_error"] for s in sources):
            break
        await asyncio.sleep(0.05)
    assert sources and all(s["ok"] is False and "500" in s["last_error"] for s in sources)

    # A document exists (every rate unavailable, never 0): the contract calls that ready.
    assert (await get_json(client, "/readyz"))["status"] == "ready"
    rates = await get_json(client, "/api/v1/rates")
    assert {e["status"] for e in rates["rates"]} == {"unavailable"}
    assert all(e["rate"] is None and e["buy"] is None and e["sell"] is None for e in rates["rates"])
    response = await client.get("/healthz")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    await response.read()

    fake.clear()
    service = client.app[SERVICE]
    assert await service.run_source("er-api") is True
    ready = await get_json(client, "/readyz")
    assert ready is not None
    assert (await get_json(client, "/api/v1/rates/KWD"))["rate"] == significant(
        Decimal(ER_API["rates"]["IQD"]) / Decimal(ER_API["rates"]["KWD"])
    )  # last resort: er-api's IQD


async def test_readyz_before_and_after_first_batch(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], bundled_config: Config
) -> None:
    fake, _ = upstream
    fake.fault("/page/144", delay=2.0)  # the CBI answers, but slowly
    client = await aiohttp_client(create_app(bundled_config))
    response = await assert_error(client, "/readyz", 503, "not_ready")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    await assert_error(client, "/api/v1/rates", 503, "not_ready")
    await assert_error(client, "/widget", 503, "not_ready")
    assert (await client.get("/healthz")).status == 200
    await wait_ready(client)
    ready = await client.get("/readyz")
    assert ready.status == 200 and ready.headers["Cache-Control"] == "no-store"
    assert (await get_json(client, "/api/v1/rates/USD"))["source"] == "cbi"


async def test_restart_serves_stored_rates_at_once(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], bundled_config: Config
) -> None:
    first = await aiohttp_client(create_app(bundled_config))
    await wait_ready(first)
    before = await get_json(first, "/api/v1/rates")
    await first.close()

    fake, _ = upstream
    fault_all(fake, status=500, delay=1.0)  # nothing answers before the first requests
    second = await aiohttp_client(create_app(load_config(bundled_config.path)))
    ready = await second.get("/readyz")
    await ready.read()
    assert ready.status == 200
    now = await get_json(second, "/api/v1/rates")
    assert now == before
    assert (await get_json(second, "/api/v1/rates/USD"))["rate"] == 1310
    page = await (await second.get("/widget")).text()
    assert "١٬٣١٠" in page

    # Once the failures are in, the stored numbers still serve.
    for _ in range(200):
        sources = await get_json(second, "/api/v1/sources")
        if all(s["ok"] is False for s in sources if s["kind"] != "fixed"):
            break
        await asyncio.sleep(0.05)
    assert all(s["ok"] is False for s in sources if s["kind"] != "fixed")
    after = by_code(await get_json(second, "/api/v1/rates"))
    assert {c: e["rate"] for c, e in after.items()} == {e["code"]: e["rate"] for e in before["rates"]}


# /metrics ---------------------------------------------------------------------------------------


async def test_metrics(client: Client) -> None:
    await (await client.get("/api/v1/rates")).read()
    response = await client.get("/metrics")
    text = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"
    fetched = [line for line in text.splitlines() if line.startswith("rates_fetch_total{")]
    assert any('source="cbi"' in line and 'outcome="ok"' in line and line.endswith(" 1.0") for line in fetched)
    assert 'rates_rate_iqd{code="USD"} 1310.0' in text.splitlines()
    assert re.search(r'^rates_http_requests_total\{[^}]*route="/api/v1/rates"[^}]*\} \d', text, re.M)


async def test_metrics_route_labels_stay_bounded(client: Client) -> None:
    for n in range(20):
        await (await client.get(f"/random/{n}")).read()
    text = await (await client.get("/metrics")).text()
    assert "/random/" not in text


# /widget -----------------------------------------------------------------------------------------


def rows(page: str) -> list[tuple[str, str, str]]:
    return ROW.findall(page)


async def test_widget_page(client: Client, bundled_config: Config) -> None:
    response = await client.get("/widget")
    page = await response.text()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "X-Frame-Options" not in response.headers  # would forbid what frame-ancestors allows
    assert '<html lang="ar" dir="rtl"' in page
    assert [code for code, _, _ in rows(page)] == bundled_config.codes
    usd = dict((code, cells) for code, _, cells in rows(page))["USD"]
    assert "١٬٣١٠" in usd and "1,310" not in usd
    assert not re.search(r"""src=["']?(https?:)?//""", page)  # no external requests
    # Links are the oEmbed discovery link (this service) and source credits opened by the reader.
    for tag in re.findall(r"<(?:a|link) [^>]*href=[^>]*>", page):
        assert 'rel="alternate"' in tag or ('target="_blank"' in tag and 'rel="noopener"' in tag), tag


async def test_widget_latin_digits_and_symbols(client: Client) -> None:
    page = await (await client.get("/widget", params={"digits": "latn", "symbols": "eur,usd"})).text()
    found = rows(page)
    assert [code for code, _, _ in found] == ["USD", "EUR"]
    assert "1,310" in found[0][2] and "١" not in found[0][2]
    dark = await (await client.get("/widget", params={"theme": "dark"})).text()
    assert 'data-theme="dark"' in dark


async def test_widget_languages_and_their_default_digits(client: Client) -> None:
    usd_cells = {}
    for lang, direction in (("ar", "rtl"), ("ckb", "rtl"), ("en", "ltr")):
        page = await (await client.get("/widget", params={"lang": lang})).text()
        assert f'<html lang="{lang}" dir="{direction}"' in page
        usd_cells[lang] = dict((code, cells) for code, _, cells in rows(page))["USD"]
    assert "١٬٣١٠" in usd_cells["ar"] and "١٬٣١٠" in usd_cells["ckb"]  # Sorani: Arabic-Indic by default
    assert "1,310" in usd_cells["en"] and "١" not in usd_cells["en"]
    assert "US Dollar" in usd_cells["en"] and "دۆلاری ئەمریکی" in usd_cells["ckb"]
    overridden = await (await client.get("/widget", params={"lang": "en", "digits": "arab"})).text()
    assert "١٬٣١٠" in dict((code, cells) for code, _, cells in rows(overridden))["USD"]
    latin_ckb = await (await client.get("/widget", params={"lang": "ckb", "digits": "latn"})).text()
    assert "1,310" in dict((code, cells) for code, _, cells in rows(latin_ckb))["USD"]
    usd = await get_json(client, "/api/v1/rates/USD")
    assert usd["name"] == "دولار أمريكي"  # the API's name is the Arabic one whatever the widget shows


async def test_widget_lang_from_the_config(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    config = edited_config(tmp_path, origin, replace_once("  lang: ar ", "  lang: en "))
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)
    page = await (await client.get("/widget")).text()
    assert '<html lang="en" dir="ltr"' in page and "Official exchange rates against the Iraqi dinar" in page
    assert "1,310" in dict((code, cells) for code, _, cells in rows(page))["USD"]
    arabic = await (await client.get("/widget", params={"lang": "ar"})).text()
    assert '<html lang="ar" dir="rtl"' in arabic and "١٬٣١٠" in arabic


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"theme": "neon"}, "bad_theme"),
        ({"theme": "DARK"}, "bad_theme"),
        ({"digits": "roman"}, "bad_digits"),
        ({"lang": "fr"}, "bad_lang"),
        ({"lang": "EN"}, "bad_lang"),
        ({"lang": ""}, "bad_lang"),
        ({"symbols": "XXX"}, "bad_symbol"),
        ({"symbols": "USD,<b>"}, "bad_symbol"),
    ],
)
async def test_widget_bad_query(client: Client, query: dict[str, str], code: str) -> None:
    response = await assert_error(client, "/widget", 400, code, params=query)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_widget_frame_ancestors_from_config(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    config = edited_config(
        tmp_path, origin, replace_once('frame_ancestors: ["*"]', 'frame_ancestors: ["https://news.example"]')
    )
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)
    response = await client.get("/widget")
    await response.read()
    csp = response.headers["Content-Security-Policy"]
    directive = next(d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors"))
    assert directive.split() == ["frame-ancestors", "https://news.example"]


async def test_unavailable_currency_is_a_dash_never_zero(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    # CUC is quoted by none of the fixture feeds (checked below), so nothing can price it.
    feeds = [
        json.loads((FIXTURES / n).read_bytes()) for n in ("open_er_api_latest_USD.json", "floatrates_daily_gbp.json")
    ]
    assert "CUC" not in feeds[0]["rates"] and "cuc" not in feeds[1]
    config = edited_config(tmp_path, origin, replace_once("  - USD\n  - EUR\n", "  - USD\n  - CUC\n  - EUR\n"))
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)

    cuc = await get_json(client, "/api/v1/rates/CUC")
    assert cuc["status"] == "unavailable"
    assert (cuc["rate"], cuc["buy"], cuc["sell"], cuc["change"]) == (None, None, None, None)
    document = await get_json(client, "/api/v1/rates")
    assert [e["code"] for e in document["rates"]][:3] == ["USD", "CUC", "EUR"]
    assert not re.search(rb'"rate":0[,}]', await (await client.get("/api/v1/rates")).read())

    for digits in ("arab", "latn"):
        page = await (await client.get("/widget", params={"digits": digits})).text()
        found = {code: (status, cells) for code, status, cells in rows(page)}
        status, cells = found["CUC"]
        assert status == "unavailable"
        assert "—" in cells
        assert not re.search(r"[0-9٠-٩]", re.sub(r"<[^>]*>", "", cells)), cells
        assert found["USD"][0] == "ok"


async def test_config_text_is_escaped(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    evil = "<script>alert(1)</script>"
    config = edited_config(
        tmp_path,
        origin,
        lambda t: replace_once("  - USD\n", f'  - {{code: USD, name: "{evil}"}}\n')(
            replace_once('ar: "الأسعار الرسمية للعملات مقابل الدينار"', 'ar: "<img src=x onerror=alert(2)>"')(t)
        ),
    )
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)

    page = await (await client.get("/widget")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    usd = await get_json(client, "/api/v1/rates/usd")
    assert usd["name"] == evil and usd["rate"] == 1310


async def test_widget_js(client: Client) -> None:
    response = await client.get("/widget.js")
    body = await response.read()
    assert response.status == 200
    assert response.headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert STRONG_ETAG.match(response.headers["ETag"])
    assert response.headers["Cache-Control"] == CACHE_60
    assert 0 < len(body) < 8 * 1024
    assert b"widget" in body
    # Its height table names every configured code, in config order.
    table = json.loads(re.search(rb"var T = (\{.*?\});\n", body).group(1))  # type: ignore[union-attr]
    assert list(table["codes"]) == client.app[SERVICE].config.codes


# Bounded variant caches -----------------------------------------------------------------------------


async def test_variant_caches_stay_bounded(client: Client, bundled_config: Config) -> None:
    publisher = client.app[PUBLISHER]
    snapshot = publisher.snapshot
    assert snapshot is not None
    codes = bundled_config.codes
    subsets = itertools.chain(itertools.combinations(codes, 2), itertools.combinations(codes, 3))
    variants = itertools.product(subsets, ("light", "dark", "auto"), ("arab", "latn"))
    queries = [
        {"symbols": ",".join(reversed(s)), "theme": t, "digits": d} for s, t, d in itertools.islice(variants, 1000)
    ]
    assert len({tuple(q.values()) for q in queries}) == 1000
    largest = 0
    for start in range(0, len(queries), 50):
        batch = await asyncio.gather(*(client.get("/widget", params=q) for q in queries[start : start + 50]))
        for response in batch:
            assert response.status == 200
            await response.read()
        largest = max(largest, len(publisher.snapshot._widgets))
        assert len(publisher.snapshot._widgets) <= VARIANTS_PER_SNAPSHOT
    assert largest == VARIANTS_PER_SNAPSHOT
    assert publisher.snapshot is snapshot  # one snapshot all along: the bound was really tested

    for n, subset in enumerate(itertools.islice(itertools.combinations(codes, 3), 300)):
        response = await client.get("/api/v1/rates", params={"symbols": ",".join(subset)})
        assert response.status == 200
        await response.read()
        if n % 50 == 0:
            assert len(publisher.snapshot._subsets) <= VARIANTS_PER_SNAPSHOT
    assert len(publisher.snapshot._subsets) == VARIANTS_PER_SNAPSHOT

    for days in range(1, 301):
        response = await client.get("/api/v1/history/USD", params={"days": str(days)})
        assert response.status == 200
        await response.read()
    assert len(publisher.snapshot._histories) == VARIANTS_PER_SNAPSHOT

    # An evicted variant is rendered again, identically.
    first = queries[0]
    again = await client.get("/widget", params=first)
    assert again.status == 200


# Whatever the query, an answer from the contract and never a 500 ----------------------------------

SYMBOL_PARTS = st.one_of(
    st.sampled_from(["USD", "usd", "EUR", "Kwd", "IRR", "XYZ", "US", "USDX", "", " ", "<b>", "٣٣٣"]),
    st.text(max_size=5),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(SYMBOL_PARTS, max_size=8), days=st.one_of(st.integers(-5, 400).map(str), st.text(max_size=4)))
async def test_any_query_gets_a_contract_answer(
    client: Client, bundled_config: Config, parts: list[str], days: str
) -> None:
    symbols = ",".join(parts)
    response = await client.get("/api/v1/rates", params={"symbols": symbols})
    body = json.loads(await response.read())
    asked = {p.strip().upper() for p in symbols.split(",") if p.strip()}
    if asked <= set(bundled_config.codes):
        assert response.status == 200
        expected = [c for c in bundled_config.codes if c in asked] if asked else bundled_config.codes
        assert [e["code"] for e in body["rates"]] == expected
    else:
        assert response.status == 400 and body["error"]["code"] == "bad_symbol"
        assert response.headers["Cache-Control"] == "no-store"

    history = await client.get("/api/v1/history/USD", params={"days": days})
    body = json.loads(await history.read())
    if re.fullmatch(r"[0-9]+", days) and 1 <= int(days) <= 366:
        assert history.status == 200 and body["code"] == "USD"
    else:
        assert history.status == 400 and body["error"]["code"] == "bad_days"


# hardening --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/widget.js/../../etc/passwd",
        "/static/../config.yaml",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/config.yaml",
        "/var/rates",
    ],
)
async def test_no_file_is_reachable_by_path(client: Client, path: str) -> None:
    response = await assert_error(client, path, 404, "not_found")
    assert b"root:" not in await response.read()


async def test_a_request_body_over_the_limit_is_refused(client: Client) -> None:
    response = await client.post("/api/v1/rates", data=b"x" * (128 * 1024))
    assert response.status in (405, 413)
    assert json.loads(await response.read())["error"]["code"] in ("method_not_allowed", "too_large")

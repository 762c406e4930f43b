"""The compatibility endpoints (contract section 9), through the real app and the fixture upstream.

Every expected figure is computed here from our own ``/api/v1/rates`` document (IQD per
unit), as the contract defines crosses: B per one A is ``IQD per A ÷ IQD per B``, shown
with at most 6 significant digits; and anchored on numbers a reader knows (1 USD = 1310 IQD).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rates.clock import BAGHDAD
from rates.config import Config
from rates.present import significant
from rates.sources.open_er_api import OpenErApiSource
from rates.web import create_app
from tests.test_web import (
    CACHE_60,
    STRONG_ETAG,
    Client,
    MakeClient,
    decimal_json,
    edited_config,
    fault_all,
    replace_once,
    wait_ready,
)
from tests.upstream import Upstream

FRANKFURTER_PREFIXES = ("", "/v1", "/api")
CBI_DAY = "2026-02-26"  # the fixture workbook's latest day: USD's publication date


async def answer(client: Client, path: str, status: int = 200) -> tuple[Any, bytes, Any]:
    response = await client.get(path)
    raw = await response.read()
    assert response.status == status, (path, response.status, raw[:300])
    assert response.headers["Content-Type"] == "application/json; charset=utf-8", path
    return decimal_json(raw), raw, response


async def native(client: Client, query: str = "") -> dict[str, Decimal]:
    """IQD per unit of each available code, from our own API; IQD itself is 1."""
    document, _, _ = await answer(client, f"/api/v1/rates{query}")
    return {"IQD": Decimal(1)} | {e["code"]: Decimal(e["rate"]) for e in document["rates"] if e["rate"] is not None}


def crosses(iqd: dict[str, Decimal], base: str, amount: Decimal = Decimal(1)) -> dict[str, Decimal]:
    return {code: significant(amount * iqd[base] / iqd[code]) for code in sorted(iqd)}


@pytest.fixture
async def client(aiohttp_client: MakeClient, bundled_config: Config) -> Client:
    app_client = await aiohttp_client(create_app(bundled_config))
    await wait_ready(app_client)
    return app_client


# Frankfurter ---------------------------------------------------------------------------------


async def test_frankfurter_latest_under_every_prefix(client: Client) -> None:
    iqd = await native(client)
    bodies = set()
    for prefix in FRANKFURTER_PREFIXES:
        body, raw, _ = await answer(client, f"{prefix}/latest?from=USD")
        bodies.add(raw)
        assert body["amount"] == 1 and body["base"] == "USD"
        assert body["rates"]["IQD"] == 1310  # the official dollar rate
        assert "USD" not in body["rates"]  # Frankfurter leaves the base out
        assert list(body["rates"]) == sorted(body["rates"])
        assert body["rates"] == {c: r for c, r in crosses(iqd, "USD").items() if c != "USD"}
        assert body["date"] == CBI_DAY  # USD and IQD: the CBI's day
    assert len(bodies) == 1

    default, _, _ = await answer(client, "/latest")
    assert default["base"] == "EUR"  # Frankfurter's default base
    assert default["rates"]["IQD"] == iqd["EUR"]
    assert default["rates"]["USD"] == significant(iqd["EUR"] / 1310)


async def test_frankfurter_parameters(client: Client) -> None:
    iqd = await native(client)
    one, raw, _ = await answer(client, "/latest?from=IQD&to=EUR")
    assert one["rates"] == {"EUR": significant(1 / iqd["EUR"])}
    # The aliases, lower case, and parameters Frankfurter does not know (forex-python's rtype).
    for query in ("base=iqd&symbols=eur", "from=IQD&to=eur&rtype=fpy", "from=IQD&to=EUR,XXX,&app_id=1"):
        assert (await answer(client, f"/api/latest?{query}"))[1] == raw, query
    sar_kwd, _, _ = await answer(client, "/v1/latest?from=SAR&to=KWD")
    assert sar_kwd["rates"] == {"KWD": significant(iqd["SAR"] / iqd["KWD"])}
    hundred, _, _ = await answer(client, "/latest?from=USD&to=EUR,IQD&amount=100")
    assert hundred["amount"] == 100
    assert hundred["rates"] == {"EUR": significant(100 * iqd["USD"] / iqd["EUR"]), "IQD": 131000}


FRANKFURTER_ERRORS = [
    ("from=XXX", 404, "not found"),
    ("from=USD&to=XXX", 404, "not found"),
    ("from=USD&to=USD", 422, "bad currency pair"),
    ("amount=0", 422, "invalid amount"),
    ("amount=-5", 422, "invalid amount"),
    ("amount=abc", 422, "invalid amount"),
    ("amount=NaN", 422, "invalid amount"),
    ("amount=1e999999999", 422, "invalid amount"),
    ("amount=1e-400", 422, "invalid amount"),
]


async def test_frankfurter_errors(client: Client) -> None:
    for query, status, message in FRANKFURTER_ERRORS:
        body, _, response = await answer(client, f"/latest?{query}", status)
        assert body == {"message": message}, query
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "ETag" not in response.headers


async def test_frankfurter_dates_and_ranges(client: Client) -> None:
    iqd = await native(client)
    today = datetime.now(BAGHDAD).date()
    on_day, _, _ = await answer(client, f"/{CBI_DAY}?from=USD&to=IQD")
    assert on_day == {"amount": 1, "base": "USD", "date": CBI_DAY, "rates": {"IQD": 1310}}
    later = (datetime.fromisoformat(CBI_DAY) + timedelta(days=10)).date().isoformat()
    nearest, _, _ = await answer(client, f"/v1/{later}?from=USD&to=IQD")
    assert nearest["date"] == CBI_DAY  # the latest date on or before it with data
    for path in ("/1999-01-04", f"/{(today + timedelta(days=1)).isoformat()}"):
        assert (await answer(client, path, 404))[0] == {"message": "not found"}
    assert (await answer(client, "/2026-02-30", 422))[0] == {"message": "invalid date"}

    series, _, _ = await answer(client, "/2026-01-01..?from=USD&to=IQD,EUR")
    assert series["base"] == "USD" and series["amount"] == 1
    assert set(series) == {"amount", "base", "start_date", "end_date", "rates"}
    days = list(series["rates"])
    assert days == sorted(days) and series["start_date"] == days[0] and series["end_date"] == days[-1]
    assert series["rates"][CBI_DAY] == {"EUR": significant(iqd["USD"] / iqd["EUR"]), "IQD": 1310}
    closed, _, _ = await answer(client, f"/api/2026-01-01..{CBI_DAY}?from=USD&to=IQD")
    assert closed["end_date"] == CBI_DAY
    # Opening on a day without a publication: the rates in force on it, dated as published.
    opened, _, _ = await answer(client, f"/{later}..?from=USD&to=IQD")
    assert opened["start_date"] == CBI_DAY
    assert (await answer(client, "/1999-01-01..1999-12-31", 404))[0] == {"message": "not found"}
    assert (await answer(client, f"/{today + timedelta(days=2)}..", 404))[0] == {"message": "not found"}


async def test_currencies_list_every_configured_code_and_iqd(client: Client, bundled_config: Config) -> None:
    wanted = sorted([*bundled_config.codes, "IQD"])
    for prefix in FRANKFURTER_PREFIXES:
        names, _, _ = await answer(client, f"{prefix}/currencies")
        assert list(names) == wanted
        assert names["IQD"] == "Iraqi Dinar" and names["USD"] == "US Dollar"
    oxr, _, _ = await answer(client, "/api/currencies.json")
    assert list(oxr) == wanted
    currency_api, _, _ = await answer(client, "/v1/currencies.json")
    assert list(currency_api) == [c.lower() for c in wanted] and currency_api["iqd"] == "Iraqi Dinar"
    assert (await answer(client, "/v1/currencies.min.json"))[0] == currency_api


async def test_every_cross_through_the_official_dinar(client: Client) -> None:
    """All pairs: Frankfurter and OXR agree with IQD per A ÷ IQD per B."""
    iqd = await native(client)
    for base in iqd:
        oxr, _, _ = await answer(client, f"/api/latest.json?base={base}")
        assert oxr["rates"] == crosses(iqd, base), base
        frankfurter, _, _ = await answer(client, f"/latest?from={base}")
        assert frankfurter["rates"] == {c: r for c, r in crosses(iqd, base).items() if c != base}, base


# Open Exchange Rates ---------------------------------------------------------------------------


async def test_open_exchange_rates(client: Client) -> None:
    iqd = await native(client)
    document, _, _ = await answer(client, "/api/v1/rates")
    latest, raw, _ = await answer(client, "/api/latest.json")
    assert list(latest) == ["disclaimer", "license", "timestamp", "base", "rates"]
    assert latest["base"] == "USD" and latest["rates"]["USD"] == 1 and latest["rates"]["IQD"] == 1310
    assert latest["rates"] == crosses(iqd, "USD")
    updated = datetime.fromisoformat(document["updated_at"].replace("Z", "+00:00"))
    assert latest["timestamp"] == int(updated.timestamp())
    assert (await answer(client, "/api/latest.json?app_id=anything&prettyprint=1"))[1] == raw
    some, _, _ = await answer(client, "/api/latest.json?base=iqd&symbols=USD,eur")
    assert some["base"] == "IQD" and some["rates"] == {
        "EUR": significant(1 / iqd["EUR"]),
        "USD": significant(1 / iqd["USD"]),
    }

    past, _, _ = await answer(client, f"/api/historical/{CBI_DAY}.json?app_id=x&symbols=IQD")
    assert past["rates"] == {"IQD": 1310}
    day_start = datetime.fromisoformat(CBI_DAY).replace(tzinfo=UTC)
    assert past["timestamp"] >= int(day_start.timestamp())


OXR_ERRORS = [
    ("/api/latest.json?base=XXX", 400, "invalid_base"),
    ("/api/historical/2026-13-01.json", 400, "invalid_date"),
    ("/api/historical/yesterday.json", 400, "invalid_date"),
    ("/api/historical/1999-01-04.json", 400, "not_available"),
    ("/api/historical/2999-01-04.json", 400, "not_available"),
]


async def test_open_exchange_rates_errors(client: Client) -> None:
    for path, status, message in OXR_ERRORS:
        body, _, response = await answer(client, path, status)
        assert set(body) == {"error", "status", "message", "description"}
        assert body["error"] is True and body["status"] == status and body["message"] == message, path
        assert isinstance(body["description"], str) and body["description"]
        assert response.headers["Cache-Control"] == "no-store"


# currency-api and ExchangeRate-API ---------------------------------------------------------------------


async def test_currency_api(client: Client) -> None:
    iqd = await native(client)
    body, raw, _ = await answer(client, "/v1/currencies/usd.json")
    assert list(body) == ["date", "usd"] and body["date"] == max(
        e["published"] for e in (await answer(client, "/api/v1/rates"))[0]["rates"] if e["rate"] is not None
    )
    assert body["usd"] == {c.lower(): r for c, r in crosses(iqd, "USD").items()}
    assert body["usd"]["iqd"] == 1310 and body["usd"]["usd"] == 1
    assert (await answer(client, "/v1/currencies/usd.min.json"))[1] == raw
    assert (await answer(client, "/v1/currencies/USD.json"))[1] == raw
    dinar, _, _ = await answer(client, "/v1/currencies/iqd.json")
    assert dinar["iqd"]["usd"] == significant(Decimal(1) / 1310) == Decimal("0.000763359")
    missing, _, _ = await answer(client, "/v1/currencies/xxx.json", 404)
    assert missing["error"]["code"] == "unknown_currency"


async def test_exchangerate_api_reads_back_through_our_own_adapter(client: Client) -> None:
    iqd = await native(client)
    fixture_keys = json.loads((Path(__file__).parent / "fixtures/upstream/open_er_api_latest_USD.json").read_bytes())
    body, raw, _ = await answer(client, "/v6/latest/USD")
    assert list(body) == list(fixture_keys)  # the same keys, in the same order, as open.er-api.com
    assert body["result"] == "success" and body["base_code"] == "USD"
    assert next(iter(body["rates"])) == "USD" and body["rates"] == crosses(iqd, "USD")
    assert (
        datetime.fromtimestamp(body["time_last_update_unix"], UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        == (body["time_last_update_utc"])
    )
    sources, _, _ = await answer(client, "/api/v1/sources")
    next_runs = [datetime.fromisoformat(s["next_run"].replace("Z", "+00:00")) for s in sources if s["next_run"]]
    assert body["time_next_update_unix"] == int(min(next_runs).timestamp())
    assert (await answer(client, "/v6/latest/usd"))[1] == raw

    # Another install could take us as its open-er-api source: our adapter reads it back.
    source = OpenErApiSource(OpenErApiSource.Settings(id="us", kind="open-er-api", url="http://x/v6/latest/USD"))
    quotes = source.parse(raw)
    assert quotes.ref == "USD"
    assert {q.code: q.value for q in quotes.quotes} == {c: r for c, r in crosses(iqd, "USD").items() if c != "USD"}

    for path in ("/v6/latest/XXX", "/v6/latest/dollars"):
        refused, _, response = await answer(client, path, 404)
        assert refused == {"result": "error", "error-type": "unsupported-code"}
        assert response.headers["Cache-Control"] == "no-store"


# Currencies without a rate ---------------------------------------------------------------------------


async def test_an_unavailable_currency_is_left_out_never_zero(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    config = edited_config(
        tmp_path, origin, replace_once("  - {code: LBP, per: 1000}", "  - {code: BTN, sources: [pegs]}")
    )
    client = await aiohttp_client(create_app(config))
    await wait_ready(client)
    assert (await answer(client, "/api/v1/rates/BTN"))[0]["status"] == "unavailable"
    for path in ("/latest?from=USD", "/api/latest.json", "/v6/latest/USD"):
        assert "BTN" not in (await answer(client, path))[0]["rates"], path
    assert "btn" not in (await answer(client, "/v1/currencies/usd.json"))[0]["usd"]
    assert "BTN" in (await answer(client, "/currencies"))[0]  # configured, so listed
    assert (await answer(client, "/latest?from=BTN", 404))[0] == {"message": "not found"}
    assert (await answer(client, "/api/latest.json?base=BTN", 400))[0]["message"] == "invalid_base"
    assert (await answer(client, "/v6/latest/BTN", 404))[0]["error-type"] == "unsupported-code"
    raw = (await answer(client, "/api/latest.json"))[1]
    assert b":0," not in raw and b"null" not in raw


async def test_before_the_first_document_each_api_answers_503_in_its_shape(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], bundled_config: Config
) -> None:
    fake, _ = upstream
    fault_all(fake, delay=3.0)
    client = await aiohttp_client(create_app(bundled_config))
    assert (await answer(client, "/latest", 503))[0] == {"message": "not ready"}
    oxr = (await answer(client, "/api/latest.json", 503))[0]
    assert oxr["error"] is True and oxr["status"] == 503
    assert (await answer(client, "/v6/latest/USD", 503))[0] == {"result": "error", "error-type": "not-ready"}
    assert (await answer(client, "/v1/currencies/usd.json", 503))[0]["error"]["code"] == "not_ready"


# The native API's HTTP discipline ---------------------------------------------------------------------

PREPARED = [
    "/latest?from=USD",
    "/v1/2026-02-26",
    "/api/2026-01-01..?to=IQD",
    "/currencies",
    "/api/latest.json",
    "/api/historical/2026-02-26.json",
    "/v1/currencies/usd.json",
    "/v6/latest/USD",
]


async def test_prepared_bodies_with_etag_304_gzip_and_cors(aiohttp_client: MakeClient, bundled_config: Config) -> None:
    client = await aiohttp_client(create_app(bundled_config), auto_decompress=False)
    await wait_ready(client)
    for path in PREPARED:
        await _assert_prepared(client, path)


async def _assert_prepared(client: Client, path: str) -> None:
    first = await client.get(path, headers={"Accept-Encoding": "identity"})
    raw = await first.read()
    assert first.status == 200
    etag = first.headers["ETag"]
    assert STRONG_ETAG.match(etag)
    assert first.headers["Cache-Control"] == CACHE_60
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Encoding" in first.headers.getall("Vary", [])
    again = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert await again.read() == raw and again.headers["ETag"] == etag  # byte-identical between refreshes
    cached = await client.get(path, headers={"If-None-Match": etag})
    assert cached.status == 304 and await cached.read() == b""
    zipped = await client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await zipped.read()) == raw
    assert zipped.headers["ETag"] != etag and STRONG_ETAG.match(zipped.headers["ETag"])
    head = await client.head(path)
    assert head.status == 200 and head.headers["ETag"]
    preflight = await client.options(
        path, headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status == 204


async def test_native_routes_are_not_shadowed(client: Client) -> None:
    for path in ("/widget", "/widget.js", "/healthz", "/readyz", "/api/v1/rates", "/api/v1/rates/USD", "/metrics"):
        response = await client.get(path)
        await response.read()
        assert response.status == 200, path
    assert (await client.get("/2026-02-26x")).status == 404
    assert (await client.get("/api/v1/2026-02-26")).status == 404


async def test_a_new_snapshot_gets_new_bodies(client: Client) -> None:
    """The compat views follow the published snapshot: a new document, new bytes and ETag."""
    from rates.web import SERVICE

    before = await client.get("/api/latest.json")
    await before.read()
    service = client.app[SERVICE]
    assert service.publisher.snapshot is not None
    document = json.loads(service.publisher.snapshot.rates.raw)
    document["updated_at"] = "2030-01-01T00:00:00Z"
    await service.publisher.publish(json.dumps(document).encode(), service.store)
    after = await client.get("/api/latest.json")
    body = decimal_json(await after.read())
    assert body["timestamp"] == int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    assert after.headers["ETag"] != before.headers["ETag"]


# Any query ---------------------------------------------------------------------------------------

QUERY_VALUES = st.one_of(
    st.sampled_from(["USD", "iqd", "EUR,IQD", "XXX", "", ",", "usd,,sar", "1", "-1", "1e3", "0.5", "nan"]),
    st.text(max_size=6),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(st.sampled_from(["from", "to", "base", "symbols", "amount", "app_id"]), QUERY_VALUES),
    prefix=st.sampled_from(FRANKFURTER_PREFIXES),
)
async def test_any_frankfurter_query_gets_a_frankfurter_answer(
    client: Client, query: dict[str, str], prefix: str
) -> None:
    response = await client.get(f"{prefix}/latest", params=query)
    body = json.loads(await response.read(), parse_float=Decimal)
    if response.status == 200:
        assert set(body) == {"amount", "base", "date", "rates"}
        assert body["rates"] and all(isinstance(v, int | Decimal) and v > 0 for v in body["rates"].values())
    else:
        assert response.status in (404, 422) and set(body) == {"message"}
    oxr = await client.get("/api/latest.json", params=query)
    body = json.loads(await oxr.read())
    assert oxr.status == 200 or (oxr.status == 400 and body["error"] is True)


async def test_concurrent_first_requests_for_a_long_series_agree(client: Client) -> None:
    responses = await asyncio.gather(*(client.get("/2009-01-01..?from=USD") for _ in range(4)))
    bodies = {await r.read() for r in responses}
    etags = {r.headers["ETag"] for r in responses}
    assert len(bodies) == 1 and len(etags) == 1

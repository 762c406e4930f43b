"""Every non-CBI source kind on its real fixture bytes, and the payloads each must refuse."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from rates.errors import ParseError
from rates.models import Quote, QuoteSet
from rates.sources import REGISTRY, Source
from rates.validate import check
from tests.upstream import CURRENCY_API_USD, CUSTOM_FEED, exact_json

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
ER_USD = (FIXTURES / "open_er_api_latest_USD.json").read_bytes()
ER_EUR = (FIXTURES / "open_er_api_latest_EUR.json").read_bytes()
FLOAT_GBP = (FIXTURES / "floatrates_daily_gbp.json").read_bytes()
ECB = (FIXTURES / "ecb_eurofxref-daily.xml").read_bytes()
HTML = b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body>Try later</body></html>"

URLS = {
    "open-er-api": "https://open.er-api.com/v6/latest/USD",
    "floatrates": "https://www.floatrates.com/daily/gbp.json",
    "ecb": "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml",
    "currency-api": "https://cdn.example/v1/currencies/usd.json",
    "json": "https://feed.example/custom/rates.json",
}


def build(kind: str, **settings: Any) -> Source:
    values = {"id": f"my-{kind}", "kind": kind, **({"url": URLS[kind]} if kind in URLS else {}), **settings}
    return REGISTRY[kind](REGISTRY[kind].Settings.model_validate(values))


def exact(payload: bytes) -> Any:
    """The payload's JSON with every number read exactly."""
    return json.loads(payload, parse_float=Decimal, parse_int=Decimal)


def values(quotes: QuoteSet) -> dict[str, Decimal]:
    return {q.code: q.value for q in quotes.quotes}


def dates(quotes: QuoteSet) -> set[date | None]:
    return {q.published for q in quotes.quotes}


def refused(source: Source, payload: bytes) -> str:
    """The one-line reason the source gives for refusing ``payload``."""
    with pytest.raises(ParseError) as info:
        source.parse(payload)
    error = info.value
    assert error.source_id == source.id
    text = str(error)
    assert text.startswith(f"{source.id}: ") and "\n" not in text and len(text) < 300, text
    return error.reason


# --- open-er-api -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "ref", "day"), [(ER_USD, "USD", date(2024, 8, 19)), (ER_EUR, "EUR", date(2025, 8, 13))]
)
def test_open_er_api_fixture(payload: bytes, ref: str, day: date) -> None:
    body = exact(payload)
    quotes = build("open-er-api", url=f"https://open.er-api.com/v6/latest/{ref}").parse(payload)
    assert quotes.ref == ref == body["base_code"]
    expected = {code: value for code, value in body["rates"].items() if code != ref}
    assert values(quotes) == expected
    assert len(expected) > 150
    # published = time_last_update_unix, which the payload also writes out in words.
    assert dates(quotes) == {day}
    assert datetime.fromtimestamp(int(body["time_last_update_unix"]), UTC).date() == day
    assert parsedate_to_datetime(body["time_last_update_utc"]).date() == day


def test_open_er_api_numbers_are_the_exact_digits_of_the_payload() -> None:
    text = ER_USD.decode()
    quotes = values(build("open-er-api").parse(ER_USD))
    for code in ("KWD", "IQD", "BHD", "EGP", "IRR", "AED"):
        digits = re.search(rf'"{code}":([0-9.]+)', text)
        assert digits is not None
        assert quotes[code] == Decimal(digits.group(1))
        assert str(quotes[code]) == digits.group(1)  # not a float's neighbour


def test_open_er_api_error_result() -> None:
    payload = json.dumps({"result": "error", "error-type": "unsupported-code"}).encode()
    assert "unsupported-code" in refused(build("open-er-api"), payload)


def test_open_er_api_result_missing() -> None:
    body = exact(ER_USD)
    del body["result"]
    assert "error" in refused(build("open-er-api"), exact_json(body))


def test_open_er_api_missing_timestamp() -> None:
    body = exact(ER_USD)
    del body["time_last_update_unix"]
    assert "time_last_update_unix" in refused(build("open-er-api"), exact_json(body))


def test_open_er_api_missing_base_code() -> None:
    body = exact(ER_USD)
    del body["base_code"]
    assert "base_code" in refused(build("open-er-api"), exact_json(body))


@pytest.mark.parametrize("rates", [{}, None, [], "none"])
def test_open_er_api_without_numbers(rates: object) -> None:
    body = {**exact(ER_USD), "rates": rates}
    assert "no table of rates" in refused(build("open-er-api"), exact_json(body))


def test_open_er_api_missing_rates_field() -> None:
    body = exact(ER_USD)
    del body["rates"]
    assert "no table of rates" in refused(build("open-er-api"), exact_json(body))


def test_a_word_where_a_number_belongs_is_never_a_number() -> None:
    body = exact(ER_USD)
    body["rates"] = {"USD": 1, "KWD": "n/a", "EUR": None, "GBP": True, "EGP": "48.8"}
    quotes = build("open-er-api").parse(exact_json(body))
    checked = check(quotes.quotes, date(2026, 1, 1))
    assert [q.code for q in checked.valid] == ["EGP"]
    assert checked.valid[0].value == Decimal("48.8")
    assert dict(checked.rejected) == {"KWD": "not a number", "EUR": "not a number", "GBP": "not a number"}


# --- floatrates --------------------------------------------------------------------------


def test_floatrates_fixture() -> None:
    body = exact(FLOAT_GBP)
    quotes = build("floatrates").parse(FLOAT_GBP)
    assert quotes.ref == "GBP"
    assert values(quotes) == {key.upper(): entry["rate"] for key, entry in body.items()}
    assert values(quotes)["KWD"] == body["kwd"]["rate"]
    assert values(quotes)["IQD"] == Decimal("1662.9703553054")
    assert dates(quotes) == {date(2024, 1, 13)}  # "Sat, 13 Jan 2024 11:55:01 GMT"


def test_floatrates_takes_its_reference_from_the_url() -> None:
    assert build("floatrates", url="https://www.floatrates.com/daily/usd.json").parse(FLOAT_GBP).ref == "USD"
    with pytest.raises(ValidationError, match=r"/\{ref\}\.json"):
        build("floatrates", url="https://www.floatrates.com/daily/")


def test_floatrates_entry_without_date() -> None:
    body = exact(FLOAT_GBP)
    del body["kwd"]["date"]
    assert "kwd.date" in refused(build("floatrates"), exact_json(body))


@pytest.mark.parametrize("payload", [b"{}", b"[]", b'"rates"'])
def test_floatrates_without_numbers(payload: bytes) -> None:
    assert "keyed by currency code" in refused(build("floatrates"), payload)


def test_floatrates_entry_that_is_not_a_rate_object() -> None:
    body = exact(FLOAT_GBP)
    body["kwd"] = 0.3
    assert "'kwd'" in refused(build("floatrates"), exact_json(body))


# --- ECB ---------------------------------------------------------------------------------


def test_ecb_fixture() -> None:
    text = ECB.decode()
    expected = {code: Decimal(rate) for code, rate in re.findall(r"currency='([A-Z]{3})' rate='([0-9.]+)'", text)}
    quotes = build("ecb").parse(ECB)
    assert quotes.ref == "EUR"
    assert values(quotes) == expected and len(expected) == 29
    assert values(quotes)["USD"] == Decimal("1.1225")
    assert str(values(quotes)["SEK"]) == "11.2900"  # the payload's digits, exactly
    assert dates(quotes) == {date(2026, 10, 2)}


def test_ecb_html_instead_of_xml() -> None:
    assert "HTML" in refused(build("ecb"), HTML)


def test_ecb_truncated_xml() -> None:
    assert "not valid XML" in refused(build("ecb"), ECB[: len(ECB) // 2])


def test_ecb_without_the_day() -> None:
    payload = ECB.replace(b"<Cube time='2026-10-02'>", b"<Cube>")
    assert "Cube time" in refused(build("ecb"), payload)


def test_ecb_bad_day() -> None:
    payload = ECB.replace(b"time='2026-10-02'", b"time='yesterday'")
    assert "Cube@time" in refused(build("ecb"), payload)


def test_ecb_day_without_numbers() -> None:
    payload = re.sub(rb"<Cube currency=[^>]*/>", b"", ECB)
    assert "no currencies" in refused(build("ecb"), payload)


def test_ecb_refuses_entity_tricks() -> None:
    payload = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + ECB.split(b"?>", 1)[1]
    assert "DTD" in refused(build("ecb"), payload)


# --- currency-api ------------------------------------------------------------------------


def test_currency_api_payload() -> None:
    payload = json.dumps(CURRENCY_API_USD).encode()
    quotes = build("currency-api").parse(payload)
    assert quotes.ref == "USD"
    expected = {code.upper(): Decimal(str(v)) for code, v in CURRENCY_API_USD["usd"].items() if code != "usd"}
    assert values(quotes) == expected
    assert values(quotes)["IQD"] == Decimal("1310.5")
    assert dates(quotes) == {date(2026, 11, 20)}


def test_currency_api_reads_lower_case_codes_only() -> None:
    payload = b'{"date": "2026-11-20", "usd": {"kwd": 0.3068, "KWD": 99, "eur": 0.92, "x1": 5}}'
    assert values(build("currency-api").parse(payload)) == {"KWD": Decimal("0.3068"), "EUR": Decimal("0.92")}


def test_currency_api_minified_url_and_bad_url() -> None:
    assert (
        build("currency-api", url="https://cdn.example/v1/currencies/eur.min.json")
        .parse(b'{"date": "2026-11-20", "eur": {"usd": 1.08}}')
        .ref
        == "EUR"
    )
    with pytest.raises(ValidationError, match="currencies"):
        build("currency-api", url="https://cdn.example/v1/latest")


def test_currency_api_missing_date() -> None:
    payload = json.dumps({"usd": CURRENCY_API_USD["usd"]}).encode()
    assert "'date'" in refused(build("currency-api"), payload)


def test_currency_api_missing_table() -> None:
    payload = json.dumps({"date": "2026-11-20", "eur": CURRENCY_API_USD["usd"]}).encode()
    assert "'usd'" in refused(build("currency-api"), payload)


def test_currency_api_without_numbers() -> None:
    assert "no table of rates" in refused(build("currency-api"), b'{"date": "2026-11-20", "usd": {}}')


# --- fixed -------------------------------------------------------------------------------


def test_fixed_pegs() -> None:
    pegs = {"SAR": "3.75", "AED": "3.6725", "BHD": "0.376"}
    quotes = build("fixed", ref="usd", published="2001-07-09", rates=pegs).parse(b"")
    assert quotes.ref == "USD" and not quotes.direct
    assert values(quotes) == {code: Decimal(v) for code, v in pegs.items()}
    assert dates(quotes) == {date(2001, 7, 9)}
    assert all(q.buy is None and q.sell is None for q in quotes.quotes)


def test_fixed_dinar_decree_with_buy_and_sell() -> None:
    quotes = build(
        "fixed", ref="IQD", published="2023-02-08", rates={"USD": {"rate": 1310, "buy": 1300, "sell": 1310}}
    ).parse(b"ignored")
    assert quotes.direct
    assert quotes.quotes == (Quote("USD", Decimal(1310), date(2023, 2, 8), Decimal(1300), Decimal(1310)),)


@pytest.mark.parametrize("bad", [0, -1, "NaN", "Infinity", {"rate": 1310, "buy": 0}])
def test_fixed_refuses_numbers_that_are_not_positive(bad: object) -> None:
    with pytest.raises(ValidationError):
        build("fixed", ref="IQD", published="2023-02-08", rates={"USD": bad})


# --- json --------------------------------------------------------------------------------

CUSTOM = json.dumps(CUSTOM_FEED).encode()


def test_json_with_path_and_published_path() -> None:
    quotes = build("json", ref="USD", path="data.quotes", published_path="data.asof").parse(CUSTOM)
    assert quotes.ref == "USD"
    expected = {code: Decimal(str(v)) for code, v in CUSTOM_FEED["data"]["quotes"].items() if code != "USD"}
    assert values(quotes) == expected == {"KWD": Decimal("0.3068"), "EGP": Decimal("48.35")}
    assert dates(quotes) == {date(2026, 11, 20)}


def test_json_inverse_turns_ref_per_unit_into_units_per_ref() -> None:
    quotes = build("json", ref="USD", path="data.quotes", published_path="data.asof", inverse=True).parse(CUSTOM)
    assert values(quotes) == {"KWD": 1 / Decimal("0.3068"), "EGP": 1 / Decimal("48.35")}


def test_json_default_path_and_no_published_path() -> None:
    payload = b'{"rates": {"EUR": 0.92, "try": 41.9}, "base": "USD"}'
    quotes = build("json", ref="USD").parse(payload)
    assert values(quotes) == {"EUR": Decimal("0.92"), "TRY": Decimal("41.9")}
    assert dates(quotes) == {None}  # the refresh dates it by its fetch


def test_json_published_path_as_unix_time() -> None:
    payload = b'{"meta": {"ts": 1724025751}, "list": [{"rates": {"EUR": 0.9}}]}'
    quotes = build("json", ref="USD", path="list.0.rates", published_path="meta.ts").parse(payload)
    assert values(quotes) == {"EUR": Decimal("0.9")}
    assert dates(quotes) == {date(2024, 8, 19)}


def test_json_nothing_at_path() -> None:
    reason = refused(build("json", ref="USD", path="data.rates"), CUSTOM)
    assert "data.rates" in reason and "'rates'" in reason


def test_json_bad_published_value() -> None:
    reason = refused(build("json", ref="USD", path="data.quotes", published_path="data"), CUSTOM)
    assert "'data'" in reason


@pytest.mark.parametrize("path", ["data", "data.asof"])
def test_json_path_to_something_that_is_not_numbers(path: str) -> None:
    payload = b'{"data": {"asof": "2026-11-20"}}' if path == "data.asof" else b'{"data": {}}'
    assert "no table of rates" in refused(build("json", ref="USD", path=path), payload)


# --- faults every JSON kind shares -------------------------------------------------------

JSON_KINDS = {
    "open-er-api": ({}, ER_USD),
    "floatrates": ({}, FLOAT_GBP),
    "currency-api": ({}, json.dumps(CURRENCY_API_USD).encode()),
    "json": ({"ref": "USD", "path": "data.quotes"}, CUSTOM),
}


@pytest.mark.parametrize("kind", sorted(JSON_KINDS))
def test_html_where_json_is_expected(kind: str) -> None:
    settings, _ = JSON_KINDS[kind]
    assert "expected JSON but got HTML" in refused(build(kind, **settings), HTML)


@pytest.mark.parametrize("kind", sorted(JSON_KINDS))
def test_truncated_json(kind: str) -> None:
    settings, payload = JSON_KINDS[kind]
    assert "not valid JSON" in refused(build(kind, **settings), payload[: len(payload) // 2])


@pytest.mark.parametrize("kind", sorted(JSON_KINDS))
def test_empty_body(kind: str) -> None:
    settings, _ = JSON_KINDS[kind]
    assert "not valid JSON" in refused(build(kind, **settings), b"")


@pytest.mark.parametrize("kind", sorted(JSON_KINDS))
def test_not_utf8(kind: str) -> None:
    settings, _ = JSON_KINDS[kind]
    assert "UTF-8" in refused(build(kind, **settings), b'{"rates": {"EUR": 0.9\xff}}')


@pytest.mark.parametrize("kind", sorted(JSON_KINDS))
def test_a_fixture_parses_the_same_twice(kind: str) -> None:
    """parse is pure: same bytes, same quotes."""
    settings, payload = JSON_KINDS[kind]
    source = build(kind, **settings)
    assert source.parse(payload) == source.parse(payload)

"""Every adapter's ``parse`` on mutated real payloads: quotes, or a one-line ``ParseError``, never anything else.

Payloads start from the real fixtures and get numbers, dates and types swapped, keys
dropped, huge and tiny values, NaN and Infinity, and nesting a hundred thousand deep.
Whatever ``parse`` returns must also go through validation without raising.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rates.config import parse_config
from rates.errors import ConfigError, FetchError, ParseError
from rates.fetch import Fetcher
from rates.models import QuoteSet
from rates.sources import REGISTRY, Source
from rates.sources.base import NetworkSettings, NetworkSource
from rates.validate import check
from tests.upstream import CURRENCY_API_USD, CUSTOM_FEED

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
ROOT = Path(__file__).parent.parent
TODAY = date(2026, 11, 30)
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def build(kind: str, url: str = "https://up.example/v6/latest/USD", **extra: Any) -> Source[Any]:
    values = {"id": f"my-{kind}", "kind": kind, **({"url": url} if kind != "fixed" else {}), **extra}
    return REGISTRY[kind](REGISTRY[kind].Settings.model_validate(values))


def parse_or_refuse(source: Source[Any], payload: bytes) -> QuoteSet | None:
    """The property: quotes that validation can judge, or a ParseError with a one-line reason."""
    try:
        result = source.parse(payload)
    except ParseError as exc:
        assert exc.source_id == source.id
        assert "\n" not in str(exc) and len(exc.reason) <= 300, str(exc)
        return None
    assert isinstance(result, QuoteSet)
    for quote in result.quotes:
        assert isinstance(quote.code, str) and isinstance(quote.value, Decimal)
    check(result.quotes, TODAY)  # must not raise, whatever the numbers
    return result


# --- JSON payloads ---------------------------------------------------------------------------


class Raw(str):
    """JSON text written as is (deep nesting, NaN where a parser allows it)."""


NASTY: list[Any] = [
    None,
    True,
    False,
    "",
    "USD",
    "2001-02-30",
    "9999-12-31",
    "Sat, 31 Feb 2024 11:55:01 GMT",
    Decimal(0),
    Decimal(-1),
    Decimal("1E+999999"),
    Decimal("1E-999999"),
    Decimal("1e12"),
    Decimal("-1e20"),
    Decimal("123456789012345678901234567890"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1e99999999999"),
    Raw("[" * 100_000 + "]" * 100_000),
    Raw("{" + '"a":{' * 50_000 + "}" * 50_001),
    [],
    {},
    [Decimal(1), "x"],
    {"nested": {"deeper": [None]}},
]


def encode(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else {"NaN": "NaN", "Infinity": "Infinity"}.get(str(value), "-Infinity")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutate(value: Any, path: tuple[Any, ...], how: str, new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced, deleted or wrapped."""
    if not path:
        return {"delete": None, "replace": new, "wrap": [value], "scale": _scaled(value, new)}[how]
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if how == "delete" and not rest:
            copy.pop(head, None)
        else:
            copy[head] = mutate(value[head], rest, how, new)
        return copy
    copy_list = list(value)
    if how == "delete" and not rest:
        del copy_list[head]
    else:
        copy_list[head] = mutate(value[head], rest, how, new)
    return copy_list


def _scaled(value: Any, new: Any) -> Any:
    """A number moved by many orders of magnitude (the same digits, another exponent)."""
    if isinstance(value, Decimal) and isinstance(new, Decimal) and new.is_finite() and value.is_finite():
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        return Decimal((sign, digits, exponent + new.adjusted()))  # a tuple bypasses the context's Emax
    return new


@st.composite
def mutated_json(draw: st.DrawFn, original: Any) -> bytes:
    value = original
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(value)))
        how = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "scale"]))
        value = mutate(value, where, how, draw(st.sampled_from(NASTY)))
    text = encode(value).encode()
    if draw(st.booleans()):
        return text
    # Byte-level damage too: a cut, or a stray byte.
    at = draw(st.integers(0, len(text)))
    return draw(st.sampled_from([text[:at], text[:at] + b"\xff" + text[at:], text[:at] + b"\x00" + text[at:]]))


def exact(payload: bytes) -> Any:
    return json.loads(payload, parse_float=Decimal, parse_int=Decimal)


ER_API = exact((FIXTURES / "open_er_api_latest_USD.json").read_bytes())
FLOATRATES = exact((FIXTURES / "floatrates_daily_gbp.json").read_bytes())
CURRENCY_API = exact(json.dumps(CURRENCY_API_USD).encode())
FEED = exact(json.dumps(CUSTOM_FEED).encode())


@EXAMPLES
@given(mutated_json(ER_API))
def test_open_er_api(payload: bytes) -> None:
    parse_or_refuse(build("open-er-api"), payload)


@EXAMPLES
@given(mutated_json(FLOATRATES))
def test_floatrates(payload: bytes) -> None:
    parse_or_refuse(build("floatrates", url="https://www.floatrates.com/daily/gbp.json"), payload)


@EXAMPLES
@given(mutated_json(CURRENCY_API))
def test_currency_api(payload: bytes) -> None:
    parse_or_refuse(build("currency-api", url="https://cdn.example/v1/currencies/usd.json"), payload)


@EXAMPLES
@given(mutated_json(FEED), st.booleans())
def test_json_feed(payload: bytes, inverse: bool) -> None:
    source = build(
        "json",
        url="https://feed.example/r.json",
        ref="USD",
        path="data.quotes",
        published_path="data.asof",
        inverse=inverse,
    )
    parse_or_refuse(source, payload)


@pytest.mark.parametrize("stamp", ["1e12", "-1e20", "1e300", "253402300800", "-62135596801"])
def test_an_out_of_range_timestamp_is_a_parse_error(stamp: str) -> None:
    """The finding: ``time_last_update_unix`` beyond what a date holds raised OverflowError/ValueError/OSError."""
    payload = encode({**ER_API, "time_last_update_unix": Raw(stamp)}).encode()
    with pytest.raises(ParseError) as info:
        build("open-er-api").parse(payload)
    assert info.value.reason == "'time_last_update_unix' is not a timestamp of a real day"


def test_json_nested_a_hundred_thousand_deep_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        build("open-er-api").parse(b"[" * 100_000 + b"]" * 100_000)
    assert "RecursionError" in info.value.reason or "nested" in info.value.reason


# --- ECB XML ---------------------------------------------------------------------------------

ECB = (FIXTURES / "ecb_eurofxref-daily.xml").read_text(encoding="utf-8")
_ATTRIBUTE = re.compile(r"""(time|currency|rate)='([^']*)'""")
_XML_VALUES = [
    "",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "1E+999999",
    "1E-999999",
    "2001-02-30",
    "99999-01-01",
    "usd",
    "&amp;",
    "\u017fd",
    "1" * 5000,
]


@st.composite
def mutated_ecb(draw: st.DrawFn) -> bytes:
    text = ECB
    for _ in range(draw(st.integers(1, 4))):
        spots = list(_ATTRIBUTE.finditer(text))
        how = draw(st.sampled_from(["value", "value", "drop", "nest", "cut"]))
        spot = draw(st.sampled_from(spots)) if spots else None
        if how == "value" and spot:
            text = text[: spot.start(2)] + draw(st.sampled_from(_XML_VALUES)) + text[spot.end(2) :]
        elif how == "drop" and spot:
            text = text[: spot.start()] + text[spot.end() :]
        elif how == "nest":
            at = max(text.find("<Cube>"), 0)
            depth = draw(st.sampled_from([10, 10_000, 100_000]))
            text = text[:at] + "<Cube>" * depth + "</Cube>" * depth + text[at:]
        elif how == "cut":
            text = text[: draw(st.integers(0, len(text)))]
    return text.encode()


@EXAMPLES
@given(mutated_ecb())
def test_ecb(payload: bytes) -> None:
    parse_or_refuse(build("ecb", url="https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"), payload)


# --- CBI workbook ----------------------------------------------------------------------------


def _cbi_rows() -> list[list[Any]]:
    """The real 2026 sheet's values, trimmed to its labelled columns so a rebuild takes 0.1 s."""
    book = openpyxl.load_workbook(FIXTURES / "cbi_major_currencies_and_gold.xlsx", read_only=True, data_only=True)
    try:
        rows = [list(row)[:40] for row in book["2026"].iter_rows(values_only=True)]
    finally:
        book.close()
    while rows and all(cell is None for cell in rows[-1]):
        rows.pop()
    return [row[: max((i + 1 for i, cell in enumerate(row) if cell is not None), default=0)] for row in rows]


CBI_ROWS = _cbi_rows()
_CELL_VALUES: list[Any] = [
    None,
    "",
    0,
    -1310,
    1e308,
    float("nan"),
    float("inf"),
    1e-300,
    "1310",
    "١٣١٠",
    "Feb.2026",
    "Average",
    "31",
    "USD",
    "Sell ID",
    True,
    date(1899, 12, 30),
    "=1/0",
    "x" * 1000,
]


@st.composite
def mutated_workbook(draw: st.DrawFn) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = draw(st.sampled_from(["2026", "2026", "2026", "1990", "99999", "Sheet"]))
    rows = [list(row) for row in CBI_ROWS]
    for _ in range(draw(st.integers(1, 8))):
        how = draw(st.sampled_from(["cell", "cell", "cell", "drop-row", "far-cell"]))
        r = draw(st.integers(0, len(rows) - 1))
        if how == "drop-row":
            del rows[r]
        elif how == "cell" and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(st.sampled_from(_CELL_VALUES))
        elif how == "far-cell":
            rows[r] = [*rows[r], *([None] * draw(st.sampled_from([100, 1000]))), 1310]
    for row in rows:
        sheet.append(row)
    if draw(st.booleans()):
        book.create_sheet(draw(st.sampled_from(["2027", "2025"])))
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if draw(st.integers(0, 5)) == 0:  # a truncated download
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_workbook(), st.sampled_from(["buy", "sell", "sell2", "mid"]))
def test_cbi_workbook(payload: bytes, column: str) -> None:
    parse_or_refuse(build("cbi", url="https://cbi.iq/page/144", column=column), payload)


@pytest.mark.parametrize("payload", [b"", b"PK\x03\x04" + b"\0" * 100, b"<html>not a workbook</html>"])
def test_cbi_not_a_workbook(payload: bytes) -> None:
    assert parse_or_refuse(build("cbi", url="https://cbi.iq/page/144"), payload) is None


# --- fixed: the config is the payload ------------------------------------------------------------

BUNDLED = (ROOT / "config.yaml").read_text(encoding="utf-8")
_PEGS = "rates: {SAR: 3.75, AED: 3.6725, QAR: 3.64, OMR: 0.3845, BHD: 0.376, JOD: 0.709}"
_RATE_VALUES = [
    "0",
    "-1",
    "1e12",
    "1.000000000001e12",
    "1e-12",
    "1E-999999",
    ".nan",
    ".inf",
    "true",
    "null",
    '"3.75"',
    "[]",
]
_DATES = ["2001-07-09", "2001-02-30", "1990-01-01", "1989-12-31", "2999-01-01", "0001-01-01", "null", '"x"']


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["SAR", "AED", "QAR", "usd", "X1Y", "IQD"]), st.sampled_from(_RATE_VALUES), max_size=4
    ),
    st.sampled_from(_DATES),
)
def test_fixed_rates_the_config_accepts_always_pass_validation(rates: dict[str, str], published: str) -> None:
    """A fixed source is refused by check-config, or every quote it gives is accepted: never later, never a crash."""
    text = BUNDLED.replace(_PEGS, "rates: {" + ", ".join(f"{k}: {v}" for k, v in rates.items()) + "}").replace(
        "published: 2001-07-09", f"published: {published}"
    )
    try:
        config = parse_config(text, Path("c.yaml"))
    except ConfigError as exc:
        assert all(re.match(r"^c\.yaml:\d+: ", line) for line in exc.lines()), exc.lines()
        return
    pegs = next(s for s in config.sources if s.id == "pegs")
    quotes = parse_or_refuse(REGISTRY["fixed"](pegs), b"")
    assert quotes is not None
    checked = check(quotes.quotes, date.today())
    assert not checked.rejected, checked.rejected


# --- the boundary itself ---------------------------------------------------------------------


class _Careless(NetworkSource[NetworkSettings]):
    """A kind written without a thought for bad input: the boundary still types its failures."""

    kind = "careless"
    Settings = NetworkSettings

    def parse(self, payload: bytes) -> QuoteSet:
        table: dict[str, Any] = json.loads(payload)
        return QuoteSet(ref="USD", quotes=(table["missing"],))

    async def fetch(self, fetcher: Fetcher) -> QuoteSet:
        if self.settings.url.endswith("/boom"):
            raise OSError(24, "Too many open files")
        return await super().fetch(fetcher)


def careless(url: str = "https://up.example/rates.json?app_id=SECRET") -> _Careless:
    return _Careless(NetworkSettings(id="careless", kind="careless", url=url))


@pytest.mark.parametrize(
    ("payload", "kind"),
    [(b"{}", "KeyError"), (b"[1]", "TypeError"), (b"{", "JSONDecodeError"), (b"\xff", "UnicodeDecodeError")],
)
def test_a_foreign_exception_from_parse_becomes_a_parse_error(payload: bytes, kind: str) -> None:
    with pytest.raises(ParseError) as info:
        careless().parse(payload)
    assert info.value.reason.startswith(f"reading the payload failed ({kind}")
    assert "\n" not in str(info.value)


async def test_a_foreign_exception_from_fetch_becomes_a_fetch_error() -> None:
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError) as info:
            await careless("https://up.example/boom").fetch(fetcher)
    assert info.value.reason == "fetching failed (OSError: [Errno 24] Too many open files)"


def test_the_boundary_wraps_every_registered_kind() -> None:
    for cls in REGISTRY.values():
        assert cls.parse.__wrapped__  # type: ignore[attr-defined]
        assert cls.fetch.__wrapped__  # type: ignore[attr-defined]

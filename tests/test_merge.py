"""From sources' kept quotes to one IQD rate per currency (contract section 4)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rates.config import Config, parse_config
from rates.document import build_document, decode, encode
from rates.merge import NO_SOURCE, NOT_COMPUTABLE, NOT_REACHED, OUT_OF_RANGE, MergeInput, MergeResult, merge
from rates.models import Hold, KeptQuote, KeptQuotes, Quote, Rate, Resolved
from rates.present import significant
from rates.sources import REGISTRY
from tests.upstream import exact_json

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
ER_USD_BYTES = (FIXTURES / "open_er_api_latest_USD.json").read_bytes()
ER_USD = json.loads(ER_USD_BYTES, parse_float=Decimal, parse_int=Decimal)
ER_DAY = date(2024, 8, 19)  # time_last_update_utc of the fixture
FLOAT_GBP_BYTES = (FIXTURES / "floatrates_daily_gbp.json").read_bytes()
FLOAT_GBP = json.loads(FLOAT_GBP_BYTES, parse_float=Decimal, parse_int=Decimal)
CBI_DAY = date(2026, 2, 26)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FRESH = NOW - timedelta(hours=1)

SOURCES = """\
sources:
  - id: cbi
    kind: cbi
    url: https://cbi.iq/page/144
  - id: pegs
    kind: fixed
    ref: USD
    published: 2001-07-09
    rates: {SAR: 3.75, BHD: 0.376, QAR: 3.64}
  - id: er-api
    kind: open-er-api
    url: https://open.er-api.com/v6/latest/USD
  - id: floatrates
    kind: floatrates
    url: https://www.floatrates.com/daily/gbp.json
  - id: cbi-official
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates:
      USD: {rate: 1310, buy: 1300, sell: 1310}
policy:
  stale_after: 36h
  max_jump: 10%
  agree_within: 2%
  published_within: 3650d  # the aggregator fixtures are from 2024
"""


def sig6(value: Decimal) -> Decimal:
    """Six significant digits, rounded half to even, computed apart from rates.present."""
    return Context(prec=6, rounding=ROUND_HALF_EVEN).plus(value)


def make_config(currencies: str, sources: str = SOURCES) -> Config:
    return parse_config(f"currencies: {currencies}\n{sources}", Path("/tmp/merge-config.yaml"))


CONFIG = make_config("[USD, KWD, BHD, SAR, QAR, EUR, GBP]")


def cbi(fetched_at: datetime = FRESH, day: date = CBI_DAY, **rates: tuple[str, str, str]) -> KeptQuotes:
    """The CBI's direct quotes: code → (buy, sell, rate)."""
    rates = rates or {"USD": ("1300", "1310", "1310")}
    quotes = {
        code: KeptQuote(Quote(code, Decimal(rate), day, Decimal(buy), Decimal(sell)), fetched_at)
        for code, (buy, sell, rate) in rates.items()
    }
    return KeptQuotes("cbi", "IQD", quotes)


def er_api(fetched_at: datetime = FRESH, payload: bytes = ER_USD_BYTES) -> KeptQuotes:
    """er-api's quotes exactly as its adapter reads the real fixture."""
    source = REGISTRY["open-er-api"](CONFIG.source("er-api"))
    parsed = source.parse(payload)
    return KeptQuotes("er-api", parsed.ref, {q.code: KeptQuote(q, fetched_at) for q in parsed.quotes})


def floatrates(fetched_at: datetime = FRESH) -> KeptQuotes:
    parsed = REGISTRY["floatrates"](CONFIG.source("floatrates")).parse(FLOAT_GBP_BYTES)
    return KeptQuotes("floatrates", parsed.ref, {q.code: KeptQuote(q, fetched_at) for q in parsed.quotes})


def fixed(config: Config, source_id: str, fetched_at: datetime = FRESH) -> KeptQuotes:
    parsed = REGISTRY["fixed"](config.source(source_id)).parse(b"")
    return KeptQuotes(source_id, parsed.ref, {q.code: KeptQuote(q, fetched_at) for q in parsed.quotes})


def official(rate: str, fetched_at: datetime = FRESH) -> KeptQuotes:
    quote = Quote("USD", Decimal(rate), date(2023, 2, 8))
    return KeptQuotes("cbi-official", "IQD", {"USD": KeptQuote(quote, fetched_at)})


def run(
    sources: list[KeptQuotes],
    config: Config = CONFIG,
    *,
    baselines: Mapping[str, Resolved] | None = None,
    holds: Mapping[str, Hold] | None = None,
    now: datetime = NOW,
) -> MergeResult:
    return merge(
        MergeInput(
            config=config,
            sources={s.source_id: s for s in sources},
            baselines=dict(baselines or {}),
            holds=dict(holds or {}),
            rejections={},
            now=now,
        )
    )


def row(result: MergeResult, code: str) -> Rate:
    return next(r for r in result.rates if r.code == code)


ER_KWD = ER_USD["rates"]["KWD"]
ER_IQD = ER_USD["rates"]["IQD"]


# --- preference --------------------------------------------------------------------------


def test_rows_follow_the_config_order() -> None:
    result = run([cbi(), er_api(), fixed(CONFIG, "pegs"), fixed(CONFIG, "cbi-official")])
    assert [r.code for r in result.rates] == ["USD", "KWD", "BHD", "SAR", "QAR", "EUR", "GBP"]


def test_first_source_in_order_wins() -> None:
    result = run([cbi(), official("1320")])
    usd = row(result, "USD")
    assert (usd.rate, usd.source, usd.status) == (Decimal(1310), "cbi", "ok")
    result = run([official("1320")])
    assert (row(result, "USD").rate, row(result, "USD").source) == (Decimal(1320), "cbi-official")


def test_a_currency_s_own_list_overrides_the_order() -> None:
    config = make_config("[{code: USD, sources: [cbi-official, cbi]}, KWD]")
    result = run([cbi(), official("1320")], config)
    assert (row(result, "USD").rate, row(result, "USD").source) == (Decimal(1320), "cbi-official")


def test_a_source_missing_the_currency_is_skipped() -> None:
    both = {"USD": ("1300", "1310", "1310"), "EUR": ("1535.82", "1547.634", "1547.634")}
    result = run([cbi(**both), er_api()])
    eur = row(result, "EUR")
    assert (eur.rate, eur.source) == (Decimal("1547.634"), "cbi")
    sar = row(result, "SAR")  # the CBI quote set has no SAR, pegs are not loaded: er-api is next
    assert sar.source == "er-api"
    assert sar.rate == Decimal(1310) / ER_USD["rates"]["SAR"]


# --- crosses through the official dinar rate -------------------------------------------


def test_kwd_crosses_through_the_cbi_dollar_not_the_aggregator_s_dinar() -> None:
    result = run([cbi(), er_api(), fixed(CONFIG, "pegs")])
    kwd = row(result, "KWD")
    assert kwd.rate == Decimal(1310) / ER_KWD
    assert sig6(kwd.rate) == sig6(Decimal(1310) / Decimal(str(ER_KWD)))
    assert kwd.rate != ER_IQD / ER_KWD
    assert (kwd.buy, kwd.sell) == (Decimal(1300) / ER_KWD, Decimal(1310) / ER_KWD)
    assert (kwd.source, kwd.status) == ("er-api", "ok")


def test_bhd_and_sar_through_the_fixed_pegs() -> None:
    result = run([cbi(), fixed(CONFIG, "pegs"), er_api()])
    bhd, sar, qar = row(result, "BHD"), row(result, "SAR"), row(result, "QAR")
    assert bhd.rate == Decimal(1310) / Decimal("0.376")
    assert sig6(bhd.rate) == Decimal("3484.04")
    assert (bhd.buy, bhd.sell) == (Decimal(1300) / Decimal("0.376"), Decimal(1310) / Decimal("0.376"))
    assert sig6(sar.rate) == Decimal("349.333") and sig6(sar.buy) == Decimal("346.667")  # type: ignore[arg-type]
    assert sar.sell == Decimal(1310) / Decimal("3.75")
    assert sig6(qar.rate) == sig6(Decimal(1310) / Decimal("3.64"))
    assert {bhd.source, sar.source, qar.source} == {"pegs"}


def test_cross_without_buy_and_sell_when_the_ref_has_none() -> None:
    result = run([official("1310"), er_api()])  # a bare rate: no buy, no sell
    kwd = row(result, "KWD")
    assert kwd.rate == Decimal(1310) / ER_KWD
    assert (kwd.buy, kwd.sell) == (None, None)


def test_aggregator_s_own_dinar_figure_is_the_last_resort_and_named() -> None:
    config = make_config("[USD, KWD]")
    result = run([er_api()], config)  # no source before er-api has ever quoted USD
    usd, kwd = row(result, "USD"), row(result, "KWD")
    assert (usd.rate, usd.source, usd.status) == (ER_IQD, "er-api", "ok")
    assert (usd.buy, usd.sell) == (None, None)
    assert (kwd.rate, kwd.source) == (ER_IQD / ER_KWD, "er-api")


def test_aggregator_s_dinar_comes_after_every_source_in_the_dollar_s_list() -> None:
    """cbi-official is listed after er-api, yet its official 1310 beats er-api's own IQD figure."""
    assert CONFIG.preference("USD").index("er-api") < CONFIG.preference("USD").index("cbi-official")
    result = run([er_api(), fixed(CONFIG, "cbi-official")])
    usd, kwd = row(result, "USD"), row(result, "KWD")
    assert (usd.rate, usd.buy, usd.sell, usd.source) == (Decimal(1310), Decimal(1300), Decimal(1310), "cbi-official")
    assert (kwd.rate, kwd.source) == (Decimal(1310) / ER_KWD, "er-api")
    assert kwd.buy == Decimal(1300) / ER_KWD


def test_a_cross_through_an_aggregator_s_dinar_is_a_last_resort_too() -> None:
    """Only floatrates (per GBP, with its own IQD figure) and the official dollar are up: the
    dollar is the official 1310, not floatrates' IQD-per-GBP ÷ USD-per-GBP, and the pegs use it."""
    result = run([floatrates(), fixed(CONFIG, "cbi-official"), fixed(CONFIG, "pegs")])
    usd, bhd, gbp = row(result, "USD"), row(result, "BHD"), row(result, "GBP")
    assert (usd.rate, usd.source) == (Decimal(1310), "cbi-official")
    assert bhd.rate == Decimal(1310) / Decimal("0.376")
    # Nobody quotes GBP itself: floatrates' own figure is the last resort, named as the source.
    assert (gbp.rate, gbp.source) == (FLOAT_GBP["iqd"]["rate"], "floatrates")
    kwd = row(result, "KWD")
    assert (kwd.rate, kwd.source) == (FLOAT_GBP["iqd"]["rate"] / FLOAT_GBP["kwd"]["rate"], "floatrates")


def test_a_stale_official_dollar_still_beats_the_aggregator_s_dinar() -> None:
    config = make_config("[USD, KWD]")
    long_ago = NOW - timedelta(days=30)
    result = run([cbi(fetched_at=long_ago), er_api()], config)
    usd, kwd = row(result, "USD"), row(result, "KWD")
    assert (usd.rate, usd.source, usd.status) == (Decimal(1310), "cbi", "stale")
    assert kwd.rate == Decimal(1310) / ER_KWD
    assert kwd.status == "stale"  # the cross is stale because its dollar is


def test_an_official_fixed_dollar_before_the_aggregator_is_used() -> None:
    sources = SOURCES.replace("  - id: cbi-official", "  - id: cbi-official-moved").replace(
        "  - id: pegs",
        "  - id: cbi-official\n    kind: fixed\n    ref: IQD\n    published: 2023-02-08\n"
        "    rates: {USD: {rate: 1310, buy: 1300, sell: 1310}}\n  - id: pegs",
    )
    config = make_config("[USD, KWD]", sources)
    result = run([er_api(), fixed(config, "cbi-official")], config)
    assert (row(result, "USD").rate, row(result, "USD").source) == (Decimal(1310), "cbi-official")
    kwd = row(result, "KWD")
    assert kwd.rate == Decimal(1310) / ER_KWD
    assert kwd.buy == Decimal(1300) / ER_KWD


# --- published dates ---------------------------------------------------------------------


def test_cross_is_published_at_the_older_date_aggregator_older() -> None:
    kwd = row(run([cbi(), er_api()]), "KWD")
    assert kwd.published == min(ER_DAY, CBI_DAY) == ER_DAY


def test_cross_is_published_at_the_older_date_dollar_older() -> None:
    kwd = row(run([cbi(day=date(2020, 1, 5)), er_api()]), "KWD")
    assert kwd.published == date(2020, 1, 5)


def test_direct_rate_keeps_its_own_date() -> None:
    assert row(run([cbi(), er_api()]), "USD").published == CBI_DAY


# --- staleness ---------------------------------------------------------------------------


def test_stale_after_stale_after() -> None:
    just_fresh = run([cbi(fetched_at=NOW - timedelta(hours=36))])
    assert row(just_fresh, "USD").status == "ok"
    stale = run([cbi(fetched_at=NOW - timedelta(hours=36, seconds=1))])
    usd = row(stale, "USD")
    assert (usd.status, usd.rate) == ("stale", Decimal(1310))


def test_fixed_sources_never_go_stale() -> None:
    ages_ago = NOW - timedelta(days=4000)
    result = run([fixed(CONFIG, "cbi-official", ages_ago)])
    assert (row(result, "USD").status, row(result, "USD").rate) == ("ok", Decimal(1310))


def test_cross_through_a_peg_is_stale_when_the_dollar_is() -> None:
    old = NOW - timedelta(hours=40)
    result = run([cbi(fetched_at=old), fixed(CONFIG, "pegs", NOW - timedelta(days=4000))])
    assert row(result, "BHD").status == "stale"
    fresh = run([cbi(), fixed(CONFIG, "pegs", NOW - timedelta(days=4000))])
    assert row(fresh, "BHD").status == "ok"


def test_cross_is_stale_when_the_aggregator_is() -> None:
    result = run([cbi(), er_api(fetched_at=NOW - timedelta(hours=37))])
    assert row(result, "USD").status == "ok"
    assert row(result, "KWD").status == "stale"
    assert row(result, "KWD").rate == Decimal(1310) / ER_KWD


# --- holds -------------------------------------------------------------------------------

BEFORE = NOW - timedelta(days=1)


def baseline_usd(rate: str = "1310", source: str = "cbi") -> dict[str, Resolved]:
    previous = Resolved("USD", Decimal(rate), source, date(2026, 2, 25), BEFORE, False, Decimal(1300), Decimal(rate))
    return {"USD": previous}


def test_a_jump_over_max_jump_is_held() -> None:
    result = run([cbi(USD=("1490", "1500", "1500"))], baselines=baseline_usd())
    usd = row(result, "USD")
    assert (usd.status, usd.rate, usd.source, usd.published) == ("held", Decimal(1310), "cbi", date(2026, 2, 25))
    assert result.holds["USD"] == Hold("USD", "cbi", Decimal(1310), Decimal(1500), NOW)
    assert result.baselines["USD"].rate == Decimal(1310)


@pytest.mark.parametrize(("new", "held"), [("1441", False), ("1441.01", True), ("1179", False), ("1178.99", True)])
def test_max_jump_boundary(new: str, held: bool) -> None:
    """10% of 1310 is 131: a move of exactly 10% is accepted, more is held."""
    result = run([cbi(USD=(new, new, new))], baselines=baseline_usd())
    usd = row(result, "USD")
    assert (usd.status == "held") is held
    assert usd.rate == (Decimal(1310) if held else Decimal(new))
    assert ("USD" in result.holds) is held


def test_a_second_source_agreeing_within_agree_within_confirms_the_jump() -> None:
    # |1480 - 1500| / 1500 = 1.3% <= 2%
    result = run([cbi(USD=("1490", "1500", "1500")), official("1480")], baselines=baseline_usd())
    usd = row(result, "USD")
    assert (usd.status, usd.rate, usd.source) == ("ok", Decimal(1500), "cbi")
    assert result.holds == {}
    assert result.baselines["USD"].rate == Decimal(1500)


def test_a_second_source_too_far_off_does_not_confirm() -> None:
    # |1465 - 1500| / 1500 = 2.3% > 2%
    result = run([cbi(USD=("1490", "1500", "1500")), official("1465")], baselines=baseline_usd())
    assert row(result, "USD").status == "held"
    assert result.holds["USD"].new == Decimal(1500)


def test_a_less_preferred_source_does_not_replace_a_held_value() -> None:
    # cbi-official still says about the old value; the held old value stays, not cbi-official's.
    result = run([cbi(USD=("1490", "1500", "1500")), official("1309")], baselines=baseline_usd())
    usd = row(result, "USD")
    assert (usd.status, usd.rate, usd.source) == ("held", Decimal(1310), "cbi")
    assert usd.published == date(2026, 2, 25)


def test_a_hold_keeps_its_start_while_the_move_persists() -> None:
    first = run([cbi(USD=("1500", "1500", "1500"))], baselines=baseline_usd())
    later = NOW + timedelta(hours=3)
    again = run([cbi(USD=("1500", "1500", "1500"))], baselines=first.baselines, holds=first.holds, now=later)
    assert again.holds["USD"].since == NOW
    moved = run([cbi(USD=("1600", "1600", "1600"))], baselines=first.baselines, holds=first.holds, now=later)
    assert moved.holds["USD"] == Hold("USD", "cbi", Decimal(1310), Decimal(1600), later)


def test_a_move_back_within_max_jump_clears_the_hold() -> None:
    first = run([cbi(USD=("1500", "1500", "1500"))], baselines=baseline_usd())
    back = run([cbi(USD=("1300", "1315", "1315"))], baselines=first.baselines, holds=first.holds)
    assert (row(back, "USD").status, row(back, "USD").rate) == ("ok", Decimal(1315))
    assert back.holds == {}


def test_crosses_use_the_shown_dollar_while_a_dollar_move_is_held() -> None:
    result = run([cbi(USD=("1500", "1500", "1500")), er_api()], baselines=baseline_usd())
    assert row(result, "KWD").rate == Decimal(1310) / ER_KWD


def test_a_cross_rate_jump_is_held_too() -> None:
    previous = {"KWD": Resolved("KWD", Decimal(3000), "er-api", ER_DAY, BEFORE, False)}
    result = run([cbi(), er_api()], baselines=previous)
    kwd = row(result, "KWD")
    assert (kwd.status, kwd.rate) == ("held", Decimal(3000))
    assert result.holds["KWD"].new == Decimal(1310) / ER_KWD


# --- unavailable -------------------------------------------------------------------------


def test_nobody_quotes_it_is_unavailable_never_zero() -> None:
    result = run([cbi()])  # the CBI set here has only USD; no aggregator loaded
    eur = row(result, "EUR")
    assert eur.status == "unavailable"
    assert (eur.rate, eur.buy, eur.sell, eur.source, eur.published) == (None, None, None, None, None)
    assert eur.reason
    document = build_document(CONFIG, result.rates, {}, NOW)
    entry = next(e for e in decode(encode(document))["rates"] if e["code"] == "EUR")
    assert entry["rate"] is None and entry["buy"] is None and entry["status"] == "unavailable"
    assert b'"rate":0' not in encode(document)


def test_the_reason_tells_silent_sources_from_sources_that_lack_the_currency() -> None:
    # er-api and floatrates have never answered: they might quote EUR once they do.
    assert row(run([cbi()]), "EUR").reason == NOT_REACHED
    # Every network source answered and none quotes XTS (the ISO code reserved for tests).
    answered = run([cbi(), er_api(), floatrates()], make_config("[USD, XTS]"))
    assert row(answered, "XTS").reason == NO_SOURCE


def test_nothing_at_all_gives_every_currency_unavailable() -> None:
    result = run([])
    assert {r.status for r in result.rates} == {"unavailable"}
    assert {r.rate for r in result.rates} == {None}


def test_a_cross_without_any_dollar_rate_is_unavailable() -> None:
    body = {**ER_USD, "rates": {k: v for k, v in ER_USD["rates"].items() if k != "IQD"}}
    payload = exact_json(body)
    config = make_config("[USD, KWD]")
    result = run([er_api(payload=payload)], config)
    assert (row(result, "USD").status, row(result, "KWD").status) == ("unavailable", "unavailable")
    assert row(result, "KWD").rate is None


# --- the arithmetic --------------------------------------------------------------------

PROPERTY_CONFIG = make_config(
    "[USD, KWD]",
    """\
sources:
  - id: dinar
    kind: fixed
    ref: IQD
    published: 2020-01-01
    rates: {USD: 1}
  - id: peg
    kind: fixed
    ref: USD
    published: 2021-01-01
    rates: {KWD: 1}
""",
)
POSITIVE = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("10000000"), places=4, allow_nan=False, allow_infinity=False
)


@settings(max_examples=200, deadline=None)
@given(POSITIVE, POSITIVE)
def test_cross_rate_arithmetic(a: Decimal, b: Decimal) -> None:
    """IQD per KWD = (IQD per USD) / (KWD per USD), published with at most 6 significant digits."""
    sources = [
        KeptQuotes("dinar", "IQD", {"USD": KeptQuote(Quote("USD", a, date(2020, 1, 1)), FRESH)}),
        KeptQuotes("peg", "USD", {"KWD": KeptQuote(Quote("KWD", b, date(2021, 1, 1)), FRESH)}),
    ]
    result = run(sources, PROPERTY_CONFIG)
    kwd = row(result, "KWD")
    assert kwd.rate == a / b
    assert significant(kwd.rate) == sig6(a / b)
    assert kwd.published == date(2021, 1, 1)  # only decrees and pegs: the latest of their dates

    payload = encode(build_document(PROPERTY_CONFIG, result.rates, {}, NOW)).decode()
    tokens = dict(re.findall(r'"code":"([A-Z]{3})","name":"[^"]*","rate":([^,]+),', payload))
    for code, exact in (("USD", a), ("KWD", a / b)):
        token = tokens[code]
        assert re.fullmatch(r"\d+(\.\d*[1-9])?", token), token  # no exponent, no trailing zeros
        assert Decimal(token) == sig6(exact)
        assert len(token.replace(".", "").strip("0")) <= 6
    assert decode(payload.encode())["rates"][1]["rate"] == sig6(a / b)


# --- publication dates through pegs (contract section 4) --------------------------------


def test_a_cross_through_a_peg_is_dated_by_its_changing_side() -> None:
    """A peg fixed in 2001 does not make today's riyal look 25 years old."""
    result = run([cbi(), fixed(CONFIG, "pegs")])
    assert row(result, "SAR").published == CBI_DAY
    assert row(result, "BHD").published == CBI_DAY


def test_a_cross_built_only_from_decrees_is_dated_by_the_latest() -> None:
    result = run([fixed(CONFIG, "cbi-official"), fixed(CONFIG, "pegs")])
    sar = row(result, "SAR")
    assert (sar.source, sar.published) == ("pegs", date(2023, 2, 8))  # not the peg's 2001-07-09


# --- published_within ----------------------------------------------------------------------


def window_config(days: int) -> Config:
    return make_config("[USD, KWD, SAR]", SOURCES.replace("published_within: 3650d", f"published_within: {days}d"))


def test_an_old_publication_date_is_stale_however_fresh_the_fetch() -> None:
    """Baghdad days: NOW is 2026-03-01 12:00 in Baghdad; CBI_DAY is three days before."""
    config = window_config(3)
    fresh = run([cbi(), fixed(config, "pegs"), fixed(config, "cbi-official")], config)
    assert row(fresh, "USD").status == "ok"
    assert row(fresh, "SAR").status == "ok"
    config = window_config(2)
    old = run([cbi(), fixed(config, "pegs"), fixed(config, "cbi-official")], config)
    usd, sar = row(old, "USD"), row(old, "SAR")
    assert (usd.status, usd.rate, usd.published) == ("stale", Decimal(1310), CBI_DAY)
    assert sar.status == "stale", "a cross is stale when either side is"


def test_fixed_quotes_are_exempt_from_published_within() -> None:
    config = window_config(1)
    result = run([fixed(config, "cbi-official"), fixed(config, "pegs")], config)
    assert {row(result, c).status for c in ("USD", "SAR")} == {"ok"}


# --- range ---------------------------------------------------------------------------------


def test_a_value_outside_the_currency_range_is_refused_and_the_next_source_serves() -> None:
    config = make_config("[{code: USD, range: [1000, 2000]}, KWD]")
    result = run([cbi(USD=("13", "13.1", "13.1")), fixed(config, "cbi-official"), er_api()], config)
    usd = row(result, "USD")
    assert (usd.rate, usd.source, usd.status) == (Decimal(1310), "cbi-official", "ok")
    assert result.refused == {"cbi": (("USD", "out of range 1000..2000 IQD (13.1)"),)}
    assert result.baselines["USD"].source == "cbi-official"  # the refused value never became a baseline


def test_no_value_inside_the_range_is_unavailable() -> None:
    config = make_config("[{code: KWD, range: [1, 2]}]")
    result = run([cbi(), er_api()], config)
    kwd = row(result, "KWD")
    assert (kwd.status, kwd.rate, kwd.reason) == ("unavailable", None, OUT_OF_RANGE)
    assert "er-api" in result.refused


# --- arithmetic that cannot freeze the document -----------------------------------------------


def er_api_with(**rates: str) -> KeptQuotes:
    quotes = er_api()
    changed = {code: KeptQuote(Quote(code, Decimal(v), ER_DAY), FRESH) for code, v in rates.items()}
    return KeptQuotes("er-api", "USD", {**quotes.quotes, **changed})


def test_a_currency_that_cannot_be_computed_is_unavailable_and_the_others_go_on() -> None:
    result = run([cbi(), er_api_with(KWD="1E-999999", EUR="1E+999999")])
    kwd, eur = row(result, "KWD"), row(result, "EUR")
    assert (kwd.status, kwd.rate, kwd.reason) == ("unavailable", None, NOT_COMPUTABLE)
    assert (eur.status, eur.rate, eur.reason) == ("unavailable", None, NOT_COMPUTABLE)  # would underflow to 0
    assert (row(result, "USD").rate, row(result, "GBP").rate) == (Decimal(1310), Decimal(1310) / ER_USD["rates"]["GBP"])
    assert b'"rate":0' not in encode(build_document(CONFIG, result.rates, {}, NOW))


# --- cold start -------------------------------------------------------------------------------


def test_a_baseline_set_while_the_official_source_was_silent_does_not_hold_it() -> None:
    """The CBI timed out at first: TRY came from er-api. When the CBI answers, its TRY is shown."""
    config = make_config("[USD, TRY]")
    first = run([fixed(config, "cbi-official"), er_api()], config)
    assert (row(first, "TRY").source, first.baselines["TRY"].provisional) == ("er-api", True)
    official_try = ("29.6", "29.841", "29.841")
    later = run(
        [cbi(USD=("1300", "1310", "1310"), TRY=official_try), fixed(config, "cbi-official"), er_api()],
        config,
        baselines=first.baselines,
        holds=first.holds,
    )
    try_ = row(later, "TRY")
    assert (try_.status, try_.rate, try_.source) == ("ok", Decimal("29.841"), "cbi")
    assert later.holds == {} and not later.baselines["TRY"].provisional
    # From now on the official value is a real baseline: a 40 % jump is held.
    jumped = run([cbi(TRY=("41", "41.8", "41.8")), er_api()], config, baselines=later.baselines, holds=later.holds)
    assert row(jumped, "TRY").status == "held"


# --- merge never raises -------------------------------------------------------------------------

CODES = ("USD", "EUR", "KWD", "GBP")
ANY_NUMBER = st.builds(
    lambda mantissa, exponent: Decimal(f"{mantissa}E{exponent}"),
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=-999_999, max_value=999_980) | st.integers(min_value=-40, max_value=40),
)
DAYS = st.dates(min_value=date(1990, 1, 1), max_value=date(2026, 3, 1))
MOMENTS = st.sampled_from([FRESH, NOW - timedelta(days=40), NOW - timedelta(days=4000)])


@st.composite
def quote_sets(draw: st.DrawFn) -> list[KeptQuotes]:
    sets = []
    for source_id, ref in (("cbi", "IQD"), ("er-api", "USD"), ("floatrates", "GBP"), ("cbi-official", "IQD")):
        if draw(st.booleans()):
            codes = draw(st.lists(st.sampled_from((*CODES, "IQD")), unique=True, max_size=5))
            quotes = {code: KeptQuote(Quote(code, draw(ANY_NUMBER), draw(DAYS)), draw(MOMENTS)) for code in codes}
            sets.append(KeptQuotes(source_id, ref, quotes))
    return sets


@settings(max_examples=150, deadline=None)
@given(quote_sets(), st.dictionaries(st.sampled_from(CODES), ANY_NUMBER, max_size=4), st.booleans())
def test_merge_never_raises_for_any_quotes_and_holds(
    sets: list[KeptQuotes], old: dict[str, Decimal], with_holds: bool
) -> None:
    config = make_config("[USD, EUR, KWD, GBP]")
    baselines = {code: Resolved(code, rate, "er-api", ER_DAY, BEFORE, False) for code, rate in old.items()}
    holds = {code: Hold(code, "cbi", rate, rate * 2, BEFORE) for code, rate in old.items()} if with_holds else {}
    result = run(sets, config, baselines=baselines, holds=holds)
    for rate in result.rates:
        assert (rate.rate is None) == (rate.status == "unavailable")
        assert rate.rate is None or (rate.rate.is_finite() and rate.rate > 0)
    encode(build_document(config, result.rates, {}, NOW))

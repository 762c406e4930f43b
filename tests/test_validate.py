"""The rules a quote must pass before it is accepted, each with its reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rates.models import Quote
from rates.validate import EARLIEST, MAX_QUOTE, MIN_QUOTE, check, relative_gap

TODAY = date(2026, 3, 1)


def reason(quote: Quote) -> str | None:
    checked = check((quote,), TODAY)
    if checked.valid:
        assert checked.valid == (quote,) and not checked.rejected
        return None
    assert checked.rejected[0][0] == quote.code
    return checked.rejected[0][1]


@pytest.mark.parametrize(
    ("quote", "why"),
    [
        (Quote("KWD", Decimal(0), TODAY), "zero"),
        (Quote("KWD", Decimal("0.000"), TODAY), "zero"),
        (Quote("KWD", Decimal("-0"), TODAY), "zero"),
        (Quote("KWD", Decimal("-0.3"), TODAY), "negative"),
        (Quote("KWD", Decimal("NaN"), TODAY), "not a number"),
        (Quote("KWD", Decimal("sNaN"), TODAY), "not a number"),
        (Quote("KWD", Decimal("Infinity"), TODAY), "not a number"),
        (Quote("KWD", Decimal("-Infinity"), TODAY), "not a number"),
        (Quote("USD", Decimal(1310), TODAY, buy=Decimal(0), sell=Decimal(1310)), "zero"),
        (Quote("USD", Decimal(1310), TODAY, buy=Decimal(1300), sell=Decimal(0)), "zero"),
        (Quote("USD", Decimal(1310), TODAY, buy=Decimal(-1300), sell=Decimal(1310)), "negative"),
        (Quote("USD", Decimal(1310), TODAY, buy=Decimal(1300), sell=Decimal("NaN")), "not a number"),
        (Quote("USD", Decimal(1310), TODAY + timedelta(days=1)), "dated in the future (2026-03-02)"),
        (Quote("USD", Decimal(1310), date(2027, 1, 1)), "dated in the future (2027-01-01)"),
        # The quote that froze merging: 1310 ÷ 1E-999999 overflows Decimal.
        (
            Quote("KWD", Decimal("1E-999999"), TODAY),
            "out of range (1.000E-999999; a quote lies between 1E-12 and 1E+12)",
        ),
        (Quote("KWD", Decimal("1e300"), TODAY), "out of range (1.000E+300; a quote lies between 1E-12 and 1E+12)"),
        (
            Quote("USD", Decimal(1310), TODAY, buy=Decimal("1e13")),
            "out of range (1E+13; a quote lies between 1E-12 and 1E+12)",
        ),
        (Quote("USD", Decimal(1310), date(1989, 12, 31)), "dated before 1990 (1989-12-31)"),
        (Quote("USD", Decimal(1310), date(1, 1, 1)), "dated before 1990 (0001-01-01)"),
    ],
)
def test_rejected_with_its_reason(quote: Quote, why: str) -> None:
    assert reason(quote) == why


@pytest.mark.parametrize(
    "quote",
    [
        Quote("USD", Decimal(1310), TODAY, buy=Decimal(1300), sell=Decimal(1310)),
        Quote("KWD", Decimal("0.3068"), TODAY - timedelta(days=900)),
        Quote("IRR", Decimal("0.0000001"), TODAY),
        Quote("EUR", Decimal("0.92"), None),  # undated: the refresh dates it by its fetch
        Quote("XAU", Decimal("5500000"), EARLIEST),  # IQD per troy ounce of gold
        Quote("IRR", Decimal("1e-12"), TODAY),
        Quote("VES", Decimal("1e12"), TODAY),
    ],
)
def test_good_quotes_pass(quote: Quote) -> None:
    assert reason(quote) is None


def test_check_keeps_good_quotes_and_names_every_bad_one() -> None:
    good = Quote("EUR", Decimal("0.92"), TODAY)
    quotes = (
        Quote("KWD", Decimal(0), TODAY),
        good,
        Quote("EGP", Decimal(-48), TODAY),
        Quote("TRY", Decimal("NaN"), TODAY),
        Quote("JPY", Decimal(150), TODAY + timedelta(days=3)),
    )
    checked = check(quotes, TODAY)
    assert checked.valid == (good,)
    assert checked.rejected == (
        ("KWD", "zero"),
        ("EGP", "negative"),
        ("TRY", "not a number"),
        ("JPY", "dated in the future (2026-03-04)"),
    )
    assert checked.summary() == ("KWD: zero, EGP: negative, TRY: not a number, JPY: dated in the future (2026-03-04)")
    assert checked.summary(limit=2) == "KWD: zero, EGP: negative and 2 more"


@given(st.decimals(allow_nan=True, allow_infinity=True), st.dates(max_value=date(2030, 1, 1)))
def test_only_sane_positive_values_dated_since_1990_pass(value: Decimal, published: date) -> None:
    accepted = bool(check((Quote("KWD", value, published),), TODAY).valid)
    assert accepted == (value.is_finite() and MIN_QUOTE <= value <= MAX_QUOTE and EARLIEST <= published <= TODAY)


@pytest.mark.parametrize(("a", "b", "gap"), [("110", "100", "0.1"), ("90", "100", "0.1"), ("1310", "1310", "0")])
def test_relative_gap_is_a_fraction_of_the_second(a: str, b: str, gap: str) -> None:
    assert relative_gap(Decimal(a), Decimal(b)) == Decimal(gap)

"""The config's units: durations (30s, 5m, 1h, 2d) and fractions (0.1, 10%)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rates.units import format_duration, parse_duration, parse_fraction

SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
UNITS = st.sampled_from(sorted(SECONDS))
COUNTS = st.integers(min_value=1, max_value=3650)  # 3650d is the longest duration accepted


# --- durations ---------------------------------------------------------------------------


@given(COUNTS, UNITS)
@example(90, "s")
@example(1, "d")
@example(120, "s")
def test_duration_is_whole_count_of_its_unit(n: int, unit: str) -> None:
    assert parse_duration(f"{n}{unit}") == timedelta(seconds=n * SECONDS[unit])


@given(COUNTS, UNITS)
def test_duration_round_trips_through_its_written_form(n: int, unit: str) -> None:
    value = parse_duration(f"{n}{unit}")
    written = format_duration(value)
    assert re.fullmatch(r"[1-9]\d*[smhd]", written), written
    assert parse_duration(written) == value
    count, letter = int(written[:-1]), written[-1]
    assert count * SECONDS[letter] == n * SECONDS[unit]


@pytest.mark.parametrize(
    ("seconds", "written"),
    [(30, "30s"), (90, "90s"), (120, "2m"), (3600, "1h"), (5400, "90m"), (86400, "1d"), (129600, "36h")],
)
def test_duration_is_written_in_its_largest_whole_unit(seconds: int, written: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == written


def test_duration_tolerates_spaces_around() -> None:
    assert parse_duration(" 5 m ") == timedelta(minutes=5)


GARBAGE_DURATIONS = st.one_of(
    st.text(alphabet="abcxyz%.-+ ", max_size=8),
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 99), st.sampled_from(["w", "ms", "sec", "H", "D", "y", ""])),
    st.builds(lambda n, u: f"{n}{u}", st.floats(0.1, 99.9).map(lambda f: round(f, 1)).filter(lambda f: f % 1), UNITS),
    st.builds(lambda n, u: f"-{n}{u}", st.integers(1, 99), UNITS),
)


@given(GARBAGE_DURATIONS)
@example("")
@example("1.5h")
@example("h")
@example("10")
@example("5 minutes")
def test_garbage_duration_is_rejected_with_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration") as info:
        parse_duration(text)
    assert "30s" in str(info.value) and repr(text) in str(info.value)


@pytest.mark.parametrize("value", [None, 30, 1.5, ["1h"]])
def test_non_text_duration_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("text", ["0s", "0m", "0h", "0d", "00s"])
def test_zero_duration_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        parse_duration(text)


def test_absurdly_long_duration_is_a_message_not_a_crash() -> None:
    assert parse_duration("3650d") == timedelta(days=3650)
    for typo in ("3651d", "99999999999999d"):
        with pytest.raises(ValueError, match="at most 3650d"):
            parse_duration(typo)


# --- fractions ---------------------------------------------------------------------------

PERCENTS = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("1000"), places=2, allow_nan=False, allow_infinity=False
)


@given(PERCENTS)
@example(Decimal("10"))
@example(Decimal("2"))
@example(Decimal("0.5"))
@example(Decimal("100"))
def test_percent_is_exactly_a_hundredth(p: Decimal) -> None:
    assert parse_fraction(f"{p}%") == p / 100
    assert parse_fraction(f"{p} %") == p / 100


@given(PERCENTS)
def test_plain_fraction_is_read_exactly(p: Decimal) -> None:
    fraction = p / 100
    assert parse_fraction(str(fraction)) == fraction
    assert parse_fraction(fraction) == fraction


@pytest.mark.parametrize(
    ("written", "value"),
    [("0.1", "0.1"), ("10%", "0.1"), ("2%", "0.02"), ("0.02", "0.02"), ("12.5%", "0.125"), ("1", "1"), (1, "1")],
)
def test_fraction_examples_of_the_contract(written: object, value: str) -> None:
    assert parse_fraction(written) == Decimal(value)


@given(st.decimals(max_value=Decimal(0), allow_nan=False, allow_infinity=False, places=3))
@example(Decimal(0))
@example(Decimal("-0.1"))
def test_zero_or_negative_fraction_is_rejected(p: Decimal) -> None:
    for written in (str(p), f"{p}%"):
        with pytest.raises(ValueError, match="greater than zero"):
            parse_fraction(written)


@pytest.mark.parametrize("text", ["", "%", "ten", "10%%", "1/10", "0.1.2", "%10", "abc%", "10 percent"])
def test_garbage_fraction_is_rejected_with_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="is not a fraction") as info:
        parse_fraction(text)
    assert "10%" in str(info.value)


@pytest.mark.parametrize("value", [True, False])
def test_boolean_is_not_a_fraction(value: bool) -> None:
    with pytest.raises(ValueError, match="is not a fraction"):
        parse_fraction(value)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "inf%", "-Infinity"])
def test_non_finite_fraction_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_fraction(text)

"""Hostile and malformed config files: every one is valid or gives ``FILE:LINE`` lines, cheaply.

The bundled config.yaml is mutated (lines deleted, values swapped for other types, aliases,
NUL bytes, deep nesting) and each result must load or be refused with one
``FILE:LINE: dotted.path: message`` line per problem, within 2 s and 100 MB.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rates.config import Config, load_config, parse_config
from rates.errors import ConfigError
from tests.service_process import ROOT, child_env, rates_command

BUNDLED = ROOT / "config.yaml"
TEXT = BUNDLED.read_text(encoding="utf-8")
LINES = TEXT.splitlines()
SECONDS = 2.0
BYTES = 100 * 1024 * 1024
RANGE = "a quote lies between 1E-12 and 1E+12"
NOT_A_DATE = "not a real date: write YYYY-MM-DD, e.g. 2023-02-08"
DECREE_DATES = "a decree's date is from 1990 to today"
PROBLEM = re.compile(r"^c\.yaml:\d+: [^\n]+$")


def line_of(needle: str, text: str = TEXT) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def outcome(text: str, *, trace: bool = True) -> Config | list[str]:
    """The config, or its problem lines; fails if it took over 2 s or (traced) 100 MB."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        return parse_config(text, Path("c.yaml"))
    except ConfigError as exc:
        assert exc.lines(), "a ConfigError without a line"
        for line in exc.lines():
            assert PROBLEM.match(line), line
        return exc.lines()
    finally:
        took = time.perf_counter() - started
        if trace:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert peak < BYTES, f"peaked at {peak / 2**20:.0f} MB"
        assert took < SECONDS, f"took {took:.2f}s"


def problems(text: str) -> list[str]:
    result = outcome(text)
    assert isinstance(result, list), "expected the config to be refused"
    return result


def replaced(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


# --- the findings, one by one ---------------------------------------------------------------


def billion_laughs(levels: int = 10) -> str:
    """Ten aliases of ten aliases of ...: 10**levels strings if expanded."""
    lines = ["  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, levels)]
    return TEXT + "\nwidget_laughs:\n" + "\n".join(lines) + "\n"


def test_billion_laughs_is_one_line_at_the_first_alias() -> None:
    text = billion_laughs()
    assert problems(text) == [
        f"c.yaml:{line_of('*l0', text)}: YAML aliases (*l0) are not supported: write the value out"
    ]


def test_billion_laughs_through_check_config_stays_small(tmp_path: Path) -> None:
    """The command an admin runs: exit 2, one line, well under 100 MB for the whole process."""
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(levels=12), encoding="utf-8")
    # Started from a small parent: a child forked from pytest itself would count pytest's pages.
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, *rates_command(), "check-config", str(path)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=str(ROOT),
        timeout=60,
        check=True,
    )
    code, peak_kib = map(int, run.stdout.split())
    assert code == 2
    line = line_of("*l0", path.read_text())
    assert run.stderr.splitlines() == [f"{path}:{line}: YAML aliases (*l0) are not supported: write the value out"]
    assert peak_kib * 1024 < BYTES, f"check-config peaked at {peak_kib // 1024} MB"


# Runs argv as a child and prints its exit code and peak RSS (KiB), passing its stderr on.
_MEASURE = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = child.stderr.read()
_, status, usage = os.wait4(child.pid, 0)
sys.stderr.buffer.write(err)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def test_a_recursive_alias() -> None:
    text = TEXT + "\nloop: &loop [*loop]\n"
    assert problems(text) == [
        f"c.yaml:{line_of('loop:', text)}: YAML aliases (*loop) are not supported: write the value out"
    ]


def test_an_alias_used_as_a_value_is_refused_not_expanded() -> None:
    text = replaced("  - id: er-api\n", "  - id: er-api\n    every: &often 6h\n").replace(
        "    url: https://www.floatrates.com/daily/usd.json\n    every: 6h",
        "    url: https://www.floatrates.com/daily/usd.json\n    every: *often",
    )
    assert problems(text) == [
        f"c.yaml:{line_of('*often', text)}: YAML aliases (*often) are not supported: write the value out"
    ]


@pytest.mark.parametrize("depth", [17, 10_000])
def test_deep_nesting(depth: int) -> None:
    text = TEXT + "\nwidget_deep: " + "[" * depth + "]" * depth + "\n"
    assert problems(text) == [f"c.yaml:{line_of('widget_deep', text)}: nested deeper than 16 levels"]


def test_a_nul_byte_anywhere_names_its_line() -> None:
    at = TEXT.index("every: 6h")
    text = TEXT[:at] + "\0" + TEXT[at:]
    assert problems(text) == [f"c.yaml:{line_of('every: 6h')}: a NUL byte is not allowed in a config file"]


def test_a_control_character_names_its_line() -> None:
    text = replaced("theme: light", "theme: li\x07ght")
    assert problems(text) == [
        f"c.yaml:{line_of('theme: li')}: the control character U+0007 is not allowed in a config file"
    ]


def test_an_escaped_nul_in_a_path() -> None:
    text = replaced("dir: var/rates", 'dir: "var\\0rates"')
    assert problems(text) == [f"c.yaml:{line_of('dir: ')}: storage.dir: contains a NUL character"]


def test_an_escaped_nul_in_a_key() -> None:
    text = replaced("  theme: light", '  "the\\0me": light')
    lines = problems(text)
    line = line_of("the\\0me", text)
    assert f"c.yaml:{line}: widget.the\\x00me: contains a NUL character" in lines
    assert all("\0" not in problem for problem in lines)


@pytest.mark.parametrize("day", ["2001-02-30", "2001-13-01", "2001-00-10"])
def test_a_date_that_does_not_exist(day: str) -> None:
    text = replaced("published: 2001-07-09", f"published: {day}")
    assert problems(text) == [f"c.yaml:{line_of('published: ' + day, text)}: sources[1].published: {NOT_A_DATE}"]


@pytest.mark.parametrize(
    ("day", "why"),
    [("1989-12-31", "dated before 1990 (1989-12-31)"), ("2999-01-01", "dated in the future (2999-01-01)")],
)
def test_a_decree_date_outside_1990_to_today(day: str, why: str) -> None:
    text = replaced("published: 2001-07-09", f"published: {day}")
    assert problems(text) == [
        f"c.yaml:{line_of('published: ' + day, text)}: sources[1].published: {why}: {DECREE_DATES}"
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1E-999999", "1.000E-999999"), ("1e13", "1E+13"), ("0.0000000000001", "1.000E-13")],
)
def test_a_fixed_rate_outside_the_sane_range(value: str, shown: str) -> None:
    text = replaced("SAR: 3.75", f"SAR: {value}")
    assert problems(text) == [
        f"c.yaml:{line_of('SAR: ', text)}: sources[1].rates.SAR.rate: out of range ({shown}; {RANGE})"
    ]


def test_the_sane_range_applies_to_buy_and_sell() -> None:
    text = replaced("{rate: 1310, buy: 1300, sell: 1310}", "{rate: 1310, buy: 1300, sell: 1e20}")
    assert problems(text) == [
        f"c.yaml:{line_of('sell: 1e20', text)}: sources[4].rates.USD.sell: out of range (1.000E+20; {RANGE})"
    ]


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "host: 127.0.0.1",
            'host: ""',
            "server.host",
            "must name an address, e.g. 127.0.0.1 (write 0.0.0.0 or :: for every interface)",
        ),
        (
            "host: 127.0.0.1",
            'host: "  "',
            "server.host",
            "must name an address, e.g. 127.0.0.1 (write 0.0.0.0 or :: for every interface)",
        ),
        (
            "dir: var/rates",
            'dir: ""',
            "storage.dir",
            "must name a folder: an empty dir would put the store beside the config file",
        ),
        ("per: 1000}", "per: true}", "currencies[14].per", "expected a whole number, not true or false"),
        ("port: 8080", "port: true", "server.port", "expected a whole number, not true or false"),
        ("port: 8080", "port: " + "9" * 5000, "server.port", "expected a whole number"),
        (
            "SAR: 3.75",
            "SAR: true",
            "sources[1].rates.SAR.rate",
            "Decimal input should be an integer, float, string or Decimal object",
        ),
    ],
)
def test_accepted_before_but_wrong(old: str, new: str, path: str, message: str) -> None:
    text = replaced(old, new)
    assert problems(text) == [f"c.yaml:{line_of(new, text)}: {path}: {message}"]


def test_a_file_over_one_mebibyte_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(TEXT + "#" * (1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.lines() == [f"{path}:1: the file is larger than 1048576 bytes"]


# --- the fuzz -------------------------------------------------------------------------------

# What a value may be swapped for: other types, edge numbers and dates, YAML tricks.
_SWAPS = [
    "true",
    "null",
    "[]",
    "{}",
    '""',
    "-1",
    "0",
    "1e999999",
    "1E-999999",
    ".nan",
    "-.inf",
    "2001-02-30",
    "0000-01-01",
    '"a\\0b"',
    "&anchor [1, 2]",
    "*anchor",
    "!!binary aGVsbG8=",
    "!!python/object:os.system ls",
    "x" * 300,
    "9" * 5000,
    "[" * 40 + "]" * 40,
    '"\\uD800"',
    "{code: {code: {code: USD}}}",
]
_VALUE_LINES = [n for n, line in enumerate(LINES) if re.match(r"^\s*(- )?[a-zA-Z_]+: \S", line)]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["delete", "swap", "swap", "nul", "indent"]))
        if how == "delete" and lines:
            start = draw(st.integers(0, len(lines) - 1))
            del lines[start : start + draw(st.integers(1, 4))]
        elif how == "swap":
            n = draw(st.sampled_from(_VALUE_LINES))
            if n < len(lines) and ": " in lines[n]:
                key, _, _ = lines[n].partition(": ")
                lines[n] = f"{key}: {draw(st.sampled_from(_SWAPS))}"
        elif how == "nul" and lines:
            n = draw(st.integers(0, len(lines) - 1))
            at = draw(st.integers(0, len(lines[n])))
            lines[n] = lines[n][:at] + "\0" + lines[n][at:]
        elif how == "indent" and lines:
            n = draw(st.integers(0, len(lines) - 1))
            lines[n] = " " * draw(st.integers(1, 3)) + lines[n]
    return "\n".join(lines) + "\n"


def test_every_mutation_of_the_bundled_config_is_valid_or_file_lines() -> None:
    # tracemalloc would slow each parse fivefold: the fuzz times each file and bounds the
    # process's peak memory over the whole run instead (the hostile cases above trace it exactly).
    _fuzz(peak_rss())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mutated())
def _fuzz(before: int, text: str) -> None:
    outcome(text, trace=False)
    grown = peak_rss() - before
    assert grown < BYTES, f"the process peak grew by {grown / 2**20:.0f} MB"


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def test_the_bundled_config_itself_loads_within_the_bounds() -> None:
    assert isinstance(outcome(TEXT), Config)

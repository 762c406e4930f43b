"""config.yaml: the bundled file, the defaults, and every kind of problem with its line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rates.cli import main
from rates.config import config_path, load_config, parse_config
from rates.errors import ConfigError

BUNDLED = Path(__file__).parent.parent / "config.yaml"
WriteConfig = Callable[..., Path]

MINIMAL = """\
currencies:
  - USD
  - KWD
sources:
  - id: cbi
    kind: cbi
    url: https://cbi.iq/page/144
  - id: er-api
    kind: open-er-api
    url: https://open.er-api.com/v6/latest/USD
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} is not in the text {occurrence} times"
    return hits[occurrence - 1]


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.lines()


# --- the bundled file and the defaults -------------------------------------------------


def test_bundled_config_is_valid_and_says_what_the_file_says() -> None:
    config = load_config(BUNDLED)
    text = BUNDLED.read_text(encoding="utf-8")
    listed = re.findall(r"^  - (?:\{?code: )?([A-Z]{3})", text.split("\nsources:")[0], flags=re.M)
    assert config.codes == listed and len(listed) == 16
    assert [s.id for s in config.sources] == re.findall(r"^  - id: ([a-z0-9-]+)$", text, flags=re.M)
    assert [s.kind for s in config.sources] == re.findall(r"^    kind: ([a-z-]+)$", text, flags=re.M)
    irr = next(c for c in config.currencies if c.code == "IRR")
    assert (irr.name, irr.per) == ({"ar": "تومان إيراني"}, 10)  # other languages: CLDR's rial
    # A toman is 10 rials: the unit names the 10, and the note says it is not the market's rate.
    assert irr.unit == {"ar": "تومان", "ckb": "تمەن", "en": "toman"}
    assert isinstance(irr.note, dict) and irr.note["ar"] == "سعر رسمي؛ سعر السوق الحر يختلف كثيراً"
    assert config.widget.theme == "light"
    assert config.source("pegs").name is not None
    assert config.base == "IQD"
    assert config.policy.stale_after == timedelta(hours=36)
    assert config.policy.max_jump == Decimal("0.1")
    assert config.policy.agree_within == Decimal("0.02")
    # Relative to the file's folder, whatever the working directory.
    assert config.storage.dir == (BUNDLED.parent / "var" / "rates").resolve()
    pegs = config.source("pegs")
    assert pegs.rates["AED"].rate == Decimal("3.6725")  # type: ignore[attr-defined]
    assert str(pegs.rates["BHD"].rate) == "0.376"  # type: ignore[attr-defined]  # exact, not a float


def test_bundled_config_passes_check_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(BUNDLED)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "valid" in captured.out


def test_omitted_keys_take_the_contract_defaults(write_config: WriteConfig, tmp_path: Path) -> None:
    config = load_config(write_config(MINIMAL))
    assert config.base == "IQD"
    cbi, er_api = config.sources
    assert (cbi.every, cbi.timeout, cbi.column) == (timedelta(hours=1), timedelta(seconds=20), "sell")  # type: ignore[attr-defined]
    assert (er_api.every, er_api.timeout) == (timedelta(hours=1), timedelta(seconds=20))  # type: ignore[attr-defined]
    assert config.policy.stale_after == timedelta(hours=36)
    assert config.policy.max_jump == Decimal("0.10")
    assert config.policy.agree_within == Decimal("0.02")
    assert config.storage.dir == (tmp_path / "var" / "rates").resolve()
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.server.cors_origins == ["*"] and config.server.frame_ancestors == ["*"]
    assert config.server.max_age == timedelta(seconds=60)
    assert config.widget.title == {
        "ar": "الأسعار الرسمية للعملات مقابل الدينار",
        "ckb": "نرخە فەرمییەکانی دراوەکان بەرامبەر دینار",
        "en": "Official exchange rates against the Iraqi dinar",
    }
    assert (config.widget.digits, config.widget.theme, config.widget.lang) == ("arab", "auto", "ar")
    assert [(c.code, c.per, c.name, c.sources) for c in config.currencies] == [
        ("USD", 1, None, None),
        ("KWD", 1, None, None),
    ]
    # Preference: the order of `sources` unless the currency names its own.
    assert config.preference("KWD") == ["cbi", "er-api"]


def test_currency_entry_forms_and_own_preference(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("  - KWD\n", '  - {code: irr, name: "تومان", per: 10, sources: [er-api]}\n')
    config = load_config(write_config(text))
    irr = config.currencies[1]
    assert (irr.code, irr.name, irr.per) == ("IRR", {"ar": "تومان", "ckb": "تومان", "en": "تومان"}, 10)
    assert config.preference("IRR") == ["er-api"]
    assert config.preference("USD") == ["cbi", "er-api"]


def test_names_and_title_per_language(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("  - KWD\n", '  - {code: KWD, name: {ar: "دينار", en: "Kuwaiti dinar"}}\n')
    text += "widget:\n  title:\n    ckb: نرخەکان\n  lang: ckb\n"
    config = load_config(write_config(text))
    assert config.currencies[1].name == {"ar": "دينار", "en": "Kuwaiti dinar"}
    assert config.widget.title == {"ckb": "نرخەکان"}  # ar and en fall back to the default captions
    assert config.widget.lang == "ckb"


def test_unknown_language_keys_point_at_their_lines(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("  - KWD\n", "  - code: KWD\n    name:\n      ar: دينار\n      fr: dinar\n")
    text += "widget:\n  title: {ku: x}\n  lang: kmr\n"
    path = write_config(text)
    assert problems(path) == [
        f"{path}:{line_of(text, 'fr: dinar')}: currencies[1].name.fr: unknown language 'fr'; languages: ar, ckb, en",
        f"{path}:{line_of(text, 'title:')}: widget.title.ku: unknown language 'ku'; languages: ar, ckb, en",
        f"{path}:{line_of(text, 'lang:')}: widget.lang: Input should be 'ar', 'ckb' or 'en'",
    ]


def test_a_name_must_be_a_string_or_a_language_map(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("  - KWD\n", "  - {code: KWD, name: [a, b]}\n")
    path = write_config(text)
    message = "must be a string or a map of languages (ar, ckb, en) to strings"
    assert only_problem(path) == f"{path}:{line_of(text, 'name:')}: currencies[1].name: {message}"


def test_fractions_and_durations_in_both_forms(write_config: WriteConfig) -> None:
    text = MINIMAL + "policy:\n  stale_after: 2d\n  max_jump: 0.25\n  agree_within: 1.5%\n"
    config = load_config(write_config(text))
    assert config.policy.stale_after == timedelta(days=2)
    assert config.policy.max_jump == Decimal("0.25")
    assert config.policy.agree_within == Decimal("0.015")


# --- relative paths and where the file is found ------------------------------------------


def test_relative_storage_dir_is_relative_to_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "etc" / "rates"
    folder.mkdir(parents=True)
    path = folder / "config.yaml"
    path.write_text(MINIMAL + "storage:\n  dir: data/store\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("..") / "etc" / "rates" / "config.yaml")
    assert config.storage.dir == (folder / "data" / "store").resolve()
    assert config.storage.dir.is_absolute()


def test_absolute_storage_dir_is_kept(write_config: WriteConfig, tmp_path: Path) -> None:
    store = tmp_path / "somewhere" / "else"
    config = load_config(write_config(MINIMAL + f"storage:\n  dir: {store}\n"))
    assert config.storage.dir == store


def test_rates_config_environment_variable_is_honoured(
    write_config: WriteConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_config(MINIMAL, "good.yaml")
    bad = write_config(MINIMAL + "bogus: 1\n", "bad.yaml")
    monkeypatch.chdir(tmp_path)  # holds good.yaml and bad.yaml, no config.yaml
    monkeypatch.setenv("RATES_CONFIG", str(bad))
    assert config_path(None) == bad
    assert main(["check-config"]) == 2
    assert capsys.readouterr().err.startswith(f"{bad}:")
    monkeypatch.setenv("RATES_CONFIG", str(good))
    assert main(["check-config"]) == 0
    # An explicit path wins over the variable.
    assert main(["check-config", str(bad)]) == 2
    monkeypatch.delenv("RATES_CONFIG")
    assert config_path(None) == Path("config.yaml")


# --- each kind of problem, with its line -------------------------------------------------


def only_problem(path: Path) -> str:
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


def test_unknown_top_level_key(write_config: WriteConfig) -> None:
    text = MINIMAL + "polcy:\n  max_jump: 5%\n"
    path = write_config(text)
    assert only_problem(path) == f"{path}:{line_of(text, 'polcy')}: polcy: unknown key"


def test_unknown_key_inside_a_source(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("    url: https://open.er-api.com", "    colum: sell\n    url: https://open.er-api.com")
    path = write_config(text)
    assert only_problem(path) == f"{path}:{line_of(text, 'colum:')}: sources[1].colum: unknown key"


def test_unknown_key_inside_policy(write_config: WriteConfig) -> None:
    text = MINIMAL + "policy:\n  stale_after: 36h\n  max_jmp: 10%\n"
    path = write_config(text)
    assert only_problem(path) == f"{path}:{line_of(text, 'max_jmp')}: policy.max_jmp: unknown key"


def test_file_metadata_is_not_a_key(write_config: WriteConfig) -> None:
    """``path`` and ``loaded_at`` are the loader's, not keys a file may set."""
    text = MINIMAL + "loaded_at: 2020-01-01T00:00:00Z\npath: /etc/passwd\n"
    path = write_config(text)
    assert problems(path) == [
        f"{path}:{line_of(text, 'loaded_at')}: loaded_at: unknown key",
        f"{path}:{line_of(text, 'path:')}: path: unknown key",
    ]


def test_bad_duration(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("    url: https://cbi.iq/page/144", "    url: https://cbi.iq/page/144\n    every: 5x")
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, 'every: 5x')}: sources[0].every: ")
    assert "'5x' is not a duration" in line


def test_zero_duration(write_config: WriteConfig) -> None:
    text = MINIMAL + "server:\n  max_age: 0s\n"
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, 'max_age')}: server.max_age: ")
    assert "longer than zero" in line


def test_bad_fraction(write_config: WriteConfig) -> None:
    text = MINIMAL + "policy:\n  stale_after: 36h\n  max_jump: ten percent\n"
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, 'max_jump')}: policy.max_jump: ")
    assert "'ten percent' is not a fraction" in line


def test_negative_fraction(write_config: WriteConfig) -> None:
    text = MINIMAL + "policy:\n  agree_within: -2%\n"
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, 'agree_within')}: policy.agree_within: ")
    assert "greater than zero" in line


def test_duplicate_source_id_points_at_the_later_line(write_config: WriteConfig) -> None:
    text = MINIMAL + "  - id: cbi\n    kind: floatrates\n    url: https://www.floatrates.com/daily/usd.json\n"
    path = write_config(text)
    first, later = line_of(text, "- id: cbi", 1), line_of(text, "- id: cbi", 2)
    assert only_problem(path) == f"{path}:{later}: sources[2].id: duplicate source id 'cbi' (first at line {first})"


def test_unknown_kind(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("kind: open-er-api", "kind: open-er")
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, 'kind: open-er')}: sources[1].kind: unknown kind 'open-er'")
    for kind in ("cbi", "open-er-api", "floatrates", "ecb", "currency-api", "fixed", "json"):
        assert kind in line  # the message lists what is known


def test_missing_kind(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("    kind: open-er-api\n", "")
    path = write_config(text)
    assert only_problem(path) == f"{path}:{line_of(text, 'id: er-api')}: sources[1].kind: required"


def test_base_other_than_iqd(write_config: WriteConfig) -> None:
    text = "base: USD\n" + MINIMAL
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:1: base: ")
    assert "IQD" in line


def test_base_iqd_written_out_is_fine(write_config: WriteConfig) -> None:
    assert load_config(write_config("base: IQD\n" + MINIMAL)).base == "IQD"


def test_currency_naming_an_unknown_source(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("  - KWD\n", "  - {code: KWD, sources: [er-api, er-api2]}\n")
    path = write_config(text)
    line = line_of(text, "er-api2")
    assert only_problem(path) == f"{path}:{line}: currencies[1].sources[1]: no source has id 'er-api2'"


def test_currency_naming_an_unknown_source_in_block_style(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("  - KWD\n", "  - code: KWD\n    sources:\n      - er-api\n      - floatrates\n")
    path = write_config(text)
    assert only_problem(path) == (
        f"{path}:{line_of(text, '- floatrates')}: currencies[1].sources[1]: no source has id 'floatrates'"
    )


def test_broken_yaml_syntax(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("    url: https://cbi.iq/page/144\n", "    url: https://cbi.iq/page/144\n   every: 1h\n")
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, '   every: 1h')}: ")
    assert "YAML" in line


def test_tab_indentation_is_a_syntax_problem_on_its_line(write_config: WriteConfig) -> None:
    text = MINIMAL + "policy:\n\tmax_jump: 10%\n"
    path = write_config(text)
    line = only_problem(path)
    assert line.startswith(f"{path}:{line_of(text, 'max_jump')}: ")


def test_missing_required_key_inside_a_source(write_config: WriteConfig) -> None:
    text = MINIMAL.replace("    url: https://open.er-api.com/v6/latest/USD\n", "    every: 6h\n")
    path = write_config(text)
    assert only_problem(path) == f"{path}:{line_of(text, 'id: er-api')}: sources[1].url: required"


def test_missing_required_top_level_key(write_config: WriteConfig) -> None:
    text = MINIMAL.split("sources:")[0]
    path = write_config(text)
    assert only_problem(path) == f"{path}:1: sources: required"


def test_fixed_source_keys(write_config: WriteConfig) -> None:
    text = MINIMAL + (
        "  - id: pegs\n    kind: fixed\n    ref: USD\n    published: 2001-07-09\n"
        "    every: 1h\n    rates: {SAR: 3.75, BHD: 0}\n"
    )
    path = write_config(text)
    assert problems(path) == [
        f"{path}:{line_of(text, 'every: 1h')}: sources[2].every: unknown key",
        f"{path}:{line_of(text, 'BHD: 0')}: sources[2].rates.BHD.rate: Input should be greater than 0",
    ]


def test_duplicate_yaml_key(write_config: WriteConfig) -> None:
    text = MINIMAL + "policy:\n  max_jump: 10%\n  max_jump: 20%\n"
    path = write_config(text)
    first, later = line_of(text, "max_jump", 1), line_of(text, "max_jump", 2)
    assert only_problem(path) == f"{path}:{later}: policy.max_jump: duplicate key (first at line {first})"


def test_every_problem_is_reported_at_once(write_config: WriteConfig) -> None:
    text = """\
base: EUR
currencies:
  - USD
  - {code: KWD, sources: [nowhere]}
sources:
  - id: cbi
    kind: cbi
    url: https://cbi.iq/page/144
    every: soon
  - id: er-api
    kind: open-er-api
    url: https://open.er-api.com/v6/latest/USD
    colour: blue
  - id: cbi
    kind: bank
policy:
  max_jump: lots
extra: 1
"""
    path = write_config(text)
    found = problems(path)
    expected = [
        (line_of(text, "base: EUR"), "base: "),
        (line_of(text, "nowhere"), "currencies[1].sources[0]: no source has id 'nowhere'"),
        (line_of(text, "every: soon"), "sources[0].every: 'soon' is not a duration"),
        (line_of(text, "colour"), "sources[1].colour: unknown key"),
        (line_of(text, "id: cbi", 2), "sources[2].id: duplicate source id 'cbi'"),
        (line_of(text, "kind: bank"), "sources[2].kind: unknown kind 'bank'"),
        (line_of(text, "max_jump"), "policy.max_jump: 'lots' is not a fraction"),
        (line_of(text, "extra"), "extra: unknown key"),
    ]
    assert len(found) == len(expected), found
    for (line, start), got in zip(sorted(expected), found, strict=True):
        assert got.startswith(f"{path}:{line}: {start}"), (got, line, start)


# --- rates check-config ------------------------------------------------------------------


def test_check_config_valid_exits_0(write_config: WriteConfig, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(MINIMAL)
    assert main(["check-config", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert str(path) in captured.out and "valid" in captured.out


def test_check_config_invalid_exits_2_one_line_per_problem(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    text = MINIMAL.replace("kind: cbi", "kind: cbii") + "policy:\n  stale_after: forever\n"
    path = write_config(text)
    assert main(["check-config", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 2, captured.err
    assert lines[0].startswith(f"{path}:{line_of(text, 'kind: cbii')}: sources[0].kind: unknown kind 'cbii'")
    assert lines[1].startswith(f"{path}:{line_of(text, 'stale_after')}: policy.stale_after: 'forever'")
    for line in lines:
        assert re.fullmatch(r".+:\d+: [a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: .+", line), line
    assert "valid" not in captured.out


def test_check_config_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.yaml"
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1: ") and "cannot read" in err


def test_fetch_with_an_invalid_config_exits_2(write_config: WriteConfig, capsys: pytest.CaptureFixture[str]) -> None:
    text = MINIMAL + "bogus: 1\n"
    path = write_config(text)
    assert main(["fetch", "-c", str(path)]) == 2
    assert capsys.readouterr().err.strip() == f"{path}:{line_of(text, 'bogus')}: bogus: unknown key"


# --- no input crashes the checker ------------------------------------------------------

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.sampled_from(["USD", "cbi", "1h", "10%", "fixed", "", "x y"])
)
_KEYS = st.sampled_from(
    [
        "id",
        "kind",
        "url",
        "every",
        "code",
        "sources",
        "currencies",
        "rates",
        "ref",
        "base",
        "policy",
        "per",
        "max_jump",
        "published",
        "zz",
    ]
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=12,
)


_SOURCE = st.dictionaries(_KEYS, _VALUES, max_size=5) | st.fixed_dictionaries(
    {"id": _VALUES, "kind": _VALUES}, optional={"url": _VALUES, "rates": _VALUES}
)
_DOCUMENTS = st.dictionaries(_KEYS, _VALUES, max_size=5) | st.fixed_dictionaries(
    {
        "currencies": _VALUES | st.lists(_VALUES | st.dictionaries(_KEYS, _VALUES, max_size=3), max_size=3),
        "sources": _VALUES | st.lists(_SOURCE, max_size=3),
    },
    optional={"policy": _VALUES, "base": _VALUES},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENTS)
def test_any_document_gives_a_config_or_problems_never_a_crash(document: dict[str, object]) -> None:
    text = json.dumps(document)  # JSON is YAML
    try:
        parse_config(text, Path("c.yaml"))
    except ConfigError as exc:
        assert exc.lines()
        for line in exc.lines():
            assert re.match(r"c\.yaml:\d+: ", line), line
            assert "\n" not in line


def test_a_currency_range_is_min_below_max_both_positive(write_config: Callable[[str], Path]) -> None:
    good = write_config(MINIMAL.replace("  - KWD\n", "  - {code: KWD, range: [3000, 5500]}\n"))
    assert load_config(good).currency_range("KWD") == (Decimal(3000), Decimal(5500))
    assert load_config(good).currency_range("USD") is None
    text = MINIMAL.replace(
        "  - USD\n  - KWD\n", "  - {code: USD, range: [1500, 1000]}\n  - {code: KWD, range: [0, 5]}\n"
    )
    path = write_config(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    lines = raised.value.lines()
    assert any(line.startswith(f"{path}:2: currencies[0].range: ") and "MIN below MAX" in line for line in lines), lines
    assert f"{path}:3: currencies[1].range[0]: Input should be greater than 0" in lines

"""Currency names per language: CLDR for Arabic and English, the shipped table for Sorani."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl

from rates.config import load_config
from widget.ckb_names import CKB_TABLE
from widget.names import currency_name

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "tests" / "fixtures" / "upstream" / "cbi_major_currencies_and_gold.xlsx"
# Letters of Arabic spelling that Sorani never uses (it writes ی, ک, ە).
ARABIC_ONLY = re.compile("[\u0629\u064a\u0643\u0649\u0623\u0625]")


def workbook_codes() -> set[str]:
    """Every currency the CBI's workbook quotes, read from its headers (SDR is not a currency here)."""
    book = openpyxl.load_workbook(WORKBOOK, read_only=True)
    codes: set[str] = set()
    aliases = {"S.FR": "CHF", "UAE": "AED", "GOLD": "XAU"}
    for sheet in book.worksheets:
        for row in sheet.iter_rows(max_row=6, values_only=True):
            if not any("USD" in str(cell or "") for cell in row):
                continue  # the title, year and month rows
            for cell in row:
                text = str(cell or "").strip().upper()
                found = aliases.get(text) or (m.group(0) if (m := re.search(r"\b[A-Z]{3}\b", text)) else None)
                if found and found != "SDR":
                    codes.add(found)
    book.close()
    return codes


def test_the_sorani_table_covers_the_bundled_config_and_the_cbi_workbook() -> None:
    wanted = set(load_config(ROOT / "config.yaml").codes) | workbook_codes()
    assert {"USD", "EUR", "XAU", "CHF", "AED", "INR", "SYP"} <= wanted
    assert sorted(wanted - set(CKB_TABLE)) == []


def test_every_sorani_name_says_where_it_comes_from() -> None:
    for code, (name, source) in CKB_TABLE.items():
        assert name.strip() and not ARABIC_ONLY.search(name), (code, name)
        assert source.startswith(("CLDR", "usage: ")), (code, source)
        if source.startswith("usage: "):
            assert re.search(r"[a-z0-9.-]+\.[a-z]{2,}/", source), (code, source)  # names the page


def test_names_per_language() -> None:
    assert currency_name("USD", "en") == "US Dollar"
    assert currency_name("USD", "ar") == "دولار أمريكي"
    assert currency_name("USD", "ckb") == "دۆلاری ئەمریکی"  # not in CLDR: the shipped table
    assert currency_name("RUB", "ckb") == "ڕوبڵی ڕووسی"  # not in the table: CLDR's draft
    assert currency_name("XTS", "ckb") == "XTS"  # nobody names it: the code

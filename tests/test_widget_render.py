"""The widget page as a reader (and a browser's CSP check) sees it."""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from widget.format import format_number
from widget.render import WidgetOptions, WidgetRenderer
from widget.texts import LANGS, MESSAGES, NO_SOURCE, NOT_REACHED

ROOT = Path(__file__).resolve().parents[1]
TITLE = "الأسعار الرسمية للعملات مقابل الدينار"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

# code, name, rate (IQD per 1), buy, sell, per, source, status, change
CURRENCIES: list[tuple[str, str, str | None, str | None, str | None, int, str, str, str | None]] = [
    ("USD", "دولار أمريكي", "1310", "1300", "1310", 1, "cbi", "ok", "0"),
    ("EUR", "يورو", "1420.55", "1410.2", "1420.55", 1, "cbi", "ok", "3.5"),
    ("GBP", "جنيه إسترليني", "1660.33", "1650.1", "1660.33", 1, "cbi", "ok", "-2.25"),
    ("TRY", "ليرة تركية", "38.2137", None, None, 1, "er-api", "ok", None),
    ("AED", "درهم إماراتي", "356.705", "353.983", "356.705", 1, "pegs", "ok", "0"),
    ("SAR", "ريال سعودي", "349.333", "346.667", "349.333", 1, "pegs", "ok", "0"),
    ("QAR", "ريال قطري", "359.890", "357.143", "359.890", 1, "pegs", "ok", "0"),
    ("OMR", "ريال عماني", "3407.02", "3381.01", "3407.02", 1, "pegs", "ok", "0"),
    ("BHD", "دينار بحريني", "3484.04", "3457.45", "3484.04", 1, "pegs", "held", "0"),
    ("JOD", "دينار أردني", "1847.67", "1833.57", "1847.67", 1, "pegs", "ok", "0"),
    ("KWD", "دينار كويتي", "4270.41", None, None, 1, "er-api", "stale", "-1.5"),
    ("EGP", "جنيه مصري", "26.9112", None, None, 1, "er-api", "ok", "0.01"),
    ("LBP", "ليرة لبنانية", "0.0146", None, None, 1000, "er-api", "ok", "0"),
    ("SYP", "ليرة سورية", "0.100734", None, None, 100, "er-api", "ok", None),
    ("YER", "ريال يمني", None, None, None, 100, "er-api", "unavailable", None),
    ("IRR", "ريال إيراني", "0.0311", None, None, 10, "er-api", "ok", "-0.0001"),
]
CODES = [c[0] for c in CURRENCIES]


def _num(text: str | None) -> Decimal | int | None:
    if text is None:
        return None
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() and "." not in text else value


def sample_document() -> dict[str, Any]:
    rates = []
    for code, name, rate, buy, sell, per, source, status, change in CURRENCIES:
        published = None if rate is None else ("2026-11-20" if status == "stale" else "2026-11-29")
        rates.append(
            {
                "code": code,
                "name": name,
                "rate": _num(rate),
                "buy": _num(buy),
                "sell": _num(sell),
                "per": per,
                "source": source if rate is not None else None,
                "published": published,
                "fetched_at": "2026-11-29T09:30:00Z",
                "status": status,
                "change": _num(change),
                "reason": "لا يوجد مصدر متاح" if rate is None else None,
            }
        )
    return {"base": "IQD", "updated_at": "2026-11-29T09:30:00Z", "rates": rates}


def sample_history() -> dict[str, list[tuple[str, Decimal]]]:
    history: dict[str, list[tuple[str, Decimal]]] = {}
    for index, (code, _, rate, *_rest) in enumerate(CURRENCIES):
        if rate is None:
            continue
        base = Decimal(rate)
        history[code] = [
            (f"2026-11-{day:02d}", base * (1 + Decimal((day * (index + 3)) % 7 - 3) / 400)) for day in range(1, 31)
        ]
    return history


def render(**kwargs: Any) -> str:
    options = WidgetOptions(
        symbols=kwargs.pop("symbols", None),
        theme=kwargs.pop("theme", "auto"),
        digits=kwargs.pop("digits", "arab"),
        trend=kwargs.pop("trend", False),
        lang=kwargs.pop("lang", "ar"),
    )
    document = kwargs.pop("document", None) or sample_document()
    history = kwargs.pop("history", None)
    renderer = WidgetRenderer(
        title=kwargs.pop("title", {"ar": TITLE}), names=kwargs.pop("names", {}), max_age_seconds=60
    )
    assert not kwargs
    return renderer.render(document, options, history)


def rows(page: str) -> dict[str, str]:
    found = re.findall(r'<tr data-code="([A-Z]{3})"[^>]*>(.*?)</tr>', page, re.S)
    return {code: body for code, body in found}


def text(fragment: str) -> str:
    """What a reader sees: tags dropped, visually hidden spans kept apart."""
    return unescape(re.sub(r"<[^>]+>", " ", fragment))


def visible_text(fragment: str) -> str:
    fragment = re.sub(r'<i class="v">.*?</i>', "", fragment)
    fragment = re.sub(r'<span class="v">.*?</span>', "", fragment)
    return re.sub(r"\s+", " ", text(fragment)).strip()


@pytest.fixture(scope="module")
def page() -> str:
    return render()


def test_page_is_arabic_rtl_utf8_with_a_real_table(page: str) -> None:
    assert page.startswith("<!doctype html>")
    assert '<html lang="ar" dir="rtl"' in page
    assert '<meta charset="utf-8">' in page
    assert f"<caption><h1>{TITLE}</h1></caption>" in page  # the page's one heading is the table's caption
    assert '<main id="w">' in page
    assert '<th scope="col" class="c">' in page
    assert "Tahoma" in page and "Noto Sans Arabic" in page


def test_one_row_per_currency_in_document_order_with_status(page: str) -> None:
    found = re.findall(r'<tr data-code="([A-Z]{3})" data-status="(\w+)">', page)
    assert [code for code, _ in found] == CODES
    statuses = dict(found)
    assert statuses["USD"] == "ok"
    assert statuses["KWD"] == "stale"
    assert statuses["BHD"] == "held"
    assert statuses["YER"] == "unavailable"


def test_arabic_indic_digits_and_separators(page: str) -> None:
    table = rows(page)
    assert "١٬٣١٠" in table["USD"]
    assert "٣٤٩٫٣٣" in table["SAR"]
    assert "١٬٤٢١" in table["EUR"]  # whole dinars from 1000 up
    assert "٣٨٫٢١" in table["TRY"]
    assert "دولار أمريكي" in table["USD"]
    rates_text = visible_text("".join(re.findall(r'<td class="r">.*?</td>', page, re.S)))
    assert not re.search(r"[0-9]", rates_text)
    content = page.split('<main id="w">')[1].split("<script>")[0]
    assert not re.search(r"[0-9]", visible_text(content))
    assert "٢٩ تشرين الثاني ٢٠٢٦" in table["USD"]
    assert "١٢:٣٠" in page  # 09:30Z is 12:30 in Baghdad


def test_latin_digits_variant() -> None:
    page = render(digits="latn")
    table = rows(page)
    assert "1,310" in table["USD"]
    assert "349.33" in table["SAR"]
    assert "3,484" in table["BHD"]
    assert not re.search(f"[{ARABIC_DIGITS}٬٫]", page)
    assert "29 تشرين الثاني 2026" in table["USD"]
    assert "12:30" in page


def test_rates_are_shown_per_display_unit() -> None:
    table = rows(render(digits="latn"))
    assert "لكل 10" in table["IRR"]
    assert "<b>0.3110" in table["IRR"]  # 0.0311 × 10, four significant digits
    assert "لكل 1,000" in table["LBP"]
    assert "<b>14.60" in table["LBP"]  # 0.0146 × 1000, the zero kept
    assert "<b>10.07" in table["SYP"]  # 0.100734 × 100
    assert "لكل" not in table["USD"]


def test_number_presentation() -> None:
    assert format_number(Decimal("1310"), "latn") == "1,310"
    assert format_number(Decimal("349.333"), "latn") == "349.33"
    assert format_number(Decimal("349.335"), "latn") == "349.34"
    assert format_number(Decimal("38.2137"), "latn") == "38.21"
    assert format_number(Decimal("3.6725"), "latn") == "3.673"
    assert format_number(Decimal("0.0311"), "latn") == "0.03110"
    assert format_number(Decimal("0.00000123456"), "latn") == "0.000001235"
    assert format_number(Decimal("1E-12"), "latn") == "0.000000000001000"
    assert format_number(Decimal("123456789"), "latn") == "123,456,789"
    assert format_number(Decimal("1310"), "arab") == "١٬٣١٠"
    assert format_number(Decimal("349.333"), "arab") == "٣٤٩٫٣٣"


def test_stale_rate_keeps_value_with_mark_and_date(page: str) -> None:
    row = rows(page)["KWD"]
    assert "٤٬٢٧٠" in row
    assert "قديم" in row
    assert "٢٠ تشرين الثاني ٢٠٢٦" in row
    assert '<time datetime="2026-11-20">' in row


def test_held_rate_keeps_value_with_a_note(page: str) -> None:
    row = rows(page)["BHD"]
    assert "٣٬٤٨٤" in row
    assert "قيد المراجعة" in row


@pytest.mark.parametrize("digits", ["arab", "latn"])
def test_unavailable_rate_is_a_dash_with_reason_never_zero(digits: str) -> None:
    page = render(digits=digits)
    row = rows(page)["YER"]
    assert "—" in row
    assert "لا يوجد مصدر متاح" in page.split("<footer>")[1]  # the reason, said once in the footer
    shown = visible_text(row)
    assert not re.search(r"[0٠]", shown), shown
    assert "<b>" not in row


def test_unavailable_default_reason_and_bad_numbers_never_zero() -> None:
    document = sample_document()
    for entry in document["rates"]:
        if entry["code"] == "YER":
            entry["reason"] = None
        if entry["code"] == "EUR":  # claims ok but carries no usable number
            entry["rate"] = 0
        if entry["code"] == "GBP":
            entry["rate"] = Decimal("NaN")
    table = rows(render(document=document))
    assert "غير متاح" in table["YER"]  # read out for the "—"
    for code in ("EUR", "GBP"):
        assert f'data-code="{code}"' in render(document=document)
        assert "—" in table[code]
        assert not re.search(r"[0٠]", visible_text(table[code]))
    assert 'data-code="EUR" data-status="unavailable"' in render(document=document)


def test_change_marks_have_a_text_alternative(page: str) -> None:
    table = rows(page)
    assert '<i class="u" aria-hidden="true">▲</i><i class="v"> ارتفاع</i>' in table["EUR"]
    assert '<i class="x" aria-hidden="true">▼</i><i class="v"> انخفاض</i>' in table["GBP"]
    assert "▲" not in table["USD"] and "▼" not in table["USD"]  # change 0
    assert "▲" not in table["TRY"] and "▼" not in table["TRY"]  # change null
    assert "▼" in table["IRR"]  # a tiny fall still shows


def test_buy_and_sell_where_known(page: str) -> None:
    usd = rows(page)["USD"]
    # The sell column repeats every rate here: only buy is shown.
    assert re.findall(r'<td class="b">(.*?)</td>', usd) == ["١٬٣٠٠"]
    assert re.findall(r'<td class="b">(.*?)</td>', rows(page)["TRY"]) == [
        '<span aria-hidden="true">—</span><span class="v">غير معروف</span>'
    ]
    only_pegless = render(symbols=("TRY", "EGP"))
    assert 'class="b"' not in only_pegless  # no column when nobody has buy/sell


def test_symbols_filter_keeps_document_order() -> None:
    page = render(symbols=("IRR", "USD", "EUR"))
    assert list(rows(page)) == ["USD", "EUR", "IRR"]


def test_no_rows_message() -> None:
    page = render(symbols=("XAU",))
    assert "<tr data-code" not in page
    assert "لا توجد أسعار" in page


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_theme_marker_and_one_stylesheet(theme: str) -> None:
    page = render(theme=theme)
    assert f'data-theme="{theme}"' in page
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert style and "[data-theme=dark]" in style.group(1)
    assert "prefers-color-scheme:dark" in style.group(1)
    narrow = re.findall(r"@media \(max-width:(\d+)px\)\{(.*?)\}\}", style.group(1))
    assert any(int(width) >= 360 and "th.b,td.b{width:0" in rules for width, rules in narrow)


def test_upstream_strings_are_escaped() -> None:
    document = sample_document()
    document["rates"][0]["name"] = "<script>alert(1)</script>"
    document["rates"][0]["source"] = '"><img src=x onerror=alert(2)>'
    document["rates"][14]["reason"] = "<b>down</b>"
    page = WidgetRenderer(title="<i>x</i> & co", max_age_seconds=60).render(
        document, WidgetOptions(symbols=None, theme="auto", digits="arab")
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "<img" not in page
    assert "&lt;b&gt;down&lt;/b&gt;" in page
    assert "<caption><h1>&lt;i&gt;x&lt;/i&gt; &amp; co</h1></caption>" in page
    assert page.count("<script") == 1


def test_size_for_sixteen_currencies() -> None:
    page = render()
    assert len(rows(page)) == 16
    assert len(page.encode("utf-8")) < 16 * 1024
    with_trend = render(trend=True, history=sample_history())
    # Trend paths with their spoken text: still a fraction of one TCP window once gzipped.
    assert len(with_trend.encode("utf-8")) < 20 * 1024


def test_trend_lines_are_inline_svg() -> None:
    page = render(trend=True, history=sample_history(), digits="latn")
    table = rows(page)
    assert "<svg" in table["USD"] and "<path" in table["USD"]
    assert "<svg" not in table["YER"]
    assert "<svg" not in render(history=sample_history())  # only when asked
    points = re.search(r' d="(M[^"]+)"', table["USD"])
    assert points and "e" not in points.group(1).lower()


def test_no_external_requests(page: str) -> None:
    for variant in (page, render(trend=True, history=sample_history(), theme="dark")):
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", variant, re.I)
        assert not re.search(r"url\(", variant, re.I)
        assert "@import" not in variant
        assert "http://" not in variant and "https://" not in variant
        assert "<link" not in variant and "<img" not in variant


def _csp_hash(body: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_csp_hashes_match_the_inline_style_and_script(theme: str) -> None:
    renderer = WidgetRenderer(title=TITLE, max_age_seconds=120)
    page = renderer.render(sample_document(), WidgetOptions(symbols=None, theme=theme, digits="latn"))
    csp = renderer.content_security_policy(["https://news.example", "'self'"])
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(styles) == 1 and len(scripts) == 1
    assert directives["style-src"] == _csp_hash(styles[0])
    assert directives["script-src"] == _csp_hash(scripts[0])
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "https://news.example 'self'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'none'"
    assert " style=" not in page  # inline style attributes would need 'unsafe-hashes'
    assert 'data-refresh="120"' in page


def test_csp_frame_ancestors_variants() -> None:
    renderer = WidgetRenderer(title=TITLE, max_age_seconds=60)
    assert "frame-ancestors *;" in renderer.content_security_policy(["*"])
    assert "frame-ancestors 'none';" in renderer.content_security_policy([])
    injected = renderer.content_security_policy(["https://a.example; script-src *"])
    assert "script-src *" not in injected
    assert "frame-ancestors 'none';" in injected


def test_refresh_script_swaps_content_and_posts_height(page: str) -> None:
    script = re.findall(r"<script>(.*?)</script>", page, re.S)[0]
    assert "fetch(location.href" in script
    assert "iqd-rates:height" in script and "postMessage" in script
    assert "resize" in script
    assert "replaceChild" in script
    assert 'data-refresh="60"' in page
    assert 'id="w"' in page


def test_embed_loader_is_small_and_self_contained() -> None:
    source = (ROOT / "widget" / "static" / "embed.js").read_text(encoding="utf-8")
    assert len(source.encode("utf-8")) < 8 * 1024
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S).strip()
    assert code.startswith("(function") and code.endswith("})();")  # an IIFE: no globals
    for needle in (
        "currentScript",
        "widget\\.js",
        "iqd-rates:height",
        "event.origin !== origin",
        "event.source !== frame.contentWindow",
        '"loading", "lazy"',
        'createElement("iframe")',
        "insertBefore(box, script.nextSibling)",  # the reserved box, right where the script stands
        "/*TABLE*/ null",  # the service fills in the height table
        "console.error",
        "catch",
    ):
        assert needle in source, needle
    assert "http://" not in source and "https://" not in source


# Languages -----------------------------------------------------------------------------------

# Letters of Arabic that Sorani spelling never uses (it writes ی, ک, ە instead of ي, ك, ة).
ARABIC_ONLY = re.compile("[\u0629\u064a\u0643\u0649\u0623\u0625]")
ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")


def test_every_message_exists_in_every_language() -> None:
    for key, messages in MESSAGES.items():
        assert set(messages) == set(LANGS), key
        assert all(messages[lang].strip() for lang in LANGS), key
        assert not ARABIC_ONLY.search(messages["ckb"]), (key, messages["ckb"])
        assert not ARABIC_SCRIPT.search(messages["en"]), (key, messages["en"])


@pytest.mark.parametrize(("lang", "direction"), [("ar", "rtl"), ("ckb", "rtl"), ("en", "ltr")])
def test_html_lang_and_dir(lang: str, direction: str) -> None:
    assert f'<html lang="{lang}" dir="{direction}"' in render(lang=lang)


def test_sorani_page_reads_sorani() -> None:
    page = render(lang="ckb")
    table = rows(page)
    assert "نرخە فەرمییەکانی دراوەکان بەرامبەر دینار" in page  # the default caption: the config names only ar
    assert '<th scope="col" class="c">دراو</th>' in page
    assert "دۆلاری ئەمریکی" in table["USD"] and "دیناری کووەیتی" in table["KWD"]
    assert "١٬٣١٠" in table["USD"]
    assert "٢٩ی تشرینی دووەمی ٢٠٢٦" in table["USD"]  # CLDR's Sorani long date and month name
    assert "کۆن" in table["KWD"] and "لە پێداچوونەوەدایە" in table["BHD"]
    assert "بۆ هەر ١٬٠٠٠" in table["LBP"]
    assert "بەردەست نییە" in table["YER"]  # the "—" cell's spoken text
    assert "لا يوجد مصدر متاح" not in page  # an unknown reason sentence is not shown in Arabic
    assert not ARABIC_ONLY.search(visible_text(page.split("<body>")[1])), "Arabic spelling left on a Sorani page"


def test_english_page_has_no_arabic_script() -> None:
    page = render(lang="en", digits="latn")
    table = rows(page)
    assert "Official exchange rates against the Iraqi dinar" in page
    assert "US Dollar" in table["USD"] and "1,310" in table["USD"] and "١" not in page
    assert "Nov 29, 2026" in table["USD"]  # CLDR medium: one line at 280 px
    assert "Outdated" in table["KWD"] and "Under review" in table["BHD"] and "per 1,000" in table["LBP"]
    body = page.split("<body>")[1]
    assert not ARABIC_SCRIPT.search(text(body)), "Arabic script left on an English page"


def test_english_with_arabic_digits_when_asked() -> None:
    assert "١٬٣١٠" in rows(render(lang="en", digits="arab"))["USD"]


@pytest.mark.parametrize("code", [NO_SOURCE, NOT_REACHED])
def test_reasons_are_worded_per_language(code: str) -> None:
    for reason in (code, MESSAGES[code]["ar"]):  # the API carries the Arabic sentence
        document = sample_document()
        next(e for e in document["rates"] if e["code"] == "YER")["reason"] = reason
        for lang in LANGS:
            # Said once, in the footer (the row itself is one short line).
            assert MESSAGES[code][lang] in render(lang=lang, document=document).split("<footer>")[1]


def test_configured_names_and_titles_per_language() -> None:
    names = {"USD": {"ar": "الدولار", "ckb": "دۆلار", "en": "Dollar"}, "EUR": {"en": "The euro"}}
    title = {"ar": "أسعار", "en": "Rates"}
    for lang, usd, eur, caption in [
        ("ar", "الدولار", "يورو", "أسعار"),
        ("ckb", "دۆلار", "یورۆ", "نرخە فەرمییەکانی دراوەکان بەرامبەر دینار"),
        ("en", "Dollar", "The euro", "Rates"),
    ]:
        page = render(lang=lang, names=names, title=title)
        assert f"<caption><h1>{caption}</h1></caption>" in page
        assert rows(page)["USD"].startswith(f'<th scope="row"><span class="n">{usd}</span><small>')
        assert rows(page)["EUR"].startswith(f'<th scope="row"><span class="n">{eur}</span><small>')


def test_a_plain_title_string_is_every_language() -> None:
    for lang in LANGS:
        assert "<caption><h1>IQD</h1></caption>" in render(lang=lang, title="IQD")


def test_the_code_is_isolated_from_the_text_around_it() -> None:
    for lang in LANGS:
        assert '<small><bdi class="k">USD</bdi></small>' in rows(render(lang=lang))["USD"]

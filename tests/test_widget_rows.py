"""What a reader in Baghdad reads on each row: dates, units, decimals, marks, credits, trends."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

from tests.test_widget_render import render, rows, sample_document, visible_text
from widget.format import display_decimals, format_number
from widget.render import Credit, Labels, WidgetOptions, WidgetRenderer


def render_with(labels: Labels, document: dict[str, Any] | None = None, **options: Any) -> str:
    renderer = WidgetRenderer(title="أسعار", max_age_seconds=60, labels={"ar": labels})
    settings = WidgetOptions(
        symbols=options.pop("symbols", None),
        theme="light",
        digits=options.pop("digits", "arab"),
        trend=options.pop("trend", False),
    )
    return renderer.render(document or sample_document(), settings, options.pop("history", None))


def footer(page: str) -> str:
    found = re.search(r"<footer>(.*?)</footer>", page, re.S)
    assert found
    return found.group(1)


def test_the_date_column_says_whose_date_it_is() -> None:
    page = render()
    assert '<th scope="col" class="d">تاريخ النشرة</th>' in page
    assert "التاريخ<" not in page


def test_the_toman_row_reads_one_toman_of_ten_rials() -> None:
    labels = Labels(units={"IRR": "تومان"}, notes={"IRR": "سعر رسمي؛ سعر السوق الحر يختلف كثيراً"})
    page = render_with(labels, symbols=("IRR", "LBP"))
    irr = visible_text(rows(page)["IRR"])
    assert "١ تومان (١٠ ريال)" in irr and "لكل" not in irr
    assert "٠٫٣١١٠" in irr  # 0.0311 per rial is 0.311 per toman: 4 significant digits, zeros kept
    assert "لكل ١٬٠٠٠" in visible_text(rows(page)["LBP"])  # no unit named: "per 1,000"
    assert '<tr class="nt" data-note="IRR"><td colspan="3">سعر رسمي؛ سعر السوق الحر يختلف كثيراً</td></tr>' in page
    # No "·" anywhere: next to Arabic digits it reads as a zero.
    assert "·" not in page


def test_fixed_decimals_per_currency_keep_their_zeros() -> None:
    assert [display_decimals(Decimal(v)) for v in ("1310", "349.3", "26.3", "3.6725", "0.311")] == [0, 2, 2, 3, 4]
    assert format_number(Decimal("26.3"), "arab") == "٢٦٫٣٠"
    assert format_number(Decimal("1310"), "latn") == "1,310"
    # Buy uses the rate's decimals, so a row's numbers line up.
    document = sample_document()
    page = render(document=document, digits="latn", symbols=("SAR",))
    assert re.search(r"<b>349\.33</b>", page) and ">346.67<" in page


def test_the_headline_rate_is_shown_once() -> None:
    page = render(digits="latn")
    heads = re.findall(r'<th scope="col" class="[a-z]+">([^<]+)</th>', page)
    # Every sell equals its rate in the sample (the CBI's sell column): no sell column.
    assert heads == ["العملة", "السعر", "شراء", "تاريخ النشرة"]


def test_unavailable_rows_are_one_short_line_and_the_reason_is_said_once() -> None:
    document = sample_document()
    for entry in document["rates"]:
        if entry["code"] in ("SYP", "LBP", "YER"):
            entry.update(rate=None, buy=None, sell=None, status="unavailable", reason="لا يوجد مصدر متاح")
    page = render(document=document)
    for code in ("SYP", "LBP", "YER"):
        row = rows(page)[code]
        assert 'data-status="unavailable"' in page
        assert '<span aria-hidden="true">—</span><span class="v">غير متاح</span>' in row
        assert "لا يوجد مصدر متاح" not in row  # not repeated on every row
    assert footer(page).count("لا يوجد مصدر متاح") == 1


def test_held_explanation_is_readable_without_hover() -> None:
    page = render()
    assert "title=" not in rows(page)["BHD"]
    assert "قيد المراجعة" in visible_text(rows(page)["BHD"])
    assert "تغيّر كبير بانتظار التأكيد" in visible_text(footer(page))


def test_sources_are_credited_by_name_and_linked() -> None:
    labels = Labels(
        credits={
            "cbi": Credit("البنك المركزي العراقي", "https://cbi.iq"),
            "er-api": Credit("ExchangeRate-API", "https://www.exchangerate-api.com"),
            "pegs": Credit("أسعار الربط الرسمية بالدولار", None),
        }
    )
    credits = footer(render_with(labels))
    assert '<a href="https://cbi.iq" target="_blank" rel="noopener"><bdi>البنك المركزي العراقي</bdi></a>' in credits
    assert 'rel="noopener"><bdi>ExchangeRate-API</bdi></a>' in credits
    assert "أسعار الربط الرسمية بالدولار" in credits
    assert "cbi،" not in credits and ">cbi<" not in credits
    assert unescape(visible_text(credits)).count("البنك المركزي العراقي") == 1


def test_trend_points_are_spaced_by_date_and_spoken() -> None:
    history = {"USD": [("2026-11-01", Decimal(1300)), ("2026-11-02", Decimal(1305)), ("2026-11-30", Decimal("1327.3"))]}
    page = render(trend=True, history=history, symbols=("USD",))
    path = re.search(r' d="M0 (\d+)l(\d+)[ -](\d+) (\d+)', rows(page)["USD"])
    assert path
    first_step, second_step = int(path.group(2)), int(path.group(4))
    assert first_step * 20 < second_step  # 1 day, then 28 days: not evenly spaced
    assert "ارتفاع ٢٫١٪ خلال ٢٩ يوماً" in rows(page)["USD"]
    assert '<th scope="col" class="t">٣٠ يوماً</th>' in page  # a visible head

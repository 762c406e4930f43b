"""Every fixed text of the widget, in Arabic, Central Kurdish (Sorani) and English.

One catalog keyed by message id, so a language is complete or a test says which id it
lacks. Currency names are not here (CLDR via Babel, and ``widget.ckb_names`` for Sorani);
month names and digits come from CLDR too (``widget.format``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from widget.choices import Digits

Lang = Literal["ar", "ckb", "en"]
Direction = Literal["rtl", "ltr"]

LANGS: tuple[Lang, ...] = ("ar", "ckb", "en")
DIRECTION: Mapping[Lang, Direction] = {"ar": "rtl", "ckb": "rtl", "en": "ltr"}
# Arabic follows widget.digits; Sorani is written with Arabic-Indic digits, English with Latin.
DEFAULT_DIGITS: Mapping[Lang, Digits] = {"ckb": "arab", "en": "latn"}

# Reason codes for an unavailable rate (rates.merge): the widget words them per language.
NO_SOURCE = "no_source"
NOT_REACHED = "not_reached"
NOT_COMPUTABLE = "not_computable"
OUT_OF_RANGE = "out_of_range"
UNAVAILABLE = "unavailable"

MESSAGES: Mapping[str, Mapping[Lang, str]] = {
    # The caption when the config names none.
    "title": {
        "ar": "الأسعار الرسمية للعملات مقابل الدينار",
        "ckb": "نرخە فەرمییەکانی دراوەکان بەرامبەر دینار",
        "en": "Official exchange rates against the Iraqi dinar",
    },
    # The embed's iframe title (widget.js says it before the page loads).
    "frame_title": {
        "ar": "أسعار صرف العملات مقابل الدينار العراقي",
        "ckb": "نرخی دراوەکان بە دیناری عێراقی",
        "en": "Exchange rates in Iraqi dinars",
    },
    "col_currency": {"ar": "العملة", "ckb": "دراو", "en": "Currency"},
    "col_rate": {"ar": "السعر", "ckb": "نرخ", "en": "Rate"},
    "col_buy": {"ar": "شراء", "ckb": "کڕین", "en": "Buy"},
    "col_sell": {"ar": "بيع", "ckb": "فرۆشتن", "en": "Sell"},
    "col_trend": {"ar": "الاتجاه", "ckb": "ئاراستە", "en": "Trend"},
    # The visible head of the trend column: the window the lines cover.
    "trend_head": {"ar": "{n} يوماً", "ckb": "{n} ڕۆژ", "en": "{n} days"},
    # The date shown is the publication date of the bulletin the rate comes from.
    "col_date": {"ar": "تاريخ النشرة", "ckb": "ڕێکەوتی بڵاوکردنەوە", "en": "Published"},
    # A row per several units with a named unit: "1 toman (10 rials)", never "10 tomans".
    "unit_of": {"ar": "{one} {unit} ({n} {own})", "ckb": "{one} {unit} ({n} {own})", "en": "{one} {unit} ({n} {own})"},
    # Screen-reader text of a trend line.
    "trend_up": {"ar": "ارتفاع {p} خلال {days}", "ckb": "بەرزبوونەوەی {p} لە {days}دا", "en": "up {p} over {days}"},
    "trend_down": {"ar": "انخفاض {p} خلال {days}", "ckb": "دابەزینی {p} لە {days}دا", "en": "down {p} over {days}"},
    "trend_flat": {"ar": "ثابت خلال {days}", "ckb": "جێگیر لە {days}دا", "en": "unchanged over {days}"},
    # Screen-reader text for a "—" cell.
    "unknown": {"ar": "غير معروف", "ckb": "نەزانراو", "en": "unknown"},
    "no_date": {"ar": "لا يوجد تاريخ", "ckb": "بێ ڕێکەوت", "en": "no date"},
    # "per 10": the rate of a row is the price of this many units.
    "per": {"ar": "لكل {n}", "ckb": "بۆ هەر {n}", "en": "per {n}"},
    "up": {"ar": "ارتفاع", "ckb": "بەرزبوونەوە", "en": "up"},
    "down": {"ar": "انخفاض", "ckb": "دابەزین", "en": "down"},
    "stale": {"ar": "قديم", "ckb": "کۆن", "en": "Outdated"},
    "held": {"ar": "قيد المراجعة", "ckb": "لە پێداچوونەوەدایە", "en": "Under review"},
    "held_hint": {
        "ar": "تغيّر كبير بانتظار التأكيد",
        "ckb": "گۆڕانێکی گەورە چاوەڕێی پشتڕاستکردنەوەیە",
        "en": "A large move awaiting confirmation",
    },
    UNAVAILABLE: {"ar": "غير متاح", "ckb": "بەردەست نییە", "en": "Unavailable"},
    NO_SOURCE: {
        "ar": "لا يوجد مصدر يقدّم سعرًا لهذه العملة",
        "ckb": "هیچ سەرچاوەیەک نرخی ئەم دراوە نادات",
        "en": "No source quotes this currency",
    },
    NOT_REACHED: {
        "ar": "تعذّر الحصول على سعرها من المصادر",
        "ckb": "نەتوانرا نرخەکەی لە سەرچاوەکان وەربگیرێت",
        "en": "Its sources could not be reached",
    },
    NOT_COMPUTABLE: {
        "ar": "تعذّر حساب سعرها من أرقام المصادر",
        "ckb": "نەتوانرا نرخەکەی لە ژمارەکانی سەرچاوەکان هەژمار بکرێت",
        "en": "Its rate could not be computed from the sources' numbers",
    },
    OUT_OF_RANGE: {
        "ar": "السعر الوارد من المصادر خارج النطاق المتوقّع لهذه العملة",
        "ckb": "نرخی سەرچاوەکان لە دەرەوەی مەودای چاوەڕوانکراوی ئەم دراوەیە",
        "en": "The sources' rate lies outside this currency's expected range",
    },
    "no_rates": {
        "ar": "لا توجد أسعار متاحة حاليًا",
        "ckb": "ئێستا هیچ نرخێک بەردەست نییە",
        "en": "No rates are available right now",
    },
    "in_dinars": {"ar": "الأسعار بالدينار العراقي", "ckb": "نرخەکان بە دیناری عێراقین", "en": "Prices in Iraqi dinars"},
    "updated": {"ar": "آخر تحديث:", "ckb": "دوایین نوێکردنەوە:", "en": "Last update:"},
    "baghdad_time": {"ar": "بتوقيت بغداد", "ckb": "بە کاتی بەغدا", "en": "Baghdad time"},
    "source": {"ar": "المصدر:", "ckb": "سەرچاوە:", "en": "Source:"},
    "sources": {"ar": "المصادر:", "ckb": "سەرچاوەکان:", "en": "Sources:"},
    # The gold table (widget.gold): one row per karat, priced per unit.
    "gold_caption": {
        "ar": "أسعار الذهب بالدينار العراقي",
        "ckb": "نرخی ئاڵتوون بە دیناری عێراقی",
        "en": "Gold prices in Iraqi dinars",
    },
    "col_gold": {"ar": "الذهب", "ckb": "ئاڵتوون", "en": "Gold"},
    "gold_label": {
        "ar": "ذهب عيار {karat} — {unit}",
        "ckb": "ئاڵتوونی عەیار {karat} — {unit}",
        "en": "{karat} karat — {unit}",
    },
    "gold_mithqal": {"ar": "المثقال ({grams} غرام)", "ckb": "مسقاڵ ({grams} گرام)", "en": "mithqal ({grams} g)"},
    "gold_gram": {"ar": "الغرام", "ckb": "گرام", "en": "gram"},
    "gold_ounce": {"ar": "الأونصة", "ckb": "ئۆنس", "en": "troy ounce"},
    "gold_note": {
        "ar": "محسوبة من سعر الأونصة الذي ينشره البنك المركزي العراقي، وليست أسعار البيع في محلات الصاغة.",
        "ckb": "لە نرخی ئۆنسی بانکی ناوەندیی عێراق هەژمار کراون، نرخی فرۆشتنی دوکانی زێڕنگرەکان نین.",
        "en": "Computed from the Central Bank of Iraq's ounce price; not what gold shops charge.",
    },
    # Between items of a list (source credits): the Arabic comma in right-to-left scripts.
    "list_sep": {"ar": "، ", "ckb": "، ", "en": ", "},
}

REASONS: tuple[str, ...] = (NO_SOURCE, NOT_REACHED, NOT_COMPUTABLE, OUT_OF_RANGE)


def text(key: str, lang: Lang) -> str:
    """The message ``key`` in ``lang``."""
    return MESSAGES[key][lang]


def catalog(lang: Lang) -> dict[str, str]:
    """Every message in ``lang``, for a template (``t.col_rate``)."""
    return {key: messages[lang] for key, messages in MESSAGES.items()}


def reason_text(code: str | None, lang: Lang) -> str | None:
    """A reason code worded in ``lang``; None stays None."""
    if code is None:
        return None
    return MESSAGES[code][lang] if code in MESSAGES else code


def reason_code(value: object) -> str | None:
    """The reason code behind an API ``reason`` (its Arabic wording, or the code itself)."""
    if not isinstance(value, str):
        return None
    wanted = " ".join(value.split())
    for code in REASONS:
        if wanted == code or wanted == MESSAGES[code]["ar"]:
            return code
    return None


def days_text(count: int, shown: str, lang: Lang) -> str:
    """A number of days, counted as the language counts (``shown`` is the count in the page's digits).

    Arabic: يوم واحد، يومان، ٣–١٠ أيام، ١١ يوماً فما فوق.
    """
    if lang == "ar":
        if count == 1:
            return "يوم واحد"
        if count == 2:
            return "يومين"
        return f"{shown} أيام" if 3 <= count <= 10 else f"{shown} يوماً"
    if lang == "ckb":
        return f"{shown} ڕۆژ"
    return "1 day" if count == 1 else f"{shown} days"

"""Number, date and digit formatting for the widget (per language, Baghdad time).

Every number shown by the widget goes through :func:`format_number`, which rounds for
display only, never uses scientific notation and never turns a positive value into "0".
Babel's ``numbering_system="arab"`` switches the separators to ``٬``/``٫`` but keeps the
ASCII digits, so :func:`localize_digits` maps them afterwards (dates and times too); so
does its Sorani (``ckb``) data. Dates use each language's CLDR long pattern and month
names: the Iraqi ones for Arabic (شباط), the Sorani ones (شوبات) for ``ckb``.
"""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime
from decimal import Decimal

from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_decimal

from rates.clock import BAGHDAD
from widget.choices import Digits
from widget.texts import Lang

# Iraqi Arabic month names (شباط, not فبراير), as readers in Iraq write them; Sorani as in Iraq.
LOCALES: dict[Lang, str] = {"ar": "ar_IQ", "ckb": "ckb_IQ", "en": "en"}
# CLDR's long dates spell the month out; English's medium one ("Nov 29, 2026") keeps a row to one line.
DATE_LENGTH: dict[Lang, str] = {"ar": "long", "ckb": "long", "en": "medium"}

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Wide enough that quantizing any realistic (or absurd) value never overflows.
_CONTEXT = decimal.Context(prec=200, rounding=decimal.ROUND_HALF_UP)


def positive_decimal(value: object) -> Decimal | None:
    """``value`` as a finite positive Decimal, else None (never a made-up 0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except decimal.InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or number <= 0:
        return None
    return number


def display_decimals(value: Decimal) -> int:
    """A currency's fixed decimals, from the size of its displayed rate.

    Whole dinars from 1000 up (no coin is smaller), 2 decimals from 10, else 4
    significant digits. A row keeps them even when they are zeros, so its digits line up.
    """
    magnitude = abs(value)
    if magnitude >= 1000:
        return 0
    if magnitude >= 10 or magnitude == 0:
        return 2
    return max(0, 3 - magnitude.adjusted())


def localize_digits(text: str, digits: Digits) -> str:
    """Map ASCII digits to Arabic-Indic ones when ``digits`` is ``arab``."""
    return text.translate(_ARABIC_INDIC) if digits == "arab" else text


def format_number(value: Decimal, digits: Digits, lang: Lang = "ar", places: int | None = None) -> str:
    """A rate for display: grouped, rounded to ``places`` (default :func:`display_decimals`), in ``digits``.

    Trailing zeros are kept: a currency shows the same number of decimals on every row.
    """
    if places is None:
        places = display_decimals(value)
    rounded = value.quantize(Decimal(1).scaleb(-places), context=_CONTEXT)
    if rounded == 0:  # a positive value never reads as 0: show it with more digits
        places = max(places, -value.adjusted())
        rounded = value.quantize(Decimal(1).scaleb(-places), context=_CONTEXT)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    text = format_decimal(rounded, format=pattern, locale=LOCALES[lang], numbering_system=digits)
    return localize_digits(str(text), digits)


def parse_day(value: object) -> date | None:
    """A ``YYYY-MM-DD`` string as a date, else None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` allowed) as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def format_day(day: date, digits: Digits, lang: Lang = "ar") -> str:
    """A publication date as CLDR writes it, e.g. ``٢٦ شباط ٢٠٢٦``, ``٢٦ی شوباتی ٢٠٢٦``, ``Feb 26, 2026``."""
    locale = LOCALES[lang]
    return localize_digits(str(format_date(day, DATE_LENGTH[lang], locale=locale)), digits)


def format_moment(moment: datetime, digits: Digits, lang: Lang = "ar") -> str:
    """A timestamp in Baghdad time: the date as in :func:`format_day`, a short time, joined as CLDR joins them."""
    locale = LOCALES[lang]
    day = format_date(moment.astimezone(BAGHDAD).date(), DATE_LENGTH[lang], locale=locale)
    time = format_time(moment, "short", tzinfo=BAGHDAD, locale=locale)
    text = str(get_datetime_format("long", locale)).replace("{1}", str(day)).replace("{0}", str(time))
    return localize_digits(text, digits)

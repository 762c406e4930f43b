"""Render the rates document as the self-contained widget page, in Arabic, Sorani or English.

The page makes no external request: the stylesheet and the refresh script are inlined,
and both are constant (themes are switched by ``html[data-theme]``, the refresh period
is read from ``html[data-refresh]``), so their CSP hashes are computed once.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

from babel.numbers import get_currency_name
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from widget.choices import Digits, Status, Theme
from widget.format import (
    display_decimals,
    format_day,
    format_moment,
    format_number,
    localize_digits,
    parse_day,
    parse_timestamp,
    positive_decimal,
)
from widget.gold import gold_table
from widget.names import currency_name
from widget.texts import DIRECTION, LANGS, UNAVAILABLE, Lang, catalog, days_text, reason_code, text

MIN_REFRESH_SECONDS = 10
TREND_WIDTH = 60
TREND_HEIGHT = 20
TREND_DAYS = 30

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_SPACE = re.compile(r"\s*([{};,>])\s*")
_JS_LINE_COMMENT = re.compile(r"^\s*//.*$", re.M)
_SOURCE_TOKEN = re.compile(r"^[^\s;,'\"]+$")


@dataclass(frozen=True)
class WidgetOptions:
    symbols: tuple[str, ...] | None  # already validated upper-case codes; None = every entry
    theme: Theme
    digits: Digits
    trend: bool = False
    lang: Lang = "ar"


@dataclass(frozen=True)
class Trend:
    path: str  # SVG path data: an absolute start, then integer relative steps
    css_class: str
    spoken: str  # what a screen reader says instead of the line


@dataclass(frozen=True)
class Credit:
    name: str
    link: str | None


@dataclass(frozen=True)
class Labels:
    """What the config adds to the rows and the footer, per language (built once per config)."""

    units: Mapping[str, str] = field(default_factory=dict)  # code -> the name of its `per` units
    notes: Mapping[str, str] = field(default_factory=dict)  # code -> a short note shown on its row
    credits: Mapping[str, Credit] = field(default_factory=dict)  # source id -> display name and link


@dataclass(frozen=True)
class Row:
    """One currency, every value already formatted for display."""

    code: str
    name: str
    status: Status
    per: str | None  # "لكل ١٠٠", or "١ تومان (١٠ ريال إيراني)" when the config names the unit
    note: str | None
    rate: str | None
    buy: str | None
    sell: str | None
    change: int
    published: str | None
    published_iso: str | None
    reason: str | None
    source: str | None
    trend: Trend | None


def _minify_css(text: str) -> str:
    text = _CSS_COMMENT.sub("", text)
    text = " ".join(text.split())
    return _CSS_SPACE.sub(r"\1", text).replace(";}", "}")


def _minify_js(text: str) -> str:
    text = _JS_LINE_COMMENT.sub("", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _asset(name: str) -> str:
    return (resources.files("widget") / "templates" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _per(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return 1
    if value < 1 or value != int(value):
        return 1
    return int(value)


def _sign(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        return 0
    if isinstance(value, Decimal) and not value.is_finite():
        return 0
    return (value > 0) - (value < 0)


def _trend_points(points: Sequence[tuple[str, Decimal]]) -> list[tuple[date, Decimal]]:
    """Valid points of the last :data:`TREND_DAYS` days before the latest one, oldest first."""
    valid = sorted(
        (day, value)
        for day, value in ((parse_day(p[0]), positive_decimal(p[1])) for p in points)
        if day is not None and value is not None
    )
    if not valid:
        return []
    first = valid[-1][0].toordinal() - TREND_DAYS
    return [(day, value) for day, value in valid if day.toordinal() >= first]


def _trend(points: Sequence[tuple[str, Decimal]] | None, digits: Digits, lang: Lang) -> Trend | None:
    """A line with its points spaced by date (a gap in publication shows as a longer step)."""
    series = _trend_points(points or ())
    if len(series) < 2:
        return None
    values = [value for _, value in series]
    low, high = min(values), max(values)
    span = high - low
    pad = 2
    inner = TREND_HEIGHT - 2 * pad
    first_day, last_day = series[0][0], series[-1][0]
    days = (last_day - first_day).days or 1
    coords = [
        (
            round(TREND_WIDTH * (day - first_day).days / days),
            TREND_HEIGHT // 2 if span == 0 else round(pad + inner * (high - value) / span),
        )
        for day, value in series
    ]
    steps = [(x - px, y - py) for (px, py), (x, y) in itertools.pairwise(coords)]
    path = f"M0 {coords[0][1]}l" + " ".join(f"{dx}{dy:+d}".replace("+", " ") for dx, dy in steps)
    direction = _sign(values[-1] - values[0])
    css_class = {1: "tu", -1: "tx"}.get(direction, "")
    percent = abs(values[-1] - values[0]) * 100 / values[0]
    amount = format_number(percent, digits, lang, places=1) + ("٪" if digits == "arab" else "%")
    during = days_text(days, localize_digits(str(days), digits), lang)
    key = {1: "trend_up", -1: "trend_down"}.get(direction, "trend_flat")
    return Trend(path=path, css_class=css_class, spoken=text(key, lang).format(p=amount, days=during))


def _own_unit(code: str, per: int, lang: Lang) -> str:
    """The noun of the currency's name for ``per`` units: Arabic and Sorani put it first, English last."""
    name = currency_name(code, lang) if lang == "ckb" else str(get_currency_name(code, count=per, locale=lang))
    words = name.split() or [code]
    return words[-1] if lang == "en" else words[0]


def _unit_text(code: str, per: int, unit: str | None, digits: Digits, lang: Lang) -> str | None:
    """What one displayed price is the price of: "لكل ١٠٠", or "١ تومان (١٠ ريال)"."""
    if per == 1:
        return None
    count = format_number(Decimal(per), digits, lang, places=0)
    if unit is None:
        return text("per", lang).format(n=count)
    one = localize_digits("1", digits)
    return text("unit_of", lang).format(one=one, unit=unit, n=count, own=_own_unit(code, per, lang))


def _reason(entry: Mapping[str, Any], lang: Lang) -> str:
    """The reason code's wording in ``lang``; an unknown Arabic sentence only on an Arabic page."""
    code = reason_code(entry.get("reason"))
    if code is not None:
        return text(code, lang)
    given = _text(entry.get("reason"))
    return given if given and lang == "ar" else text(UNAVAILABLE, lang)


def _status(rate: Decimal | None, value: object) -> Status:
    if rate is None or value == "unavailable":
        return "unavailable"
    if value in ("ok", "stale", "held"):
        return value
    return "stale"  # an unknown status: show the value, but flagged as not current


def _row(
    entry: Mapping[str, Any],
    options: WidgetOptions,
    names: Mapping[str, Mapping[Lang, str]],
    history: Sequence[tuple[str, Decimal]] | None,
    labels: Labels,
) -> Row:
    digits, lang = options.digits, options.lang
    code = _text(entry.get("code")) or "?"
    per = _per(entry.get("per"))
    rate = positive_decimal(entry.get("rate"))
    status = _status(rate, entry.get("status"))
    available = status != "unavailable"
    # One number of decimals per currency, from its displayed rate: buy and sell line up with it.
    places = display_decimals(rate * per) if rate is not None else 2

    def number(value: object) -> str | None:
        amount = positive_decimal(value)
        return None if amount is None or not available else format_number(amount * per, digits, lang, places)

    published = parse_day(entry.get("published")) if available else None
    return Row(
        code=code,
        name=_name(entry, code, lang, names),
        status=status,
        # An unavailable row shows no number at all, not even "per 100".
        per=_unit_text(code, per, labels.units.get(code), digits, lang) if available else None,
        note=labels.notes.get(code) or _text(entry.get("note")),
        rate=number(rate),
        buy=number(entry.get("buy")),
        sell=number(entry.get("sell")),
        change=_sign(entry.get("change")) if available else 0,
        published=format_day(published, digits, lang) if published else None,
        published_iso=published.isoformat() if published else None,
        reason=None if available else _reason(entry, lang),
        source=_text(entry.get("source")) if available else None,
        trend=_trend(history, digits, lang) if available and history is not None else None,
    )


def _name(entry: Mapping[str, Any], code: str, lang: Lang, names: Mapping[str, Mapping[Lang, str]]) -> str:
    """The config's name in ``lang``, else the document's (Arabic) name on an Arabic page, else CLDR's."""
    configured = _text(names.get(code, {}).get(lang))
    if configured:
        return configured
    if lang == "ar":
        return _text(entry.get("name")) or code
    return currency_name(code, lang)


def _frame_ancestors(sources: Sequence[str]) -> str:
    tokens: list[str] = []
    for source in sources:
        token = source.strip()
        if token.lower() in ("self", "'self'"):
            token = "'self'"
        elif token.lower() in ("none", "'none'"):
            return "'none'"
        elif not _SOURCE_TOKEN.match(token):
            continue  # unusable in a header (spaces, ';', quotes): never inject it
        if token not in tokens:
            tokens.append(token)
    return " ".join(tokens) or "'none'"


class WidgetRenderer:
    """Renders the widget page; build once, render per document and options."""

    def __init__(
        self,
        *,
        title: str | Mapping[Lang, str] | None = None,
        names: Mapping[str, Mapping[Lang, str]] | None = None,
        max_age_seconds: int,
        labels: Mapping[Lang, Labels] | None = None,
    ) -> None:
        # A plain string is the caption in every language, as in the config.
        self.titles: Mapping[Lang, str] = (
            {} if title is None else (dict.fromkeys(LANGS, title) if isinstance(title, str) else title)
        )
        self.names: Mapping[str, Mapping[Lang, str]] = names or {}
        self.labels: Mapping[Lang, Labels] = labels or {}
        self.refresh_seconds = max(int(max_age_seconds), MIN_REFRESH_SECONDS)
        self._env = Environment(
            loader=PackageLoader("widget", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._template = self._env.get_template("widget.html.j2")
        self._gold_template = self._env.get_template("gold.html.j2")
        self.css = _minify_css(_asset("widget.css"))
        self.script = _minify_js(_asset("refresh.js"))
        self.style_hash = _csp_hash(self.css)
        self.script_hash = _csp_hash(self.script)

    def render(
        self,
        document: Mapping[str, Any],
        options: WidgetOptions,
        history: Mapping[str, Sequence[tuple[str, Decimal]]] | None = None,
        *,
        discovery: str | None = None,
        gold: Mapping[str, Any] | None = None,
    ) -> str:
        entries = [e for e in document.get("rates") or () if isinstance(e, Mapping)]
        if options.symbols is not None:
            wanted = set(options.symbols)
            entries = [e for e in entries if e.get("code") in wanted]
        trends = history if options.trend and history is not None else None
        lang = options.lang
        labels = self.labels.get(lang) or Labels()
        rows = [
            _row(e, options, self.names, trends.get(str(e.get("code"))) if trends else None, labels) for e in entries
        ]
        # The headline rate once: a buy or sell column that only repeats it is left out.
        show_buy = any(r.buy and r.buy != r.rate for r in rows)
        show_sell = any(r.sell and r.sell != r.rate for r in rows)
        show_trend = options.trend and any(r.trend for r in rows)
        updated = parse_timestamp(document.get("updated_at"))
        return self._template.render(
            lang=lang,
            dir=DIRECTION[lang],
            t=catalog(lang),
            title=self.title(lang),
            theme=options.theme,
            digits=options.digits,
            refresh=self.refresh_seconds,
            css=Markup(self.css),
            script=Markup(self.script),
            rows=rows,
            show_buy=show_buy,
            show_sell=show_sell,
            show_trend=show_trend,
            columns=3 + show_buy + show_sell + show_trend,
            trend_width=TREND_WIDTH,
            trend_height=TREND_HEIGHT,
            trend_head=text("trend_head", lang).format(n=localize_digits(str(TREND_DAYS), options.digits)),
            updated=format_moment(updated, options.digits, lang) if updated else None,
            updated_iso=updated.isoformat().replace("+00:00", "Z") if updated else None,
            credits=self._credits(rows, labels),
            reasons=list(dict.fromkeys(r.reason for r in rows if r.reason)),
            held=any(r.status == "held" for r in rows),
            discovery=discovery,
            gold=self._gold(gold, options.digits, lang),
        )

    def title(self, lang: Lang) -> str:
        """The configured caption in ``lang``, else the catalog's."""
        return _text(self.titles.get(lang)) or text("title", lang)

    @staticmethod
    def _credits(rows: Sequence[Row], labels: Labels) -> list[Credit]:
        """The sources of the rows shown, once each in first-seen order, by display name."""
        ids = dict.fromkeys(r.source for r in rows if r.source)
        return [labels.credits.get(i) or Credit(name=i, link=None) for i in ids]

    def _gold(self, gold: Mapping[str, Any] | None, digits: Digits, lang: Lang) -> Markup | None:
        """The gold table after the currencies (section 6), in its own template."""
        if gold is None:
            return None
        return Markup(self._gold_template.render(rows=gold_table(gold, digits, lang), t=catalog(lang)))

    def content_security_policy(self, frame_ancestors: Sequence[str]) -> str:
        return "; ".join(
            (
                "default-src 'none'",
                f"style-src {self.style_hash}",
                f"script-src {self.script_hash}",
                "connect-src 'self'",
                f"frame-ancestors {_frame_ancestors(frame_ancestors)}",
                "base-uri 'none'",
                "form-action 'none'",
            )
        )

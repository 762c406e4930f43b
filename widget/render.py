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
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from widget.choices import Digits, Status, Theme
from widget.format import (
    format_day,
    format_moment,
    format_number,
    parse_day,
    parse_timestamp,
    positive_decimal,
)
from widget.names import currency_name
from widget.texts import DIRECTION, LANGS, UNAVAILABLE, Lang, catalog, reason_code, text

MIN_REFRESH_SECONDS = 10
TREND_WIDTH = 60
TREND_HEIGHT = 20
TREND_MAX_POINTS = 16

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


@dataclass(frozen=True)
class Row:
    """One currency, every value already formatted for display."""

    code: str
    name: str
    status: Status
    per: str | None
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


def _trend(points: Sequence[tuple[str, Decimal]] | None) -> Trend | None:
    values = [v for v in (positive_decimal(p[1]) for p in points or ()) if v is not None]
    if len(values) < 2:
        return None
    if len(values) > TREND_MAX_POINTS:
        step = (len(values) - 1) / (TREND_MAX_POINTS - 1)
        values = [values[round(i * step)] for i in range(TREND_MAX_POINTS)]
    low, high = min(values), max(values)
    span = high - low
    pad = 2
    inner = TREND_HEIGHT - 2 * pad
    last = len(values) - 1
    coords = [
        (
            round(TREND_WIDTH * index / last),
            TREND_HEIGHT // 2 if span == 0 else round(pad + inner * (high - value) / span),
        )
        for index, value in enumerate(values)
    ]
    steps = [(x - px, y - py) for (px, py), (x, y) in itertools.pairwise(coords)]
    path = f"M0 {coords[0][1]}l" + " ".join(f"{dx}{dy:+d}".replace("+", " ") for dx, dy in steps)
    direction = _sign(values[-1] - values[0])
    css_class = {1: "tu", -1: "tx"}.get(direction, "")
    return Trend(path=path, css_class=css_class)


def _reason(entry: Mapping[str, Any], lang: Lang) -> str:
    """The reason code's wording in ``lang``; an unknown Arabic sentence only on an Arabic page."""
    code = reason_code(entry.get("reason"))
    if code is not None:
        return text(code, lang)
    given = _text(entry.get("reason"))
    return given if given and lang == "ar" else text(UNAVAILABLE, lang)


def _row(
    entry: Mapping[str, Any],
    options: WidgetOptions,
    names: Mapping[str, Mapping[Lang, str]],
    history: Sequence[tuple[str, Decimal]] | None,
) -> Row:
    digits, lang = options.digits, options.lang
    code = _text(entry.get("code")) or "?"
    per = _per(entry.get("per"))
    rate = positive_decimal(entry.get("rate"))
    status_value = entry.get("status")
    status: Status
    if rate is None or status_value == "unavailable":
        status = "unavailable"
    elif status_value in ("ok", "stale", "held"):
        status = status_value
    else:  # an unknown status: show the value, but flagged as not current
        status = "stale"

    def number(value: object) -> str | None:
        amount = positive_decimal(value)
        return None if amount is None else format_number(amount * per, digits, lang)

    available = status != "unavailable"
    published = parse_day(entry.get("published")) if available else None
    return Row(
        code=code,
        name=_name(entry, code, lang, names),
        status=status,
        per=text("per", lang).format(n=format_number(Decimal(per), digits, lang)) if available and per != 1 else None,
        rate=number(rate) if available else None,
        buy=number(entry.get("buy")) if available else None,
        sell=number(entry.get("sell")) if available else None,
        change=_sign(entry.get("change")) if available else 0,
        published=format_day(published, digits, lang) if published else None,
        published_iso=published.isoformat() if published else None,
        reason=None if available else _reason(entry, lang),
        source=_text(entry.get("source")) if available else None,
        trend=_trend(history) if available and history is not None else None,
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
    ) -> None:
        # A plain string is the caption in every language, as in the config.
        self.titles: Mapping[Lang, str] = (
            {} if title is None else (dict.fromkeys(LANGS, title) if isinstance(title, str) else title)
        )
        self.names: Mapping[str, Mapping[Lang, str]] = names or {}
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
        self.css = _minify_css(_asset("widget.css"))
        self.script = _minify_js(_asset("refresh.js"))
        self.style_hash = _csp_hash(self.css)
        self.script_hash = _csp_hash(self.script)

    def render(
        self,
        document: Mapping[str, Any],
        options: WidgetOptions,
        history: Mapping[str, Sequence[tuple[str, Decimal]]] | None = None,
    ) -> str:
        entries = [e for e in document.get("rates") or () if isinstance(e, Mapping)]
        if options.symbols is not None:
            wanted = set(options.symbols)
            entries = [e for e in entries if e.get("code") in wanted]
        trends = history if options.trend and history is not None else None
        rows = [_row(e, options, self.names, trends.get(str(e.get("code"))) if trends else None) for e in entries]
        show_buy_sell = any(r.buy or r.sell for r in rows)
        show_trend = any(r.trend for r in rows)
        sources = list(dict.fromkeys(r.source for r in rows if r.source))  # first-seen order, once each
        updated = parse_timestamp(document.get("updated_at"))
        lang = options.lang
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
            show_buy_sell=show_buy_sell,
            show_trend=show_trend,
            columns=3 + 2 * show_buy_sell + show_trend,
            trend_width=TREND_WIDTH,
            trend_height=TREND_HEIGHT,
            updated=format_moment(updated, options.digits, lang) if updated else None,
            updated_iso=updated.isoformat().replace("+00:00", "Z") if updated else None,
            sources=sources,
        )

    def title(self, lang: Lang) -> str:
        """The configured caption in ``lang``, else the catalog's."""
        return _text(self.titles.get(lang)) or text("title", lang)

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

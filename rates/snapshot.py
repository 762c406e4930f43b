"""Rates document → immutable :class:`Snapshot`: the response bodies of one data version.

Built once per data change, then swapped in whole: a request only picks prepared bytes
(raw or gzip) and their strong ETag. Variants (a ``symbols`` subset, a widget theme,
a history window) are rendered on first use and kept in bounded caches that die with
the snapshot, so endless query combinations cannot grow memory.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

from rates.config import Config
from rates.credits import credits
from rates.document import decode, encode
from rates.localized import pick
from rates.oembed import discovery_href
from rates.record import RecordView, points_csv, points_json
from widget.choices import Digits
from widget.facts import RowFacts
from widget.loader import loader_source
from widget.render import Credit, Labels, WidgetOptions, WidgetRenderer
from widget.size import facts_of
from widget.texts import DEFAULT_DIGITS, LANGS, MESSAGES, Lang

K = TypeVar("K")
Render = Callable[["Snapshot"], "Body"]  # a variant, re-renderable on a later snapshot
V = TypeVar("V")
VARIANTS_PER_SNAPSHOT = 256
DEFAULT_DISCOVERY = discovery_href("", "")  # the plain /widget page's oEmbed link


@dataclass(frozen=True)
class Body:
    """One response body, compressed once, with a strong ETag per encoding (they differ in bytes)."""

    raw: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str
    content_type: str

    @classmethod
    def of(cls, raw: bytes, content_type: str) -> Body:
        digest = hashlib.sha256(raw).hexdigest()[:32]
        gzipped = gzip.compress(raw, compresslevel=9, mtime=0)
        return cls(raw, gzipped, f'"{digest}"', f'"{digest}-gz"', content_type)


JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"
TREND_POINTS = 30  # the widget's trend line: the last 30 publication dates


class BoundedCache(Generic[K, V]):
    """Least-recently-used, at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[], V]) -> V:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = make()
        self._entries[key] = value
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> list[tuple[K, V]]:
        return list(self._entries.items())


@dataclass
class Snapshot:
    """Everything the handlers serve for one version of the data."""

    document: dict[str, Any]
    rates: Body
    record: RecordView
    renderer: WidgetRenderer
    entries: dict[str, Body] = field(default_factory=dict)
    gold: dict[str, Any] | None = None  # the /api/v1/gold document, when widget.gold is set
    gold_body: Body | None = None
    _subsets: BoundedCache[tuple[str, ...], Body] = field(default_factory=lambda: BoundedCache(VARIANTS_PER_SNAPSHOT))
    _widgets: BoundedCache[tuple[WidgetOptions, str | None], Body] = field(
        default_factory=lambda: BoundedCache(VARIANTS_PER_SNAPSHOT)
    )
    _histories: BoundedCache[tuple[str, date | None, date, bool], Body] = field(
        default_factory=lambda: BoundedCache(VARIANTS_PER_SNAPSHOT)
    )
    _dated: BoundedCache[tuple[date, tuple[str, ...] | None], Body] = field(
        default_factory=lambda: BoundedCache(VARIANTS_PER_SNAPSHOT)
    )
    # (route, raw query string) -> how to render it and its body: a repeated query is
    # neither parsed nor validated again, and the publish directory knows the variants in use.
    _queried: BoundedCache[tuple[str, str], tuple[Render, Body]] = field(
        default_factory=lambda: BoundedCache(VARIANTS_PER_SNAPSHOT)
    )

    @classmethod
    def build(
        cls,
        payload: bytes,
        record: RecordView,
        renderer: WidgetRenderer,
        default_widget: WidgetOptions,
        gold: dict[str, Any] | None = None,
    ) -> Snapshot:
        document = decode(payload)
        entries = {e["code"]: Body.of(encode(e), JSON) for e in document["rates"]}
        published = cls(
            document=document,
            rates=Body.of(payload, JSON),
            record=record,
            renderer=renderer,
            entries=entries,
            gold=gold,
            gold_body=None if gold is None else Body.of(encode(gold), JSON),
        )
        published.widget(default_widget)  # the common case is ready before the first reader
        return published

    def by_query(self, route: str, query: str, parse: Callable[[], Render]) -> Body:
        """The body of ``route?query``: ``parse`` (which may raise) runs on the first request only."""

        def make() -> tuple[Render, Body]:
            render = parse()
            return render, render(self)

        return self._queried.get((route, query), make)[1]

    def queries(self) -> list[tuple[tuple[str, str], Render]]:
        """The (route, raw query) variants asked for from this snapshot, least recent first."""
        return [(key, render) for key, (render, _) in self._queried.items()]

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.document["rates"]]

    def rates_for(self, symbols: tuple[str, ...] | None) -> Body:
        if symbols is None:
            return self.rates
        return self._subsets.get(symbols, lambda: self._subset(symbols))

    def _subset(self, symbols: tuple[str, ...]) -> Body:
        wanted = set(symbols)
        subset = {**self.document, "rates": [e for e in self.document["rates"] if e["code"] in wanted]}
        return Body.of(encode(subset), JSON)

    def widget(self, options: WidgetOptions, discovery: str | None = DEFAULT_DISCOVERY) -> Body:
        """The widget page; ``discovery`` is its oEmbed link (it names the origin asked for)."""
        return self._widgets.get((options, discovery), lambda: self._widget(options, discovery))

    def _widget(self, options: WidgetOptions, discovery: str | None) -> Body:
        trends = self._trends() if options.trend else None
        gold = self.gold if options.symbols is None or "XAU" in options.symbols else None
        html = self.renderer.render(self.document, options, trends, discovery=discovery, gold=gold)
        return Body.of(html.encode("utf-8"), HTML)

    def _trends(self) -> dict[str, list[tuple[str, Decimal]]]:
        """The last publication dates of each code, for the widget's trend line."""
        return {
            code: [(day.isoformat(), point.rate) for day, point in self.record.last(code, TREND_POINTS)]
            for code in self.codes
        }

    def history_body(self, code: str, first: date | None, last: date, *, csv: bool = False) -> Body:
        """Points of ``code`` from ``first`` (None: the oldest) to ``last``, JSON or CSV."""
        key = (code, first, last, csv)
        return self._histories.get(key, lambda: self._history(code, first, last, csv=csv))

    def _history(self, code: str, first: date | None, last: date, *, csv: bool) -> Body:
        points = self.record.points(code, first, last)
        if csv:
            return Body.of(points_csv(points), CSV)
        return Body.of(encode(points_json(code, self.document["base"], points)), JSON)

    def rates_on(self, day: date, symbols: tuple[str, ...] | None) -> Body:
        """The document as it stood on ``day`` (section 7), for all codes or ``symbols``."""
        return self._dated.get((day, symbols), lambda: self._rates_on(day, symbols))

    def _rates_on(self, day: date, symbols: tuple[str, ...] | None) -> Body:
        document = self.record.document_on(day, self.document)
        if symbols is not None:
            wanted = set(symbols)
            document["rates"] = [e for e in document["rates"] if e["code"] in wanted]
        return Body.of(encode(document), JSON)


def embed_js(config: Config, document: Mapping[str, Any] | None) -> Body:
    """The ``/widget.js`` loader, its height table from this document (once per data change).

    Before any document exists every row is assumed to show a rate.
    """
    noted = frozenset(c.code for c in config.currencies if c.note)
    if document is None:
        facts = [RowFacts(c.code, c.code in noted, "", None, False) for c in config.currencies]
    else:
        facts = facts_of(document["rates"], noted)
    gold = config.widget.gold
    source = loader_source(facts, MESSAGES["frame_title"], config.widget.lang, len(gold.karats) if gold else 0)
    return Body.of(source.encode("utf-8"), "text/javascript; charset=utf-8")


def widget_renderer(config: Config) -> WidgetRenderer:
    """The widget renderer for a config: titles, names and labels per language, refresh period from ``max_age``."""
    return WidgetRenderer(
        title=config.widget.title,
        names={c.code: c.name for c in config.currencies if c.name},
        max_age_seconds=int(config.server.max_age.total_seconds()),
        labels={lang: widget_labels(config, lang) for lang in LANGS},
    )


def widget_labels(config: Config, lang: Lang) -> Labels:
    """Units, notes and source credits from the config, in ``lang``."""
    texts = [(c.code, pick(c.unit, lang), pick(c.note, lang)) for c in config.currencies]
    return Labels(
        units={code: unit for code, unit, _ in texts if unit},
        notes={code: note for code, _, note in texts if note},
        credits={i: Credit(c.name, c.link) for i, c in credits(config.sources)[lang].items()},
    )


def default_digits(config: Config, lang: Lang) -> Digits:
    """Arabic follows ``widget.digits``; Sorani defaults to Arabic-Indic digits, English to Latin ones."""
    return DEFAULT_DIGITS.get(lang, config.widget.digits)


def default_widget(config: Config) -> WidgetOptions:
    """What ``/widget`` without a query shows (and ``rates export`` writes)."""
    lang = config.widget.lang
    return WidgetOptions(symbols=None, theme=config.widget.theme, digits=default_digits(config, lang), lang=lang)

"""What a refresh adds to the daily record: the one place the refresh calls into it.

Two ways in: the live merge's rates (one point per currency at its ``published`` date,
for every source, aggregators included: the dates they were seen to publish), and a
recorded source's whole past (the CBI's workbook), of which only the days that changed
since it was last stored are written and recomputed, so a refresh does not grow with
the record.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rates.config import Config, Currency
from rates.document import History, build_document, decode, encode
from rates.history import DailyRecord, Point, changed_days, points_on
from rates.models import Rate
from rates.present import plain
from rates.record_store import day_entries, point_entries, stored_days
from rates.store import Store

log = logging.getLogger(__name__)
GOLD = "XAU"
GOLD_KEY = "gold"  # store entry: {"v": 1, "entry": XAU's entry as JSON text, "exact": its unrounded rate}


def tracked_codes(config: Config) -> list[str]:
    """The currencies that keep a record: the shown ones, and gold when the widget prices it."""
    codes = list(config.codes)
    if config.widget.gold is not None and GOLD not in codes:
        codes.append(GOLD)
    return codes


def with_tracked(config: Config) -> Config:
    """``config`` with every tracked code among its currencies, for the merge to resolve."""
    extra = [Currency(code=code) for code in tracked_codes(config) if code not in config.codes]
    return config.model_copy(update={"currencies": [*config.currencies, *extra]}) if extra else config


def live_points(rates: Iterable[Rate]) -> dict[str, dict[date, Point]]:
    """The merged rates that are trusted enough to record: neither held nor unavailable."""
    return {
        r.code: {r.published: Point(r.rate, r.buy, r.sell, r.source or "")}
        for r in rates
        if r.status in ("ok", "stale") and r.rate is not None and r.published is not None
    }


def keep_record(store: Store, config: Config, source_id: str, record: DailyRecord, today: date) -> str:
    """Store the days of ``record`` that changed and recompute their points; a log fragment.

    A day dated after ``today`` (Baghdad) is not a publication yet and is left out.
    """
    days = {day: quotes for day, quotes in record.items() if day <= today}
    years = sorted({day.year for day in days})
    old = stored_days(store, source_id, years)
    changed, corrected = changed_days(old, days)
    # Another set of currencies or pegs gives other points for the same days: recompute all.
    signature = _signature(config)
    stored: dict[str, Any] = store.read(("record-signature", source_id), {})
    recompute = sorted(days) if stored.get("signature") != signature else changed
    if not recompute:
        return f"; record of {len(days)} days unchanged"
    points = points_on(config, source_id, days, recompute, tracked_codes(config))
    entries = {
        **day_entries(source_id, days, sorted({day.year for day in changed})),
        **point_entries(store, points),
        ("record-signature", source_id): {"v": 1, "signature": signature},
    }
    store.write(entries)
    fragment = f"; record of {len(days)} days: {len(changed) - corrected} new, {corrected} corrected"
    if corrected:
        log.warning("%s corrected %d past days of its record", source_id, corrected)
    return fragment


def _signature(config: Config) -> str:
    """What the points depend on besides the days: the tracked codes, their preferences, the pegs."""
    codes = tracked_codes(config)
    parts = [f"{code}:{','.join(config.preference(code))}" for code in codes]
    parts += [s.model_dump_json() for s in config.sources if not s.network]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def gold_entry(config: Config, rates: Iterable[Rate], history: History, now: datetime) -> dict[str, Any] | None:
    """XAU's merged entry, kept for ``/api/v1/gold`` whether or not XAU is listed."""
    xau = next((r for r in rates if r.code == GOLD), None)
    if xau is None:
        return None
    entry = build_document(config, (xau,), history, now)["rates"][0]
    return {"v": 1, "entry": encode(entry).decode("utf-8"), "exact": None if xau.rate is None else plain(xau.rate)}


def stored_gold(store: Store) -> tuple[dict[str, Any] | None, Decimal | None]:
    """XAU's entry and exact rate as last merged; (None, None) before any merge."""
    raw = store.read(GOLD_KEY, None)
    if not isinstance(raw, dict) or raw.get("v") != 1:
        return None, None
    exact = raw.get("exact")
    return decode(raw["entry"].encode("utf-8")), None if exact is None else Decimal(exact)

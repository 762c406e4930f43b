"""What a refresh adds to the daily record: the one place the refresh calls into it.

Two ways in: the live merge's rates (one point per currency at its ``published`` date,
for every source, aggregators included: the dates they were seen to publish), and a
recorded source's whole past (the CBI's workbook), of which only the days that changed
since it was last stored are written and recomputed, so a refresh does not grow with
the record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from rates.config import Config
from rates.history import DailyRecord, Point, changed_days, points_on
from rates.models import Rate
from rates.record_store import day_entries, point_entries, stored_days
from rates.store import Store

log = logging.getLogger(__name__)
GOLD = "XAU"


def tracked_codes(config: Config) -> list[str]:
    """The currencies that keep a record: the shown ones, and gold when the widget prices it."""
    codes = list(config.codes)
    if getattr(config.widget, "gold", None) is not None and GOLD not in codes:
        codes.append(GOLD)
    return codes


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
    if not changed:
        return f"; record of {len(days)} days unchanged"
    points = points_on(config, source_id, days, changed, tracked_codes(config))
    entries = {
        **day_entries(source_id, days, sorted({day.year for day in changed})),
        **point_entries(store, points),
    }
    store.write(entries)
    fragment = f"; record of {len(days)} days: {len(changed) - corrected} new, {corrected} corrected"
    if corrected:
        log.warning("%s corrected %d past days of its record", source_id, corrected)
    return fragment

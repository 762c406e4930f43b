"""The one clock: UTC now, and Baghdad's calendar, in which rates are published.

Everything that asks for the time takes a :data:`Clock` (default :func:`utc_now`), so a
test can move time on instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

BAGHDAD = ZoneInfo("Asia/Baghdad")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def baghdad_day(moment: datetime) -> date:
    """The calendar day in Baghdad at ``moment``: the day a rate published then carries."""
    return moment.astimezone(BAGHDAD).date()

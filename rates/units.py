"""The config's units: durations (``30s``, ``5m``, ``1h``, ``2d``) and fractions (``0.1``, ``10%``)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
# Ten years: longer is a typo, and would overflow date arithmetic in the scheduler.
MAX_DURATION_DAYS = 3650
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """Read ``30s``/``5m``/``1h``/``2d``; a timedelta passes through."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a duration: write a whole number and s, m, h or d, e.g. 30s, 5m, 1h, 2d")
    seconds = int(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be longer than zero")
    if seconds > MAX_DURATION_DAYS * 86400:
        raise ValueError(f"{value!r}: a duration must be at most {MAX_DURATION_DAYS}d")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        size = _SECONDS_PER_UNIT[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_fraction(value: Any) -> Decimal:
    """Read ``0.1`` or ``10%`` as a Decimal fraction greater than zero."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a fraction")
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = Decimal(text[:-1].strip() if percent else text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a fraction: write e.g. 0.1 or 10%") from None
    if percent:
        number /= 100
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{value!r}: a fraction must be greater than zero")
    return number


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
Fraction = Annotated[Decimal, BeforeValidator(parse_fraction)]

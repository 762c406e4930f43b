"""Query and path values shared by the compatible shapes: code lists and dates."""

from __future__ import annotations

import re
from datetime import date

MAX_QUERY = 512  # as the native API: a longer list is refused before it is split
_CODE = re.compile(r"^[A-Z]{3}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadValue(ValueError):
    """A parameter that cannot be read; each shape words its own refusal."""


def codes(raw: str | None) -> frozenset[str] | None:
    """``"usd, EUR"`` → ``{"USD", "EUR"}``; None (every code) when absent or empty.

    Codes that are not three letters are dropped here, like unknown ones later: the
    imitated APIs ignore what they do not quote rather than refuse the whole request.
    """
    if raw is None or raw.strip(" ,") == "":
        return None
    if len(raw) > MAX_QUERY:
        raise BadValue(f"the list of codes is longer than {MAX_QUERY} characters")
    return frozenset(c for c in (part.strip().upper() for part in raw.split(",")) if _CODE.match(c))


def code(raw: str | None, default: str) -> str:
    """One currency code, upper-cased; ``default`` when absent or empty."""
    if raw is None or not raw.strip():
        return default
    return raw.strip().upper()[:8]


def day(raw: str) -> date:
    """A ``YYYY-MM-DD`` date that exists."""
    if not _DAY.match(raw):
        raise BadValue(f"{raw[:16]!r} is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadValue(f"{raw!r} is not a date that exists") from None

"""Shared pure helpers for reading payloads: JSON decoding, numbers, dates."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from rates.models import Quote

Fail = Callable[[str], Exception]
# A value that is present but not a number: kept so validation can name it, never shown.
NOT_A_NUMBER = Decimal("NaN")


def load_json(payload: bytes, fail: Fail) -> Any:
    """Decode JSON, keeping every number exact as a Decimal."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        _raise(fail, "the payload is not UTF-8 text")
    if text.lstrip().startswith("<"):
        _raise(fail, "expected JSON but got HTML or XML")
    try:
        return json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except ValueError as exc:
        _raise(fail, f"the payload is not valid JSON ({exc})")
    except RecursionError:
        _raise(fail, "the payload's JSON is nested too deep to be a table of rates")


def to_decimal(value: Any) -> Decimal | None:
    """A number as Decimal, or None when the value is not a number at all."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            return None
    return None


def number_or_nan(raw: Any) -> Decimal:
    """A number as Decimal; anything else becomes NaN for validation to reject by name."""
    value = to_decimal(raw)
    return NOT_A_NUMBER if value is None else value


def quotes_from_mapping(numbers: Any, published: date | None, fail: Fail, *, lower: bool = False) -> tuple[Quote, ...]:
    """``{code: number}`` → quotes; entries that are not numbers at all are left to validation."""
    if not isinstance(numbers, dict) or not numbers:
        _raise(fail, "the payload has no table of rates")
    quotes = []
    for code, raw in numbers.items():
        if not isinstance(code, str) or len(code) != 3 or not code.isalpha():
            continue
        if lower and code != code.lower():
            continue
        quotes.append(Quote(code=code.upper(), value=number_or_nan(raw), published=published))
    return tuple(quotes)


def unix_date(value: Any, fail: Fail, field: str) -> date:
    number = to_decimal(value)
    if number is None or not number.is_finite():
        _raise(fail, f"'{field}' is missing or not a timestamp")
    try:
        return datetime.fromtimestamp(int(number), tz=UTC).date()
    except (ValueError, OverflowError, OSError):  # beyond what a date can hold: 1e12, -1e20
        _raise(fail, f"'{field}' is not a timestamp of a real day")


def iso_date(value: Any, fail: Fail, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        _raise(fail, f"'{field}' is missing or not a YYYY-MM-DD date")


def http_date(value: Any, fail: Fail, field: str) -> date:
    """floatrates writes 'Sat, 13 Jan 2024 11:55:01 GMT'."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(str(value)).astimezone(UTC).date()
    except (TypeError, ValueError):
        _raise(fail, f"'{field}' is missing or not a date")


def _raise(fail: Fail, reason: str) -> NoReturn:
    raise fail(reason)

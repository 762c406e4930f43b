"""The public rates document: rounding, names, change, and its exact JSON bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_name

from rates.config import Config
from rates.localized import pick
from rates.models import BASE, Rate
from rates.present import plain, significant
from widget.texts import reason_text

History = Mapping[str, Mapping[date, Decimal]]


def currency_names(config: Config) -> dict[str, str]:
    """The config's Arabic display name, else CLDR's Arabic name (Babel): the API speaks Arabic."""
    return {c.code: (c.name or {}).get("ar") or get_currency_name(c.code, locale="ar") for c in config.currencies}


def currency_notes(config: Config) -> dict[str, str | None]:
    """The config's Arabic ``note`` per code (the API's language), None when absent."""
    return {c.code: pick(c.note, "ar") for c in config.currencies}


def build_document(config: Config, rates: tuple[Rate, ...], history: History, updated_at: datetime) -> dict[str, Any]:
    names, notes = currency_names(config), currency_notes(config)
    return {
        "base": BASE,
        "updated_at": iso_time(updated_at),
        "rates": [_entry(rate, names[rate.code], notes.get(rate.code), history.get(rate.code, {})) for rate in rates],
    }


def keep_updated_at(new: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """``updated_at`` moves only when the rates changed: keep the old one otherwise."""
    if previous is not None and previous.get("rates") == new["rates"]:
        return {**new, "updated_at": previous["updated_at"]}
    return new


def _entry(rate: Rate, name: str, note: str | None, points: Mapping[date, Decimal]) -> dict[str, Any]:
    shown = None if rate.rate is None else significant(rate.rate)
    return {
        "code": rate.code,
        "name": name,
        "rate": shown,
        "buy": None if rate.buy is None else significant(rate.buy),
        "sell": None if rate.sell is None else significant(rate.sell),
        "per": rate.per,
        "source": rate.source,
        "published": None if rate.published is None else rate.published.isoformat(),
        "fetched_at": None if rate.fetched_at is None else iso_time(rate.fetched_at),
        "status": rate.status,
        "change": _change(shown, rate.published, points),
        "reason": reason_text(rate.reason, "ar"),  # the API's reason stays an Arabic sentence
        "note": note,
    }


def _change(shown: Decimal | None, published: date | None, points: Mapping[date, Decimal]) -> Decimal | None:
    """The difference from the rate at the previous publication date in the history."""
    if shown is None or published is None:
        return None
    earlier = [day for day in points if day < published]
    if not earlier:
        return None
    return significant(shown - significant(points[max(earlier)]))


def aged(document: dict[str, Any], now: datetime, stale_after: timedelta, fixed: set[str]) -> dict[str, Any]:
    """The served document with every network rate fetched longer than ``stale_after`` ago marked
    stale: what readers are owed when no merge can run."""

    def age(entry: dict[str, Any]) -> dict[str, Any]:
        fetched = entry.get("fetched_at")
        if entry["status"] != "ok" or entry["source"] in fixed or fetched is None:
            return entry
        when = datetime.fromisoformat(fetched.replace("Z", "+00:00"))
        return {**entry, "status": "stale"} if now - when > stale_after else entry

    return {**document, "rates": [age(e) for e in document["rates"]]}


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def encode(value: Any) -> bytes:
    """Exact JSON: Decimals are written as plain numbers, never through float."""
    return _encode(value).encode("utf-8")


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def decode(payload: bytes) -> Any:
    return json.loads(payload, parse_float=Decimal)

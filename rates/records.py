"""The store's records: plain, versioned JSON text, never pickled classes.

Each value is ``{"v": 1, ...}`` with Decimals as strings (exact) and times in ISO 8601, so a
renamed field or class in ``models.py`` cannot silently drop what a store holds. Stores
written before records (pickled dataclasses) are read through :func:`legacy_plain`, which
turns those pickles into the same plain shapes without importing any class they name.
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from rates.models import Hold, KeptQuote, KeptQuotes, Quote, Rejection, Resolved, SourceStatus

VERSION = 1
Record = dict[str, Any]


class RecordError(ValueError):
    """A stored value that is not a record this version can read."""


def dumps(body: Record) -> str:
    return json.dumps({"v": VERSION, **body}, ensure_ascii=False, separators=(",", ":"))


def loads(value: object) -> Record:
    """A stored value as a plain record: new JSON text, or an old pickle made plain."""
    if isinstance(value, str):
        try:
            record = json.loads(value)
        except ValueError as exc:
            raise RecordError(f"not JSON: {exc}") from None
        if not isinstance(record, dict) or record.get("v") != VERSION:
            raise RecordError(f"unknown record version {record.get('v') if isinstance(record, dict) else None!r}")
        return record
    if isinstance(value, _Legacy | dict):
        plain = legacy_plain(value)
        return plain if isinstance(plain, dict) else {"value": plain}
    raise RecordError(f"unexpected stored {type(value).__name__}")


# Values ------------------------------------------------------------------------------


def _decimal(text: Any) -> Decimal:
    if not isinstance(text, str):
        raise RecordError(f"a number must be a string, not {text!r}")
    return Decimal(text)


def _opt_decimal(text: Any) -> Decimal | None:
    return None if text is None else _decimal(text)


def _moment(text: Any) -> datetime:
    return datetime.fromisoformat(text)


def _opt_moment(text: Any) -> datetime | None:
    return None if text is None else _moment(text)


def _iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _str(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


# Kept quotes ---------------------------------------------------------------------------


def kept_quotes_record(kept: KeptQuotes) -> Record:
    return {"source_id": kept.source_id, "ref": kept.ref, "quotes": {c: _kept(q) for c, q in kept.quotes.items()}}


def _kept(kept: KeptQuote) -> Record:
    quote = kept.quote
    return {
        "code": quote.code,
        "value": str(quote.value),
        "published": _iso(quote.published),
        "buy": _str(quote.buy),
        "sell": _str(quote.sell),
        "fetched_at": _iso(kept.fetched_at),
    }


def kept_quotes(record: Record) -> KeptQuotes:
    quotes = {}
    for code, item in record["quotes"].items():
        quote_part = item.get("quote", item)  # legacy: {quote: {...}, fetched_at}; records: flat
        quote = Quote(
            code=quote_part["code"],
            value=_decimal(quote_part["value"]),
            published=None if quote_part["published"] is None else date.fromisoformat(quote_part["published"]),
            buy=_opt_decimal(quote_part.get("buy")),
            sell=_opt_decimal(quote_part.get("sell")),
        )
        quotes[code] = KeptQuote(quote, _moment(item["fetched_at"]))
    return KeptQuotes(record["source_id"], record["ref"], quotes)


# Source status -------------------------------------------------------------------------


def status_record(status: SourceStatus) -> Record:
    return {
        "source_id": status.source_id,
        "last_success": _iso(status.last_success),
        "last_error": status.last_error,
        "last_error_at": _iso(status.last_error_at),
        "next_run": _iso(status.next_run),
        "failures": status.failures,
        "rejected": [list(pair) for pair in status.rejected],
    }


def source_status(record: Record) -> SourceStatus:
    return SourceStatus(
        source_id=record["source_id"],
        last_success=_opt_moment(record.get("last_success")),
        last_error=record.get("last_error"),
        last_error_at=_opt_moment(record.get("last_error_at")),
        next_run=_opt_moment(record.get("next_run")),
        failures=int(record.get("failures", 0)),
        rejected=tuple((str(c), str(r)) for c, r in record.get("rejected", ())),
    )


# Merge state -----------------------------------------------------------------------------


def resolved_record(resolved: Resolved) -> Record:
    return {
        "code": resolved.code,
        "rate": str(resolved.rate),
        "source": resolved.source,
        "published": _iso(resolved.published),
        "fetched_at": _iso(resolved.fetched_at),
        "stale": resolved.stale,
        "buy": _str(resolved.buy),
        "sell": _str(resolved.sell),
        "fixed": resolved.fixed,
        "provisional": resolved.provisional,
    }


def resolved(record: Record) -> Resolved:
    return Resolved(
        code=record["code"],
        rate=_decimal(record["rate"]),
        source=record["source"],
        published=date.fromisoformat(record["published"]),
        fetched_at=_moment(record["fetched_at"]),
        stale=bool(record["stale"]),
        buy=_opt_decimal(record.get("buy")),
        sell=_opt_decimal(record.get("sell")),
        fixed=bool(record.get("fixed", False)),
        provisional=bool(record.get("provisional", False)),
    )


def hold_record(hold: Hold) -> Record:
    return {
        "code": hold.code,
        "source": hold.source,
        "old": str(hold.old),
        "new": str(hold.new),
        "since": _iso(hold.since),
    }


def hold(record: Record) -> Hold:
    return Hold(
        record["code"], record["source"], _decimal(record["old"]), _decimal(record["new"]), _moment(record["since"])
    )


def rejection_record(rejection: Rejection) -> Record:
    return {"code": rejection.code, "source": rejection.source, "rate": str(rejection.rate)}


def rejection(record: Record) -> Rejection:
    return Rejection(record["code"], record["source"], _decimal(record["rate"]))


def by_code(record: Record, read: Any) -> dict[str, Any]:
    """A ``{"items": {code: record}}`` record (or a legacy plain dict) read item by item."""
    items = record.get("items", {k: v for k, v in record.items() if k != "v"})
    return {code: read(item) for code, item in items.items()}


def items_record(items: Mapping[str, Any], write: Any) -> Record:
    return {"items": {code: write(item) for code, item in items.items()}}


# History ---------------------------------------------------------------------------------


def history(record: Record) -> dict[date, Decimal]:
    points = record.get("points", {k: v for k, v in record.items() if k != "v"})
    return {date.fromisoformat(day): _decimal(rate) for day, rate in points.items()}


# Stores written before records -----------------------------------------------------------------


class _Legacy:
    """An old pickled dataclass, kept as its fields only: no class of ours is imported."""


_STANDARD = {
    ("datetime", "date"): date,
    ("datetime", "datetime"): datetime,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
    ("decimal", "Decimal"): Decimal,
}


class LegacyUnpickler(pickle.Unpickler):
    """Reads the pickles of stores written before records: our classes become field bags."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _STANDARD:
            return _STANDARD[module, name]
        if module == "copyreg" and name == "_reconstructor":
            return _reconstructor
        if module.split(".")[0] == "rates":
            return type(name, (_Legacy,), {})
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a store")


def _reconstructor(cls: type, base: type, state: object) -> object:
    return object.__new__(cls)


def legacy_load(data: bytes | io.BufferedReader) -> Any:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    return LegacyUnpickler(stream).load()


def legacy_plain(value: Any) -> Any:
    """An old value in the shapes records use: dicts of strings, numbers as text."""
    if isinstance(value, _Legacy):
        return {key: legacy_plain(item) for key, item in vars(value).items()}
    if isinstance(value, dict):
        return {(k.isoformat() if isinstance(k, date) else k): legacy_plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [legacy_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value

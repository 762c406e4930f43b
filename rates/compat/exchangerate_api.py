"""ExchangeRate-API open access: ``/v6/latest/{BASE}``.

The same keys, in the same order, as ``open.er-api.com``; ``rates`` starts with the base
itself (1), then alphabetical. ``time_next_update_*`` is the next scheduled source run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from rates.compat.errors import Refusal
from rates.compat.table import Table

PROVIDER = "https://cbi.iq"
DOCUMENTATION = "/api/v1/openapi.json"
TERMS = "https://cbi.iq"


def unsupported_code() -> Refusal:
    return Refusal(404, {"result": "error", "error-type": "unsupported-code"})


def answer(table: Table, base: str, next_update: datetime | None) -> dict[str, Any]:
    if not table.has(base):
        raise unsupported_code()
    following = next_update or table.moment + timedelta(days=1)
    return {
        "result": "success",
        "provider": PROVIDER,
        "documentation": DOCUMENTATION,
        "terms_of_use": TERMS,
        "time_last_update_unix": table.unix,
        "time_last_update_utc": format_datetime(table.moment),
        "time_next_update_unix": int(following.timestamp()),
        "time_next_update_utc": format_datetime(following),
        "time_eol_unix": 0,
        "base_code": base,
        "rates": table.per(base, [base, *(c for c in table.codes if c != base)]),
    }

"""What decides a widget row's height, read from a rates-document entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from widget.format import positive_decimal


@dataclass(frozen=True)
class RowFacts:
    code: str
    noted: bool  # the config gives it a note: one more line under the row
    source: str | None  # credited in the footer when the row shows a rate
    reason: str | None  # unavailable: its reason is said once in the footer
    held: bool  # held: the explanation is said once in the footer

    @classmethod
    def of(cls, entry: Mapping[str, Any], noted: bool) -> RowFacts:
        status = entry.get("status")
        available = positive_decimal(entry.get("rate")) is not None and status != "unavailable"
        source = entry.get("source") if available and isinstance(entry.get("source"), str) else None
        reason = entry.get("reason") if isinstance(entry.get("reason"), str) else "unavailable"
        return cls(
            code=str(entry.get("code")),
            noted=noted,
            source=source,
            reason=None if available else reason,
            held=available and status == "held",
        )

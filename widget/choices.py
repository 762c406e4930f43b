"""The closed sets of words the widget, the config and the API share: one definition each."""

from __future__ import annotations

from typing import Literal

Theme = Literal["light", "dark", "auto"]
Digits = Literal["arab", "latn"]
Status = Literal["ok", "stale", "held", "unavailable"]

THEMES: tuple[Theme, ...] = ("light", "dark", "auto")
DIGITS: tuple[Digits, ...] = ("arab", "latn")
STATUSES: tuple[Status, ...] = ("ok", "stale", "held", "unavailable")

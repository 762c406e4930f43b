"""The registry of source kinds: ``kind`` string → adapter class.

Adding a kind is one new module beside this one and one line in ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rates.sources.base import Source, SourceSettings
from rates.sources.cbi import CbiSource
from rates.sources.currency_api import CurrencyApiSource
from rates.sources.ecb import EcbSource
from rates.sources.fixed import FixedSource
from rates.sources.floatrates import FloatratesSource
from rates.sources.json_source import JsonSource
from rates.sources.open_er_api import OpenErApiSource

REGISTRY: dict[str, type[Source[Any]]] = {
    cls.kind: cls
    for cls in (
        CbiSource,
        OpenErApiSource,
        FloatratesSource,
        EcbSource,
        CurrencyApiSource,
        FixedSource,
        JsonSource,
    )
}


def build_sources(settings: Iterable[SourceSettings]) -> list[Source[Any]]:
    """One adapter per configured source, in config order."""
    return [REGISTRY[s.kind](s) for s in settings]


__all__ = ["REGISTRY", "Source", "SourceSettings", "build_sources"]

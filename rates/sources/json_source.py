"""Any JSON URL, described in the config, so admins add a source without code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from rates.models import Quote, QuoteSet
from rates.sources.base import CurrencyCode, NetworkSettings, NetworkSource, normalize_code
from rates.sources.payload import iso_date, load_json, quotes_from_mapping, unix_date

DottedPath = Annotated[str, Field(pattern=r"^[^.\s]+(\.[^.\s]+)*$")]


class JsonSettings(NetworkSettings):
    kind: Literal["json"]
    ref: Annotated[CurrencyCode, BeforeValidator(normalize_code)]
    path: DottedPath = "rates"
    published_path: DottedPath | None = None
    inverse: bool = False


class JsonSource(NetworkSource[JsonSettings]):
    kind = "json"
    Settings = JsonSettings

    def parse(self, payload: bytes) -> QuoteSet:
        settings = self.settings
        body = load_json(payload, self.fail)
        published = self._published(body, settings.published_path)
        quotes = quotes_from_mapping(self._walk(body, settings.path), published, self.fail)
        if settings.inverse:
            quotes = tuple(_inverted(q) for q in quotes)
        return QuoteSet(ref=settings.ref, quotes=tuple(q for q in quotes if q.code != settings.ref))

    def _walk(self, body: Any, path: str) -> Any:
        node = body
        for step in path.split("."):
            if isinstance(node, list) and step.isdigit() and int(step) < len(node):
                node = node[int(step)]
            elif isinstance(node, dict) and step in node:
                node = node[step]
            else:
                raise self.fail(f"the payload has nothing at '{path}' (stopped at '{step}')")
        return node

    def _published(self, body: Any, path: str | None) -> date | None:
        if path is None:
            return None
        value = self._walk(body, path)
        if isinstance(value, Decimal):
            return unix_date(value, self.fail, path)
        return iso_date(value, self.fail, path)


def _inverted(quote: Quote) -> Quote:
    """Numbers given as ref per 1 C become C per 1 ref; a zero stays for validation to reject."""
    value = 1 / quote.value if quote.value.is_finite() and quote.value != 0 else quote.value
    return Quote(code=quote.code, value=value, published=quote.published)

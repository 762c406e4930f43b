"""fawazahmed0's currency-api: ``GET …/v1/currencies/{ref}.json``, lower-case codes."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from rates.models import QuoteSet
from rates.sources.base import NetworkSettings, NetworkSource
from rates.sources.payload import iso_date, load_json, quotes_from_mapping

_REF_IN_URL = re.compile(r"/currencies/([a-z]{3})(?:\.min)?\.json(?:\?.*)?$", re.IGNORECASE)


class CurrencyApiSettings(NetworkSettings):
    kind: Literal["currency-api"]

    @field_validator("url")
    @classmethod
    def _url_names_ref(cls, url: str) -> str:
        if not _REF_IN_URL.search(url):
            raise ValueError("the URL must end in /currencies/{ref}.json, e.g. …/v1/currencies/usd.json")
        return url


class CurrencyApiSource(NetworkSource[CurrencyApiSettings]):
    kind = "currency-api"
    Settings = CurrencyApiSettings

    @property
    def ref(self) -> str:
        match = _REF_IN_URL.search(self.settings.url)
        assert match is not None
        return match.group(1).lower()

    def parse(self, payload: bytes) -> QuoteSet:
        body = load_json(payload, self.fail)
        if not isinstance(body, dict):
            raise self.fail("expected a JSON object")
        published = iso_date(body.get("date"), self.fail, "date")
        if self.ref not in body:
            raise self.fail(f"the payload has no '{self.ref}' table")
        quotes = quotes_from_mapping(body[self.ref], published, self.fail, lower=True)
        return QuoteSet(ref=self.ref.upper(), quotes=tuple(q for q in quotes if q.code != self.ref.upper()))

"""floatrates.com: ``GET …/daily/{ref}.json``, keyed by lower-case code."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from rates.models import Quote, QuoteSet
from rates.sources.base import NetworkSettings, NetworkSource
from rates.sources.payload import http_date, load_json, number_or_nan

_REF_IN_URL = re.compile(r"/([A-Za-z]{3})\.json(?:\?.*)?$")


class FloatratesSettings(NetworkSettings):
    kind: Literal["floatrates"]

    @field_validator("url")
    @classmethod
    def _url_names_ref(cls, url: str) -> str:
        if not _REF_IN_URL.search(url):
            raise ValueError("the URL must end in /{ref}.json, e.g. https://www.floatrates.com/daily/usd.json")
        return url


class FloatratesSource(NetworkSource[FloatratesSettings]):
    kind = "floatrates"
    Settings = FloatratesSettings

    @property
    def ref(self) -> str:
        match = _REF_IN_URL.search(self.settings.url)
        assert match is not None
        return match.group(1).upper()

    def parse(self, payload: bytes) -> QuoteSet:
        body = load_json(payload, self.fail)
        if not isinstance(body, dict) or not body:
            raise self.fail("expected a JSON object keyed by currency code")
        quotes = [self._quote(key, entry) for key, entry in body.items()]
        return QuoteSet(ref=self.ref, quotes=tuple(q for q in quotes if q is not None))

    def _quote(self, key: str, entry: object) -> Quote | None:
        if not isinstance(entry, dict) or len(key) != 3:
            raise self.fail(f"entry {key!r} is not a rate object")
        published = http_date(entry.get("date"), self.fail, f"{key}.date")
        code = str(entry.get("code") or key).upper()
        return Quote(code=code, value=number_or_nan(entry.get("rate")), published=published)

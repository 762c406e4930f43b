"""floatrates.com: ``GET …/daily/{ref}.json``, keyed by lower-case code."""

from __future__ import annotations

import re
from typing import Literal

from rates.models import Quote, QuoteSet
from rates.sources.base import NetworkSource, RefInUrlSettings
from rates.sources.payload import http_date, load_json, number_or_nan


class FloatratesSettings(RefInUrlSettings):
    kind: Literal["floatrates"]
    ref_in_url = re.compile(r"/([A-Za-z]{3})\.json(?:\?.*)?$")
    url_shape = "/{ref}.json"
    url_example = "https://www.floatrates.com/daily/usd.json"


class FloatratesSource(NetworkSource[FloatratesSettings]):
    kind = "floatrates"
    Settings = FloatratesSettings

    def parse(self, payload: bytes) -> QuoteSet:
        body = load_json(payload, self.fail)
        if not isinstance(body, dict) or not body:
            raise self.fail("expected a JSON object keyed by currency code")
        return QuoteSet(ref=self.settings.ref, quotes=tuple(self._quote(key, entry) for key, entry in body.items()))

    def _quote(self, key: str, entry: object) -> Quote:
        if not isinstance(entry, dict) or len(key) != 3:
            raise self.fail(f"entry {key!r} is not a rate object")
        published = http_date(entry.get("date"), self.fail, f"{key}.date")
        code = str(entry.get("code") or key).upper()
        return Quote(code=code, value=number_or_nan(entry.get("rate")), published=published)

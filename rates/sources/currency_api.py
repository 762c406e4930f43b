"""fawazahmed0's currency-api: ``GET …/v1/currencies/{ref}.json``, lower-case codes."""

from __future__ import annotations

import re
from typing import Literal

from rates.models import QuoteSet
from rates.sources.base import NetworkSource, RefInUrlSettings
from rates.sources.payload import iso_date, load_json, quotes_from_mapping


class CurrencyApiSettings(RefInUrlSettings):
    kind: Literal["currency-api"]
    ref_in_url = re.compile(r"/currencies/([a-z]{3})(?:\.min)?\.json(?:\?.*)?$", re.IGNORECASE)
    url_shape = "/currencies/{ref}.json"
    url_example = "…/v1/currencies/usd.json"


class CurrencyApiSource(NetworkSource[CurrencyApiSettings]):
    kind = "currency-api"
    Settings = CurrencyApiSettings

    def parse(self, payload: bytes) -> QuoteSet:
        body = load_json(payload, self.fail)
        if not isinstance(body, dict):
            raise self.fail("expected a JSON object")
        published = iso_date(body.get("date"), self.fail, "date")
        ref, table = self.settings.ref, self.settings.ref.lower()
        if table not in body:
            raise self.fail(f"the payload has no '{table}' table")
        quotes = quotes_from_mapping(body[table], published, self.fail, lower=True)
        return QuoteSet(ref=ref, quotes=tuple(q for q in quotes if q.code != ref))

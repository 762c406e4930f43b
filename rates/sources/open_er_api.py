"""ExchangeRate-API open access: ``GET …/v6/latest/{REF}``."""

from __future__ import annotations

from typing import Literal

from rates.models import QuoteSet
from rates.sources.base import NetworkSettings, NetworkSource
from rates.sources.payload import load_json, quotes_from_mapping, unix_date


class OpenErApiSettings(NetworkSettings):
    kind: Literal["open-er-api"]


class OpenErApiSource(NetworkSource[OpenErApiSettings]):
    kind = "open-er-api"
    Settings = OpenErApiSettings

    def parse(self, payload: bytes) -> QuoteSet:
        body = load_json(payload, self.fail)
        if not isinstance(body, dict):
            raise self.fail("expected a JSON object")
        if body.get("result") != "success":
            detail = body.get("error-type") or body.get("result") or "no result field"
            raise self.fail(f"the upstream reports an error: {detail}")
        ref = body.get("base_code")
        if not isinstance(ref, str) or len(ref) != 3:
            raise self.fail("'base_code' is missing")
        published = unix_date(body.get("time_last_update_unix"), self.fail, "time_last_update_unix")
        quotes = quotes_from_mapping(body.get("rates"), published, self.fail)
        return QuoteSet(ref=ref.upper(), quotes=tuple(q for q in quotes if q.code != ref.upper()))

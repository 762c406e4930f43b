"""European Central Bank reference rates: ``GET …/eurofxref-daily.xml``, per 1 EUR."""

from __future__ import annotations

from typing import Literal
from xml.etree import ElementTree

from rates.models import Quote, QuoteSet
from rates.sources.base import NetworkSettings, NetworkSource
from rates.sources.payload import iso_date, number_or_nan


class EcbSettings(NetworkSettings):
    kind: Literal["ecb"]


class EcbSource(NetworkSource[EcbSettings]):
    kind = "ecb"
    Settings = EcbSettings

    def parse(self, payload: bytes) -> QuoteSet:
        if b"<!DOCTYPE" in payload[:200] or b"<!ENTITY" in payload:
            raise self.fail("expected the ECB's XML but got a document with a DTD or HTML")
        try:
            root = ElementTree.fromstring(payload)
        except ElementTree.ParseError as exc:
            raise self.fail(f"the payload is not valid XML ({exc})") from None
        day = next((el for el in root.iter() if _local(el.tag) == "Cube" and el.get("time")), None)
        if day is None:
            raise self.fail("no <Cube time='…'> element")
        published = iso_date(day.get("time"), self.fail, "Cube@time")
        quotes = tuple(
            Quote(code=el.get("currency", "").upper(), value=number_or_nan(el.get("rate")), published=published)
            for el in day
            if _local(el.tag) == "Cube" and el.get("currency")
        )
        if not quotes:
            raise self.fail("the <Cube> of the day lists no currencies")
        return QuoteSet(ref="EUR", quotes=quotes)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]

"""The Central Bank of Iraq: a web page that links XLSX workbooks of daily rates.

``fetch`` reads the page, follows the link whose text contains ``الذهب`` (the workbook
of major currencies and gold) and hands the workbook to ``parse``, which reads it with
:mod:`rates.sources.cbi_workbook`.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin, urlsplit

from rates.models import BASE, QuoteSet
from rates.sources.base import NetworkSettings, NetworkSource, map_exceptions
from rates.sources.cbi_workbook import Column, UnreadableWorkbook, read_quotes, read_record

if TYPE_CHECKING:
    from rates.fetch import Fetcher

GOLD_WORD = "الذهب"


class CbiSettings(NetworkSettings):
    kind: Literal["cbi"]
    column: Column = "sell"


class CbiSource(NetworkSource[CbiSettings]):
    kind = "cbi"
    Settings = CbiSettings
    _last_read: tuple[bytes, QuoteSet] | None = None  # (digest of the workbook, its quotes)

    async def fetch(self, fetcher: Fetcher) -> QuoteSet:
        """The page, then the workbook it links; the timeout applies to each request."""
        page = await fetcher.get(self.id, self.settings.url, self.settings.timeout)
        url = self.workbook_url(page, self.settings.url)
        workbook = await fetcher.get(self.id, url, self.settings.timeout)
        # The CBI adds a day row once a day, but the workbook is read every `every`: the same
        # bytes give the same quotes, so only a changed workbook is read again, and then in
        # full (every yearly sheet: the record). Reading one is pure-Python CPU work that
        # competes with serving for the GIL.
        digest = hashlib.sha256(workbook).digest()
        if self._last_read is not None and self._last_read[0] == digest:
            return self._last_read[1]
        quotes = await asyncio.to_thread(self.parse_record, workbook)  # CPU work: off the event loop
        # The past was handed over once; an unchanged workbook brings only its latest day.
        self._last_read = (digest, replace(quotes, record=None))
        return quotes

    def workbook_url(self, page: bytes, page_url: str) -> str:
        """The absolute URL of the major-currencies-and-gold workbook linked from ``page``.

        Only a link to the page's own host is followed: the page is not trusted to send
        the service anywhere else.
        """
        links = _Links()
        links.feed(page.decode("utf-8", errors="replace"))
        links.close()
        for href, text in links.found:
            if GOLD_WORD in text:
                url = urljoin(page_url, href)
                host, own = urlsplit(url).hostname, urlsplit(page_url).hostname
                if host != own or urlsplit(url).scheme not in ("http", "https"):
                    raise self.fail(f"the workbook link points to {host or 'no host'!s}, not the page's own host {own}")
                return url
        raise self.fail(f"the page links no workbook whose text contains '{GOLD_WORD}'")

    def parse(self, payload: bytes) -> QuoteSet:
        """The latest day only: the newest year's sheet (and the one before in early January)."""
        try:
            year, quotes = read_quotes(payload, self.settings.column)
        except UnreadableWorkbook as exc:
            raise self.fail(str(exc)) from None
        if not quotes:
            raise self.fail(f"sheet {year} has no dated day row with {self.settings.column} rates")
        return QuoteSet(ref=BASE, quotes=quotes)

    def parse_record(self, payload: bytes) -> QuoteSet:
        """The latest day, and every day of every yearly sheet as the record (section 7)."""
        with map_exceptions(self.fail, "reading the payload"):  # the boundary ``parse`` gets
            try:
                record = read_record(payload, self.settings.column)
            except UnreadableWorkbook as exc:
                raise self.fail(str(exc)) from None
        if not record.latest:
            return self.parse(payload)  # raises the reason the latest sheet gives nothing
        return QuoteSet(ref=BASE, quotes=record.latest, record=record.days)


class _Links(HTMLParser):
    """Collects ``(href, all nested text)`` of every ``<a href>``."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = (dict(attrs).get("href") or "").strip() or None
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.found.append((self._href, "".join(self._text)))
            self._href = None

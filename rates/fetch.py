"""The one place that talks HTTP to upstreams.

One shared ``aiohttp.ClientSession``; per request the source's timeout, a body cap,
and conditional headers so an unchanged upstream costs a 304. Every failure becomes a
:class:`FetchError` with a one-line reason, its URLs redacted (see :mod:`rates.redact`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import aiohttp

from rates.errors import FetchError

MAX_BODY = 5 * 1024 * 1024
USER_AGENT = "iqd-rates/0.1 (+official IQD exchange rates widget)"
_CHUNK = 64 * 1024
_MAX_REMEMBERED = 64


@dataclass(frozen=True)
class _Validators:
    etag: str | None
    last_modified: str | None
    body: bytes


class Fetcher:
    """Owns the client session; ``async with Fetcher() as f: await f.get(...)``."""

    def __init__(self, max_body: int = MAX_BODY) -> None:
        self.max_body = max_body
        self._session: aiohttp.ClientSession | None = None
        self._validators: dict[str, _Validators] = {}

    async def __aenter__(self) -> Fetcher:
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            connector=aiohttp.TCPConnector(limit=16, ttl_dns_cache=300),
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(self, source_id: str, url: str, timeout: timedelta) -> bytes:
        """The body of ``url``; a 304 returns the body remembered from the last 200."""
        seconds = timeout.total_seconds()
        try:
            async with asyncio.timeout(seconds):
                return await self._get(source_id, url, seconds)
        except TimeoutError:
            raise FetchError(source_id, f"no complete answer from {url} within {seconds:g}s") from None
        except (aiohttp.ClientError, OSError, ValueError, LookupError) as exc:
            # ValueError: a URL yarl or IDNA cannot encode; LookupError: an unknown codec or charset.
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise FetchError(source_id, f"cannot fetch {url}: {reason}") from None

    async def _get(self, source_id: str, url: str, seconds: float) -> bytes:
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        remembered = self._validators.get(url)
        async with self._session.get(
            url, headers=_conditional_headers(remembered), timeout=aiohttp.ClientTimeout(total=seconds)
        ) as response:
            if response.status == 304 and remembered is not None:
                return remembered.body
            if response.status >= 400:
                raise FetchError(source_id, f"{url} answered HTTP {response.status} {response.reason or ''}".rstrip())
            body = await self._read_capped(source_id, url, response)
            self._remember(url, response, body)
            return body

    async def _read_capped(self, source_id: str, url: str, response: aiohttp.ClientResponse) -> bytes:
        if (response.content_length or 0) > self.max_body and not response.headers.get("Content-Encoding"):
            raise FetchError(
                source_id, f"{url} sent {response.content_length} bytes, over the {self.max_body}-byte cap"
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                raise FetchError(source_id, f"{url} sent more than the {self.max_body}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    def _remember(self, url: str, response: aiohttp.ClientResponse, body: bytes) -> None:
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if etag is None and last_modified is None:
            self._validators.pop(url, None)
            return
        if len(self._validators) >= _MAX_REMEMBERED and url not in self._validators:
            self._validators.pop(next(iter(self._validators)))
        self._validators[url] = _Validators(etag, last_modified, body)


def _conditional_headers(remembered: _Validators | None) -> dict[str, str]:
    if remembered is None:
        return {}
    headers = {}
    if remembered.etag:
        headers["If-None-Match"] = remembered.etag
    if remembered.last_modified:
        headers["If-Modified-Since"] = remembered.last_modified
    return headers

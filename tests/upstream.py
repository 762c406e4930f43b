"""A local upstream on 127.0.0.1 that serves the real fixture payloads, and misbehaves on demand.

Paths mirror the real sources, so a config only swaps the origin:
  /page/144, /static/uploads/up/<file>.xlsx   the CBI page and workbook
  /v6/latest/USD, /v6/latest/EUR              ExchangeRate-API open access
  /daily/gbp.json                             floatrates
  /stats/eurofxref/eurofxref-daily.xml        ECB
  /v1/currencies/usd.json                     currency-api (synthesized: no real sample exists)
  /custom/rates.json                          a generic JSON feed
Faults are set per path from a test (``upstream.fault(path, ...)``) or, for a separate
process, with ``POST /_control`` ``{"path", "status", "body", "delay", "content_type", "headers"}``.
``upstream.etag(path, tag)`` makes a path carry that ETag and answer a matching
``If-None-Match`` with 304; ``upstream.seen[path]`` lists the headers of each request.
Run standalone: ``python -m tests.upstream --port 9099``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from rates.document import encode

FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
CBI_WORKBOOK = "/static/uploads/up/file-177909880482668.xlsx"

CURRENCY_API_USD = {
    "date": "2026-11-20",
    "usd": {"iqd": 1310.5, "kwd": 0.3068, "eur": 0.9201, "try": 41.92, "egp": 48.35, "usd": 1},
}
CUSTOM_FEED = {"data": {"asof": "2026-11-20", "quotes": {"USD": 1, "KWD": 0.3068, "EGP": 48.35}}}


@dataclass
class Fault:
    status: int = 200
    body: bytes | None = None
    delay: float = 0.0
    content_type: str | None = None
    headers: dict[str, str] | None = None  # extra response headers, e.g. Content-Encoding


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def exact_json(value: Any) -> bytes:
    """JSON of ``value`` with Decimals written as the numbers they are (for variant payloads)."""
    return encode(value)


class Upstream:
    """The routes and the faults; ``app`` is an aiohttp application serving them."""

    def __init__(self) -> None:
        self.faults: dict[str, Fault] = {}
        self.hits: dict[str, int] = {}
        self.seen: dict[str, list[dict[str, str]]] = {}
        self.etags: dict[str, str] = {}
        self.app = web.Application(client_max_size=16 * 1024 * 1024)  # control orders may carry big bodies
        self.app.router.add_post("/_control", self._control)
        self.app.router.add_get("/{tail:.*}", self._serve)

    def fault(
        self,
        path: str,
        status: int = 200,
        body: bytes | None = None,
        delay: float = 0.0,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults[path] = Fault(status, body, delay, content_type, headers)

    def etag(self, path: str, tag: str | None) -> None:
        """Serve ``path`` with this ETag and answer ``If-None-Match: tag`` with 304 (None: stop)."""
        if tag is None:
            self.etags.pop(path, None)
        else:
            self.etags[path] = tag

    def clear(self, path: str | None = None) -> None:
        if path is None:
            self.faults.clear()
        else:
            self.faults.pop(path, None)

    def payload(self, path: str, origin: str) -> tuple[bytes, str] | None:
        """The normal bytes of ``path``, and their content type."""
        if path == "/page/144":
            page = fixture("cbi_page144.html").replace(b"https://cbi.iq", origin.encode())
            return page, "text/html; charset=utf-8"
        if path == CBI_WORKBOOK:
            xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            return fixture("cbi_major_currencies_and_gold.xlsx"), xlsx
        static = {
            "/v6/latest/USD": "open_er_api_latest_USD.json",
            "/v6/latest/EUR": "open_er_api_latest_EUR.json",
            "/daily/gbp.json": "floatrates_daily_gbp.json",
        }
        if path in static:
            return fixture(static[path]), "application/json"
        if path == "/stats/eurofxref/eurofxref-daily.xml":
            return fixture("ecb_eurofxref-daily.xml"), "text/xml"
        if path == "/v1/currencies/usd.json":
            return json.dumps(CURRENCY_API_USD).encode(), "application/json"
        if path == "/custom/rates.json":
            return json.dumps(CUSTOM_FEED).encode(), "application/json"
        return None

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.hits[path] = self.hits.get(path, 0) + 1
        self.seen.setdefault(path, []).append(dict(request.headers))
        fault = self.faults.get(path, Fault())
        if fault.delay:
            await asyncio.sleep(fault.delay)
        normal = self.payload(path, f"{request.scheme}://{request.host}")
        if normal is None and fault.body is None:
            raise web.HTTPNotFound(text="no such fixture")
        body = fault.body if fault.body is not None else normal[0]  # type: ignore[index]
        content_type = fault.content_type or (normal[1] if normal else "application/octet-stream")
        headers = {"Content-Type": content_type, **(fault.headers or {})}
        tag = self.etags.get(path)
        if tag is not None:
            if request.headers.get("If-None-Match") == tag:
                return web.Response(status=304, headers={"ETag": tag})
            headers["ETag"] = tag
        return web.Response(status=fault.status, body=body, headers=headers)

    async def _control(self, request: web.Request) -> web.Response:
        """Set or clear a fault. ``body`` is text; ``body_b64`` any bytes (gzip, say), padded
        with trailing spaces (still valid JSON) up to ``pad_to`` so a test need not send 5 MiB."""
        order = await request.json()
        if order.get("clear"):
            self.clear(order.get("path"))
            return web.json_response({"faults": sorted(self.faults)})
        body = order.get("body")
        raw = base64.b64decode(order["body_b64"]) if "body_b64" in order else body.encode() if body else None
        if raw is not None:
            raw += b" " * max(0, int(order.get("pad_to") or 0) - len(raw))
        self.fault(
            order["path"],
            int(order.get("status", 200)),
            raw,
            float(order.get("delay", 0)),
            order.get("content_type"),
            order.get("headers") or None,
        )
        return web.json_response({"faults": sorted(self.faults), "bytes": len(raw or b"")})


def bundled_config_text(origin: str, store_dir: str) -> str:
    """The bundled config.yaml with every network source pointed at ``origin``."""
    text = (Path(__file__).parent.parent / "config.yaml").read_text(encoding="utf-8")
    for real, local in {
        "https://cbi.iq/page/144": f"{origin}/page/144",
        "https://open.er-api.com/v6/latest/USD": f"{origin}/v6/latest/USD",
        "https://www.floatrates.com/daily/usd.json": f"{origin}/daily/gbp.json",
        "dir: var/rates": f"dir: {store_dir}",
        # The aggregator fixtures were published in 2024: within the window, or every cross is stale.
        "published_within: 10d": "published_within: 3650d",
    }.items():
        assert real in text, real
        text = text.replace(real, local)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9099)
    args = parser.parse_args()
    web.run_app(Upstream().app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

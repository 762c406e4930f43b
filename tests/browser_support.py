"""Helpers for the browser tests: the service and a host page on loopback, a headless Chromium.

Everything runs in the test's own event loop: aiohttp ``TestServer``s for the service and for
a second origin that embeds it, and Playwright's async API driving Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, web
from aiohttp.test_utils import TestServer

from rates.config import Config
from rates.web import create_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def screenshots(tmp_path: Path) -> Path:
    """Where the widget's screenshots go: a temporary folder, unless the one command that
    refreshes the docs' pictures asks for ``docs/`` (``RATES_DOCS_SCREENSHOTS=1``, see the README)."""
    return ROOT / "docs" if os.environ.get("RATES_DOCS_SCREENSHOTS") == "1" else tmp_path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@asynccontextmanager
async def running_service(config: Config, *, ready: bool = True) -> AsyncIterator[tuple[web.Application, str]]:
    """The service on 127.0.0.1 (an ephemeral port), and its origin; waits for ``/readyz``."""
    app = create_app(config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    origin = str(server.make_url("")).rstrip("/")
    try:
        if ready:
            await wait_ready(origin)
        yield app, origin
    finally:
        await server.close()


async def wait_ready(origin: str, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with ClientSession(timeout=ClientTimeout(total=2)) as session:
        while True:
            async with session.get(f"{origin}/readyz") as response:
                if response.status == 200:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{origin}/readyz not 200 within {timeout}s")
            await asyncio.sleep(0.05)


async def get_json(url: str) -> object:
    async with ClientSession(timeout=ClientTimeout(total=5)) as session, session.get(url) as response:
        assert response.status == 200, (url, response.status)
        return await response.json()


async def get_status(url: str) -> int:
    async with ClientSession(timeout=ClientTimeout(total=5)) as session, session.get(url) as response:
        return response.status


@asynccontextmanager
async def host_page(pages: dict[str, str]) -> AsyncIterator[str]:
    """Another origin (another port on 127.0.0.1) serving ``{path: html}``; yields its origin."""
    app = web.Application()
    for path, html in pages.items():
        app.router.add_get(path, _html_handler(html))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def _html_handler(html: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    return handler


def embedding_html(scripts: list[str], title: str = "صفحة الموقع المضيف") -> str:
    """A host page: its own heading and paragraphs, with each script line between two markers."""
    blocks = "\n".join(
        f'<section><p id="before-{i}">قبل الأداة {i}</p>\n{script}\n<p id="after-{i}">بعد الأداة {i}</p></section>'
        for i, script in enumerate(scripts)
    )
    return (
        '<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title></head>'
        f'<body style="font-family:sans-serif;margin:16px"><h1 id="host">{title}</h1>\n{blocks}\n'
        '<footer id="host-footer">نهاية الصفحة</footer></body></html>'
    )


def free_port() -> int:
    """A loopback port where nothing listens (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Observed:
    """What a browser context did: every request URL, uncaught page errors, console errors, dialogs."""

    requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def off_loopback(self) -> list[str]:
        return [url for url in self.requests if not _is_local(url)]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOOPBACK


_RGB = re.compile(r"rgba?\(\s*([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)")


def parse_rgb(css: str) -> tuple[float, float, float, float]:
    match = _RGB.fullmatch(css.strip())
    assert match, f"not an rgb() colour: {css!r}"
    r, g, b, a = match.groups()
    alpha = 1.0 if a is None else (float(a[:-1]) / 100 if a.endswith("%") else float(a))
    return float(r), float(g), float(b), alpha


def luminance(css: str) -> float:
    """WCAG relative luminance of an ``rgb()``/``rgba()`` colour (0 black .. 1 white)."""
    r, g, b, _ = parse_rgb(css)

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: str, bg: str) -> float:
    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def first_pixel(png: bytes) -> tuple[int, int, int]:
    """The top-left pixel of an 8-bit RGB/RGBA PNG (a 1x1 clip screenshot).

    On the first row every PNG filter predicts 0, so the bytes after the filter byte are the pixel.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat = 8, b""
    bit_depth = colour_type = None
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            bit_depth, colour_type = data[8], data[9]
        elif kind == b"IDAT":
            idat += data
        offset += 12 + length
    assert bit_depth == 8 and colour_type in (2, 6), (bit_depth, colour_type)
    raw = zlib.decompress(idat)
    return raw[1], raw[2], raw[3]

"""Benchmark: serving prepared bytes vs rendering per request, side by side in one run.

    .venv/bin/python bench/bench_serve.py [--requests 3000] [--concurrency 32]

Starts the local fixture upstream and the real app on 127.0.0.1 (no other network), waits
for the first fetch, then measures requests per second for:
  - /api/v1/rates and /widget as the service serves them (bytes prepared once per change);
  - the same responses rendered on every request (the design we rejected), in a baseline
    app on the same loop with the same client.
It also measures memory held after 300 and after 5000 distinct widget variants are requested, to show
the variant cache is bounded. Prints a table and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rates.config import load_config
from rates.document import encode
from rates.web import SERVICE, create_app
from tests.upstream import Upstream, bundled_config_text
from widget.render import WidgetOptions


async def hammer(url: str, total: int, concurrency: int) -> float:
    """Requests per second for ``total`` GETs of ``url`` with ``concurrency`` in flight."""
    remaining = total
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def baseline_app(service_app: web.Application) -> web.Application:
    """Render on every request: what the service avoids."""
    service = service_app[SERVICE]

    async def rates(request: web.Request) -> web.Response:
        assert service.published is not None
        return web.Response(body=encode(service.published.document), content_type="application/json")

    async def widget(request: web.Request) -> web.Response:
        assert service.published is not None
        html = service.renderer.render(service.published.document, service.default_widget())
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/api/v1/rates", rates)
    app.router.add_get("/widget", widget)
    return app


async def main(total: int, concurrency: int) -> None:
    upstream = Upstream()
    upstream_server = TestServer(upstream.app, host="127.0.0.1")
    await upstream_server.start_server()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        origin = str(upstream_server.make_url("")).rstrip("/")
        path.write_text(bundled_config_text(origin, str(Path(tmp) / "store")), encoding="utf-8")
        app = create_app(load_config(path))
        served = TestServer(app, host="127.0.0.1")
        await served.start_server()
        while app[SERVICE].published is None or len(upstream.hits) < 4:
            await asyncio.sleep(0.05)
        baseline = TestServer(baseline_app(app), host="127.0.0.1")
        await baseline.start_server()
        print(f"{total} requests, {concurrency} in flight, one process, 127.0.0.1\n")
        print(f"{'path':<16}{'prepared req/s':>16}{'per-request req/s':>20}{'ratio':>8}")
        for route in ("/api/v1/rates", "/widget"):
            prepared = await hammer(str(served.make_url(route)), total, concurrency)
            rendered = await hammer(str(baseline.make_url(route)), total, concurrency)
            print(f"{route:<16}{prepared:>16.0f}{rendered:>20.0f}{prepared / rendered:>7.1f}x")
        await memory_of_variants(app)
        await baseline.close()
        await served.close()
    await upstream_server.close()


async def memory_of_variants(app: web.Application) -> None:
    """Memory held after 300 vs 5000 distinct widget variants: past the bound it stays flat."""
    service = app[SERVICE]
    published = service.published
    assert published is not None
    codes = published.codes
    variants = [
        WidgetOptions(
            symbols=tuple(c for j, c in enumerate(codes) if (i >> j) & 1) or None,
            theme=("light", "dark", "auto")[i % 3],
            digits=("arab", "latn")[i % 2],
        )
        for i in range(1, 5001)
    ]
    tracemalloc.start()
    for options in variants[:300]:
        published.widget(options)
    after_300, _ = tracemalloc.get_traced_memory()
    for options in variants[300:]:
        published.widget(options)
    after_5000, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\nwidget variants cached: {len(published._widgets)} (bound {published._widgets.size})")
    print(
        f"memory after 300 variants: {after_300 / 1e6:.2f} MB; after 5000: {after_5000 / 1e6:.2f} MB;"
        f" ratio {after_5000 / after_300:.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency))

"""The widget variant cache is bounded: memory held after 300 vs 5,000 distinct variants (in process)."""

from __future__ import annotations

import asyncio
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestServer

from rates.config import load_config
from rates.web import PUBLISHER, create_app
from tests.upstream import bundled_config_text
from widget.render import WidgetOptions


@dataclass(frozen=True)
class Variants:
    cached: int
    bound: int
    after_300_mb: float
    after_5000_mb: float


async def _measure(origin: str) -> Variants:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(bundled_config_text(origin, str(Path(tmp) / "store")), encoding="utf-8")
        app = create_app(load_config(path))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            for _ in range(400):
                if app[PUBLISHER].snapshot is not None:
                    break
                await asyncio.sleep(0.05)
            published = app[PUBLISHER].snapshot
            assert published is not None, "no document after 20 s"
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
            cache = published._widgets
            return Variants(len(cache), cache.size, after_300 / 1e6, after_5000 / 1e6)
        finally:
            await server.close()


def variants(origin: str) -> Variants:
    return asyncio.run(_measure(origin))

"""Shared fixtures: a real local upstream, real config files, a real store in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from rates.config import Config, load_config
from tests.upstream import Upstream, bundled_config_text

# Before any test module imports it: its plain asserts then report their values.
pytest.register_assert_rewrite("tests.service_process")


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[Upstream, str]]:
    """The fixture upstream on 127.0.0.1, and its origin."""
    upstream = Upstream()
    server = TestServer(upstream.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield upstream, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def bundled_config(upstream: tuple[Upstream, str], tmp_path: Path) -> Config:
    """The bundled config.yaml, pointed at the local upstream, store in tmp_path."""
    _, origin = upstream
    path = tmp_path / "config.yaml"
    path.write_text(bundled_config_text(origin, str(tmp_path / "store")), encoding="utf-8")
    return load_config(path)

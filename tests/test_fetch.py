"""The HTTP client, over real HTTP against the local upstream."""

from __future__ import annotations

import gzip
import socket
import time
from datetime import timedelta
from importlib.metadata import metadata

import pytest

from rates.errors import FetchError
from rates.fetch import MAX_BODY, Fetcher
from tests.upstream import Upstream, fixture

ER = "/v6/latest/USD"
SECOND = timedelta(seconds=1)
FIVE = timedelta(seconds=5)
Served = tuple[Upstream, str]


async def failure(url: str, timeout: timedelta = FIVE) -> FetchError:
    async with Fetcher() as fetcher:
        with pytest.raises(FetchError) as info:
            await fetcher.get("er-api", url, timeout)
    error = info.value
    assert error.source_id == "er-api"
    assert "\n" not in str(error) and str(error).startswith("er-api: ")
    return error


async def test_serves_the_fixture_bytes(upstream: Served) -> None:
    _, origin = upstream
    async with Fetcher() as fetcher:
        assert await fetcher.get("er-api", origin + ER, FIVE) == fixture("open_er_api_latest_USD.json")


@pytest.mark.parametrize(("status", "words"), [(500, "Internal Server Error"), (404, "Not Found"), (503, "")])
async def test_http_error_names_the_url_and_status(upstream: Served, status: int, words: str) -> None:
    server, origin = upstream
    server.fault(ER, status=status, body=b"oops")
    error = await failure(origin + ER)
    assert origin + ER in error.reason
    assert f"HTTP {status}" in error.reason and words in error.reason


async def test_unreachable_host_is_a_fetch_error(upstream: Served) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = await failure(f"http://127.0.0.1:{port}/v6/latest/USD")
    assert f"127.0.0.1:{port}" in error.reason


# --- the 5 MiB cap -----------------------------------------------------------------------


def test_the_cap_is_five_mebibytes() -> None:
    assert MAX_BODY == 5 * 1024 * 1024


async def test_a_body_over_the_cap_is_refused(upstream: Served) -> None:
    server, origin = upstream
    server.fault(ER, body=b" " * (MAX_BODY + 1))
    error = await failure(origin + ER)
    assert "cap" in error.reason and origin + ER in error.reason


async def test_a_body_of_exactly_the_cap_is_read(upstream: Served) -> None:
    server, origin = upstream
    body = b"{" + b" " * (MAX_BODY - 2) + b"}"
    server.fault(ER, body=body)
    async with Fetcher() as fetcher:
        assert await fetcher.get("er-api", origin + ER, FIVE) == body


async def test_a_gzip_body_is_read_decompressed(upstream: Served) -> None:
    server, origin = upstream
    plain = fixture("open_er_api_latest_USD.json")
    server.fault(ER, body=gzip.compress(plain), headers={"Content-Encoding": "gzip"})
    async with Fetcher() as fetcher:
        assert await fetcher.get("er-api", origin + ER, FIVE) == plain
    assert "gzip" in server.seen[ER][-1]["Accept-Encoding"]


async def test_a_gzip_bomb_is_refused_by_its_decompressed_size(upstream: Served) -> None:
    server, origin = upstream
    bomb = gzip.compress(b"0" * (MAX_BODY + 1024))
    assert len(bomb) < MAX_BODY // 100  # small on the wire
    server.fault(ER, body=bomb, headers={"Content-Encoding": "gzip"})
    error = await failure(origin + ER)
    assert "cap" in error.reason


# --- timeouts ----------------------------------------------------------------------------


async def test_a_hang_past_the_timeout_fails_within_about_the_timeout(upstream: Served) -> None:
    server, origin = upstream
    server.fault(ER, delay=5)
    started = time.monotonic()
    error = await failure(origin + ER, SECOND)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 4.5, elapsed  # cut at the timeout, well before the 5 s hang ends
    assert "1s" in error.reason and origin + ER in error.reason


async def test_a_slow_answer_within_the_timeout_is_fine(upstream: Served) -> None:
    server, origin = upstream
    server.fault(ER, delay=0.2)
    async with Fetcher() as fetcher:
        assert await fetcher.get("er-api", origin + ER, FIVE) == fixture("open_er_api_latest_USD.json")


# --- conditional requests ----------------------------------------------------------------


async def test_etag_then_304_returns_the_remembered_body(upstream: Served) -> None:
    server, origin = upstream
    original = fixture("open_er_api_latest_USD.json")
    server.etag(ER, '"v1"')
    async with Fetcher() as fetcher:
        assert await fetcher.get("er-api", origin + ER, FIVE) == original
        assert "If-None-Match" not in server.seen[ER][0]
        # From now on the upstream would send other bytes, but answers 304 to "v1".
        server.fault(ER, body=b'{"result": "error"}')
        assert await fetcher.get("er-api", origin + ER, FIVE) == original
        assert server.seen[ER][1]["If-None-Match"] == '"v1"'
        # A new version: a 200 with the new body, remembered under the new tag.
        server.etag(ER, '"v2"')
        assert await fetcher.get("er-api", origin + ER, FIVE) == b'{"result": "error"}'
        assert server.seen[ER][2]["If-None-Match"] == '"v1"'
        assert await fetcher.get("er-api", origin + ER, FIVE) == b'{"result": "error"}'
        assert server.seen[ER][3]["If-None-Match"] == '"v2"'
    assert server.hits[ER] == 4


async def test_no_etag_no_conditional_request(upstream: Served) -> None:
    server, origin = upstream
    async with Fetcher() as fetcher:
        await fetcher.get("er-api", origin + ER, FIVE)
        await fetcher.get("er-api", origin + ER, FIVE)
    assert "If-None-Match" not in server.seen[ER][1]


async def test_a_failed_answer_does_not_replace_the_remembered_body(upstream: Served) -> None:
    server, origin = upstream
    original = fixture("open_er_api_latest_USD.json")
    server.etag(ER, '"v1"')
    async with Fetcher() as fetcher:
        await fetcher.get("er-api", origin + ER, FIVE)
        server.etag(ER, None)
        server.fault(ER, status=500)
        with pytest.raises(FetchError):
            await fetcher.get("er-api", origin + ER, FIVE)
        server.clear(ER)
        server.etag(ER, '"v1"')
        assert await fetcher.get("er-api", origin + ER, FIVE) == original
        assert server.seen[ER][-1]["If-None-Match"] == '"v1"'


# --- who we are --------------------------------------------------------------------------


async def test_the_user_agent_names_the_product(upstream: Served) -> None:
    server, origin = upstream
    async with Fetcher() as fetcher:
        await fetcher.get("er-api", origin + ER, FIVE)
    agent = server.seen[ER][0]["User-Agent"]
    product = metadata("iqd-rates")["Name"]
    assert agent.startswith(f"{product}/"), agent
    assert "aiohttp" not in agent.lower() and "python" not in agent.lower()

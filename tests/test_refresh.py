"""One refresh's logging: one line per fetch outcome, a failure once per streak, a recovery line."""

from __future__ import annotations

import logging

import pytest

from rates.config import Config
from rates.fetch import Fetcher
from rates.refresh import Refresher
from rates.store import Store
from tests.upstream import Upstream

ER_API = "/v6/latest/USD"


async def test_a_failure_is_logged_once_per_streak_and_the_recovery_once(
    bundled_config: Config, upstream: tuple[Upstream, str], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = upstream
    store = Store(bundled_config.storage.dir)
    try:
        async with Fetcher() as fetcher:
            pipeline = Refresher(bundled_config, store, fetcher)
            source = pipeline.sources["er-api"]
            with caplog.at_level(logging.INFO, logger="rates.refresh"):
                assert (await pipeline.run_source(source)).ok
                server.fault(ER_API, status=502)
                for _ in range(3):
                    assert not (await pipeline.run_source(source)).ok
                server.clear()
                assert (await pipeline.run_source(source)).ok
            assert store.status("er-api").failures == 0
    finally:
        store.close()

    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "rates.refresh"]
    warnings = [m for level, m in lines if level == "WARNING"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("er-api failed:") and "HTTP 502" in warnings[0]
    assert [m for _, m in lines if "recovered" in m] == ["er-api recovered after 3 failed fetches"]
    successes = [m for level, m in lines if level == "INFO" and m.startswith("er-api: ")]
    assert len(successes) == 2 and all("quotes published 2024-08-19" in m for m in successes)

"""The scheduler: the one owner of retry backoff, the first batch included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from rates.clock import utc_now
from rates.config import load_config
from rates.scheduler import Scheduler

CONFIG = """\
currencies: [CHF]
sources:
  - id: feed
    kind: json
    url: http://127.0.0.1:9/rates.json
    ref: IQD
    every: 5m
"""


async def test_a_failing_source_is_retried_sooner_doubling_up_to_its_every(
    write_config: Callable[[str], Path],
) -> None:
    config = load_config(write_config(CONFIG))
    start = utc_now()
    answers = iter([False, False, False, False, False, True, False])
    runs: list[str] = []

    async def run_source(source_id: str) -> bool:
        runs.append(source_id)
        return next(answers)

    async def tick() -> None:
        return None

    scheduler = Scheduler(run_source, tick, timedelta(hours=1), clock=lambda: start)
    scheduler.start(config)
    try:
        assert scheduler.next_run("feed") == start + timedelta(minutes=5)  # the first batch is run_all
        waits = []
        for _ in range(7):
            await scheduler.run_all()
            next_run = scheduler.next_run("feed")
            assert next_run is not None
            waits.append(next_run - start)
    finally:
        scheduler.shutdown()
    assert runs == ["feed"] * 7
    seconds = [int(w.total_seconds()) for w in waits]
    # 30s, 1m, 2m, 4m, then capped at every (5m); a success resets the streak: 30s again.
    assert seconds[:5] == [30, 60, 120, 240, 300]
    assert seconds[6] == 30

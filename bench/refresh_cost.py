"""CPU seconds of one full refresh, as the running service does it (fetch, validate, merge, store, render).

    python -m bench.refresh_cost CONFIG      (prints one JSON line)

The first refresh (cold: first use of every code path) is reported apart from the best
of three refreshes after it. The upstream runs in another process, so only the service's
own work is counted (``time.process_time`` covers the worker threads too).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

from rates.config import load_config
from rates.publisher import Publisher
from rates.service import Service

WARM_RUNS = 3


async def measure(path: str) -> dict[str, float]:
    config = load_config(Path(path))
    started = time.process_time()
    async with Service.running(config, Publisher(config)) as service:
        first = service._first_batch  # the start-up refresh of every source
        assert first is not None
        await first
        cold = time.process_time() - started
        warm = []
        for _ in range(WARM_RUNS):
            started = time.process_time()
            await service.scheduler.run_all()  # each source fetched, then merged, stored and rendered
            await service.remerge(force=True)
            warm.append(time.process_time() - started)
    return {"cold": cold, "refresh": min(warm)}


def main() -> None:
    os.environ["RATES_TICK"] = "3600"  # no housekeeping tick inside the measurement
    print(json.dumps(asyncio.run(measure(sys.argv[1]))))


if __name__ == "__main__":
    main()

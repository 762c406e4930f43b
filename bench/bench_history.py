"""Benchmark: the daily record on a full-size workbook (tests/workbook.py: 2009 to 2026).

    .venv/bin/python bench/bench_history.py [--seconds 10] [--connections 32]

Measures, on 127.0.0.1 only:
  - the time to parse the whole workbook (every yearly sheet) and to parse one day;
  - the store's size on disk holding the full record, after one real refresh;
  - requests per second for /api/v1/history/USD?from=2009-01-01 and, for comparison,
    /api/v1/rates, with wrk when it is installed (else an aiohttp client).
Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rates.config import load_config
from rates.sources.cbi import CbiSettings, CbiSource
from rates.web import create_app
from tests.upstream import CBI_WORKBOOK, Upstream
from tests.workbook import build

CONFIG = """\
currencies: [USD, EUR, GBP, CHF, JPY, CNY, AED, JOD, SAR, QAR, OMR, BHD, XAU]
sources:
  - id: cbi
    kind: cbi
    url: {origin}/page/144
  - id: pegs
    kind: fixed
    ref: USD
    published: 2001-07-09
    rates: {{SAR: 3.75, AED: 3.6725, QAR: 3.64, OMR: 0.3845, BHD: 0.376, JOD: 0.709}}
storage: {{dir: {store}}}
"""


def timed(repeat: int, run: object) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def size_on_disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def requests_per_second(url: str, seconds: int, connections: int) -> float:
    wrk = shutil.which("wrk")
    if wrk is not None:
        # In a thread: the service answers on this process's event loop, which must keep running.
        command = [wrk, f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", url]
        run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)
        out = run.stdout
        line = next(row for row in out.splitlines() if row.startswith("Requests/sec:"))
        return float(line.split()[1])
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession() as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url) as response:
                    await response.read()
                    done += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return done / seconds


async def main(seconds: int, connections: int) -> None:
    built = build()
    source = CbiSource(CbiSettings(id="cbi", kind="cbi", url="https://cbi.iq/page/144"))
    whole = timed(3, lambda: source.parse_record(built.payload))
    one_day = timed(3, lambda: source.parse(built.payload))

    upstream = Upstream()
    upstream.fault(CBI_WORKBOOK, body=built.payload)
    up_runner = web.AppRunner(upstream.app)
    await up_runner.setup()
    up_site = web.TCPSite(up_runner, "127.0.0.1", 0)
    await up_site.start()
    up_port = up_runner.addresses[0][1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(CONFIG.format(origin=f"http://127.0.0.1:{up_port}", store=Path(tmp) / "store"))
        app = create_app(load_config(path))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                async with session.get(f"{base}/api/v1/history/USD?from=2009-01-01") as response:
                    body = await response.json() if response.status == 200 else {"points": []}
                if len(body["points"]) >= len(built.days):
                    break
                await asyncio.sleep(0.1)
        store_bytes = size_on_disk(Path(tmp) / "store")
        history = await requests_per_second(f"{base}/api/v1/history/USD?from=2009-01-01", seconds, connections)
        rates = await requests_per_second(f"{base}/api/v1/rates", seconds, connections)
        await runner.cleanup()
    await up_runner.cleanup()

    print(f"workbook: {len(built.payload) / 1024:.0f} KiB, 18 yearly sheets, {len(built.days)} days")
    print("| measure | value |")
    print("|---|---|")
    print(f"| parse the whole workbook (every sheet) | {whole:.2f} s |")
    print(f"| parse the latest day only | {one_day:.2f} s |")
    print(f"| store on disk with the full record (13 codes) | {store_bytes / 2**20:.1f} MiB |")
    print(f"| `/api/v1/history/USD?from=2009-01-01` ({len(built.days)} points) | {history:,.0f} req/s |")
    print(f"| `/api/v1/rates` (same run, for comparison) | {rates:,.0f} req/s |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.connections))

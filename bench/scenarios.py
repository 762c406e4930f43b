"""The load scenarios beyond plain throughput: 1,000 connections, memory, refresh stalls, start-up, refresh cost."""

from __future__ import annotations

import contextlib
import json
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import wrk
from bench.workbook import describe, full_workbook
from tests.service_process import ROOT, ServiceProcess, UpstreamProcess, child_env, http_get, wait_for, write_atomically
from tests.upstream import CBI_WORKBOOK, FIXTURES, bundled_config_text

Log = Callable[[str], None]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUNDLED_CODES = ("USD", "EUR", "GBP", "TRY", "SAR", "AED", "KWD", "JOD", "QAR", "BHD", "OMR", "EGP", "IRR", "SYP")


def rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in kB: now, and the peak of its whole life."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


# 1,000 connections ------------------------------------------------------------


def many_connections(url: str, *, seconds: float, connections: int = 1000) -> wrk.Run:
    return wrk.run(url, seconds=seconds, connections=connections, timeout_s=10)


# Memory ---------------------------------------------------------------------------

_MEMORY_LUA = """
local paths = {}
local sent = 0
local received = 0
local limit = tonumber(os.getenv("BENCH_REQUESTS"))
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
request = function()
  sent = sent + 1
  return wrk.format(nil, paths[(sent - 1) % #paths + 1])
end
response = function(status, headers, body)
  received = received + 1
  if received >= limit then wrk.thread:stop() end
end
"""


@dataclass(frozen=True)
class Memory:
    requests: int
    combinations: int
    errors: int
    rss_before_mb: float
    rss_after_mb: float
    peak_mb: float


def memory(service: ServiceProcess, work: Path, *, requests: int = 100_000, combinations: int = 10_000) -> Memory:
    """``requests`` requests of ``/api/v1/rates?symbols=…`` over ``combinations`` distinct sets.

    Every set is asked for again only after all the others, so each request misses the
    per-snapshot variant cache (256 entries): the worst case for memory.
    """
    codes = [e["code"] for e in service.get_json("/api/v1/rates")["rates"]]
    chooser = random.Random(15)
    masks = chooser.sample(range(1, 2 ** len(codes)), combinations)
    paths = [f"/api/v1/rates?symbols={','.join(c for i, c in enumerate(codes) if mask >> i & 1)}" for mask in masks]
    (work / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    (work / "memory.lua").write_text(_MEMORY_LUA, encoding="utf-8")
    before, _ = rss_kb(service.pid)
    argv = [wrk.wrk_binary(), "-t1", "-c64", "-d300s", "--timeout=10s", "-s", str(work / "memory.lua")]
    argv += [service.url + "/", "--", str(work / "paths.txt")]
    env = {**child_env(), "BENCH_REQUESTS": str(requests)}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=400, check=True, env=env)
    run = wrk.parse(done.stdout)
    after, peak = rss_kb(service.pid)
    return Memory(run.requests, combinations, run.errors, before / 1024, after / 1024, peak / 1024)


def rss_after_start(config: Path, work: Path) -> float:
    """RSS (MB) of a fresh ``rates serve`` once ready, from its stored document (no fetch yet)."""
    service = ServiceProcess(config, work / "rss.log", env={"RATES_TICK": "5"})
    service.start()
    try:
        service.wait_ready()
        time.sleep(1)
        return rss_kb(service.pid)[0] / 1024
    finally:
        stop(service)


def rss_mb(service: ServiceProcess) -> float:
    return rss_kb(service.pid)[0] / 1024


def stop(service: ServiceProcess) -> None:
    """SIGTERM, and SIGKILL if it overstays (a parse in a worker thread cannot be interrupted)."""
    try:
        service.stop(timeout=15)
    except AssertionError:
        service.kill()


# No stall during refresh ------------------------------------------------------------


@dataclass(frozen=True)
class Stall:
    workbook: str
    idle: list[wrk.Run]
    busy: list[wrk.Run]  # the same workbook every second
    fetches: list[int]  # CBI fetches during each busy run
    changing: list[wrk.Run]  # a workbook with other bytes every second: read every time
    changing_fetches: list[int]

    @property
    def idle_p99(self) -> float:
        return min(r.p99 for r in self.idle)

    @property
    def busy_p99(self) -> float:
        return min(r.p99 for r in self.busy)

    @property
    def changing_p99(self) -> float:
        return min(r.p99 for r in self.changing)


def cbi_fetches(service: ServiceProcess) -> int:
    text = service.get("/metrics").body.decode()
    found = re.findall(r'^rates_fetch_total\{[^}]*source="cbi"[^}]*\} ([\d.e+]+)$', text, re.M)
    return int(sum(float(n) for n in found))


def stall(
    service: ServiceProcess, upstream: UpstreamProcess, config: Path, *, seconds: float, rounds: int, log: Log
) -> Stall:
    """p99 of /api/v1/rates with the CBI source idle, then refreshed every second (A B C A B C).

    B serves the same full-size workbook every time; C another edition of it every half
    second (other bytes, the same quotes), so every refresh reads a workbook.
    """
    editions = [full_workbook(n) for n in (1, 2)]
    workbook = full_workbook()
    idle_text = config.read_text(encoding="utf-8")
    busy_text = idle_text.replace("    every: 1h\n", "    every: 1s\n", 1)
    assert busy_text != idle_text, "the bundled config's first source no longer says `every: 1h`"
    runs: dict[str, list[wrk.Run]] = {"idle": [], "same": [], "changing": []}
    fetches: dict[str, list[int]] = {"same": [], "changing": []}
    url = service.url + "/api/v1/rates"
    try:
        for _ in range(rounds):
            upstream.raw_fault(CBI_WORKBOOK, workbook, content_type=XLSX)
            _use_config(service, config, idle_text)
            time.sleep(1.5)  # let a fetch already under way finish
            runs["idle"].append(wrk.run(url, seconds=seconds))
            log(f"  idle               p99 {runs['idle'][-1].p99:.2f} ms, {runs['idle'][-1].rps:.0f} req/s")
            _use_config(service, config, busy_text)
            for mode in ("same", "changing"):
                start = cbi_fetches(service)
                wait_for(_fetched_twice(service, start), 30, "the CBI source to run every second")
                with _editions(upstream, editions if mode == "changing" else []):
                    start = cbi_fetches(service)
                    runs[mode].append(wrk.run(url, seconds=seconds))
                    fetches[mode].append(cbi_fetches(service) - start)
                run = runs[mode][-1]
                log(f"  refreshing, {mode:<8} p99 {run.p99:.2f} ms, {run.rps:.0f} req/s, {fetches[mode][-1]} fetches")
    finally:
        _use_config(service, config, idle_text)
        upstream.clear(CBI_WORKBOOK)
        time.sleep(3)  # let the last refresh finish
    return Stall(describe(workbook), runs["idle"], runs["same"], fetches["same"], runs["changing"], fetches["changing"])


@contextlib.contextmanager
def _editions(upstream: UpstreamProcess, editions: list[bytes]) -> Iterator[None]:
    """Swap the upstream's workbook between ``editions`` every half second (none: leave it)."""
    stop = threading.Event()

    def swap() -> None:
        n = 0
        while not stop.wait(0.5):
            upstream.raw_fault(CBI_WORKBOOK, editions[n % len(editions)], content_type=XLSX)
            n += 1

    worker = threading.Thread(target=swap, daemon=True)
    if editions:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        if editions:
            worker.join(timeout=10)


def _use_config(service: ServiceProcess, config: Path, text: str) -> None:
    if config.read_text(encoding="utf-8") == text:
        return
    before = service.get_json("/api/v1/config")["loaded_at"]
    write_atomically(config, text)
    wait_for(lambda: service.get_json("/api/v1/config")["loaded_at"] != before, 20, "the config to be re-read")


# Start-up ---------------------------------------------------------------------------


def startup(config: Path, work: Path, *, runs: int = 5) -> list[float]:
    """Seconds from spawning ``rates serve`` to /readyz 200: a stored document, every upstream down."""
    took = []
    for n in range(runs):
        service = ServiceProcess(config, work / f"startup-{n}.log", env={"RATES_TICK": "5"})
        service.start()
        try:

            def ready(service: ServiceProcess = service) -> bool:
                service.assert_running()
                return http_get(service.url + "/readyz", timeout=1).status == 200

            wait_for(ready, 20, "/readyz", interval=0.005)
            took.append(time.monotonic() - service.started_at)
        finally:
            stop(service)
    return took


# Refresh cost -------------------------------------------------------------------------


def currencies_block(count: int) -> str:
    """The bundled list, then the ExchangeRate-API fixture's other codes, up to ``count``."""
    quoted = json.loads((FIXTURES / "open_er_api_latest_USD.json").read_bytes())["rates"]
    extra = sorted(c for c in quoted if c not in BUNDLED_CODES and c not in ("IQD", "LBP", "YER"))
    codes = [*BUNDLED_CODES, "LBP", "YER", *extra][:count]
    if len(codes) < count:
        raise RuntimeError(f"only {len(codes)} currencies to configure, {count} asked")
    return "currencies:\n" + "".join(f"  - {c}\n" for c in codes)


def refresh_cost(origin: str, work: Path, counts: tuple[int, ...], log: Log) -> dict[int, dict[str, float]]:
    """CPU seconds of ``rates fetch``'s refresh (and of rendering the snapshot) per number of currencies."""
    costs: dict[int, dict[str, float]] = {}
    for count in counts:
        directory = work / f"cost-{count}"
        directory.mkdir()
        bundled = bundled_config_text(origin, str(directory / "store"))
        text = re.sub(r"(?m)^currencies:\n(?:  - .*\n|    .*\n|\s*#.*\n)+", currencies_block(count), bundled, count=1)
        config = directory / "config.yaml"
        config.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "bench.refresh_cost", str(config)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=str(ROOT),
            env=child_env(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"refresh cost at {count} currencies failed:\n{done.stderr[-2000:]}")
        costs[count] = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"  {count:>4} currencies: " + ", ".join(f"{k} {v:.3f} s" for k, v in costs[count].items()))
    return costs


def median(values: list[float]) -> float:
    return statistics.median(values)


def _fetched_twice(service: ServiceProcess, start: int) -> Callable[[], bool]:
    return lambda: cbi_fetches(service) >= start + 2

"""Run Debian's ``wrk`` against one URL and read its summary (requests/s, latency percentiles, errors)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY = re.compile(r"^\s*(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)


class WrkMissing(RuntimeError):
    pass


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkMissing("wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu), then run the bench again")
    return found


@dataclass(frozen=True)
class Run:
    """One wrk run's figures; latencies in milliseconds."""

    rps: float
    p50: float
    p99: float
    requests: int
    errors: int  # socket errors (connect, read, write, timeout) and responses other than 2xx/3xx
    detail: str

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.requests > 0


def run(
    url: str,
    *,
    seconds: float,
    connections: int = 64,
    headers: Mapping[str, str] | None = None,
    script: Path | None = None,
    timeout_s: float = 5.0,
) -> Run:
    """``wrk -t1 -cN -dS --latency``: one client thread, so it takes one core at most."""
    argv = [wrk_binary(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={timeout_s:g}s"]
    argv.append("--latency")
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse(done.stdout)


def parse(text: str) -> Run:
    latencies = {int(p): float(v) * _UNITS[u] for p, v, u in _LATENCY.findall(text)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = (sum(int(n) for n in socket.groups()) if socket else 0) + (int(bad.group(1)) if bad else 0)
    detail = " ".join(filter(None, [socket.group(0) if socket else "", bad.group(0) if bad else ""]))
    return Run(
        rps=float(rps.group(1)) if rps else 0.0,
        p50=latencies.get(50, float("nan")),
        p99=latencies.get(99, float("nan")),
        requests=int(total.group(1)) if total else 0,
        errors=errors,
        detail=detail,
    )

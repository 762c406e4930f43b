"""``python -m bench``: the whole benchmark, on loopback, side by side in one run.

Starts the fixture upstream, ``rates serve`` on the bundled config pointed at it, a bare
aiohttp app and nginx serving the same bytes, and nginx with deploy/nginx.conf (and
deploy/nginx-static.conf) in front of the service; measures with ``wrk``; prints the
tables and writes bench/RESULTS.md. Every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

from bench import scenarios, wrk
from bench.nginx import ProbedNginx, nginx_binary, proxy_config, published_config
from bench.report import Results, history_section, markdown
from bench.serving import Row, Target, discover, measure, static_etag, write_references
from bench.variants import variants
from rates.config import Config
from tests.service_process import (
    ROOT,
    Process,
    ServiceProcess,
    UpstreamProcess,
    child_env,
    free_port,
    http_get,
    wait_for,
)
from tests.upstream import bundled_config_text

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTIONS = ("throughput", "c1000", "memory", "stall", "startup", "cost", "variants")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5, help="length of each wrk run (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per target (default 2)")
    parser.add_argument("--only", help=f"comma-separated sections to run: {', '.join(SECTIONS)}")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="where to write the results (default bench/RESULTS.md)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, configs) for inspection")
    args = parser.parse_args(argv)
    sections = set(args.only.split(",")) if args.only else set(SECTIONS)
    try:
        wrk.wrk_binary()
        nginx_binary()
    except (wrk.WrkMissing, RuntimeError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="rates-bench-"))
    bench = Bench(work, args.seconds, args.rounds)
    # A SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so every process started is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        results = bench.run(sections)
    finally:
        bench.stop_all()
    text = markdown(results, history_section(args.out))
    args.out.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"written to {args.out}" + (f"; work directory {work}" if args.keep else ""))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


def log(line: str) -> None:
    print(line, flush=True)


class Bench:
    def __init__(self, work: Path, seconds: float, rounds: int) -> None:
        self.work = work
        self.seconds = seconds
        self.rounds = rounds
        self.started: list[Process] = []

    def adopt(self, process: Process) -> Process:
        self.started.append(process)
        process.start()
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.kill()

    def run(self, sections: set[str]) -> Results:
        results = Results(seconds=self.seconds, rounds=self.rounds, loop=_loop_name())
        upstream = UpstreamProcess(self.work / "upstream.log")
        self.adopt(upstream)
        upstream.wait_ready()
        config = self.work / "config.yaml"
        config.write_text(self._config_text(upstream.origin), encoding="utf-8")
        service = self._service(config)
        log(f"service on {service.url}, upstream {upstream.origin}, work directory {self.work}")
        if "throughput" in sections:
            self.throughput(service, results)
        if "c1000" in sections:
            log("1,000 connections")
            results.c1000["service"] = scenarios.many_connections(service.url + "/api/v1/rates", seconds=10)
            if self.bare_url:
                results.c1000["bare aiohttp"] = scenarios.many_connections(self.bare_url + "/r00.json", seconds=10)
            if self.proxy_url:  # the scale path: nginx's proxy cache in front of the service
                results.c1000["behind deploy/nginx.conf"] = scenarios.many_connections(
                    self.proxy_url + "/api/v1/rates", seconds=10
                )
            for name, run in results.c1000.items():
                log(f"  {name}: {run.rps:.0f} req/s p99 {run.p99:.1f} ms errors {run.errors} {run.detail}")
        if "memory" in sections:
            if "throughput" in sections or "c1000" in sections:
                # What the throughput runs left in memory is reported, then the check runs on a
                # fresh process: its figure is what the 10,000 symbols sets cost, nothing else.
                results.rss_after_throughput_mb = scenarios.rss_mb(service)
                scenarios.stop(service)
                service = self._service(config)
            log("memory: 100,000 requests over 10,000 symbols sets")
            results.memory = scenarios.memory(service, self.work)
            log(f"  {results.memory}")
        if "stall" in sections:
            log("refresh under load")
            results.stall = scenarios.stall(
                service, upstream, config, seconds=max(self.seconds, 5), rounds=self.rounds, log=log
            )
        scenarios.stop(service)
        if "startup" in sections:
            log("start-up with every upstream down")
            down = self.work / "down.yaml"
            down.write_text(self._config_text(f"http://127.0.0.1:{free_port()}"), encoding="utf-8")
            results.startup = scenarios.startup(down, self.work)
            log(f"  {', '.join(f'{s:.2f}' for s in results.startup)} s")
            results.rss_idle_mb = scenarios.rss_after_start(down, self.work)
            log(f"  RSS once ready: {results.rss_idle_mb:.1f} MB")
        if "cost" in sections:
            log("refresh cost")
            results.cost = scenarios.refresh_cost(upstream.origin, self.work, (16, 64, 160), log)
        if "variants" in sections:
            results.variants = variants(upstream.origin)
        results.load_after = _loadavg()
        return results

    def _config_text(self, origin: str) -> str:
        text = bundled_config_text(origin, str(self.work / "store"))
        if "publish" not in Config.model_fields:
            return text
        return text + f"\npublish:\n  dir: {self.work / 'public'}\n"

    def _service(self, config: Path) -> ServiceProcess:
        service = ServiceProcess(config, self.work / "serve.log", env={"RATES_TICK": "5"})
        self.adopt(service)
        service.wait_ready()

        def fetched() -> bool:
            return all(s["ok"] for s in service.get_json("/api/v1/sources"))

        wait_for(fetched, 30, "every source's first fetch")
        return service

    bare_url = ""
    proxy_url = ""

    def throughput(self, service: ServiceProcess, results: Results) -> None:
        rows = discover(service.url)
        static_root = self.work / "static"
        write_references(rows, static_root, self.work / "bare.json")
        bare_port, proxy_port, static_port, publish_port = (free_port() for _ in range(4))
        self.bare_url = f"http://127.0.0.1:{bare_port}"
        bare = Process(
            "bare",
            [sys.executable, "-m", "bench.bare", "--port", str(bare_port), "--manifest", str(self.work / "bare.json")],
            self.work / "bare.log",
            child_env(),
        )
        self.adopt(bare)
        wait_for(lambda: http_get(f"{self.bare_url}/{rows[0].file}", timeout=1).status == 200, 20, "the bare app")
        static_url = f"http://127.0.0.1:{static_port}"
        proxy_url = self.proxy_url = f"http://127.0.0.1:{proxy_port}"
        config = proxy_config(self.work / "nginx", proxy_port, service.port, static_port, static_root)
        self.adopt(ProbedNginx(self.work / "nginx", config, f"{static_url}/{rows[0].file}"))
        etags = {row.file: static_etag(static_url, row) for row in rows}
        targets = [
            Target("service", lambda r: service.url + r.path, lambda r: r.headers),
            Target("bare aiohttp", lambda r: f"{self.bare_url}/{r.file}", lambda r: _bare_headers(r)),
            Target("nginx static", lambda r: f"{static_url}/{r.file}", lambda r: _static_headers(r, etags)),
            Target("nginx proxy", lambda r: proxy_url + r.path, lambda r: r.headers),
        ]
        publish_url = self._published_nginx(service, publish_port)
        if publish_url:
            tags = {row.file: http_get(publish_url + row.path).headers.get("ETag", "") for row in rows}
            targets.append(Target("nginx publish", lambda r: publish_url + r.path, lambda r: _static_headers(r, tags)))
        results.rows = rows
        results.targets = [t.name for t in targets]
        log(f"throughput: {len(rows)} routes × {len(targets)} targets × {self.rounds} rounds of {self.seconds:g} s")
        measure(rows, targets, seconds=self.seconds, rounds=self.rounds, log=log)

    def _published_nginx(self, service: ServiceProcess, port: int) -> str:
        public = self.work / "public"
        if not (ROOT / "deploy" / "nginx-static.conf").exists() or not public.is_dir():
            log("  no publish directory (or no deploy/nginx-static.conf): the publish row is skipped")
            return ""
        # The variants just asked for are published at the next change: a config reload is one.
        served = Path(service.config)
        before = service.get_json("/api/v1/config")["loaded_at"]
        served.write_text(served.read_text(encoding="utf-8") + "# reloaded by the bench\n", encoding="utf-8")
        wait_for(lambda: service.get_json("/api/v1/config")["loaded_at"] != before, 20, "the config reload")
        variant = public / "widget" / "symbols=USD,EUR&digits=latn.html"
        wait_for(variant.exists, 20, "the widget variant in the publish directory")
        url = f"http://127.0.0.1:{port}"
        nginx_config = published_config(self.work / "nginx-publish", port, service.port, public)
        self.adopt(ProbedNginx(self.work / "nginx-publish", nginx_config, f"{url}/api/v1/rates"))
        return url


def _bare_headers(row: Row) -> dict[str, str]:
    return {k: v for k, v in row.headers.items() if k != "If-None-Match"}


def _static_headers(row: Row, etags: dict[str, str]) -> dict[str, str]:
    if "If-None-Match" in row.headers:
        return {**row.headers, "If-None-Match": etags[row.file]}
    return row.headers


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop (when the service uses it)"


def _loadavg() -> str:
    from bench.report import _loadavg as load

    return load()


if __name__ == "__main__":
    sys.exit(main())

"""Real processes for the slow tests: the fixture upstream and ``rates serve``.

Everything here runs as a separate OS process, exactly as an admin would run it:
``rates serve -c CONFIG --port P`` from the venv's console script, against
``python -m tests.upstream --port P`` (the in-process tests' :class:`tests.upstream.Upstream`,
faults set over its ``POST /_control``).

Use it from a test module with ``pytest_plugins = ("tests.service_process",)`` and the
fixtures ``processes`` (a pool whose finalizer kills whatever is still running) and
``upstream_proc`` (one upstream process per module, no faults at the start of each test).
Children get ``RATES_TICK=1`` so reloads and admin actions show within about a second.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "upstream"
READY_SECONDS = 20.0
STOP_SECONDS = 5.0  # a clean shutdown must finish within this after SIGTERM
POLL_SECONDS = 0.05
T = TypeVar("T")

ER_API_PATH = "/v6/latest/USD"
FEED_PATH = "/custom/rates.json"
OFFICIAL_USD = Decimal(1310)  # the `official` fixed source of :func:`rates_config`


# Small helpers -----------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on right now: bind port 0 and let the kernel choose."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rates_command() -> list[str]:
    """The venv's ``rates`` console script (``python -m rates`` if it is missing)."""
    script = Path(sys.executable).with_name("rates")
    return [str(script)] if script.exists() else [sys.executable, "-m", "rates"]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RATES_CONFIG"}
    env["RATES_TICK"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def wait_for(check: Callable[[], T], timeout: float, what: str, interval: float = POLL_SECONDS) -> T:
    """Poll ``check`` until it returns something truthy; bounded by ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | Exception | None = None
    while True:
        try:
            last = check()
        except (OSError, ValueError, KeyError) as exc:  # not up yet, or not in the answer yet
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)


def http_get(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 5.0, context: ssl.SSLContext | None = None
) -> Reply:
    """One GET with urllib (no retries, no decompression): errors are replies too."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers.items()), error.read())


def http_post_json(url: str, payload: Any, timeout: float = 5.0) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


# Processes -----------------------------------------------------------------------


class Process:
    """One child process with its output in a log file; stopped by pid only."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = dict(env)
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"--- {' '.join(self.argv)}\n".encode())
            log.flush()
            self.started_at = time.monotonic()
            # Own session: a Ctrl-C in the terminal running pytest does not reach it.
            self.popen = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=str(ROOT), start_new_session=True
            )

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig: int) -> None:
        assert self.alive, f"{self.name} is not running"
        os.kill(self.pid, sig)

    def stop(self, timeout: float = STOP_SECONDS) -> float:
        """SIGTERM; the process must exit with status 0 within ``timeout`` seconds (returns how long it took)."""
        assert self.popen is not None and self.alive, f"{self.name} is not running:\n{self.log_tail()}"
        sent = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.name} did not exit within {timeout:g}s of SIGTERM:\n{self.log_tail()}"
            ) from None
        took = time.monotonic() - sent
        assert code == 0, f"{self.name} exited with {code} after SIGTERM:\n{self.log_tail()}"
        return took

    def kill(self) -> None:
        """SIGKILL (``kill -9``): no cleanup runs in the child."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def assert_running(self) -> None:
        assert self.alive, f"{self.name} exited with {self.popen and self.popen.poll()}:\n{self.log_tail()}"


NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)


def deployed_nginx(
    name: str,
    directory: Path,
    listen: int,
    service_port: int,
    replacements: Mapping[str, str],
    *,
    log_level: str = "info",
) -> str:
    """``deploy/<name>`` made to run here: paths under ``directory``, loopback ports, one worker.

    Every text replaced must be in the shipped file, so a changed deploy config fails loudly.
    """
    text = (ROOT / "deploy" / name).read_text(encoding="utf-8")
    local = {
        "user www-data;": "user root;" if os.geteuid() == 0 else "",  # as root, workers must use tmp dirs
        "worker_processes auto;": "worker_processes 1;",
        "pid /run/nginx.pid;": f"pid {directory}/nginx.pid;",
        "error_log /var/log/nginx/error.log warn;": f"error_log {directory}/error.log {log_level};",
        "access_log /var/log/nginx/access.log;": (
            f"access_log {directory}/access.log;\n"
            f"    client_body_temp_path {directory}/body;\n    proxy_temp_path {directory}/proxy;\n"
            f"    fastcgi_temp_path {directory}/fastcgi;\n    uwsgi_temp_path {directory}/uwsgi;\n"
            f"    scgi_temp_path {directory}/scgi;"
        ),
        "server 127.0.0.1:8080": f"server 127.0.0.1:{service_port}",
        "listen 80;": f"listen 127.0.0.1:{listen};",
        "listen [::]:80;": "",
    }
    for old, new in {**local, **replacements}.items():
        assert old in text, f"deploy/{name} no longer has {old!r}: update its test and bench/nginx.py"
        text = text.replace(old, new)
    return text


class Nginx(Process):
    """``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`` on 127.0.0.1:``port``, its config checked first.

    Master and workers share a process group, so a stuck shutdown is ended for all of them.
    """

    def __init__(self, directory: Path, port: int, config: str, env: Mapping[str, str] | None = None) -> None:
        assert NGINX is not None, "nginx is not installed (apt-get install nginx-light)"
        directory.mkdir(parents=True, exist_ok=True)
        conf = directory / "nginx.conf"
        conf.write_text(config, encoding="utf-8")
        argv = [NGINX, "-p", str(directory), "-c", str(conf)]
        check = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30, check=False)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused {conf}:\n{check.stderr}")
        self.directory = directory
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(
            "nginx", [*argv, "-g", "daemon off;"], directory / "nginx.log", os.environ if env is None else env
        )

    def kill(self) -> None:
        """Stop master and workers: SIGTERM, then SIGKILL to the group this process leads."""
        if self.popen is None or self.popen.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return http_get(self.url + path, headers)


@pytest.fixture
def nginx_bin() -> str:
    if NGINX is None:
        pytest.skip("nginx is not installed (CI installs Debian's nginx-light: apt-get install nginx-light)")
    return NGINX


class UpstreamProcess(Process):
    """The fixture upstream in its own process; faults are set over HTTP."""

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "tests.upstream", "--port", str(self.port)]
        super().__init__("upstream", argv, log_path, child_env())

    def wait_ready(self, timeout: float = READY_SECONDS) -> None:
        def answering() -> bool:
            self.assert_running()
            return http_get(f"{self.origin}{ER_API_PATH}", timeout=1).status == 200

        wait_for(answering, timeout, "the upstream to answer")

    def fault(
        self,
        path: str,
        status: int = 200,
        body: str | None = None,
        delay: float = 0.0,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``POST /_control``: ``path`` answers with this status/body/delay until cleared."""
        order: dict[str, Any] = {"path": path, "status": status, "delay": delay}
        if body is not None:
            order["body"] = body
        if content_type is not None:
            order["content_type"] = content_type
        if headers is not None:
            order["headers"] = dict(headers)
        http_post_json(f"{self.origin}/_control", order)

    def raw_fault(
        self,
        path: str,
        body: bytes,
        *,
        pad_to: int = 0,
        status: int = 200,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``POST /_control`` with any bytes (base64), padded with spaces to ``pad_to`` by the upstream."""
        order = {
            "path": path,
            "body_b64": base64.b64encode(body).decode(),
            "pad_to": pad_to,
            "status": status,
            "content_type": content_type,
            "headers": dict(headers or {}),
        }
        http_post_json(f"{self.origin}/_control", order)

    def clear(self, path: str | None = None) -> None:
        http_post_json(f"{self.origin}/_control", {"path": path, "clear": True})


class ServiceProcess(Process):
    """``rates serve -c CONFIG --port PORT [ARGS]`` with helpers to read what it serves.

    With ``ca`` (the PEM of the CA that signed the server's certificate) it speaks HTTPS.
    """

    def __init__(
        self,
        config: Path,
        log_path: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        ca: Path | None = None,
    ) -> None:
        self.config = config
        self.port = port or free_port()
        self.args = tuple(args)
        self.ca = ca
        self.context = None if ca is None else ssl.create_default_context(cafile=str(ca))
        self.url = f"{'http' if ca is None else 'https'}://127.0.0.1:{self.port}"
        argv = [*rates_command(), "serve", "-c", str(config), "--port", str(self.port), *self.args]
        super().__init__(f"rates serve :{self.port}", argv, log_path, child_env(env))

    def wait_ready(self, timeout: float = READY_SECONDS) -> float:
        """Poll ``/readyz`` until 200; returns the seconds since the process was started."""

        def ready() -> bool:
            self.assert_running()
            return self.get("/readyz", timeout=1).status == 200

        wait_for(ready, timeout, f"{self.name} /readyz")
        return time.monotonic() - self.started_at

    def get(self, path: str, headers: Mapping[str, str] | None = None, timeout: float = 5.0) -> Reply:
        return http_get(self.url + path, headers, timeout, self.context)

    def get_json(self, path: str) -> Any:
        reply = self.get(path)
        assert reply.status == 200, f"GET {path}: {reply.status} {reply.body[:300]!r}"
        return reply.json()

    def rates(self) -> dict[str, dict[str, Any]]:
        """``/api/v1/rates`` as code → entry (numbers as Decimal)."""
        return {e["code"]: e for e in self.get_json("/api/v1/rates")["rates"]}

    def numbers(self) -> dict[str, tuple[Decimal | None, str]]:
        """code → (rate, status): what a front page would print."""
        return {code: (_decimal(e["rate"]), e["status"]) for code, e in self.rates().items()}

    def sources(self) -> dict[str, dict[str, Any]]:
        return {s["id"]: s for s in self.get_json("/api/v1/sources")}

    def held(self) -> dict[str, dict[str, Any]]:
        """code → the held move as ``/api/v1/sources`` lists it (with its ``source``)."""
        return {h["code"]: {**h, "source": s["id"]} for s in self.sources().values() for h in s["held"]}

    def rates_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``rates ARGS -c CONFIG`` as a separate process (the admin at a terminal)."""
        return run_rates(*args, "-c", str(self.config))


def run_rates(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*rates_command(), *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=str(ROOT),
        timeout=timeout,
        check=False,
    )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class Processes:
    """Starts processes for one test and kills whatever is left when it ends."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[Process] = []

    def _log(self, stem: str) -> Path:
        return self.directory / f"{stem}-{len(self.started)}.log"

    def upstream(self) -> UpstreamProcess:
        upstream = UpstreamProcess(self._log("upstream"))
        self.started.append(upstream)
        upstream.start()
        upstream.wait_ready()
        return upstream

    def service(
        self,
        config: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        args: Sequence[str] = (),
        ca: Path | None = None,
    ) -> ServiceProcess:
        service = ServiceProcess(config, self._log("serve"), port=port, env=env, args=args, ca=ca)
        self.started.append(service)
        service.start()
        if wait:
            service.wait_ready()
        return service

    def restart(self, service: ServiceProcess, *, wait: bool = True) -> ServiceProcess:
        """The same config, port and environment, as a new process (the old one must be gone)."""
        assert not service.alive
        return self.service(
            service.config, port=service.port, env=service.env, wait=wait, args=service.args, ca=service.ca
        )

    def adopt(self, process: Process) -> Process:
        """Any other child (e.g. nginx) the pool should clean up."""
        self.started.append(process)
        return process

    def cleanup(self) -> None:
        for process in reversed(self.started):
            process.kill()


@pytest.fixture
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Processes:
    """A pool of real processes; its finalizer SIGKILLs any still running."""
    pool = Processes(tmp_path / "logs")
    request.addfinalizer(pool.cleanup)
    return pool


@pytest.fixture(scope="module")
def upstream_process(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> UpstreamProcess:
    """One upstream process per test module (killed at the end of the module)."""
    pool = Processes(tmp_path_factory.mktemp("upstream"))
    request.addfinalizer(pool.cleanup)
    return pool.upstream()


@pytest.fixture
def upstream_proc(upstream_process: UpstreamProcess) -> Iterator[UpstreamProcess]:
    """The module's upstream with no faults, cleared again after the test."""
    upstream_process.assert_running()
    upstream_process.clear()
    yield upstream_process
    if upstream_process.alive:
        upstream_process.clear()


# Configs and payloads ---------------------------------------------------------------


def er_api_payload() -> dict[str, Any]:
    """The real ExchangeRate-API fixture, numbers as Decimal."""
    payload: dict[str, Any] = json.loads(
        (FIXTURES / "open_er_api_latest_USD.json").read_bytes(), parse_float=Decimal, parse_int=Decimal
    )
    return payload


def er_api_rate(code: str) -> Decimal:
    """Units of ``code`` per 1 USD in the fixture."""
    return Decimal(er_api_payload()["rates"][code])


def er_api_body(rates: Mapping[str, Decimal | int | str] | None = None) -> str:
    """The fixture with some of its rates replaced, as exact JSON text."""
    from rates.document import encode

    payload = er_api_payload()
    payload["rates"] = {**payload["rates"], **{k: Decimal(str(v)) for k, v in (rates or {}).items()}}
    return encode(payload).decode()


def feed_body(quotes: Mapping[str, Decimal | int | str], asof: date | None = None) -> str:
    """A ``json`` source payload: ``{"data": {"asof", "quotes": {code: units per 1 USD}}}``."""
    from rates.document import encode

    day = asof or date.today() - timedelta(days=2)
    numbers = {k: Decimal(str(v)) for k, v in quotes.items()}
    return encode({"data": {"asof": day.isoformat(), "quotes": numbers}}).decode()


def cross(code: str, per_usd: Decimal | None = None) -> Decimal:
    """The IQD rate the service must publish for ``code`` via the official USD rate."""
    from rates.present import significant

    return significant(OFFICIAL_USD / (er_api_rate(code) if per_usd is None else per_usd))


DIRECT_PATHS = tuple(f"/custom/chf-{n}.json" for n in (1, 2, 3))
CHF = Decimal(1500)  # IQD per CHF, quoted directly by the ``direct-N`` sources


def set_direct_feeds(upstream: UpstreamProcess, chf: Decimal = CHF) -> None:
    """Bodies for the ``direct-N`` sources of ``rates_config(direct=True)``."""
    for path in DIRECT_PATHS:
        upstream.fault(path, body=feed_body({"CHF": chf}))


def rates_config(
    origin: str,
    store: Path,
    *,
    every: str = "1s",
    timeout: str = "1s",
    stale_after: str = "1h",
    max_age: str = "60s",
    feed: bool = True,
    direct: bool = False,
    title: str | None = None,
) -> str:
    """A config for the process tests.

    USD comes from a fixed decree (1310); EUR, GBP, KWD and TRY are crosses through it from
    ExchangeRate-API (``er-api``) and, for EUR and KWD, a generic ``json`` feed at
    /custom/rates.json (``feed``): two sources that can confirm each other's moves.
    ``direct`` adds CHF, quoted in dinars by three ``json`` sources polled every ``every``:
    each fetch moves CHF's ``fetched_at``, so the stored document is rewritten every second.
    """
    chf = "{code: CHF, sources: [" + ", ".join(f"direct-{n}" for n in range(1, len(DIRECT_PATHS) + 1)) + "]}"
    currencies = ["USD", "EUR", "GBP", "KWD", "TRY"] + ([chf] if direct else [])
    extra = ""
    if feed:
        extra += f"""
  - id: feed
    kind: json
    url: {origin}{FEED_PATH}
    ref: USD
    path: data.quotes
    published_path: data.asof
    every: {every}
    timeout: {timeout}"""
    if direct:
        for n, path in enumerate(DIRECT_PATHS, start=1):
            extra += f"""
  - id: direct-{n}
    kind: json
    url: {origin}{path}
    ref: IQD
    path: data.quotes
    published_path: data.asof
    every: {every}
    timeout: {timeout}"""
    widget = f'widget:\n  title: "{title}"\n' if title else ""
    return f"""\
currencies: [{", ".join(currencies)}]
sources:
  - id: official
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates:
      USD: {{rate: 1310, buy: 1300, sell: 1310}}
  - id: er-api
    kind: open-er-api
    url: {origin}{ER_API_PATH}
    every: {every}
    timeout: {timeout}{extra}
policy:
  stale_after: {stale_after}
  published_within: 3650d  # the ExchangeRate-API fixture was published in 2024
  max_jump: 10%
  agree_within: 2%
storage:
  dir: {store}
server:
  max_age: {max_age}
{widget}"""


def write_atomically(path: Path, text: str) -> None:
    """Replace a config the way an editor's save does: readers see the old or the new file."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)

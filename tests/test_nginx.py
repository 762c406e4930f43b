"""deploy/nginx.conf in front of a real ``rates serve``: the service dies, readers don't notice.

The nginx config is deploy/nginx.conf itself with only ports and file paths substituted
(and a 1 s cache validity, so the test sees entries expire and then served stale).
"""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.parse
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from tests.service_process import (
    Nginx,
    Processes,
    Reply,
    ServiceProcess,
    UpstreamProcess,
    cross,
    deployed_nginx,
    free_port,
    rates_config,
    wait_for,
    write_atomically,
)

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


def nginx_config(directory: Path, listen: int, service_port: int) -> str:
    """deploy/nginx.conf with this test's port, service and files; every target must exist."""
    text = deployed_nginx(
        "nginx.conf",
        directory,
        listen,
        service_port,
        {
            "/var/cache/nginx/rates": f"{directory}/cache",
            "proxy_cache_valid 200 1m;": "proxy_cache_valid 200 1s;",
            "include /etc/nginx/rates-allow.d/*.conf;": f"include {directory}/allow.d/*.conf;",
        },
    )
    for directive in (
        "proxy_cache rates;",
        "proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;",
        "proxy_cache_background_update on;",
        "proxy_cache_lock on;",
    ):
        assert directive in text
    return text


def start_nginx(processes: Processes, directory: Path, service: ServiceProcess) -> Nginx:
    port = free_port()
    nginx = Nginx(directory, port, nginx_config(directory, port, service.port))
    processes.adopt(nginx)
    nginx.start()

    def answering() -> bool:
        nginx.assert_running()
        return nginx.get("/healthz").status == 200

    wait_for(answering, 10, "nginx to proxy /healthz")
    return nginx


def cached(nginx: Nginx, path: str, headers: Mapping[str, str]) -> Reply:
    """Ask until nginx answers from its cache (the first ask is a MISS that fills it)."""
    return wait_for(lambda: _hit(nginx.get(path, headers)), 5, f"a cache HIT for {path}")


def _hit(reply: Reply) -> Reply | None:
    return reply if reply.status == 200 and reply.headers.get("X-Cache-Status") == "HIT" else None


def test_nginx_keeps_serving_the_same_bytes_when_the_service_dies(
    nginx_bin: str, processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    write_atomically(config, rates_config(upstream_proc.origin, tmp_path / "store", max_age="1s"))
    service = processes.service(config)
    wait_for(lambda: service.rates()["EUR"]["status"] == "ok", 8, "the first fetch")
    nginx = start_nginx(processes, tmp_path / "nginx", service)

    paths = ("/widget", "/api/v1/rates", "/api/v1/rates/EUR")
    before: dict[tuple[str, str], Reply] = {}
    for path in paths:
        for name, headers in (("gzip", GZIP), ("plain", PLAIN)):
            reply = cached(nginx, path, headers)
            # The widget names its public origin (its oEmbed link): nginx passes its own host.
            direct = service.get(path, {**headers, "X-Forwarded-Host": "127.0.0.1", "X-Forwarded-Proto": "http"})
            assert direct.status == 200
            # The service's bytes and strong ETag, compressed by the service (passthrough).
            assert (reply.body, reply.headers["ETag"]) == (direct.body, direct.headers["ETag"])
            assert reply.headers.get("Content-Encoding") == ("gzip" if name == "gzip" else None)
            assert reply.headers["Cache-Control"].startswith("public, max-age=1,")
            before[path, name] = reply
    assert gzip.decompress(before["/api/v1/rates", "gzip"].body) == before["/api/v1/rates", "plain"].body
    assert nginx.get("/api/v1/sources").headers.get("X-Cache-Status") in (None, "", "BYPASS", "MISS")

    service.kill()  # kill -9: no goodbye
    assert nginx.get("/readyz").status == 502, "status endpoints are never cached: the service is really gone"
    # max-age=1 and proxy_cache_valid 1s: wait until nginx says every entry has expired.
    for path, name in before:
        headers = GZIP if name == "gzip" else PLAIN
        expired = lambda p=path, h=headers: nginx.get(p, h).headers.get("X-Cache-Status") in ("STALE", "UPDATING")  # noqa: E731
        wait_for(expired, 10, f"{path} served stale")
    for _ in range(2):  # and it keeps serving the old bytes while the service stays down
        for (path, name), old in before.items():
            reply = nginx.get(path, GZIP if name == "gzip" else PLAIN)
            assert reply.status == 200, f"{path} ({name}): {reply.status}"
            assert reply.headers.get("X-Cache-Status") in ("STALE", "UPDATING"), reply.headers
            assert reply.body == old.body and reply.headers["ETag"] == old.headers["ETag"]

    # What readers get is still the right numbers.
    document = json.loads(nginx.get("/api/v1/rates", PLAIN).body, parse_float=Decimal)
    served = {e["code"]: Decimal(str(e["rate"])) for e in document["rates"]}
    assert served == {"USD": Decimal(1310), **{c: cross(c) for c in ("EUR", "GBP", "KWD", "TRY")}}
    widget = nginx.get("/widget", PLAIN).body.decode("utf-8")
    assert widget.count('data-status="ok"') == 5 and "١٬٤٤٣" in widget  # EUR 1443.46, in whole dinars


STATUS_PATHS = ("/api/v1/sources", "/api/v1/config", "/metrics")


def get_from(source: str, url: str, path: str) -> int:
    """The status of GET ``path`` sent from the loopback address ``source`` (127.0.0.0/8 all reach lo)."""
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=5, source_address=(source, 0))
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_status_endpoints_answer_allowed_addresses_only(
    nginx_bin: str, processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    """Source errors, the config status and metrics are the operator's: loopback and the include file only."""
    config = tmp_path / "config.yaml"
    write_atomically(config, rates_config(upstream_proc.origin, tmp_path / "store"))
    service = processes.service(config)
    allow = tmp_path / "nginx" / "allow.d"
    allow.mkdir(parents=True)
    (allow / "monitoring.conf").write_text("allow 127.0.0.3;\n", encoding="utf-8")
    nginx = start_nginx(processes, tmp_path / "nginx", service)

    for path in STATUS_PATHS:
        assert get_from("127.0.0.1", nginx.url, path) == 200, path
        assert get_from("127.0.0.3", nginx.url, path) == 200, path  # listed in allow.d
        assert get_from("127.0.0.2", nginx.url, path) == 403, path
    # Spelled otherwise, still the same endpoints to nginx.
    for path in ("/api/v1/%73ources", "//metrics", "/api/v1//config"):
        assert get_from("127.0.0.2", nginx.url, path) == 403, path
    # What readers need stays public.
    for path in ("/api/v1/rates", "/widget", "/healthz", "/readyz"):
        assert get_from("127.0.0.2", nginx.url, path) == 200, path
    sources = json.loads(nginx.get("/api/v1/sources").body)
    assert {s["id"] for s in sources} == {"official", "er-api", "feed"}

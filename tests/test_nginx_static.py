"""deploy/nginx-static.conf over a real ``rates serve`` with a publish directory: files first, the service after.

The nginx config is deploy/nginx-static.conf itself with only ports and paths substituted.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.service_process import (
    Nginx,
    Processes,
    ServiceProcess,
    UpstreamProcess,
    deployed_nginx,
    free_port,
    rates_config,
    wait_for,
)
from tests.test_nginx import GZIP, PLAIN

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow


def static_config(directory: Path, listen: int, service_port: int, public: Path) -> str:
    return deployed_nginx("nginx-static.conf", directory, listen, service_port, {"/var/lib/rates/public": str(public)})


def start_static_nginx(processes: Processes, directory: Path, service: ServiceProcess, public: Path) -> Nginx:
    port = free_port()
    nginx = Nginx(directory, port, static_config(directory, port, service.port, public))
    processes.adopt(nginx)
    nginx.start()
    wait_for(lambda: nginx.get("/healthz").status == 200, 10, "nginx to proxy /healthz")
    return nginx


def test_nginx_serves_the_published_files_with_the_services_headers_and_falls_back_to_it(
    nginx_bin: str, processes: Processes, upstream_proc: UpstreamProcess, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    public = tmp_path / "public"
    text = rates_config(upstream_proc.origin, tmp_path / "store", every="1h") + f"publish:\n  dir: {public}\n"
    config.write_text(text, encoding="utf-8")
    service = processes.service(config)
    wait_for(lambda: service.rates()["EUR"]["status"] == "ok", 8, "the first fetch")
    wait_for(lambda: (public / "api/v1/rates.json").read_bytes() == service.get("/api/v1/rates").body, 8, "files")
    nginx = start_static_nginx(processes, tmp_path / "nginx", service, public)

    for path in ("/api/v1/rates", "/api/v1/rates/EUR", "/widget", "/widget.js"):
        direct, plain, zipped = service.get(path, PLAIN), nginx.get(path, PLAIN), nginx.get(path, GZIP)
        assert plain.status == zipped.status == 200, path
        assert plain.body == direct.body, path
        assert zipped.headers.get("Content-Encoding") == "gzip" and gzip.decompress(zipped.body) == direct.body
        for header in ("Content-Type", "Cache-Control", "Access-Control-Allow-Origin"):
            assert plain.headers.get(header) == direct.headers.get(header), (path, header)
        assert plain.headers.get("X-Content-Type-Options") == "nosniff"
        assert "Accept-Encoding" in plain.headers.get("Vary", "")
    assert (
        nginx.get("/widget").headers["Content-Security-Policy"]
        == service.get("/widget").headers["Content-Security-Policy"]
    )
    # Not published yet (nobody asked before the last change): the service answers it.
    variant = "/widget?symbols=USD,EUR&digits=latn"
    assert nginx.get(variant, PLAIN).body == service.get(variant, PLAIN).body
    assert nginx.get("/api/v1/sources").status == 200
    assert nginx.get("/.nginx/json.conf").status == 404

    service.kill()  # the files keep serving; what only the service knows is gone
    for path in ("/api/v1/rates", "/widget", "/widget.js", "/api/v1/rates/USD"):
        assert nginx.get(path, PLAIN).status == 200, path
    assert nginx.get("/readyz").status == 502
    assert nginx.get(variant).status == 502

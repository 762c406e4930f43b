"""nginx for the bench: the shipped deploy configs (ports and paths substituted) plus a static reference.

The proxied service and the static reference run in ONE nginx (one worker, same ``http``
settings), so the only difference between them is proxy_cache versus a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from tests.service_process import NGINX, ROOT, Nginx, http_get, wait_for

DEPLOY = ROOT / "deploy"


def nginx_binary() -> str:
    if NGINX is None:
        raise RuntimeError("nginx is not installed: `sudo apt-get install nginx-light`, then run the bench again")
    return NGINX


def _substitute(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        if old not in text:
            raise RuntimeError(f"deploy config no longer has {old!r}: update bench/nginx.py")
        text = text.replace(old, new)
    return text


def _common(directory: Path) -> dict[str, str]:
    return {
        "user www-data;": "user root;" if os.geteuid() == 0 else "",
        "worker_processes auto;": "worker_processes 1;",
        "pid /run/nginx.pid;": f"pid {directory}/nginx.pid;",
        "error_log /var/log/nginx/error.log warn;": f"error_log {directory}/error.log warn;",
        "access_log /var/log/nginx/access.log;": (
            f"access_log {directory}/access.log;\n"
            f"    client_body_temp_path {directory}/body;\n    proxy_temp_path {directory}/proxy;\n"
            f"    fastcgi_temp_path {directory}/fastcgi;\n    uwsgi_temp_path {directory}/uwsgi;\n"
            f"    scgi_temp_path {directory}/scgi;"
        ),
        "listen [::]:80;": "",
    }


def static_server(port: int, root: Path) -> str:
    """The machine's ceiling: the same bytes as files, with their gzip siblings."""
    return f"""
    server {{
        listen 127.0.0.1:{port};
        root {root};
        gzip_static on;
        location / {{ }}
    }}
"""


def proxy_config(directory: Path, port: int, service_port: int, static_port: int, static_root: Path) -> str:
    """deploy/nginx.conf in front of the service, plus the static reference server."""
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    text = _substitute(
        text,
        {
            **_common(directory),
            "/var/cache/nginx/rates": f"{directory}/cache",
            "server 127.0.0.1:8080": f"server 127.0.0.1:{service_port}",
            "listen 80;": f"listen 127.0.0.1:{port};",
        },
    )
    head, _, tail = text.rpartition("}")  # the http block's closing brace
    return head + static_server(static_port, static_root) + "}" + tail


def published_config(directory: Path, port: int, service_port: int, published_dir: Path) -> str:
    """deploy/nginx-static.conf: the service's publish directory, falling back to the service."""
    text = (DEPLOY / "nginx-static.conf").read_text(encoding="utf-8")
    return _substitute(
        text,
        {
            **_common(directory),
            "/var/lib/rates/public": str(published_dir),
            "server 127.0.0.1:8080": f"server 127.0.0.1:{service_port}",
            "listen 80;": f"listen 127.0.0.1:{port};",
        },
    )


class ProbedNginx(Nginx):
    """The bench's nginx: started once ``probe_url`` (one of its own URLs) answers 200."""

    def __init__(self, directory: Path, config: str, probe_url: str) -> None:
        nginx_binary()  # a clear error when nginx is missing
        port = urlsplit(probe_url).port
        assert port is not None, probe_url
        super().__init__(directory, port, config, env={})
        self.probe_url = probe_url

    def start(self) -> None:
        super().start()
        wait_for(lambda: self.alive and http_get(self.probe_url, timeout=1).status == 200, 10, "nginx to answer")

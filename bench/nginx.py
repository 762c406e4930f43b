"""nginx for the bench: the shipped deploy configs (ports and paths substituted) plus a static reference.

The proxied service and the static reference run in ONE nginx (one worker, same ``http``
settings), so the only difference between them is proxy_cache versus a file.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from tests.service_process import NGINX, Nginx, deployed_nginx, http_get, wait_for


def nginx_binary() -> str:
    if NGINX is None:
        raise RuntimeError("nginx is not installed: `sudo apt-get install nginx-light`, then run the bench again")
    return NGINX


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
    text = deployed_nginx(
        "nginx.conf", directory, port, service_port, {"/var/cache/nginx/rates": f"{directory}/cache"}, log_level="warn"
    )
    head, _, tail = text.rpartition("}")  # the http block's closing brace
    return head + static_server(static_port, static_root) + "}" + tail


def published_config(directory: Path, port: int, service_port: int, published_dir: Path) -> str:
    """deploy/nginx-static.conf: the service's publish directory, falling back to the service."""
    replacements = {"/var/lib/rates/public": str(published_dir)}
    return deployed_nginx("nginx-static.conf", directory, port, service_port, replacements, log_level="warn")


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

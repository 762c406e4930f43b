"""nginx for the bench: the shipped deploy configs (ports and paths substituted) plus a static reference.

The proxied service and the static reference run in ONE nginx (one worker, same ``http``
settings), so the only difference between them is proxy_cache versus a file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.service_process import ROOT, Process, http_get, wait_for

DEPLOY = ROOT / "deploy"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise RuntimeError("nginx is not installed: `sudo apt-get install nginx-light`, then run the bench again")
    return found


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


class Nginx(Process):
    """``nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'``."""

    def __init__(self, directory: Path, config: str, probe_url: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "nginx.conf").write_text(config, encoding="utf-8")
        binary = nginx_binary()
        conf = str(directory / "nginx.conf")
        check = subprocess.run(
            [binary, "-t", "-p", str(directory), "-c", conf], capture_output=True, text=True, timeout=30, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the bench config:\n{check.stderr}")
        self.probe_url = probe_url
        super().__init__(
            "nginx", [binary, "-p", str(directory), "-c", conf, "-g", "daemon off;"], directory / "log", {}
        )

    def start(self) -> None:
        super().start()
        wait_for(lambda: self.alive and http_get(self.probe_url, timeout=1).status == 200, 10, "nginx to answer")

    def kill(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

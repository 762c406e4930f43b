"""The publish directory: the prepared bodies as files, for nginx or a CDN to serve.

On every data change the service writes each body (and its ``.gz`` sibling) under a path
named after its URL, each file replaced atomically (written aside, then renamed over the
old one), files of variants no longer published removed, unchanged files left alone (so
their mtime and nginx's ETag stay). Then it runs the optional command (a CDN purge, an
``rclone``/``aws s3 sync``); both outcomes go to ``/api/v1/sources`` and the metrics.
A failure is reported and retried at the next change; serving never depends on it.

Layout (``deploy/nginx-static.conf`` maps URLs onto it with ``try_files``):
  api/v1/rates.json            /api/v1/rates
  api/v1/rates/USD.json        /api/v1/rates/USD (every configured code)
  api/v1/rates/<query>.json    /api/v1/rates?<query> for each query asked for
  api/v1/gold.json             /api/v1/gold (when widget.gold is set)
  widget.html, widget/<query>.html, widget.js
  .nginx/http.conf, .nginx/json.conf, .nginx/widget.conf   the headers the service sends, for nginx
Only queries made of ``A-Z a-z 0-9 = , & _ -`` become files (the same pattern as nginx's map).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rates.config import Config, Publish
from rates.document import iso_time
from rates.metrics import Metrics
from rates.snapshot import VARIANTS_PER_SNAPSHOT, Body, Render, default_widget
from rates.snapshot import Snapshot as Published

log = logging.getLogger(__name__)
SAFE_QUERY = re.compile(r"^[A-Za-z0-9=,&_-]{1,256}$")
_VARIANT_DIRS = {"/api/v1/rates": ("api/v1/rates", ".json"), "/widget": ("widget", ".html")}
OUTPUT_TAIL = 300  # characters of a failing command's output kept in the report


@dataclass
class MirrorStatus:
    ok: bool | None = None  # None: nothing published yet
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    failures: int = 0
    files: int = 0


class Mirror:
    """Publishes snapshots to ``settings.dir``, one at a time; a newer snapshot supersedes a queued one."""

    def __init__(self, settings: Publish, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.status = MirrorStatus()
        self._in_use: OrderedDict[tuple[str, str], Render] = OrderedDict()
        self._pending: tuple[Published, Body, Config] | None = None
        self._task: asyncio.Task[None] | None = None

    def update(self, published: Published, previous: Published | None, embed: Body, config: Config) -> None:
        """Queue ``published``; the variants asked for from ``previous`` are published with it."""
        if previous is not None:
            self._remember(previous.queries())
        self._pending = (published, embed, config)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def idle(self) -> None:
        """Wait until every queued snapshot is published (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def report(self) -> dict[str, Any]:
        """The publish step as one more entry of ``/api/v1/sources``."""
        status = self.status
        return {
            "id": "publish",
            "kind": "publish",
            "ok": status.ok,
            "last_success": None if status.last_success is None else iso_time(status.last_success),
            "last_error": status.last_error,
            "last_error_at": None if status.last_error_at is None else iso_time(status.last_error_at),
            "next_run": None,
            "failures": status.failures,
            "rejected": [],
            "held": [],
            "dir": str(self.settings.dir),
            "files": status.files,
        }

    def _remember(self, queries: list[tuple[tuple[str, str], Render]]) -> None:
        for key, render in queries:
            if key[0] in _VARIANT_DIRS and SAFE_QUERY.match(key[1]):
                self._in_use[key] = render
                self._in_use.move_to_end(key)
        while len(self._in_use) > VARIANTS_PER_SNAPSHOT:
            self._in_use.popitem(last=False)

    async def _drain(self) -> None:
        while self._pending is not None:
            published, embed, config = self._pending
            self._pending = None
            await self._publish(published, embed, config)

    async def _publish(self, published: Published, embed: Body, config: Config) -> None:
        variants = dict(self._in_use)
        try:
            count = await asyncio.to_thread(self._write, published, embed, config, variants)
        except OSError as exc:
            self._failed("write", f"cannot write {self.settings.dir}: {exc.strerror or exc}")
            return
        self.status.files = count
        self.metrics.publish_done("write", "ok")
        if self.settings.command is not None:
            problem = await self._run_command()
            if problem is not None:
                self._failed("command", problem)
                return
            self.metrics.publish_done("command", "ok")
        self.status.ok = True
        self.status.failures = 0
        self.status.last_success = datetime.now(UTC)
        self.metrics.publish_success(self.status.last_success.timestamp())

    def _failed(self, step: str, message: str) -> None:
        if self.status.ok is not False:
            log.warning("publish: %s", message)  # once per failure streak, like the sources
        self.status.ok = False
        self.status.last_error = message
        self.status.last_error_at = datetime.now(UTC)
        self.status.failures += 1
        self.metrics.publish_done(step, "failed")

    def _write(
        self, published: Published, embed: Body, config: Config, variants: Mapping[tuple[str, str], Render]
    ) -> int:
        files = site_files(published, embed, config, variants)
        write_tree(self.settings.dir, files)
        return len(files)

    async def _run_command(self) -> str | None:
        """None on success, else one line saying what failed."""
        assert self.settings.command is not None
        argv = self.settings.command
        timeout = self.settings.timeout.total_seconds()
        started = time.monotonic()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=self.settings.dir,
                env={**os.environ, "RATES_PUBLISH_DIR": str(self.settings.dir)},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return f"cannot run {argv[0]!r}: {exc.strerror or exc}"
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            return f"{argv[0]!r} did not finish within {timeout:g} s and was killed"
        finally:
            self.metrics.publish_command_seconds.observe(time.monotonic() - started)
        if process.returncode != 0:
            tail = output.decode("utf-8", "replace").strip()[-OUTPUT_TAIL:]
            return f"{argv[0]!r} exited with {process.returncode}" + (f": {tail}" if tail else "")
        return None


def site_files(
    published: Published, embed: Body, config: Config, variants: Mapping[tuple[str, str], Render]
) -> dict[str, bytes]:
    """Relative path -> bytes: every prepared body and its gzip sibling, and nginx's header includes."""
    bodies: dict[str, Body] = {
        "api/v1/rates.json": published.rates,
        "widget.html": published.widget(default_widget(config)),
        "widget.js": embed,
    }
    for code, body in published.entries.items():
        bodies[f"api/v1/rates/{code}.json"] = body
    if published.gold_body is not None:
        bodies["api/v1/gold.json"] = published.gold_body
    for (route, query), render in variants.items():
        folder, suffix = _VARIANT_DIRS[route]
        bodies[f"{folder}/{query}{suffix}"] = render(published)
    files = {}
    for name, body in bodies.items():
        files[name] = body.raw
        files[name + ".gz"] = body.gzipped
    files.update(nginx_includes(config, published))
    return files


def nginx_includes(config: Config, published: Published) -> dict[str, bytes]:
    """The headers the service sends with these bodies, as nginx directives (reload nginx when they change)."""
    seconds = int(config.server.max_age.total_seconds())
    origins = config.server.cors_origins
    cors = ['    default "*";'] if "*" in origins else [f'    "{o}" "{o}";' for o in origins if '"' not in o]
    common = [
        f'add_header Cache-Control "public, max-age={seconds}, stale-while-revalidate={seconds},'
        ' stale-if-error=86400" always;',
        "add_header Access-Control-Allow-Origin $rates_cors_origin always;",
        "add_header Access-Control-Expose-Headers ETag always;",
        "add_header X-Content-Type-Options nosniff always;",
    ]
    if "*" not in origins:
        common.append("add_header Vary Origin always;")
    csp = published.renderer.content_security_policy(config.server.frame_ancestors)
    widget = [
        *common,
        f'add_header Content-Security-Policy "{csp}" always;',
        "add_header Referrer-Policy no-referrer always;",
    ]
    header = "# Written by rates serve (publish section); included by deploy/nginx-static.conf.\n"
    return {
        ".nginx/http.conf": (header + "map $http_origin $rates_cors_origin {\n" + "\n".join(cors) + "\n}\n").encode(),
        ".nginx/json.conf": (header + "\n".join(common) + "\n").encode(),
        ".nginx/widget.conf": (header + "\n".join(widget) + "\n").encode(),
    }


def write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` under ``root``, each aside then renamed into place; drop variants no longer published."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, data)
    wanted = {root / name for name in files}
    # Only the variant folders are ours to prune: the directory may hold other files.
    for folder, _ in _VARIANT_DIRS.values():
        for path in (root / folder).glob("*"):
            if path.is_file() and path not in wanted and not path.name.startswith(".tmp-"):
                path.unlink(missing_ok=True)


def _replace(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)  # served by nginx, which runs as another user
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise

"""``rates serve``: run the app until SIGINT/SIGTERM; SIGHUP re-reads the config."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from rates.config import Config
from rates.listen import listening_sockets
from rates.tls import server_context
from rates.web import SERVICE, create_app

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 5


BACKLOG = 1024  # a burst of a thousand new connections must not overflow the accept queue
# A worker thread busy in Python (a workbook parse, a snapshot render) holds the GIL for a
# whole switch interval while readers wait: 5 ms by default, 1 ms here (bench/: the refresh stall).
SWITCH_INTERVAL_S = 0.001


def serve(
    path: Path,
    config: Config,
    *,
    host: str | None = None,
    port: int | None = None,
    access_log: bool = False,
    tls: tuple[Path, Path] | None = None,
) -> int:
    """``tls`` (certificate, key) overrides ``server.tls_cert``/``server.tls_key``; either gives HTTPS."""
    if tls is None and config.server.tls_cert is not None and config.server.tls_key is not None:
        tls = (config.server.tls_cert, config.server.tls_key)
    ssl_context = None if tls is None else server_context(*tls)  # before anything starts: exit 2 on a bad file
    # A SIGHUP before the loop's handler is installed (a reload right after start) must not kill us.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    host = host or config.server.host
    port = config.server.port if port is None else port
    sockets = listening_sockets(host, port)  # a busy port ends here, before any refresh starts
    app = create_app(config)
    app.on_startup.append(_on_sighup_reload)
    log.info("starting on %s://%s:%d (config %s)", "https" if tls else "http", host, port, path)
    web.run_app(
        app,
        sock=sockets,
        ssl_context=ssl_context,
        shutdown_timeout=SHUTDOWN_SECONDS,
        print=None,
        handle_signals=True,
        backlog=BACKLOG,
        # One log line per request costs more than serving it; off unless asked for.
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        loop=event_loop(),
    )
    log.info("stopped cleanly")
    return 0


def event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is installed (the same asyncio API, a faster loop), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _on_sighup_reload(app: web.Application) -> None:
    service = app[SERVICE]
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        log.info("SIGHUP: re-reading %s", service.watcher.path)
        task = loop.create_task(service.reload())
        pending.add(task)  # held so the task is not garbage-collected mid-reload
        task.add_done_callback(pending.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)

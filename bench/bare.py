"""The framework's ceiling: a bare aiohttp app whose handlers return constant bytes.

    python -m bench.bare --port P --manifest routes.json

``routes.json`` maps a path to ``{"file", "status", "headers"}``; each handler returns
that file's bytes (read once at start) with those headers, and does nothing else.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from rates.server import event_loop


def app(manifest: Path) -> web.Application:
    application = web.Application()
    for path, route in json.loads(manifest.read_text(encoding="utf-8")).items():
        body = Path(route["file"]).read_bytes() if route.get("file") else None
        application.router.add_get(path, _constant(body, int(route.get("status", 200)), route.get("headers", {})))
    return application


def _constant(
    body: bytes | None, status: int, headers: dict[str, str]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, status=status, headers=headers)

    return handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--manifest", type=Path, required=True)
    args = parser.parse_args()
    # The service's own loop (uvloop when installed), so the comparison is about the handlers.
    loop = event_loop()
    web.run_app(app(args.manifest), host="127.0.0.1", port=args.port, print=None, access_log=None, loop=loop)


if __name__ == "__main__":
    main()

"""HTTP response mechanics: prepared bodies with ETags and gzip, the error shape, CORS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from aiohttp import web

from rates.document import encode
from rates.publish import Body


def cached(request: web.Request, body: Body, max_age: timedelta) -> web.StreamResponse:
    """A prepared body with its ETag; 304 when the client already has it."""
    seconds = int(max_age.total_seconds())
    gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    headers = {
        "ETag": body.gzip_etag if gzipped else body.etag,
        "Cache-Control": f"public, max-age={seconds}, stale-while-revalidate={seconds}, stale-if-error=86400",
        "Vary": "Accept-Encoding",
    }
    # Either encoding's tag proves the client holds this version.
    if not {body.etag, body.gzip_etag}.isdisjoint(_etags(request.headers.get("If-None-Match", ""))):
        return web.Response(status=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = body.content_type
    return web.Response(body=body.gzipped if gzipped else body.raw, headers=headers)


def accepts_gzip(header: str) -> bool:
    """``gzip`` listed (else ``*``) with a non-zero q-value: ``gzip;q=0`` is a refusal."""
    qualities: dict[str, bool] = {}
    for item in header.lower().split(","):
        name, _, params = item.partition(";")
        accepted = True
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                # q is 0 to 1 with at most three decimals: any non-zero digit means "acceptable".
                accepted = any(c in "123456789" for c in value)
        qualities[name.strip()] = accepted
    for name in ("gzip", "x-gzip", "*"):
        if name in qualities:
            return qualities[name]
    return False


def _etags(header: str) -> Iterator[str]:
    for tag in header.split(","):
        tag = tag.strip()
        yield tag.removeprefix("W/")


def status_json(value: Any) -> web.Response:
    response = web.Response(body=encode(value), content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(status: int, code: str, message: str) -> web.Response:
    response = web.Response(
        status=status,
        body=encode({"error": {"code": code, "message": message}}),
        content_type="application/json",
        charset="utf-8",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def compress_dynamic(request: web.Request, response: web.StreamResponse) -> None:
    """Status answers and errors are built per request: gzip them on the fly when asked."""
    if not isinstance(response, web.Response) or response.status in (204, 304):
        return
    if "Content-Encoding" in response.headers:
        return
    if "Accept-Encoding" not in response.headers.getall("Vary", []):
        response.headers.add("Vary", "Accept-Encoding")
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        response.enable_compression(web.ContentCoding.gzip)


def add_cors(request: web.Request, response: web.StreamResponse, origins: list[str]) -> None:
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        origin = request.headers.get("Origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.add("Vary", "Origin")
    response.headers["Access-Control-Expose-Headers"] = "ETag"

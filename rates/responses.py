"""HTTP response mechanics: prepared bodies with ETags and gzip, the error shape, CORS, security headers."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from rates.document import encode
from rates.snapshot import Body, BoundedCache
from widget.render import WidgetRenderer

# Names the product, not the Python and aiohttp versions a scanner would look up.
SERVER = "iqd-rates"


class Prepared(web.Response):
    """A response to a prepared body whose headers are complete: the middleware adds nothing to it."""


@dataclass(frozen=True)
class _Headers:
    """One body's headers, built once: [identity, gzip] for 200 and for 304."""

    full: tuple[CIMultiDict[str], CIMultiDict[str]]
    not_modified: tuple[CIMultiDict[str], CIMultiDict[str]]


class Responder:
    """Prepared bodies -> responses, with every header built once per body and encoding.

    Per request only the encoding is chosen and ``If-None-Match`` compared; Cache-Control,
    Vary, CORS, the content type and the widget's security headers are copied from a
    prebuilt multidict. Built per config (max_age and cors_origins are in the headers).
    """

    # Header sets kept, least recently used out: the bodies every snapshot serves plus its
    # cached variants. Each entry holds its body, so more would hold bodies the snapshot dropped.
    BODIES = 512

    def __init__(self, max_age: timedelta, cors_origins: list[str]) -> None:
        seconds = int(max_age.total_seconds())
        self.cache_control = f"public, max-age={seconds}, stale-while-revalidate={seconds}, stale-if-error=86400"
        self.cors_origins = cors_origins
        self.any_origin = "*" in cors_origins
        self._built: BoundedCache[int, tuple[Body, _Headers]] = BoundedCache(self.BODIES)

    def respond(self, request: web.Request, body: Body, extra: Mapping[str, str] | None = None) -> web.Response:
        """200 with the body (gzip when asked) or 304 when the client already holds it; ``extra`` joins the headers."""
        asked = request.headers
        gzipped = accepts_gzip(asked.get("Accept-Encoding", ""))
        headers = self._headers(body, extra)
        match = asked.get("If-None-Match")
        if match is not None and _holds(match, body):
            response = Prepared(status=304, headers=headers.not_modified[gzipped])
        else:
            response = Prepared(body=body.gzipped if gzipped else body.raw, headers=headers.full[gzipped])
        if not self.any_origin:
            origin = asked.get("Origin")
            if origin in self.cors_origins:
                response.headers["Access-Control-Allow-Origin"] = origin
        return response

    def _headers(self, body: Body, extra: Mapping[str, str] | None) -> _Headers:
        # Keyed by identity and holding the body itself, so an id is never reused while cached.
        return self._built.get(id(body), lambda: (body, self._prepare(body, extra)))[1]

    def _prepare(self, body: Body, extra: Mapping[str, str] | None) -> _Headers:
        return _Headers(
            full=(self._build(body, False, extra, True), self._build(body, True, extra, True)),
            not_modified=(self._build(body, False, extra, False), self._build(body, True, extra, False)),
        )

    def _build(self, body: Body, gzipped: bool, extra: Mapping[str, str] | None, full: bool) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["Server"] = SERVER
        headers["ETag"] = body.gzip_etag if gzipped else body.etag
        headers["Cache-Control"] = self.cache_control
        headers["Vary"] = "Accept-Encoding"
        if self.any_origin:
            headers["Access-Control-Allow-Origin"] = "*"
        else:
            headers.add("Vary", "Origin")
        headers["Access-Control-Expose-Headers"] = "ETag"
        if full:
            headers["Content-Type"] = body.content_type
            if gzipped:
                headers["Content-Encoding"] = "gzip"
            if body.content_type.startswith(("text/html", "application/json")):
                headers["X-Content-Type-Options"] = "nosniff"
        headers.update(extra or {})
        return headers


def _holds(header: str, body: Body) -> bool:
    """Either encoding's tag proves the client holds this version."""
    if header == body.etag or header == body.gzip_etag:  # the usual case: one tag, as we sent it
        return True
    return not {body.etag, body.gzip_etag}.isdisjoint(_etags(header))


@functools.lru_cache(maxsize=256)
def accepts_gzip(header: str) -> bool:
    """``gzip`` listed (else ``*``) with a non-zero q-value: ``gzip;q=0`` is a refusal.

    Cached: browsers send a handful of distinct values, so each is parsed once.
    """
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


def widget_security_headers(renderer: WidgetRenderer, frame_ancestors: list[str]) -> dict[str, str]:
    """The widget page's own headers: built once per config, not per request."""
    return {
        "Content-Security-Policy": renderer.content_security_policy(frame_ancestors),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }

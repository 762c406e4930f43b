"""The compatible URLs: thin handlers that pick prepared bodies from :class:`CompatViews`.

Frankfurter's date paths are regular expressions (``/2024-01-31``, ``/2024-01-01..``) so
they can sit at the root without shadowing ``/widget`` or ``/healthz``; the OXR paths end
in ``.json`` and currency-api's in ``.json``/``.min.json``, so they do not meet
Frankfurter's ``/api/latest`` or ``/v1/currencies``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from functools import wraps

from aiohttp import web

from rates.clock import BAGHDAD
from rates.compat import exchangerate_api, frankfurter, oxr
from rates.compat.errors import Refusal, native
from rates.compat.views import CompatViews
from rates.document import encode
from rates.publisher import Publisher
from rates.snapshot import Body, Snapshot

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DAY = r"\d{4}-\d{2}-\d{2}"


class Compat:
    """The app's compatibility state: the views of the snapshot being served."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self._views: tuple[Snapshot, CompatViews] | None = None

    def views(self, not_ready: Refusal) -> CompatViews:
        published = self.publisher.snapshot
        if published is None:
            raise not_ready
        if self._views is None or self._views[0] is not published:
            record = published.record  # the daily record (rates/record.py): a compat History
            self._views = (published, CompatViews(published.document, lambda: record))
        return self._views[1]

    def prepared(self, request: web.Request, body: Body) -> web.StreamResponse:
        return self.publisher.responder.respond(request, body)


COMPAT = web.AppKey("compat", Compat)


def _refused(refusal: Refusal) -> web.Response:
    body = encode(refusal.body)
    response = web.Response(status=refusal.status, body=body, content_type="application/json", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


Make = Callable[[web.Request, "Compat"], Body]
AsyncMake = Callable[[web.Request, "Compat"], Awaitable[Body]]
Answer = Callable[[web.Request], web.StreamResponse]


def _answering(make: Make) -> Answer:
    """A handler that answers a prepared body, or the imitated API's own error shape.

    A plain function: most answers only pick a prepared body, and a request then costs one
    coroutine (the app's wrapper) instead of three.
    """

    @wraps(make)
    def handler(request: web.Request) -> web.StreamResponse:
        compat = request.app[COMPAT]
        try:
            return compat.prepared(request, make(request, compat))
        except Refusal as refusal:
            return _refused(refusal)

    return handler


def _answering_async(make: AsyncMake) -> Handler:
    """As :func:`_answering`, for an answer that may be rendered off the event loop."""

    @wraps(make)
    async def handler(request: web.Request) -> web.StreamResponse:
        compat = request.app[COMPAT]
        try:
            return compat.prepared(request, await make(request, compat))
        except Refusal as refusal:
            return _refused(refusal)

    return handler


def _today() -> date:
    return datetime.now(BAGHDAD).date()


# Frankfurter ------------------------------------------------------------------------

_FR_NOT_READY = Refusal(503, {"message": "not ready"})


@_answering
def frankfurter_latest(request: web.Request, compat: Compat) -> Body:
    query = frankfurter.parse_query(request.query)
    return compat.views(_FR_NOT_READY).frankfurter_latest(query)


@_answering
def frankfurter_day(request: web.Request, compat: Compat) -> Body:
    day = frankfurter.parse_day(request.match_info["day"])
    query = frankfurter.parse_query(request.query)
    if day > _today():  # as Frankfurter: no answer about the future
        raise frankfurter.not_found()
    return compat.views(_FR_NOT_READY).frankfurter_day(day, query)


@_answering_async
async def frankfurter_range(request: web.Request, compat: Compat) -> Body:
    first = frankfurter.parse_day(request.match_info["first"])
    raw_last = request.match_info["last"]
    last = frankfurter.parse_day(raw_last) if raw_last else _today()
    query = frankfurter.parse_query(request.query)
    if first > _today() or first > last:
        raise frankfurter.not_found()
    views = compat.views(_FR_NOT_READY)
    body = views.frankfurter_range_cached(first, last, query)
    if body is None:  # a long series takes a while to render and compress: off the event loop
        body = await asyncio.to_thread(views.frankfurter_range, first, last, query)
        body = views.keep_range(first, last, query, body)
    return body


@_answering
def frankfurter_currencies(request: web.Request, compat: Compat) -> Body:
    return compat.views(_FR_NOT_READY).frankfurter_currencies()


def _frankfurter(prefix: str) -> list[tuple[str, Answer | Handler]]:
    return [
        (f"{prefix}/latest", frankfurter_latest),
        (f"{prefix}/currencies", frankfurter_currencies),
        (f"{prefix}/{{day:{DAY}}}", frankfurter_day),
        (f"{prefix}/{{first:{DAY}}}..{{last:({DAY})?}}", frankfurter_range),
    ]


# Open Exchange Rates -------------------------------------------------------------------

_OXR_NOT_READY = oxr.error(503, "not_ready", "No rates yet: the service has not completed a first fetch.")


@_answering
def oxr_latest(request: web.Request, compat: Compat) -> Body:
    base, symbols = oxr.parse_query(request.query)
    return compat.views(_OXR_NOT_READY).oxr_latest(base, symbols)


@_answering
def oxr_historical(request: web.Request, compat: Compat) -> Body:
    day = oxr.parse_day(request.match_info["day"], _today())
    base, symbols = oxr.parse_query(request.query)
    return compat.views(_OXR_NOT_READY).oxr_day(day, base, symbols)


@_answering
def oxr_currencies(request: web.Request, compat: Compat) -> Body:
    return compat.views(_OXR_NOT_READY).oxr_currencies()


# currency-api and ExchangeRate-API ----------------------------------------------------------

_NATIVE_NOT_READY = native(503, "not_ready", "No rates yet: the service has not completed a first fetch.")
_ER_NOT_READY = Refusal(503, {"result": "error", "error-type": "not-ready"})


@_answering
def currency_api_code(request: web.Request, compat: Compat) -> Body:
    code = request.match_info["code"].upper()
    return compat.views(_NATIVE_NOT_READY).currency_api(code)


@_answering
def currency_api_currencies(request: web.Request, compat: Compat) -> Body:
    return compat.views(_NATIVE_NOT_READY).currency_api_currencies()


@_answering
def exchangerate_latest(request: web.Request, compat: Compat) -> Body:
    base = request.match_info["base"].upper()
    if len(base) != 3:
        raise exchangerate_api.unsupported_code()
    return compat.views(_ER_NOT_READY).exchangerate_api(base, compat.publisher.next_update)


ROUTES: list[tuple[str, Answer | Handler]] = [
    *_frankfurter(""),
    *_frankfurter("/v1"),
    *_frankfurter("/api"),
    ("/api/latest.json", oxr_latest),
    ("/api/historical/{day:[^/]+}.json", oxr_historical),
    ("/api/currencies.json", oxr_currencies),
    ("/v1/currencies.json", currency_api_currencies),
    ("/v1/currencies.min.json", currency_api_currencies),
    ("/v1/currencies/{code:[A-Za-z]{3}}.json", currency_api_code),
    ("/v1/currencies/{code:[A-Za-z]{3}}.min.json", currency_api_code),
    ("/v6/latest/{base}", exchangerate_latest),
]
"""Every compatible path and its handler (``rates.web`` adds them with their preflight)."""

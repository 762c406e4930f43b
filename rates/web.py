"""The HTTP face: ``create_app(config)``, thin handlers that pick prepared bytes.

Caching headers, CORS, gzip and the JSON error shape are applied in one middleware so
every response, errors included, gets them the same way.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date, timedelta
from typing import cast
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict

from rates.clock import baghdad_day
from rates.compat.routes import COMPAT, Compat
from rates.compat.routes import ROUTES as COMPAT_ROUTES
from rates.config import Config
from rates.document import encode, iso_time
from rates.http_log import ParserErrorLog
from rates.oembed import MIN_WIDTH, discovery_href, public_origin, widget_query, width_for
from rates.oembed import answer as oembed_answer
from rates.publisher import Publisher
from rates.responses import SERVER, Prepared, add_cors, compress_dynamic, error_response, status_json
from rates.service import Service
from rates.snapshot import JSON, Body, Render, Snapshot, default_digits
from widget.choices import DIGITS, THEMES
from widget.render import WidgetOptions
from widget.size import facts_of, widget_height
from widget.texts import LANGS, MESSAGES

PUBLISHER = web.AppKey("publisher", Publisher)  # from creation: what handlers serve
SERVICE = web.AppKey("service", Service)  # while running: the store, scheduler and sources
MAX_SYMBOLS = 64
MAX_QUERY = 512
# ASCII letters only, matched before upper-casing: "uſd".upper() is "USD" (the long s folds to S).
_CODE = re.compile(r"^[A-Za-z]{3}$")
_DAYS = re.compile(r"^[0-9]{1,3}$")  # ASCII digits only: str.isdigit() also takes '²' and '٣'
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Most handlers only pick prepared bytes: plain functions, so a request costs one coroutine.
Answer = Callable[[web.Request], web.StreamResponse | Awaitable[web.StreamResponse]]
UNMATCHED = "unmatched"  # the request counter's route label for paths no route takes


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status
        self.error_code = code
        self.message = message


def create_app(config: Config) -> web.Application:
    # No middleware: aiohttp wraps every request in two more coroutines when there is one.
    # Each handler is wrapped once, here, and one catch-all answers what no route takes.
    app = web.Application(
        client_max_size=64 * 1024,
        handler_args={"max_line_size": 8190, "max_field_size": 8190, "logger": ParserErrorLog()},
    )
    publisher = Publisher(config)
    app[PUBLISHER] = publisher
    app[COMPAT] = Compat(publisher)
    app.cleanup_ctx.append(_running)
    routes: list[tuple[str, Answer]] = [
        ("/api/v1/rates", _rates),
        ("/api/v1/rates/{code}", _rate),
        ("/api/v1/history/{code}", _history),
        ("/api/v1/gold", _gold),
        ("/api/v1/sources", _sources),
        ("/api/v1/config", _config),
        ("/api/v1/openapi.json", _openapi),
        ("/widget", _widget),
        ("/widget.js", _widget_js),
        ("/oembed", _oembed),
        ("/healthz", _healthz),
        ("/readyz", _readyz),
        ("/metrics", _metrics),
        *COMPAT_ROUTES,  # Frankfurter, Open Exchange Rates, currency-api, ExchangeRate-API
    ]
    for path, handler in routes:
        app.router.add_get(path, _answering(publisher, path, handler))
        # Per route, not a catch-all: a catch-all OPTIONS turns every unknown path into a 405.
        app.router.add_route("OPTIONS", path, _answering(publisher, path, _preflight))
    app.router.add_route("*", "/{unmatched:.*}", _answering(publisher, UNMATCHED, _no_route), name=UNMATCHED)
    return app


async def _running(app: web.Application) -> AsyncIterator[None]:
    publisher = app[PUBLISHER]
    async with Service.running(publisher.config, publisher) as service:
        app[SERVICE] = service
        yield


# Handlers -----------------------------------------------------------------


def _prepared(request: web.Request, body: Body) -> web.StreamResponse:
    return request.app[PUBLISHER].responder.respond(request, body)


def _published(request: web.Request) -> Snapshot:
    published = request.app[PUBLISHER].snapshot
    if published is None:
        raise ApiError(503, "not_ready", "No rates yet: the service has not completed a first fetch.")
    return published


def _rates(request: web.Request) -> web.StreamResponse:
    published = _published(request)
    query = _raw_query(request)
    if not query:  # the pollers' request: no parsing at all
        return _prepared(request, published.rates)
    return _prepared(request, published.by_query("/api/v1/rates", query, lambda: _rates_variant(request)))


def _raw_query(request: web.Request) -> str:
    """The query string as sent (aiohttp's URL decodes some escapes): nginx's ``$args`` sees the same."""
    return request.raw_path.partition("?")[2]


def _rates_variant(request: web.Request) -> Render:
    symbols = _symbols(request)
    raw = request.query.get("date")
    if raw is None:
        return lambda published: published.rates_for(symbols)
    day = _date(raw, "date")
    today = baghdad_day(request.app[PUBLISHER].clock())
    if day > today:
        raise ApiError(400, "bad_date", f"date {raw} is after today ({today.isoformat()}, Baghdad): no rates yet.")
    return lambda published: published.rates_on(day, symbols)


def _rate(request: web.Request) -> web.StreamResponse:
    raw = request.match_info["code"]
    body = _published(request).entries.get(_code(raw) or "")
    if body is None:
        raise _unknown_currency(raw)
    return _prepared(request, body)


def _unknown_currency(code: str) -> ApiError:
    return ApiError(404, "unknown_currency", f"Currency {code[:8]!r} is not one of the configured currencies.")


def _history(request: web.Request) -> web.StreamResponse:
    published = _published(request)
    today = baghdad_day(request.app[PUBLISHER].clock())
    # Parsed once per path, query and day (the default span ends today), then picked by its raw text.
    route = f"{request.raw_path.partition('?')[0]} {today.isoformat()}"
    return _prepared(request, published.by_query(route, _raw_query(request), lambda: _history_span(request, today)))


def _history_span(request: web.Request, today: date) -> Render:
    raw = request.match_info["code"]
    csv = raw.lower().endswith(".csv")
    code = _code(raw[:-4] if csv else raw) or ""
    published = _published(request)
    if code not in published.entries and code not in published.record.codes:
        raise _unknown_currency(raw)
    first, last = _span(request.query, today)
    return lambda published: published.history_body(code, first, last, csv=csv)


def _span(query: Mapping[str, str], today: date) -> tuple[date | None, date]:
    """``from``/``to`` (any span), else the last ``days`` days up to ``to`` (default today)."""
    last = _date(query["to"], "to") if "to" in query else today
    if "from" in query:
        if "days" in query:
            raise ApiError(400, "bad_date", "Give either from (with an optional to) or days, not both.")
        first = _date(query["from"], "from")
        if first > last:
            raise ApiError(400, "bad_date", f"from {first.isoformat()} is after to {last.isoformat()}.")
        return first, last
    raw = query.get("days", "30")
    if not _DAYS.match(raw) or not 1 <= int(raw) <= 366:
        raise ApiError(400, "bad_days", f"days must be a whole number from 1 to 366, not {raw[:16]!r}.")
    first = date.min if last.toordinal() < int(raw) else last - timedelta(days=int(raw) - 1)
    return first, last


def _date(raw: str, name: str) -> date:
    """A real calendar date written YYYY-MM-DD in ASCII digits."""
    try:
        if _DATE.match(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise ApiError(400, "bad_date", f"{name} must be a date written YYYY-MM-DD, not {raw[:16]!r}.")


def _gold(request: web.Request) -> web.StreamResponse:
    if request.app[PUBLISHER].config.widget.gold is None:
        raise ApiError(404, "not_configured", "Gold prices are not configured: add widget.gold to the config.")
    body = _published(request).gold_body
    if body is None:  # a snapshot from before the config named gold: the next merge brings it
        raise ApiError(503, "not_ready", "Gold prices are not ready yet.")
    return _prepared(request, body)


def _sources(request: web.Request) -> web.StreamResponse:
    return status_json(request.app[PUBLISHER].sources_report())


def _config(request: web.Request) -> web.StreamResponse:
    status = request.app[SERVICE].watcher.status
    return status_json({"path": str(status.path), "loaded_at": iso_time(status.loaded_at), "errors": status.errors})


def _openapi(request: web.Request) -> web.StreamResponse:
    return _prepared(request, request.app[PUBLISHER].openapi)


def _widget(request: web.Request) -> web.StreamResponse:
    publisher = request.app[PUBLISHER]
    body = _published(request).by_query("/widget", _raw_query(request), lambda: _widget_variant(request))
    return publisher.responder.respond(request, body, publisher.widget_headers)


def _widget_variant(request: web.Request) -> Render:
    options = _widget_options(request.query, request.app[PUBLISHER].config)
    # Relative to the page (whatever origin serves it: the service, nginx, a published copy).
    discovery = discovery_href("", _raw_query(request)[:MAX_QUERY])
    return lambda published: published.widget(options, discovery)


def _widget_js(request: web.Request) -> web.StreamResponse:
    return _prepared(request, request.app[PUBLISHER].embed_js)


def _oembed(request: web.Request) -> web.StreamResponse:
    published = _published(request)
    origin = public_origin(request.scheme, request.host, request.headers)
    # Checked once per origin and query: the answer names the origin it was asked at.
    route = f"/oembed {origin}"
    return _prepared(request, published.by_query(route, _raw_query(request), lambda: _oembed_variant(request, origin)))


def _oembed_variant(request: web.Request, origin: str) -> Render:
    publisher = request.app[PUBLISHER]
    asked_format = request.query.get("format", "json")
    if asked_format == "xml":
        raise ApiError(501, "not_implemented", "Only format=json is served, not format=xml.")
    if asked_format != "json":
        raise ApiError(400, "bad_format", f"format must be json (or xml, not served), not {asked_format[:16]!r}.")
    url = request.query.get("url", "")
    if not url:
        raise ApiError(400, "bad_url", "url is required: the address of this service's /widget page.")
    query = widget_query(url, origin)
    if query is None or len(query) > MAX_QUERY:
        raise ApiError(404, "not_found", f"{url[:100]!r} is not this service's widget ({origin}/widget).")
    width = width_for(request.query)
    if width is None:
        raise ApiError(400, "bad_maxwidth", f"maxwidth must be a whole number of px from {MIN_WIDTH}.")
    try:
        options = _widget_options(MultiDict(parse_qsl(query, keep_blank_values=True)), publisher.config)
    except ApiError as exc:
        raise ApiError(404, "not_found", f"{url[:100]!r} is not a page of this widget: {exc.message}") from None

    def make(published: Snapshot) -> Body:
        wanted = set(options.symbols or published.codes)
        entries = [e for e in published.document["rates"] if e["code"] in wanted]
        noted = frozenset(c.code for c in publisher.config.currencies if c.note)
        gold = publisher.config.widget.gold
        karats = len(gold.karats) if gold and (options.symbols is None or "XAU" in options.symbols) else 0
        height = widget_height(facts_of(entries, noted), width, karats)
        body = oembed_answer(
            origin=origin,
            query=query,
            title=publisher.renderer.title(options.lang),
            frame_title=MESSAGES["frame_title"][options.lang],
            lang=options.lang,
            width=width,
            height=height,
            cache_age=int(publisher.config.server.max_age.total_seconds()),
        )
        return Body.of(encode(body), JSON)

    return make


def _healthz(request: web.Request) -> web.StreamResponse:
    return status_json({"status": "ok"})


def _readyz(request: web.Request) -> web.StreamResponse:
    """Ready once a document exists, even one whose every rate is unavailable, while the store takes writes."""
    published = _published(request)
    problem = request.app[PUBLISHER].store_problem
    if problem is not None:
        raise ApiError(503, "cannot_store", f"The service can no longer store new rates: {problem}.")
    return status_json({"status": "ready", "updated_at": published.document["updated_at"]})


def _metrics(request: web.Request) -> web.StreamResponse:
    metrics = request.app[PUBLISHER].metrics
    response = web.Response(body=metrics.render())
    response.headers["Content-Type"] = metrics.content_type
    response.headers["Cache-Control"] = "no-store"
    return response


def _preflight(request: web.Request) -> web.StreamResponse:
    response = web.Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    asked = request.headers.get("Access-Control-Request-Headers")
    response.headers["Access-Control-Allow-Headers"] = asked[:256] if asked else "If-None-Match"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


# Query parsing --------------------------------------------------------------


def _symbols(request: web.Request) -> tuple[str, ...] | None:
    return _symbols_in(request.query, request.app[PUBLISHER].config)


def _symbols_in(query: Mapping[str, str], config: Config) -> tuple[str, ...] | None:
    raw = query.get("symbols")
    if raw is None or raw.strip() == "":
        return None
    configured = config.codes
    if len(raw) > MAX_QUERY or raw.count(",") >= MAX_SYMBOLS:
        raise ApiError(400, "bad_symbol", f"symbols lists too much: at most {MAX_SYMBOLS} codes.")
    asked = {s.strip() for s in raw.split(",") if s.strip()}
    if not asked:  # "symbols=," asks for nothing in particular, like "symbols="
        return None
    for text in sorted(asked):
        if _code(text) not in configured:
            raise ApiError(
                400, "bad_symbol", f"Unknown currency {text[:8]!r} in symbols; configured: {', '.join(configured)}."
            )
    wanted = {_code(text) for text in asked}
    return tuple(c for c in configured if c in wanted)


def _code(text: str) -> str | None:
    """A currency code as configured (upper case), or None when ``text`` is not three ASCII letters."""
    return text.upper() if _CODE.match(text) else None


def _widget_options(query: Mapping[str, str], config: Config) -> WidgetOptions:
    asked_lang = query.get("lang", config.widget.lang)
    language = next((lang for lang in LANGS if lang == asked_lang), None)
    if language is None:
        raise ApiError(400, "bad_lang", f"lang must be ar, ckb or en, not {asked_lang[:16]!r}.")
    asked_theme = query.get("theme", config.widget.theme)
    asked_digits = query.get("digits", default_digits(config, language))
    trend = query.get("trend", "0")
    theme = next((t for t in THEMES if t == asked_theme), None)
    if theme is None:
        raise ApiError(400, "bad_theme", f"theme must be light, dark or auto, not {asked_theme[:16]!r}.")
    digits = next((d for d in DIGITS if d == asked_digits), None)
    if digits is None:
        raise ApiError(400, "bad_digits", f"digits must be arab or latn, not {asked_digits[:16]!r}.")
    if trend not in ("0", "1"):
        raise ApiError(400, "bad_trend", f"trend must be 0 or 1, not {trend[:16]!r}.")
    return WidgetOptions(
        symbols=_symbols_in(query, config), theme=theme, digits=digits, trend=trend == "1", lang=language
    )


# Responses --------------------------------------------------------------------


_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _answering(publisher: Publisher, route: str, handler: Answer) -> Handler:
    """``handler`` with the JSON error shape, the headers every answer carries, and the request count."""
    if inspect.iscoroutinefunction(handler):

        async def answer_async(request: web.Request) -> web.StreamResponse:
            try:
                response = await handler(request)
            except Exception as exc:
                response = _failure(request, exc)
            return _finish(request, response, publisher, route)

        return answer_async

    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            response = handler(request)
        except Exception as exc:
            response = _failure(request, exc)
        return _finish(request, cast(web.StreamResponse, response), publisher, route)

    return answer


def _failure(request: web.Request, exc: Exception) -> web.Response:
    """The JSON error for ``exc``; a redirect (an HTTPException under 400) passes through."""
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.error_code, exc.message)
    if isinstance(exc, web.HTTPException):
        if exc.status_code < 400:
            raise exc
        return _http_error(exc)
    request.app.logger.error("unhandled error on %s", request.path, exc_info=exc)
    return error_response(500, "internal", "The service failed to answer this request; the rates are unchanged.")


def _finish(request: web.Request, response: web.StreamResponse, publisher: Publisher, route: str) -> web.StreamResponse:
    if type(response) is not Prepared:  # a prepared body's headers were built with it
        response.headers["Server"] = SERVER
        add_cors(request, response, publisher.config.server.cors_origins)
        if response.headers.get("Content-Type", "").startswith(("text/html", "application/json")):
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        compress_dynamic(request, response)
    publisher.metrics.requests.count(route, response.status)
    return response


def _http_error(exc: web.HTTPException) -> web.Response:
    code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, exc.reason or "Request refused.")
    if "Allow" in exc.headers:  # a 405 says what the path does take
        response.headers["Allow"] = exc.headers["Allow"]
    return response


async def _no_route(request: web.Request) -> web.StreamResponse:
    """405 with ``Allow`` when a route has this path (another method), else 404: as aiohttp's router says."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource is not request.match_info.route.resource:
            allowed |= (await resource.resolve(request))[1]
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()

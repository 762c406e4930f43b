"""The OpenAPI 3.1 description of every endpoint, built once per config (``GET /api/v1/openapi.json``).

The document is data, assembled from small builders: shared schemas, parameters and
headers live under ``components``; :func:`_paths` lists one path item per route.
``tests/test_openapi.py`` checks that every route of ``create_app`` appears here and that
nothing here is missing from the app, validates the document with openapi-spec-validator,
and schemathesis fuzzes a real ``rates serve`` against it (no 5xx, schemas, status codes,
content types, headers).

To add a route:

1. register it in ``rates/web.py`` as usual (GET, plus the per-path OPTIONS preflight);
2. add its path item to :func:`_paths`, e.g.
   ``"/api/v1/gold": _item(_op("getGold", "rates", "Gold", "...", [], {"200": _data("Gold", "..."),
   **_cached_errors(404, 503)}))``. Write the path as clients call it: parameter names may
   differ from aiohttp's, and one route may serve several documented paths (the tests resolve
   each documented path through the app's router). Declare every status it can answer,
   errors included, each with its body's schema;
3. describe its body in :func:`_schemas` (``additionalProperties: false``: a field the
   handler sends without it being documented here fails the schemathesis run) and its
   parameters in :func:`_parameters`, with patterns, ranges and, for path parameters,
   examples (the tests fill paths with them);
4. document it for people in ``docs/api.md`` (``tests/test_docs.py`` checks every path and
   query parameter is mentioned there).

The compatibility endpoints are described in :mod:`rates.compat.openapi` (merged in below).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from rates.compat import openapi as compat_openapi
from rates.config import Config
from rates.document import encode
from rates.snapshot import JSON, Body

Json = dict[str, Any]

STATUSES = ["ok", "stale", "held", "unavailable"]


def openapi_body(config: Config) -> Body:
    """The prepared ``/api/v1/openapi.json`` body for ``config``."""
    return Body.of(encode(openapi_document(config)), JSON)


def openapi_document(config: Config) -> Json:
    return {
        "openapi": "3.1.0",
        "info": _info(config),
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [
            {"name": "rates", "description": "The rates document, one currency, history."},
            {"name": "widget", "description": "The embeddable widget and its loader."},
            {"name": "status", "description": "Health, readiness, sources, config, metrics (never cached)."},
            compat_openapi.TAG,
        ],
        "paths": _paths() | compat_openapi.paths(config.codes),
        "components": {
            "schemas": _schemas(config) | compat_openapi.schemas(),
            "parameters": _parameters(config),
            "headers": _headers(config),
            "responses": _responses(),
        },
    }


def _info(config: Config) -> Json:
    codes = ", ".join(config.codes)
    return {
        "title": "IQD rates",
        "version": _package_version(),
        "summary": "Official exchange rates of foreign currencies against the Iraqi dinar (IQD).",
        "description": (
            "Rates are IQD per one unit of each currency. A rate the service cannot vouch for is "
            "`stale` (with its date), `held` (a suspicious move awaiting confirmation) or `unavailable` "
            "(`rate` null), never 0. Currency codes in paths and `symbols` are case-insensitive. "
            "Data responses carry a strong `ETag` and answer `If-None-Match` with 304; every response "
            "carries CORS headers and is gzipped when asked; errors are "
            '`{"error": {"code", "message"}}` with `Cache-Control: no-store`. '
            f"This service's currencies: {codes}."
        ),
        "license": {"name": "Data: the publishing central banks and feeds; see /api/v1/sources"},
    }


def _package_version() -> str:
    try:
        return version("iqd-rates")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0"


# Paths -----------------------------------------------------------------------


def _paths() -> Json:
    return {
        "/api/v1/rates": _item(
            _op(
                "getRates",
                "rates",
                "The rates document",
                "Every configured currency, in config order whatever the order of `symbols`. With `date`, the "
                "document as it stood on that day: each entry is the latest point of the daily record on or "
                "before it (`fetched_at` null, `status` `ok` or `unavailable`), and `updated_at` is null.",
                ["symbols", "date"],
                {"200": _data("RatesDocument", "The rates document."), **_cached_errors(400, 503)},
            )
        ),
        "/api/v1/rates/{code}": _item(
            _op(
                "getRate",
                "rates",
                "One currency",
                "One entry of the rates document.",
                [],
                {"200": _data("RateEntry", "The currency's entry."), **_cached_errors(404, 503)},
            ),
            path_params=["code"],
        ),
        "/api/v1/history/{code}": _item(
            _op(
                "getHistory",
                "rates",
                "A currency's daily record",
                "One point per publication date, oldest first: within the last `days` days (Baghdad calendar, "
                "up to `to`, default today), or from `from` to `to`, both included, any span.",
                ["days", "from", "to"],
                {"200": _data("History", "The points."), **_cached_errors(400, 404, 503)},
            ),
            path_params=["historyCode"],
        ),
        "/api/v1/history/{code}.csv": _item(
            _op(
                "getHistoryCsv",
                "rates",
                "A currency's daily record as CSV",
                "The same points as `text/csv`: a header line `date,rate,buy,sell`, then one line per point, "
                "empty fields for null.",
                ["days", "from", "to"],
                {"200": _page("text/csv", "The points, one line each."), **_cached_errors(400, 404, 503)},
            ),
            path_params=["historyCode"],
        ),
        "/api/v1/gold": _item(
            _op(
                "getGold",
                "rates",
                "Gold prices by karat",
                "The CBI's ounce price (XAU) and the price of one configured unit of each configured karat: "
                "ounce × grams ÷ 31.1034768 × karat ÷ 24. 404 `not_configured` without `widget.gold`.",
                [],
                {"200": _data("Gold", "The gold prices."), **_cached_errors(404, 503)},
            )
        ),
        "/api/v1/openapi.json": _item(
            _op(
                "getOpenApi",
                "status",
                "This document",
                "The OpenAPI 3.1 description of every endpoint, rebuilt when the config changes.",
                [],
                {"200": _data("OpenApiDocument", "This document."), "304": _ref_response("NotModified")},
            )
        ),
        "/api/v1/sources": _item(
            _status_op("getSources", "Each source's health", "SourceList", "Every configured source, in config order.")
        ),
        "/api/v1/config": _item(
            _status_op(
                "getConfig",
                "The running config",
                "ConfigStatus",
                "The config file in force, when it was loaded, and the `check-config` lines of the last "
                "rejected reload (empty after a good one).",
            )
        ),
        "/widget": _item(
            _op(
                "getWidget",
                "widget",
                "The widget page",
                "A complete HTML page, one row per currency, in Arabic or Sorani (right to left) or English "
                "(left to right); frame it or use `/widget.js`.",
                ["symbols", "lang", "theme", "digits", "trend"],
                {"200": _page("text/html", "The widget."), **_cached_errors(400, 503)},
            )
        ),
        "/widget.js": _item(
            _op(
                "getWidgetLoader",
                "widget",
                "The embed loader",
                'One line embeds the widget: `<script src="https://HOST/widget.js" data-symbols="USD,EUR" async>'
                "</script>`.",
                [],
                {"200": _page("text/javascript", "The loader script."), "304": _ref_response("NotModified")},
            )
        ),
        "/oembed": _item(
            _op(
                "getOembed",
                "widget",
                "oEmbed for the widget",
                "oEmbed 1.0 (`type: rich`): an `<iframe>` of the asked widget URL (its query kept), `width` "
                "at most `maxwidth` (default 600), `height` the widget's height at that width for its rows. "
                "`url` must be this service's `/widget` as the request reaches it (`Host`, or "
                "`X-Forwarded-Host`/`X-Forwarded-Proto`).",
                ["url", "maxwidth", "maxheight", "format"],
                {
                    "200": _data("OEmbed", "The embed."),
                    "304": _ref_response("NotModified"),
                    "400": _ref_response("BadRequest"),
                    "404": _error_response("`url` is not this service's `/widget` page: `not_found`."),
                    "501": _error_response("Only `format=json` is served: `not_implemented`."),
                    "503": _ref_response("NotReady"),
                },
            )
        ),
        "/healthz": _item(_status_op("getHealth", "Liveness", "Health", "200 while the process serves.")),
        "/readyz": _item(
            _status_op(
                "getReadiness",
                "Readiness",
                "Readiness",
                "200 once a rates document exists (from the store or a fetch), else 503 `not_ready`;"
                " 503 `cannot_store` while the store refuses writes (full or read-only).",
                not_ready=True,
            )
        ),
        "/metrics": _item(_metrics_op()),
    }


def _item(get: Json, *, path_params: list[str] | None = None) -> Json:
    """A path item: its GET and the CORS preflight every path answers."""
    item: Json = {"get": get, "options": _preflight_op(get["operationId"], templated=bool(path_params))}
    if path_params:
        item["parameters"] = [_param_ref(name) for name in path_params]
    return item


def _op(operation_id: str, tag: str, summary: str, description: str, query: list[str], responses: Json) -> Json:
    return {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
        "parameters": [*(_param_ref(name) for name in query), _param_ref("IfNoneMatch")],
        "responses": responses,
    }


def _status_op(operation_id: str, summary: str, schema: str, description: str, *, not_ready: bool = False) -> Json:
    responses: Json = {"200": _status_json(schema, summary + ".")}
    if not_ready:
        responses["503"] = _ref_response("NotReady")
    return {
        "operationId": operation_id,
        "tags": ["status"],
        "summary": summary,
        "description": description + " Sent with `Cache-Control: no-store`.",
        "responses": responses,
    }


def _metrics_op() -> Json:
    return {
        "operationId": "getMetrics",
        "tags": ["status"],
        "summary": "Prometheus metrics",
        "description": (
            "Fetch counts and durations per source, last success per source, each currency's rate and "
            "status, held moves, HTTP requests by route and status. Sent with `Cache-Control: no-store`."
        ),
        "responses": {
            "200": {
                "description": "The Prometheus text exposition format.",
                "headers": _header_refs("Cache-Control", "Access-Control-Allow-Origin"),
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    }


def _preflight_op(operation_id: str, *, templated: bool = False) -> Json:
    """``OPTIONS``: 204 with the CORS grant; 404 when a path parameter does not fit its route."""
    responses: Json = {
        "204": {
            "description": "The methods and headers a cross-origin request may use.",
            "headers": _header_refs(
                "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"
            ),
        }
    }
    if templated:
        responses["404"] = _error_response("No such path (a parameter does not fit the route): `not_found`.")
    return {
        "operationId": operation_id + "Preflight",
        "tags": ["status"],
        "summary": "CORS preflight",
        "description": "Answers a browser's preflight for a cross-origin GET.",
        "responses": responses,
    }


# Responses ---------------------------------------------------------------------

_CACHED_HEADERS = ("ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin")


def _data(schema: str, description: str) -> Json:
    return {
        "description": description,
        "headers": _header_refs(*_CACHED_HEADERS),
        "content": {"application/json": {"schema": _schema_ref(schema)}},
    }


def _page(media_type: str, description: str) -> Json:
    return {
        "description": description,
        "headers": _header_refs(*_CACHED_HEADERS),
        "content": {media_type: {"schema": {"type": "string"}}},
    }


def _status_json(schema: str, description: str) -> Json:
    return {
        "description": description,
        "headers": _header_refs("Cache-Control", "Access-Control-Allow-Origin"),
        "content": {"application/json": {"schema": _schema_ref(schema)}},
    }


_ERROR_RESPONSES = {400: "BadRequest", 404: "NotFound", 503: "NotReady"}


def _cached_errors(*statuses: int) -> Json:
    """304 for a client that holds this version, and the listed error statuses."""
    errors = {str(status): _ref_response(_ERROR_RESPONSES[status]) for status in statuses}
    return {"304": _ref_response("NotModified"), **errors}


def _responses() -> Json:
    return {
        "NotModified": {
            "description": "The client's copy (`If-None-Match`, either encoding's tag) is current; no body.",
            "headers": _header_refs("ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin"),
        },
        "BadRequest": _error_response(
            "A query parameter is malformed or out of range: `bad_symbol`, `bad_days`, `bad_date`, `bad_theme`, "
            "`bad_digits`, `bad_trend`, `bad_lang`, `bad_url`, `bad_maxwidth`, `bad_format`."
        ),
        "NotFound": _error_response(
            "The currency is not configured (`unknown_currency`), or gold prices are not (`not_configured`)."
        ),
        "NotReady": _error_response("No rates document yet (no stored data, first fetch not done): `not_ready`."),
    }


def _error_response(description: str) -> Json:
    return {
        "description": description,
        "headers": _header_refs("Cache-Control", "Access-Control-Allow-Origin"),
        "content": {"application/json": {"schema": _schema_ref("Error")}},
    }


# Components ----------------------------------------------------------------------


def _schema_ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _param_ref(name: str) -> Json:
    return {"$ref": f"#/components/parameters/{name}"}


def _ref_response(name: str) -> Json:
    return {"$ref": f"#/components/responses/{name}"}


def _header_refs(*names: str) -> Json:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _nullable(schema: Json) -> Json:
    return {**schema, "type": [schema["type"], "null"]}


_DECIMAL = {"type": "number", "exclusiveMinimum": 0, "description": "IQD per one unit; at most 6 significant digits."}
_DATE = {"type": "string", "format": "date"}
_TIME = {"type": "string", "format": "date-time"}


def _object(properties: Json, description: str, *, optional: tuple[str, ...] = ()) -> Json:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _schemas(config: Config) -> Json:
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {"type": "string", "pattern": "^[a-z_]+$", "examples": ["bad_symbol"]},
                        "message": {"type": "string", "minLength": 1},
                    },
                    "What went wrong: a stable code for programs, one sentence for people.",
                )
            },
            "Every error: 4xx, 5xx and /readyz's 503.",
        ),
        "RateEntry": _rate_entry(config),
        "RatesDocument": _object(
            {
                "base": {"const": "IQD"},
                "updated_at": {**_nullable(_TIME), "description": "The latest refresh that changed the document."},
                "rates": {"type": "array", "items": _schema_ref("RateEntry"), "maxItems": len(config.codes)},
            },
            "The rates of the configured currencies, in config order.",
        ),
        "History": _object(
            {
                "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "base": {"const": "IQD"},
                "points": {"type": "array", "items": _schema_ref("HistoryPoint")},
            },
            "One point per publication date, oldest first.",
        ),
        "HistoryPoint": _object(
            {
                "date": _DATE,
                "rate": _DECIMAL,
                "buy": _nullable(_DECIMAL),
                "sell": _nullable(_DECIMAL),
            },
            "The rate (and buy and sell, null when unknown) as published on that date.",
        ),
        "Gold": _object(
            {
                "base": {"const": "IQD"},
                "source": {"type": ["string", "null"], "description": "Id of the source of the ounce price."},
                "published": _nullable(_DATE),
                "status": {"enum": STATUSES},
                "ounce": {**_nullable(_DECIMAL), "description": "IQD per troy ounce of fine gold (XAU)."},
                "unit": {"enum": ["mithqal", "gram", "ounce"]},
                "grams": {"type": "number", "exclusiveMinimum": 0, "description": "Grams in one `unit`."},
                "prices": {
                    "type": "array",
                    "items": _object(
                        {
                            "karat": {"type": "integer", "minimum": 1, "maximum": 24},
                            "rate": {**_nullable(_DECIMAL), "description": "IQD per one unit of this karat."},
                        },
                        "One karat's price; null when XAU is unavailable.",
                    ),
                },
            },
            "Gold prices from the CBI's ounce price (contract section 8).",
        ),
        "SourceList": {"type": "array", "items": _schema_ref("SourceHealth")},
        "SourceHealth": _source_health(),
        "ConfigStatus": _object(
            {
                "path": {"type": "string", "description": "The config file in force."},
                "loaded_at": _TIME,
                "errors": {
                    "type": "array",
                    "items": {"type": "string", "description": "`FILE:LINE: dotted.path: message`"},
                },
            },
            "The running config and the problems of the last rejected reload.",
        ),
        "OEmbed": _object(
            {
                "version": {"const": "1.0"},
                "type": {"const": "rich"},
                "provider_name": {"type": "string"},
                "provider_url": {"type": "string"},
                "title": {"type": "string"},
                "html": {"type": "string", "description": "An `<iframe>` of the widget, sized for it."},
                "width": {"type": "integer", "minimum": 1},
                "height": {"type": "integer", "minimum": 1},
                "cache_age": {"type": "integer", "minimum": 0},
            },
            "oEmbed 1.0 rich answer.",
        ),
        "Health": _object({"status": {"const": "ok"}}, "The process serves."),
        "Readiness": _object(
            {"status": {"const": "ready"}, "updated_at": _nullable(_TIME)},
            "A rates document exists.",
        ),
        "OpenApiDocument": {
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "properties": {"openapi": {"type": "string", "pattern": "^3\\.1\\.\\d+$"}},
        },
    }


def _rate_entry(config: Config) -> Json:
    return _object(
        {
            "code": {"type": "string", "pattern": "^[A-Z]{3}$", "examples": config.codes[:3]},
            "name": {"type": "string", "description": "The Arabic display name."},
            "rate": {**_nullable(_DECIMAL), "description": "IQD per ONE unit; null when unavailable."},
            "buy": _nullable(_DECIMAL),
            "sell": _nullable(_DECIMAL),
            "per": {"type": "integer", "minimum": 1, "description": "Display unit only: the widget shows per units."},
            "source": {"type": ["string", "null"], "description": "Id of the source the rate comes from."},
            "published": {**_nullable(_DATE), "description": "Publication date of the quote used."},
            "fetched_at": {**_nullable(_TIME), "description": "When that source last answered."},
            "status": {"enum": STATUSES},
            "change": {
                "type": ["number", "null"],
                "description": "Difference from the rate at the previous publication date in the history.",
            },
            "reason": {
                "type": ["string", "null"],
                "description": "Why the rate is unavailable (a short Arabic sentence); null otherwise.",
            },
            "note": {
                "type": ["string", "null"],
                "description": "The config's note (Arabic), e.g. an official rate that is not what readers pay.",
            },
        },
        "One currency's rate.",
    )


def _source_health() -> Json:
    held = _object(
        {
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "from": _DECIMAL,
            "to": _DECIMAL,
            "since": _nullable(_TIME),
        },
        "A move larger than `policy.max_jump` awaiting a second source or an admin.",
    )
    rejected = _object(
        {"code": {"type": "string"}, "reason": {"type": "string"}},
        "A quote of the last payload that was refused, and why.",
    )
    return _object(
        {
            "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "kind": {"type": "string"},
            "ok": {"type": ["boolean", "null"], "description": "Whether the last fetch succeeded; null before any."},
            "last_success": _nullable(_TIME),
            "last_error": {"type": ["string", "null"], "description": "The one-line reason of the last failure."},
            "last_error_at": _nullable(_TIME),
            "next_run": _nullable(_TIME),
            "failures": {"type": "integer", "minimum": 0, "description": "Failures in a row."},
            "rejected": {"type": "array", "items": rejected},
            "held": {"type": "array", "items": held},
            "store": {
                "type": ["string", "null"],
                "description": "Why the store refuses writes (full, read-only), or null while it takes them.",
            },
        },
        "A source's health.",
    )


def _parameters(config: Config) -> Json:
    codes = config.codes
    return {
        "code": {
            "name": "code",
            "in": "path",
            "required": True,
            "description": "A configured currency code, any case: " + ", ".join(codes) + ".",
            "schema": {"type": "string", "pattern": f"^{one_of(codes)}$", "examples": codes[:3]},
            "examples": {code: {"value": code} for code in codes[:3]},
        },
        "symbols": {
            "name": "symbols",
            "in": "query",
            "description": (
                "Comma-separated configured codes, any case, at most 64. Entries stay in config order. "
                "An unknown or malformed code is 400 `bad_symbol`."
            ),
            "schema": {"type": "string", "pattern": f"^{one_of(codes)}(,{one_of(codes)}){{0,63}}$", "maxLength": 512},
            "example": ",".join(codes[:2]),
        },
        "days": {
            "name": "days",
            "in": "query",
            "description": "How many days back, `to` (default today, Baghdad) included. Else 400 `bad_days`; "
            "with `from`, 400 `bad_date`.",
            "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30},
        },
        "date": _date_query("date", "The document as it stood on this day; after today (Baghdad) is 400 `bad_date`."),
        "from": _date_query("from", "The first day of the points (instead of `days`); after `to` is 400 `bad_date`."),
        "to": _date_query("to", "The last day of the points (default today)."),
        "historyCode": {
            "name": "code",
            "in": "path",
            "required": True,
            "description": "A currency code, any case: a configured one, or another the daily record holds "
            "(the CBI's workbook quotes more, e.g. XAU). Else 404 `unknown_currency`.",
            "schema": {"type": "string", "pattern": "^[A-Za-z]{3}$", "examples": codes[:3]},
            "examples": {code: {"value": code} for code in codes[:3]},
        },
        "theme": _enum_query("theme", ["light", "dark", "auto"], config.widget.theme, "bad_theme"),
        "lang": _enum_query(
            "lang", ["ar", "ckb", "en"], config.widget.lang, "bad_lang", "Arabic, Central Kurdish (Sorani) or English."
        ),
        "digits": _enum_query(
            "digits",
            ["arab", "latn"],
            config.widget.digits,
            "bad_digits",
            "Default: `widget.digits` in Arabic, `arab` in Sorani, `latn` in English.",
        ),
        "trend": _enum_query("trend", ["0", "1"], "0", "bad_trend", "1 draws a small trend line per row."),
        "url": {
            "name": "url",
            "in": "query",
            "description": "This service's widget page, e.g. `https://HOST/widget?symbols=USD,EUR`, or its path alone "
            "(`/widget?symbols=USD,EUR`). Another URL is 404 `not_found`; none is 400 `bad_url`.",
            "required": True,
            "schema": {
                "type": "string",
                "pattern": "^/widget(\\?symbols=(" + "|".join(codes) + ")(,(" + "|".join(codes) + ")){0,3})?$",
                "maxLength": 2048,
                "examples": [f"/widget?symbols={','.join(codes[:2])}"],
            },
        },
        "maxwidth": {
            "name": "maxwidth",
            "in": "query",
            "description": "The widest frame the consumer can show, in px. Else 400 `bad_maxwidth`.",
            "schema": {"type": "integer", "minimum": 200, "maximum": 999999},
        },
        "maxheight": {
            "name": "maxheight",
            "in": "query",
            "description": "Accepted and ignored: the widget's height follows from its rows and width.",
            "schema": {"type": "integer", "minimum": 1},
        },
        "format": {
            "name": "format",
            "in": "query",
            "description": "`json` (default). `xml` is 501 `not_implemented`; anything else 400 `bad_format`.",
            "schema": {"type": "string", "enum": ["json"], "default": "json"},
        },
        "IfNoneMatch": {
            "name": "If-None-Match",
            "in": "header",
            "description": "An `ETag` received before (either encoding's): 304 while it is current.",
            "schema": {"type": "string"},
        },
    }


def one_of(codes: list[str]) -> str:
    """A regular expression for exactly these codes in any case (JSON Schema patterns have no flags)."""
    return "(?:" + "|".join("".join(f"[{c}{c.lower()}]" for c in code) for code in codes) + ")"


def _date_query(name: str, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "description": description + " Written `YYYY-MM-DD`; else 400 `bad_date`.",
        "schema": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    }


def _enum_query(name: str, values: list[str], default: str, error: str, note: str = "") -> Json:
    return {
        "name": name,
        "in": "query",
        "description": f"{note} Else 400 `{error}`.".strip(),
        "schema": {"type": "string", "enum": values, "default": default},
    }


def _headers(config: Config) -> Json:
    seconds = int(config.server.max_age.total_seconds())
    anyone = "*" in config.server.cors_origins
    return {
        "ETag": {
            "description": "Strong tag of this version; the gzip body's ends in `-gz`.",
            "required": True,
            "schema": {"type": "string", "pattern": '^"[^"]+"$'},
        },
        "Cache-Control": {
            "description": (
                f"Data: `public, max-age={seconds}, stale-while-revalidate={seconds}, stale-if-error=86400`. "
                "Status endpoints and errors: `no-store`."
            ),
            "required": True,
            "schema": {"type": "string"},
        },
        "Vary": {
            "description": "`Accept-Encoding` (and `Origin` with a list of origins).",
            "schema": {"type": "string"},
        },
        "Access-Control-Allow-Origin": {
            "description": "Per `server.cors_origins`: `*`, or the request's `Origin` when it is listed.",
            "required": anyone,
            "schema": {"type": "string"},
        },
        "Access-Control-Allow-Methods": {"required": True, "schema": {"type": "string"}},
        "Access-Control-Allow-Headers": {"required": True, "schema": {"type": "string"}},
        "Access-Control-Max-Age": {"required": True, "schema": {"type": "integer", "minimum": 0}},
    }

"""The compatibility endpoints' part of ``/api/v1/openapi.json``: paths and schemas.

Merged into the document by :mod:`rates.openapi`; it refers to that document's shared
components by name (``IfNoneMatch``, ``NotModified``, the response headers). An error a
router answers before any handler (an unmatched path) is the service's own ``Error``, so
each 404 allows either shape.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

DAY = r"^\d{4}-\d{2}-\d{2}$"
RECORD_DAY = r"^20[0-2][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
UPPER = "^[A-Z]{3}$"
LOWER = "^[a-z]{3}$"
_NUMBER = {"type": "number", "exclusiveMinimum": 0, "description": "At most 6 significant digits."}
_DATE = {"type": "string", "format": "date"}
_CACHED = ("ETag", "Cache-Control", "Vary", "Access-Control-Allow-Origin")
TAG = {"name": "compatible", "description": "Drop-in answers in the shapes of other rate APIs (same numbers)."}


def paths(configured: list[str]) -> Json:
    """Every compatible path; ``configured`` (the config's codes) are the valid bases."""
    codes = sorted({*configured, "IQD"})
    found: Json = {}
    for prefix in ("", "/v1", "/api"):
        found |= _frankfurter(prefix, codes)
    return found | _oxr(codes) | _currency_api() | _exchangerate_api()


# Frankfurter ----------------------------------------------------------------------------------


def _frankfurter(prefix: str, codes: list[str]) -> Json:
    name = {"": "Root", "/v1": "V1", "/api": "Api"}[prefix]
    query = _frankfurter_query(codes)
    day = _data("FrankfurterDay", "Rates of one day.")
    series = _data("FrankfurterSeries", "One entry per publication date.")
    errors = {
        "404": _error("not found", "FrankfurterError"),
        "422": _error("A parameter cannot be read.", "FrankfurterError"),
    }
    ready = {"503": _error("No rates yet.", "FrankfurterError")}
    return {
        f"{prefix}/latest": _item(
            f"frankfurterLatest{name}", "Frankfurter: latest rates", query, {"200": day, **errors, **ready}
        ),
        f"{prefix}/currencies": _item(
            f"frankfurterCurrencies{name}",
            "Frankfurter: currency names",
            [],
            {"200": _data("CurrencyNames", "Every configured code and IQD, with its English name."), **ready},
        ),
        f"{prefix}/{{date}}": _item(
            f"frankfurterDay{name}",
            "Frankfurter: the rates in force on a day",
            query,
            {"200": day, **errors, **ready},
            path=[_path_param("date", DAY, "2026-02-26")],
        ),
        f"{prefix}/{{start}}..{{end}}": _item(
            f"frankfurterSeries{name}",
            "Frankfurter: a time series",
            query,
            {"200": series, **errors, **ready},
            path=[_path_param("start", DAY, "2026-01-01"), _path_param("end", DAY, "2026-02-26")],
        ),
        f"{prefix}/{{start}}..": _item(
            f"frankfurterSeriesOpen{name}",
            "Frankfurter: a time series up to today",
            query,
            {"200": series, **errors, **ready},
            path=[_path_param("start", DAY, "2026-01-01")],
        ),
    }


# Bounded so that a request with every parameter stays within aiohttp's 8190-byte request
# line even percent-encoded (the service itself accepts lists up to 512 characters).
_CODES = {"type": "string", "pattern": "^[A-Za-z]{3}(,[A-Za-z]{3}){0,31}$", "maxLength": 128}
_AMOUNT = {"type": "string", "pattern": r"^[1-9][0-9]{0,8}(\.[0-9]{1,6})?$"}


def _base(codes: list[str]) -> Json:
    """Any three letters are accepted (an unknown base is the API's own error); these answer."""
    return {"type": "string", "enum": codes}


def _frankfurter_query(codes: list[str]) -> list[Json]:
    return [
        _query("from", _base(codes), "The base currency (default EUR); `base` is its alias."),
        _query("base", _base(codes), "Alias of `from`."),
        _query("to", _CODES, "Comma-separated codes to answer (default: all); `symbols` is its alias."),
        _query("symbols", _CODES, "Alias of `to`; unknown codes are skipped."),
        _query(
            "amount",
            {"type": "string", "maxLength": 32},
            "A number from 0.000001 to 1000000000000 the rates are multiplied by (default 1); else 422.",
        ),
    ]


# Open Exchange Rates, currency-api, ExchangeRate-API ------------------------------------------------


def _oxr(codes: list[str]) -> Json:
    query = [
        _query("base", _base(codes), "The base currency (default USD)."),
        _query("symbols", _CODES, "Comma-separated codes (default: all)."),
        _query("app_id", {"type": "string", "maxLength": 64}, "Accepted and ignored."),
    ]
    answer = _data("OxrRates", "Rates against `base`, the base itself included.")
    refused = {"400": _error("invalid_base, invalid_date, not_available", "OxrError")}
    ready = {"503": _error("No rates yet.", "OxrError")}
    return {
        "/api/latest.json": _item(
            "oxrLatest", "Open Exchange Rates: latest", query, {"200": answer, **refused, **ready}
        ),
        "/api/historical/{date}.json": _item(
            "oxrHistorical",
            "Open Exchange Rates: the rates in force on a day",
            query,
            {"200": answer, **refused, "404": _error("No such route.", "OxrError"), **ready},
            path=[_path_param("date", DAY, "2026-02-26")],
        ),
        "/api/currencies.json": _item(
            "oxrCurrencies",
            "Open Exchange Rates: currency names",
            [],
            {"200": _data("CurrencyNames", "Every configured code and IQD."), **ready},
        ),
    }


def _currency_api() -> Json:
    names = _data("CurrencyApiNames", "Lower-case codes and their English names.")
    rates = _data("CurrencyApiRates", "Units of every other currency per one `code`.")
    ready = {"503": _error("No rates yet.", "Error")}
    code = [_path_param("code", "^[A-Za-z]{3}$", "usd")]
    missing = {"404": _error("unknown_currency", "Error")}
    return {
        "/v1/currencies.json": _item(
            "currencyApiCurrencies", "currency-api: currency names", [], {"200": names, **ready}
        ),
        "/v1/currencies.min.json": _item(
            "currencyApiCurrenciesMin", "currency-api: currency names", [], {"200": names, **ready}
        ),
        "/v1/currencies/{code}.json": _item(
            "currencyApiRates", "currency-api: rates of one currency", [], {"200": rates, **missing, **ready}, path=code
        ),
        "/v1/currencies/{code}.min.json": _item(
            "currencyApiRatesMin",
            "currency-api: rates of one currency",
            [],
            {"200": rates, **missing, **ready},
            path=code,
        ),
    }


def _exchangerate_api() -> Json:
    return {
        "/v6/latest/{base}": _item(
            "exchangeRateApiLatest",
            "ExchangeRate-API open access: latest",
            [],
            {
                "200": _data("ExchangeRateApiRates", "Rates against `base_code`, the base first."),
                "404": _error("unsupported-code", "ExchangeRateApiError"),
                "503": _error("not-ready", "ExchangeRateApiError"),
            },
            path=[_path_param("base", None, "USD")],
        )
    }


# Builders --------------------------------------------------------------------------------------


def _item(
    operation_id: str, summary: str, query: list[Json], responses: Json, *, path: list[Json] | None = None
) -> Json:
    get = {
        "operationId": operation_id,
        "tags": ["compatible"],
        "summary": summary,
        "description": "See docs/api.md, Compatibility endpoints. Unknown parameters are ignored.",
        "parameters": [*query, {"$ref": "#/components/parameters/IfNoneMatch"}],
        "responses": {"304": {"$ref": "#/components/responses/NotModified"}, **responses},
    }
    item: Json = {"get": get, "options": _preflight(operation_id)}
    if path:
        item["parameters"] = path
        # A path value outside the route's pattern matches no route: the router's own 404.
        item["options"]["responses"]["404"] = _error("No such path.", "Error")
    return item


def _preflight(operation_id: str) -> Json:
    return {
        "operationId": operation_id + "Preflight",
        "tags": ["status"],
        "summary": "CORS preflight",
        "responses": {
            "204": {
                "description": "The methods and headers a cross-origin request may use.",
                "headers": _headers(
                    "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Max-Age"
                ),
            }
        },
    }


def _headers(*names: str) -> Json:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _data(schema: str, description: str) -> Json:
    return {
        "description": description,
        "headers": _headers(*_CACHED),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _error(description: str, schema: str) -> Json:
    shapes = [{"$ref": f"#/components/schemas/{schema}"}]
    if schema != "Error":
        shapes.append({"$ref": "#/components/schemas/Error"})  # answered by the router, before any handler
    return {
        "description": description,
        "headers": _headers("Cache-Control", "Access-Control-Allow-Origin"),
        "content": {"application/json": {"schema": {"anyOf": shapes} if len(shapes) > 1 else shapes[0]}},
    }


def _query(name: str, schema: Json, description: str) -> Json:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _path_param(name: str, pattern: str | None, example: str) -> Json:
    schema: Json = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    if pattern == DAY:
        # Any YYYY-MM-DD is accepted; this century's are the ones the record can answer.
        schema.update(format="date", pattern=RECORD_DAY)
    return {"name": name, "in": "path", "required": True, "schema": schema, "examples": {example: {"value": example}}}


# Schemas ---------------------------------------------------------------------------------------


def _rates(pattern: str) -> Json:
    return {"type": "object", "propertyNames": {"pattern": pattern}, "additionalProperties": _NUMBER}


def _strict(properties: Json, description: str) -> Json:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def schemas() -> Json:
    code = {"type": "string", "pattern": UPPER}
    return {
        "FrankfurterDay": _strict(
            {"amount": _NUMBER, "base": code, "date": _DATE, "rates": _rates(UPPER)},
            "Frankfurter's answer for one day; the base is not in `rates`.",
        ),
        "FrankfurterSeries": _strict(
            {
                "amount": _NUMBER,
                "base": code,
                "start_date": _DATE,
                "end_date": _DATE,
                "rates": {"type": "object", "propertyNames": {"pattern": DAY}, "additionalProperties": _rates(UPPER)},
            },
            "Frankfurter's time series: rates keyed by publication date.",
        ),
        "FrankfurterError": _strict({"message": {"type": "string"}}, "Frankfurter's error."),
        "CurrencyNames": {
            "type": "object",
            "propertyNames": {"pattern": UPPER},
            "additionalProperties": {"type": "string"},
        },
        "OxrRates": _strict(
            {
                "disclaimer": {"type": "string"},
                "license": {"type": "string"},
                "timestamp": {"type": "integer", "description": "Unix seconds."},
                "base": code,
                "rates": _rates(UPPER),
            },
            "Open Exchange Rates' answer.",
        ),
        "OxrError": _strict(
            {
                "error": {"const": True},
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "description": {"type": "string"},
            },
            "Open Exchange Rates' error.",
        ),
        "CurrencyApiNames": {
            "type": "object",
            "propertyNames": {"pattern": LOWER},
            "additionalProperties": {"type": "string"},
        },
        "CurrencyApiRates": {
            "type": "object",
            "description": "`date`, and one lower-case code holding the rates against it.",
            "properties": {"date": _DATE},
            "patternProperties": {LOWER: _rates(LOWER)},
            "required": ["date"],
            "minProperties": 2,
            "maxProperties": 2,
            "additionalProperties": False,
        },
        "ExchangeRateApiRates": _strict(
            {
                "result": {"const": "success"},
                "provider": {"type": "string"},
                "documentation": {"type": "string"},
                "terms_of_use": {"type": "string"},
                "time_last_update_unix": {"type": "integer"},
                "time_last_update_utc": {"type": "string"},
                "time_next_update_unix": {"type": "integer"},
                "time_next_update_utc": {"type": "string"},
                "time_eol_unix": {"type": "integer"},
                "base_code": code,
                "rates": _rates(UPPER),
            },
            "ExchangeRate-API's open-access answer.",
        ),
        "ExchangeRateApiError": _strict(
            {"result": {"const": "error"}, "error-type": {"type": "string"}}, "ExchangeRate-API's error."
        ),
    }

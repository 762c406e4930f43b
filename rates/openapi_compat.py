"""The OpenAPI description of the compatibility endpoints (Frankfurter, Open Exchange Rates,
currency-api, ExchangeRate-API): their paths, parameters and the shapes they imitate.

Each imitated API keeps its own error shape; a path that does not match a route at all
(``/2024-1-1``) is the service's own 404, so those 404s are documented as either.
"""

from __future__ import annotations

from rates.openapi import (
    _DATE,
    Json,
    _data,
    _item,
    _object,
    _param_ref,
    _ref_response,
    _schema_ref,
)

DAY_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
EXAMPLE_DAY = "2026-02-26"
EXAMPLE_START = "2026-02-01"
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}


def compat_paths() -> Json:
    paths: Json = {}
    for prefix in ("", "/v1", "/api"):
        paths |= _frankfurter(prefix)
    paths |= _oxr() | _currency_api() | _exchangerate_api()
    return paths


# Frankfurter -------------------------------------------------------------------------------

_FR_QUERY = ["FrFrom", "FrBase", "FrTo", "FrSymbols", "FrAmount"]


def _frankfurter(prefix: str) -> Json:
    tag, name = "frankfurter", prefix.strip("/").capitalize()
    errors = _errors("FrankfurterError", 404, 422, 503)
    return {
        f"{prefix}/latest": _item(
            _op(f"frankfurter{name}Latest", tag, "Frankfurter: latest rates", _FR_QUERY, "FrankfurterRates", errors)
        ),
        f"{prefix}/{{date}}": _item(
            _op(
                f"frankfurter{name}Day",
                tag,
                "Frankfurter: the rates on a day (the latest date on or before it with data)",
                _FR_QUERY,
                "FrankfurterRates",
                errors,
            ),
            path_params=["FrDate"],
        ),
        f"{prefix}/{{start}}..{{end}}": _item(
            _op(
                f"frankfurter{name}Range",
                tag,
                "Frankfurter: a time series, one entry per publication date",
                _FR_QUERY,
                "FrankfurterSeries",
                errors,
            ),
            path_params=["FrStart", "FrEnd"],
        ),
        f"{prefix}/{{start}}..": _item(
            _op(
                f"frankfurter{name}Since",
                tag,
                "Frankfurter: a time series up to today",
                _FR_QUERY,
                "FrankfurterSeries",
                errors,
            ),
            path_params=["FrStart"],
        ),
        f"{prefix}/currencies": _item(
            _op(
                f"frankfurter{name}Currencies",
                tag,
                "Frankfurter: the currencies (IQD and every configured one), English names",
                [],
                "CodeNames",
                _errors("FrankfurterError", 503),
            )
        ),
    }


# Open Exchange Rates --------------------------------------------------------------------------

_OXR_QUERY = ["OxrBase", "OxrSymbols", "OxrAppId"]


def _oxr() -> Json:
    tag = "open-exchange-rates"
    return {
        "/api/latest.json": _item(
            _op("oxrLatest", tag, "Open Exchange Rates: latest", _OXR_QUERY, "OxrRates", _errors("OxrError", 400, 503))
        ),
        "/api/historical/{date}.json": _item(
            _op(
                "oxrHistorical",
                tag,
                "Open Exchange Rates: the rates on a day",
                _OXR_QUERY,
                "OxrRates",
                _errors("OxrError", 400, 404, 503),
            ),
            path_params=["OxrDate"],
        ),
        "/api/currencies.json": _item(
            _op("oxrCurrencies", tag, "Open Exchange Rates: the currencies", [], "CodeNames", _errors("OxrError", 503))
        ),
    }


# currency-api and ExchangeRate-API ---------------------------------------------------------------


def _currency_api() -> Json:
    tag = "currency-api"
    codes = _op(
        "currencyApiCurrencies", tag, "currency-api: the currencies", [], "LowerCodeNames", _errors("Error", 503)
    )
    paths: Json = {"/v1/currencies.json": _item(codes), "/v1/currencies.min.json": _item(_renamed(codes, "Min"))}
    one = _op(
        "currencyApiRates",
        tag,
        "currency-api: units of every other currency per 1 unit of this one",
        [],
        "CurrencyApiRates",
        _errors("Error", 404, 503),
    )
    paths["/v1/currencies/{code}.json"] = _item(one, path_params=["LowerCode"])
    paths["/v1/currencies/{code}.min.json"] = _item(_renamed(one, "Min"), path_params=["LowerCode"])
    return paths


def _exchangerate_api() -> Json:
    latest = _op(
        "exchangerateApiLatest",
        "exchangerate-api",
        "ExchangeRate-API open access: units of every currency per 1 BASE",
        [],
        "ErApiRates",
        _errors("ErApiError", 404, 503),
    )
    return {"/v6/latest/{base}": _item(latest, path_params=["ErBase"])}


# Builders --------------------------------------------------------------------------------------


def _op(operation_id: str, tag: str, summary: str, query: list[str], schema: str, errors: Json) -> Json:
    return {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": (
            "Rates computed through the official dinar rates: B per A is (IQD per A) ÷ (IQD per B). "
            "A currency whose rate is unavailable is left out. Parameters this shape does not use are ignored."
        ),
        "parameters": [*(_param_ref(name) for name in query), _param_ref("IfNoneMatch")],
        "responses": {"200": _data(schema, "The answer, in the imitated API's shape."), **errors},
    }


def _renamed(operation: Json, suffix: str) -> Json:
    return {**operation, "operationId": operation["operationId"] + suffix}


def _errors(schema: str, *statuses: int) -> Json:
    """304, and each error status in ``schema``'s shape (404s may also be the service's own)."""
    responses: Json = {"304": _ref_response("NotModified")}
    for status in statuses:
        shapes = [_schema_ref(schema)]
        if status == 404 and schema != "Error":
            shapes.append(_schema_ref("Error"))
        body = shapes[0] if len(shapes) == 1 else {"anyOf": shapes}
        responses[str(status)] = {
            "description": _ERROR_MEANINGS[status],
            "headers": {"Cache-Control": {"$ref": "#/components/headers/Cache-Control"}},
            "content": {"application/json": {"schema": body}},
        }
    return responses


_ERROR_MEANINGS = {
    400: "A parameter is refused (OXR: `invalid_base`, `invalid_date`, `not_available`, ...).",
    404: "Nothing matches: an unknown currency, no data for the dates, or no such path.",
    422: "A parameter cannot be read (a malformed date or amount, a pair of one currency).",
    503: "No rates document yet: the service has not completed a first fetch.",
}


# Components ----------------------------------------------------------------------------------


def compat_schemas() -> Json:
    rates = {"type": "object", "propertyNames": {"pattern": "^[A-Z]{3}$"}, "additionalProperties": _POSITIVE}
    return {
        "FrankfurterError": _object({"message": {"type": "string"}}, "Frankfurter's error shape."),
        "FrankfurterRates": _object(
            {"amount": _POSITIVE, "base": {"type": "string"}, "date": _DATE, "rates": rates},
            "Units of each currency per `amount` units of `base`; `base` itself is left out.",
        ),
        "FrankfurterSeries": _object(
            {
                "amount": _POSITIVE,
                "base": {"type": "string"},
                "start_date": _DATE,
                "end_date": _DATE,
                "rates": {
                    "type": "object",
                    "propertyNames": {"pattern": DAY_PATTERN},
                    "additionalProperties": rates,
                },
            },
            "One entry per publication date, from the rates in force on the first day.",
        ),
        "CodeNames": {
            "type": "object",
            "description": "Code → English name (CLDR).",
            "propertyNames": {"pattern": "^[A-Z]{3}$"},
            "additionalProperties": {"type": "string"},
        },
        "LowerCodeNames": {
            "type": "object",
            "description": "Lower-case code → English name (CLDR).",
            "propertyNames": {"pattern": "^[a-z]{3}$"},
            "additionalProperties": {"type": "string"},
        },
        "OxrRates": _object(
            {
                "disclaimer": {"type": "string"},
                "license": {"type": "string"},
                "timestamp": {"type": "integer", "description": "Unix time of the rates."},
                "base": {"type": "string"},
                "rates": rates,
            },
            "Open Exchange Rates' shape: units of each currency per 1 `base` (the base itself is 1).",
        ),
        "OxrError": _object(
            {
                "error": {"const": True},
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "description": {"type": "string"},
            },
            "Open Exchange Rates' error shape.",
        ),
        "CurrencyApiRates": {
            "type": "object",
            "description": '`{"date", "{code}": {"{other}": units of other per 1 code}}`, lower-case codes.',
            "required": ["date"],
            "properties": {"date": _DATE},
            "propertyNames": {"pattern": "^(date|[a-z]{3})$"},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"pattern": "^[a-z]{3}$"},
                "additionalProperties": _POSITIVE,
            },
            "minProperties": 2,
            "maxProperties": 2,
        },
        "ErApiRates": _object(
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
                "base_code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "rates": rates,
            },
            "ExchangeRate-API's open-access shape: units of each currency per 1 `base_code`.",
        ),
        "ErApiError": _object(
            {"result": {"const": "error"}, "error-type": {"type": "string"}},
            "ExchangeRate-API's error shape, e.g. `unsupported-code`.",
        ),
    }


def compat_parameters(codes: list[str]) -> Json:
    example = codes[0] if codes else "USD"
    return {
        "FrFrom": _code_query("from", "The base currency (default EUR); `base` is the same.", example),
        "FrBase": _code_query("base", "Same as `from`.", example),
        "FrTo": _list_query("to", "Comma-separated codes to answer for (default: every one); `symbols` is the same."),
        "FrSymbols": _list_query("symbols", "Same as `to`."),
        "FrAmount": {
            "name": "amount",
            "in": "query",
            "description": "Units of the base to convert, from 0.000001 to 1000000000000 (default 1); else 422.",
            "schema": {"type": "number", "minimum": 0.000001, "maximum": 1_000_000_000_000},
        },
        "FrDate": _day_path("date", EXAMPLE_DAY),
        "FrStart": _day_path("start", EXAMPLE_START),
        "FrEnd": _day_path("end", EXAMPLE_DAY),
        "OxrDate": _day_path("date", EXAMPLE_DAY),
        "OxrBase": _code_query("base", "The base currency (default USD).", example),
        "OxrSymbols": _list_query("symbols", "Comma-separated codes to answer for (default: every one)."),
        "OxrAppId": {
            "name": "app_id",
            "in": "query",
            "description": "Accepted and ignored: no key is needed.",
            "schema": {"type": "string"},
        },
        "LowerCode": _code_path("code", example.lower()),
        "ErBase": _code_path("base", example),
    }


def _code_query(name: str, description: str, example: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
        "example": example,
    }


def _list_query(name: str, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "description": description + " Codes the service does not quote are ignored.",
        "schema": {"type": "string", "pattern": "^[A-Za-z]{3}(,[A-Za-z]{3})*$", "maxLength": 512},
    }


def _day_path(name: str, example: str) -> Json:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": "A date, `YYYY-MM-DD`.",
        "schema": {"type": "string", "format": "date", "pattern": DAY_PATTERN},
        "examples": {"day": {"value": example}},
    }


def _code_path(name: str, example: str) -> Json:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": "A currency code, any case.",
        "schema": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
        "examples": {"code": {"value": example}},
    }

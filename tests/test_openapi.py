"""``GET /api/v1/openapi.json``: complete, valid, and served like the data documents.

Completeness is checked against the app itself: every route ``create_app`` registers must
be described, and the document may describe nothing the app lacks. The document is
validated with openapi-spec-validator. (The schemathesis run against a real ``rates serve``
is ``tests/test_fuzz.py``.)
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from openapi_spec_validator import validate

from rates.config import Config
from rates.openapi import openapi_document
from rates.web import SERVICE, UNMATCHED, create_app
from tests.upstream import Upstream, bundled_config_text

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
TEMPLATE = re.compile(r"\{[^{}]*\}")
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def template(path: str) -> str:
    """A path with its parameter names blanked: aiohttp's and OpenAPI's names may differ."""
    return TEMPLATE.sub("{}", path)


def app_routes(app: web.Application) -> set[tuple[str, str]]:
    """(path template, method) of every route; HEAD is GET without a body, documented by its GET."""
    found = set()
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        if route.method != "HEAD" and resource.name != UNMATCHED:  # the 404/405 answer
            found.add((template(resource.canonical), route.method.lower()))
    return found


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (template(path), method) for path, item in document["paths"].items() for method in item if method in OPERATIONS
    }


def test_every_route_of_the_app_is_documented(bundled_config: Config) -> None:
    app = create_app(bundled_config)
    routes, described = app_routes(app), documented(openapi_document(bundled_config))
    assert len(routes) >= 10, routes
    missing = sorted(routes - described)
    assert not missing, f"routes missing from rates/openapi.py (add them to _paths()): {missing}"


async def test_every_documented_operation_is_served(bundled_config: Config) -> None:
    """Each documented path, filled with its parameters' examples, reaches a route of the app.

    Resolved by the app's own router rather than compared as text, so a documented
    ``/{start}..`` is found in a route that also serves ``/{start}..{end}``.
    """
    app = create_app(bundled_config)
    document = openapi_document(bundled_config)
    unserved = []
    for path, item in document["paths"].items():
        url = example_url(document, path, item)
        for method in item:
            if method not in OPERATIONS:
                continue
            match = await app.router.resolve(make_mocked_request(method.upper(), url, app=app))
            if match.http_exception is not None or match.route.name == UNMATCHED:
                unserved.append(f"{method.upper()} {path} ({url}: {match.http_exception.status})")
    assert not unserved, f"rates/openapi.py describes operations the app does not serve: {unserved}"


def example_url(document: dict[str, Any], path: str, item: dict[str, Any]) -> str:
    """``path`` with every template filled by its parameter's first example (each must have one)."""
    parameters = [*item.get("parameters", [])]
    for operation in item.values():
        if isinstance(operation, dict):
            parameters += operation.get("parameters", [])
    examples = {}
    for parameter in (resolve(document, p) for p in parameters):
        if parameter["in"] == "path":
            assert parameter.get("examples"), f"{path}: path parameter {parameter['name']} has no examples"
            examples[parameter["name"]] = next(iter(parameter["examples"].values()))["value"]
    return TEMPLATE.sub(lambda m: str(examples[m.group(0)[1:-1]]), path)


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in node:
        return node
    target: Any = document
    for step in node["$ref"].removeprefix("#/").split("/"):
        target = target[step]
    return dict(target)


def test_document_is_valid_openapi_3_1(bundled_config: Config) -> None:
    document = openapi_document(bundled_config)
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises with the failing pointer when invalid


def test_every_operation_documents_its_statuses(bundled_config: Config) -> None:
    """Errors are described too: each error response is JSON with an error schema.

    The native API's errors all use ``Error``; a compatibility endpoint may answer in the
    error shape of the API it imitates (``FrankfurterError``, ...).
    """
    document = openapi_document(bundled_config)
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in OPERATIONS:
                continue
            statuses = set(operation["responses"])
            assert statuses and all(re.fullmatch(r"[1-5]\d\d", s) for s in statuses), (path, method, statuses)
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = resolve(document, response)["content"]["application/json"]["schema"]
                    names = [ref.rsplit("/", 1)[1] for ref in re.findall(r"'\$ref': '([^']+)'", str(schema))]
                    assert names and all(n.endswith("Error") and n in schemas for n in names), (path, status, schema)


def test_parameters_carry_patterns_and_ranges(bundled_config: Config) -> None:
    parameters = openapi_document(bundled_config)["components"]["parameters"]
    # Exactly the configured codes, in any case: what the service accepts, no more.
    code = parameters["code"]["schema"]["pattern"]
    assert all(re.fullmatch(code, c) and re.fullmatch(code, c.lower()) for c in bundled_config.codes)
    assert not re.fullmatch(code, "CHF") and not re.fullmatch(code, "US")
    symbols = parameters["symbols"]["schema"]["pattern"]
    assert re.fullmatch(symbols, "usd,EUR") and re.fullmatch(symbols, "Gbp")
    assert not re.fullmatch(symbols, "USD;EUR") and not re.fullmatch(symbols, "USD,CHF")
    days = parameters["days"]["schema"]
    assert (days["minimum"], days["maximum"], days["default"]) == (1, 366, 30)
    assert parameters["theme"]["schema"]["enum"] == ["light", "dark", "auto"]
    # The configured codes are the examples a reader (and schemathesis) starts from.
    assert list(parameters["code"]["examples"]) == bundled_config.codes[:3]


async def test_served_prepared_with_etag_gzip_and_cors(aiohttp_client: MakeClient, bundled_config: Config) -> None:
    # Served before the first fetch is done: the document depends on the config only.
    client = await aiohttp_client(create_app(bundled_config), auto_decompress=False)
    first = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "identity"})
    raw = await first.read()
    assert first.status == 200
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    assert first.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(raw) == json.loads(json.dumps(openapi_document(bundled_config)))
    assert "/api/v1/rates" in json.loads(raw)["paths"]

    again = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "identity"})
    assert await again.read() == raw and again.headers["ETag"] == first.headers["ETag"]

    zipped = await client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await zipped.read()) == raw
    assert zipped.headers["ETag"] != first.headers["ETag"]

    for tag in (first.headers["ETag"], zipped.headers["ETag"]):
        cached = await client.get("/api/v1/openapi.json", headers={"If-None-Match": tag})
        assert cached.status == 304 and await cached.read() == b""


async def test_rebuilt_when_the_config_changes(
    aiohttp_client: MakeClient, bundled_config: Config, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(bundled_config))
    before = await client.get("/api/v1/openapi.json")
    assert "CHF" not in (await before.json())["info"]["description"]

    _, origin = upstream
    text = bundled_config_text(origin, str(tmp_path / "store")).replace("  - USD\n", "  - USD\n  - CHF\n", 1)
    Path(bundled_config.path).write_text(text, encoding="utf-8")
    assert await client.app[SERVICE].reload() is True

    after = await client.get("/api/v1/openapi.json")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "CHF" in (await after.json())["info"]["description"]

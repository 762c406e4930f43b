"""``/oembed`` (contract §5, §6) and the widget's discovery link, through the real app."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from rates.config import Config
from rates.web import PUBLISHER, create_app
from tests.test_web import CACHE_60, MakeClient, assert_error, get_json, wait_ready
from widget.size import LAYOUTS, facts_of, widget_height

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(aiohttp_client: MakeClient, bundled_config: Config) -> Client:
    app_client = await aiohttp_client(create_app(bundled_config))
    await wait_ready(app_client)
    return app_client


def origin_of(client: Client) -> str:
    return str(client.make_url("")).rstrip("/")


def iframe_attrs(html: str) -> dict[str, str]:
    assert html.startswith("<iframe ") and html.endswith("</iframe>"), html
    return {k: unescape(v) for k, v in re.findall(r'(\w[\w-]*)="([^"]*)"', html)}


async def test_oembed_answers_a_rich_iframe_of_the_asked_widget(client: Client, bundled_config: Config) -> None:
    origin = origin_of(client)
    page = f"{origin}/widget?symbols=USD,EUR,IRR&theme=dark"
    response = await client.get("/oembed", params={"url": page, "maxwidth": "400"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == CACHE_60 and response.headers["ETag"]
    body = json.loads(await response.read())
    assert set(body) == {
        "version", "type", "provider_name", "provider_url", "title", "html", "width", "height", "cache_age",
    }  # fmt: skip
    assert (body["version"], body["type"], body["cache_age"]) == ("1.0", "rich", 60)
    assert body["provider_url"] == f"{origin}/"
    assert body["title"] == bundled_config.widget.title["ar"]
    frame = iframe_attrs(body["html"])
    assert frame["src"] == page  # the query is kept
    assert body["width"] == 400 and frame["width"] == "400"
    # USD and EUR on one row each, IRR with its note line: the narrow layout's sum.
    narrow = LAYOUTS[0]
    expected = narrow.base + 3 * narrow.row + narrow.note + narrow.line * (narrow.updated_lines + narrow.credit_lines)
    assert body["height"] == expected == int(frame["height"])
    assert frame["title"] and frame["loading"] == "lazy"


async def test_oembed_width_is_capped_and_height_follows_the_layout(client: Client) -> None:
    origin = origin_of(client)
    wide = await get_json(client, "/oembed", params={"url": f"{origin}/widget"})
    wider = await get_json(client, "/oembed", params={"url": f"{origin}/widget", "maxwidth": "1200"})
    narrow = await get_json(client, "/oembed", params={"url": f"{origin}/widget", "maxwidth": "300"})
    assert wide["width"] == wider["width"] == 600 and narrow["width"] == 300
    assert wide == wider
    service = client.app[PUBLISHER]
    assert service.snapshot is not None
    noted = frozenset(c.code for c in service.config.currencies if c.note)
    facts = facts_of(service.snapshot.document["rates"], noted)
    assert len(facts) == 16
    karats = len(service.config.widget.gold.karats) if service.config.widget.gold else 0  # the gold table
    assert (narrow["height"], wide["height"]) == (widget_height(facts, 300, karats), widget_height(facts, 600, karats))
    assert narrow["height"] != wide["height"]  # other row heights and footer lines below 480 px


async def test_oembed_knows_its_origin_behind_a_proxy(client: Client) -> None:
    headers = {"X-Forwarded-Host": "rates.example.iq", "X-Forwarded-Proto": "https"}
    page = "https://rates.example.iq/widget?symbols=USD"
    body = await get_json(client, "/oembed", params={"url": page}, headers=headers)
    assert iframe_attrs(body["html"])["src"] == page and body["provider_url"] == "https://rates.example.iq/"
    # A path names this service's page, whatever its origin.
    relative = await get_json(client, "/oembed", params={"url": "/widget?symbols=USD"}, headers=headers)
    assert iframe_attrs(relative["html"])["src"] == page
    # The service's own loopback address is not what the proxy's clients asked for.
    await assert_error(
        client, "/oembed", 404, "not_found", params={"url": f"{origin_of(client)}/widget"}, headers=headers
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/widget",
        "{origin}/api/v1/rates",
        "{origin}/widget.js",
        "{origin}/widget?symbols=XYZ",
        "{origin}/widget?theme=purple",
        "not a url",
    ],
)
async def test_oembed_404_for_what_is_not_this_widget(client: Client, url: str) -> None:
    await assert_error(client, "/oembed", 404, "not_found", params={"url": url.format(origin=origin_of(client))})


async def test_oembed_xml_is_501_and_bad_parameters_400(client: Client) -> None:
    page = f"{origin_of(client)}/widget"
    await assert_error(client, "/oembed", 501, "not_implemented", params={"url": page, "format": "xml"})
    await assert_error(client, "/oembed", 400, "bad_maxwidth", params={"url": page, "maxwidth": "wide"})
    await assert_error(client, "/oembed", 400, "bad_url")
    await assert_error(client, "/oembed", 400, "bad_format", params={"url": page, "format": "yaml"})


async def test_widget_page_links_its_oembed_with_its_query(client: Client) -> None:
    origin = origin_of(client)
    page = await (await client.get("/widget?symbols=usd,eur&digits=latn")).text()
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert link
    href = unescape(link.group(1))
    # Relative to the page, so the same bytes serve every origin (the service, nginx, a published copy).
    assert href.startswith("/oembed?")
    asked = parse_qs(urlsplit(href).query)["url"][0]
    assert asked == "/widget?symbols=usd,eur&digits=latn"
    # Following the link gives the embed of that very page, on the origin asked.
    body = await get_json(client, href)
    assert iframe_attrs(body["html"])["src"] == f"{origin}{asked}"


async def test_widget_height_model_counts_footer_lines_once(client: Client) -> None:
    from widget.facts import RowFacts

    ok = RowFacts("USD", False, "cbi", None, False)
    gone = RowFacts("YER", True, None, "no_source", False)
    held = RowFacts("BHD", False, "pegs", None, True)
    lay = LAYOUTS[-1]
    assert widget_height([ok], 800) == lay.base + lay.row + lay.line * (lay.updated_lines + lay.credit_lines)
    # An unavailable row costs its reason once, however many rows share it; a held one its hint once.
    two_gone = widget_height([ok, gone, gone], 800) - widget_height([ok], 800)
    assert two_gone == 2 * lay.row + 2 * lay.note + lay.line
    assert widget_height([ok, held, held], 800) - widget_height([ok], 800) == 2 * lay.row + lay.line

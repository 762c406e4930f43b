# ruff: noqa: F811  (the browser fixture is imported from test_browser and named by each test)
"""Embedding as a news site does it, in Chromium, on a host page from another origin.

Layout shift is measured the way Core Web Vitals measure it: a ``PerformanceObserver`` of
``layout-shift`` entries, registered in the host page's head before anything loads.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from rates.config import Config
from rates.history import Point
from rates.record_store import point_entries
from rates.store import Store
from rates.web import PUBLISHER
from tests.browser_support import CHROMIUM, get_json, host_page, running_service, screenshots
from tests.test_browser import assert_clean, browser, frame_of, open_page, wait_status  # noqa: F401
from tests.upstream import Upstream
from widget.facts import RowFacts
from widget.size import facts_of, widget_height

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

# Collects every layout shift of the page (buffered: also those before this ran).
CLS_OBSERVER = """<script>
window.__cls = 0; window.__shifts = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) {
    if (e.hadRecentInput) return;
    window.__cls += e.value;
    window.__shifts.push({time: e.startTime, value: e.value, nodes: (e.sources || []).map(function (s) {
      return s.node ? (s.node.id || s.node.nodeName) : '?'; })});
  });
}).observe({type: 'layout-shift', buffered: true});
</script>"""

ARTICLE = "<p>" + "نص المقال. " * 60 + "</p>"


def article(blocks: list[str], head: str = CLS_OBSERVER) -> str:
    """A host article: heading, paragraphs, and each block (an embed) between two paragraphs."""
    body = "\n".join(
        f'<p id="before-{i}">قبل الأداة {i}</p>\n{block}\n<p id="after-{i}">بعد الأداة {i}</p>{ARTICLE}'
        for i, block in enumerate(blocks)
    )
    return (
        '<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>مقال</title>{head}</head>'
        f'<body style="font-family:sans-serif;margin:16px;max-width:760px"><h1>مقال</h1>\n{body}\n'
        f"{ARTICLE * 4}</body></html>"
    )


def loader(service: str, **data: str) -> str:
    attrs = "".join(f' data-{k}="{v}"' for k, v in data.items())
    return f'<script src="{service}/widget.js"{attrs} async></script>'


WAIT_SHOWN = """n => { const f = [...document.querySelectorAll('iframe')];
  return f.length === n && f.every(e => e.style.visibility === 'visible'); }"""

# Each embed: its box's height, the frame's height and the widget's own height inside.
SIZES = """() => [...document.querySelectorAll('iframe')].map(f => ({
  frame: f.getBoundingClientRect().height, width: f.getBoundingClientRect().width,
  box: f.parentElement.getBoundingClientRect().height}))"""


async def widget_heights(page: Any) -> list[float]:
    heights = []
    for index in range(await page.locator("iframe").count()):
        frame = await frame_of(page.locator("iframe").nth(index))
        heights.append(await frame.evaluate("() => document.getElementById('w').getBoundingClientRect().height"))
    return heights


async def settle(page: Any, embeds: int) -> None:
    await page.wait_for_function(WAIT_SHOWN, arg=embeds, timeout=15_000)
    await page.wait_for_timeout(600)  # a late resize would show up as a shift


async def expected_height(app: web.Application, codes: list[str] | None, width: float) -> int:
    service = app[PUBLISHER]
    assert service.snapshot is not None
    noted = frozenset(c.code for c in service.config.currencies if c.note)
    entries = [e for e in service.snapshot.document["rates"] if codes is None or e["code"] in codes]
    gold = service.config.widget.gold  # its table follows the currencies when no symbols are asked
    karats = len(gold.karats) if gold and (codes is None or "XAU" in codes) else 0
    return widget_height(facts_of(entries, noted), int(width), karats)


# Zero layout shift ----------------------------------------------------------------------------

# When the loader inserted each box and when each frame showed, and every later change of a
# box's or frame's height (there must be none).
TIMELINE = """<script>
window.__inserted = []; window.__shown = []; window.__resized = [];
new MutationObserver(function (ms) { ms.forEach(function (m) {
  if (m.type === 'childList') m.addedNodes.forEach(function (n) {
    if (n.tagName === 'DIV' && n.style.height) window.__inserted.push(performance.now()); });
  if (m.type !== 'attributes') return;
  var t = m.target;
  if (t.tagName === 'IFRAME' && t.style.visibility === 'visible') window.__shown.push(performance.now());
  var before = (m.oldValue || '').match(/height: ([^;]+)/);
  if (t.tagName === 'DIV' && before && t.style.height !== before[1])
    window.__resized.push([performance.now(), m.oldValue, t.style.height]);
}); }).observe(document, {subtree: true, childList: true, attributes: true, attributeOldValue: true,
  attributeFilter: ['style']});
</script>"""


def reserved(html: str, height: int) -> str:
    """The README's one-line embed: the loader and its noscript frame in a box of the widget's height."""
    return f'<div style="min-height:{height}px">{html}</div>'


async def test_the_loader_reserves_the_final_height_at_once(browser: Any, bundled_config: Config) -> None:
    """The contract's one-line script: the box is inserted at its final height and never changes."""
    async with running_service(bundled_config) as (app, service):
        blocks = [loader(service, symbols="USD,EUR,IRR"), loader(service, symbols="SAR,AED", theme="dark")]
        async with host_page({"/": article(blocks, head=CLS_OBSERVER + TIMELINE)}) as host:
            page, seen = await open_page(browser, viewport={"width": 1280, "height": 900})
            await page.goto(f"{host}/")
            await settle(page, 2)
            timeline = await page.evaluate(
                "() => [window.__inserted, window.__shown, window.__resized, window.__shifts]"
            )
            inserted, shown, resized, shifts = timeline
            assert len(inserted) == 2 and len(shown) >= 2 and resized == [], timeline
            # Whatever the insertion itself moved (if the loader ran after the host's first paint),
            # nothing moves while the frames load and show.
            late = [s for s in shifts if s["time"] > max(inserted) + 100]
            assert late == [], timeline
            sizes = await page.evaluate(SIZES)
            inside = await widget_heights(page)
            for size, height, codes in zip(sizes, inside, (["USD", "EUR", "IRR"], ["SAR", "AED"]), strict=True):
                assert size["frame"] == size["box"] == height == await expected_height(app, codes, size["width"])
            assert_clean(seen)


async def test_no_layout_shift_with_two_embeds_above_the_fold_at_1280(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (app, service):
        width = 760  # the article column
        blocks = [
            reserved(loader(service, symbols="USD,EUR,IRR"), await expected_height(app, ["USD", "EUR", "IRR"], width)),
            reserved(
                loader(service, symbols="SAR,AED", theme="dark"), await expected_height(app, ["SAR", "AED"], width)
            ),
        ]
        async with host_page({"/": article(blocks)}) as host:
            page, seen = await open_page(browser, viewport={"width": 1280, "height": 900})
            await page.goto(f"{host}/")
            await settle(page, 2)
            assert await page.evaluate("() => window.__cls") == 0, await page.evaluate("() => window.__shifts")
            sizes = await page.evaluate(SIZES)
            assert [s["width"] for s in sizes] == [width, width]
            assert_clean(seen)


async def test_no_layout_shift_at_360(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (app, service):
        width = 360 - 2 * 16
        blocks = [
            reserved(loader(service), await expected_height(app, None, width)),
            reserved(loader(service, symbols="usd", trend="1"), await expected_height(app, ["USD"], width)),
        ]
        async with host_page({"/": article(blocks)}) as host:
            page, seen = await open_page(browser, viewport={"width": 360, "height": 740}, is_mobile=True)
            await page.goto(f"{host}/")
            await page.locator("#after-1").scroll_into_view_if_needed()
            await settle(page, 2)
            assert await page.evaluate("() => window.__cls") == 0, await page.evaluate("() => window.__shifts")
            sizes = await page.evaluate(SIZES)
            assert sizes[0]["width"] == width < 480  # the narrow layout
            assert sizes[0]["frame"] == await expected_height(app, None, width)
            assert (await page.locator("iframe").nth(1).get_attribute("src") or "").endswith("symbols=USD&trend=1")
            assert_clean(seen)


async def test_no_layout_shift_for_a_reader_landing_below_the_embed(browser: Any, bundled_config: Config) -> None:
    """Even the contract's bare one-line script: what grows above the reader is scroll-anchored."""
    async with running_service(bundled_config) as (_, service), host_page({"/": article([loader(service)])}) as host:
        page, seen = await open_page(browser, viewport={"width": 1280, "height": 700})
        await page.goto(f"{host}/#after-0")
        await settle(page, 1)
        assert await page.evaluate("() => window.__cls") == 0, await page.evaluate("() => window.__shifts")
        # The reader still reads where they landed.
        top = await page.evaluate("() => document.getElementById('after-0').getBoundingClientRect().top")
        assert abs(top) < 2, top
        assert_clean(seen)


# A hanging service, no JavaScript, oEmbed, AMP ---------------------------------------------------


@asynccontextmanager
async def hanging_service(loader_js: bytes) -> AsyncIterator[str]:
    """Serves the real loader, then accepts /widget and never answers (until the test ends)."""
    released = asyncio.Event()

    async def widget_js(request: web.Request) -> web.Response:
        return web.Response(body=loader_js, content_type="text/javascript")

    async def hang(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget", hang)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        released.set()
        await server.close()


async def test_a_hanging_service_does_not_hold_the_host_load_event(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (app, service):
        async with ClientSession() as session, session.get(f"{service}/widget.js") as response:
            loader_js = await response.read()
        height = await expected_height(app, None, 760)
        async with (
            hanging_service(loader_js) as hanging,
            host_page({"/": article([reserved(loader(hanging), height)])}) as host,
        ):
            page, _ = await open_page(browser, viewport={"width": 800, "height": 900})
            started = time.monotonic()
            await page.goto(f"{host}/", wait_until="load", timeout=15_000)
            waited = time.monotonic() - started
            assert waited < 5, f"the host's load event waited {waited:.1f}s for a hanging widget"
            # The space stays reserved (nothing jumps), and no error page shows.
            assert await page.evaluate("() => window.__cls") == 0


async def test_noscript_fallback_shows_the_widget_without_javascript(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (app, service):
        oembed: Any = await get_json(f"{service}/oembed?url={service}/widget%3Fsymbols%3DUSD,EUR&maxwidth=360")
        one_line = f"{loader(service, symbols='USD,EUR')}<noscript>{oembed['html']}</noscript>"
        async with host_page({"/": article([one_line], head="")}) as host:
            page, _ = await open_page(browser, viewport={"width": 800, "height": 900}, java_script_enabled=False)
            await page.goto(f"{host}/")
            frame = page.locator("iframe")
            assert await frame.count() == 1
            inner = await frame_of(frame)
            await inner.wait_for_selector("tr[data-code=EUR]")
            assert await inner.locator("tr[data-code]").count() == 2
            box = await frame.bounding_box()
            assert box is not None and box["width"] == 360
            content = await inner.evaluate("() => document.getElementById('w').getBoundingClientRect().height")
            assert box["height"] == content == oembed["height"]
            # With JavaScript on, only the loader's frame shows.
            page2, _ = await open_page(browser, viewport={"width": 800, "height": 900})
            await page2.goto(f"{host}/")
            await settle(page2, 1)
            assert await page2.locator("iframe").count() == 1
            assert app is not None


@pytest.mark.parametrize("width", [300, 600])
async def test_an_iframe_from_oembed_fits_its_widget(browser: Any, bundled_config: Config, width: int) -> None:
    async with running_service(bundled_config) as (_, service):
        asked = f"{service}/widget?symbols=USD,EUR,IRR,YER&theme=light"
        from urllib.parse import quote

        oembed: Any = await get_json(f"{service}/oembed?url={quote(asked, safe='')}&maxwidth={width}")
        async with host_page({"/": article([oembed["html"]], head="")}) as host:
            page, seen = await open_page(browser, viewport={"width": 1000, "height": 900})
            await page.goto(f"{host}/")
            inner = await frame_of(page.locator("iframe"))
            await inner.wait_for_selector("tr[data-code=YER]")
            content = await inner.evaluate("() => document.getElementById('w').getBoundingClientRect().height")
            scroll = await inner.evaluate("() => document.documentElement.scrollHeight")
            assert content == oembed["height"] and scroll <= oembed["height"], (content, scroll, oembed)
            assert_clean(seen)


async def test_amp_embed_size_message(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        listener = (
            "<script>window.__amp = []; addEventListener('message', function (e) {"
            " if (e.data && e.data.sentinel === 'amp') window.__amp.push(e.data); });</script>"
        )
        frame = f'<iframe src="{service}/widget?symbols=USD,IRR" width="320" height="200" title="x"></iframe>'
        async with host_page({"/": article([frame], head=listener)}) as host:
            page, _ = await open_page(browser, viewport={"width": 800, "height": 900})
            await page.goto(f"{host}/")
            await page.wait_for_function("() => window.__amp.length > 0", timeout=10_000)
            message = (await page.evaluate("() => window.__amp"))[-1]
            assert message["type"] == "embed-size"
            inner = await frame_of(page.locator("iframe"))
            content = await inner.evaluate("() => document.getElementById('w').getBoundingClientRect().height")
            assert message["height"] == content > 100


# Developer-facing behaviour ----------------------------------------------------------------------


async def test_unknown_code_logs_one_clear_error_and_embeds_the_rest(browser: Any, bundled_config: Config) -> None:
    async with (
        running_service(bundled_config) as (_, service),
        host_page({"/": article([loader(service, symbols="USD,XYZ")], head="")}) as host,
    ):
        page, seen = await open_page(browser, viewport={"width": 800, "height": 900})
        await page.goto(f"{host}/")
        await settle(page, 1)
        assert len(seen.console_errors) == 1, seen.console_errors
        error = seen.console_errors[0]
        assert "XYZ" in error and ", ".join(bundled_config.codes) in error
        inner = await frame_of(page.locator("iframe"))
        assert await inner.locator("tr[data-code]").count() == 1


def test_loader_table_is_valid_json_of_every_code(bundled_config: Config) -> None:
    from rates.snapshot import embed_js

    body = embed_js(bundled_config, None).raw.decode()
    start = body.index("var T = ") + len("var T = ")
    table = json.loads(body[start : body.index(";\n", start)])
    assert list(table["codes"]) == bundled_config.codes
    assert table["codes"]["IRR"][0] == 1 and table["codes"]["USD"][0] == 0  # IRR has a note line


# Accessibility ----------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("digits", ["arab", "latn"])
async def test_axe_finds_no_violation_of_any_impact(
    browser: Any, bundled_config: Config, theme: str, digits: str
) -> None:
    """axe-core (bundled with axe-playwright-python, so no network) on the whole widget page, in every language."""
    axe_module = pytest.importorskip("axe_playwright_python.async_playwright")
    async with running_service(bundled_config) as (_, service):
        page, _ = await open_page(browser, viewport={"width": 420, "height": 900}, bypass_csp=True)
        other = {("light", "arab"): "ckb", ("dark", "latn"): "en"}.get((theme, digits), "ar")
        for query in (
            f"theme={theme}&digits={digits}",
            f"theme={theme}&digits={digits}&lang={other}&trend=1&symbols=USD,IRR,YER,BHD",
        ):
            await page.goto(f"{service}/widget?{query}")
            results = await axe_module.Axe().run(page)
            violations = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
            ]
            assert violations == [], (query, violations)
            # The whole rule set ran, best practices included.
            assert any(r["id"] == "landmark-one-main" for r in results.response["passes"]), query


# Screenshots for the docs -----------------------------------------------------------------------


async def screenshot(page: Any, name: str) -> None:
    await page.evaluate("() => document.fonts.ready")
    target = screenshots(Path(tempfile.mkdtemp(prefix="rates-shots-"))) / name  # docs/ only when asked
    await page.locator("#w").screenshot(path=str(target))
    assert target.stat().st_size > 5_000


async def test_screenshots_offline_start_and_the_toman_row(
    browser: Any, bundled_config: Config, upstream: tuple[Upstream, str]
) -> None:
    """docs/widget-offline.png: a first start with no network; docs/widget-toman.png: the IRR row."""
    fixtures, _ = upstream
    for path in ("/page/144", "/v6/latest/USD", "/daily/gbp.json"):
        fixtures.fault(path, status=503, body=b"offline")
    async with running_service(bundled_config) as (app, service):
        page, seen = await open_page(
            browser, viewport={"width": 360, "height": 800}, device_scale_factor=1, bypass_csp=True
        )
        await page.goto(f"{service}/widget")
        rows = page.locator("tbody tr[data-code]:not([data-karat])")
        assert await rows.count() == 16
        # The fixed sources still give the official dollar and the pegs; the rest is one short line each.
        assert await page.locator("tr[data-code=USD]").get_attribute("data-status") == "ok"
        missing = page.locator("tr[data-status=unavailable]:not([data-karat])")
        assert await missing.count() == 9
        heights = {round((await rows.nth(i).bounding_box() or {"height": 0})["height"]) for i in range(16)}
        assert heights == {47}, heights  # an unavailable row is as tall as the others
        # Exactly the model's height, and within one footer line of the all-available layout.
        box = await page.locator("#w").bounding_box()
        assert box is not None and box["height"] == await expected_height(app, None, 360)
        every = [RowFacts(c.code, bool(c.note), "cbi", None, False) for c in bundled_config.currencies]
        karats = len(bundled_config.widget.gold.karats) if bundled_config.widget.gold else 0
        assert 0 <= box["height"] - widget_height(every, 360, karats) <= 16
        footer = await page.locator("footer").inner_text()
        assert footer.count("تعذّر") + footer.count("تعذر") <= 1  # the reason said once
        await screenshot(page, "widget-offline.png")
        axe = pytest.importorskip("axe_playwright_python.async_playwright")
        results = await axe.Axe().run(page)
        assert [v["id"] for v in results.response["violations"]] == []  # "—" cells included

        assert_clean(seen, console=False)  # the faulted upstream is logged, not thrown

    fixtures.clear()  # back online
    async with running_service(bundled_config) as (_, service):
        await wait_status(service, "IRR", "ok")  # the stored offline document serves until the first fetch
        page, seen = await open_page(browser, viewport={"width": 360, "height": 800}, device_scale_factor=1)
        await page.goto(f"{service}/widget?symbols=USD,IRR")
        assert "١ تومان (١٠ ريال)" in await page.locator("tr[data-code=IRR] th").inner_text()
        assert await page.locator("tr[data-note=IRR]").inner_text() == "سعر رسمي؛ سعر السوق الحر يختلف كثيراً"
        await screenshot(page, "widget-toman.png")
        assert_clean(seen)


# The height model -------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "symbols=USD,IRR,YER&trend=1&digits=latn", "symbols=SAR&theme=dark"])
async def test_the_widget_is_exactly_as_tall_as_the_model_says_at_every_width(
    browser: Any, bundled_config: Config, upstream: tuple[Upstream, str], query: str
) -> None:
    fixtures, _ = upstream
    fixtures.fault("/daily/gbp.json", status=503, body=b"down")  # some rows from one source less
    async with running_service(bundled_config) as (app, service):
        page, seen = await open_page(browser, viewport={"width": 280, "height": 800})
        await page.goto(f"{service}/widget?{query}")
        codes = await page.eval_on_selector_all(
            "tbody tr[data-code]:not([data-karat])", "rs => rs.map(r => r.dataset.code)"
        )
        for width in (280, 320, 360, 479, 480, 560, 639, 640, 800, 1200):
            await page.set_viewport_size({"width": width, "height": 800})
            measured = await page.evaluate("() => document.getElementById('w').getBoundingClientRect().height")
            asked = codes if "symbols" in query else None  # without symbols the gold table shows too
            assert measured == await expected_height(app, asked, width), (query, width)
        assert_clean(seen)


@pytest.mark.parametrize("lang", ["ar", "en"])
async def test_no_text_below_12px_in_a_280px_sidebar(browser: Any, bundled_config: Config, lang: str) -> None:
    async with running_service(bundled_config) as (_, service):
        page, seen = await open_page(browser, viewport={"width": 280, "height": 900})
        await page.goto(f"{service}/widget?lang={lang}&trend=1")
        sizes = await page.evaluate(
            """() => [...document.querySelectorAll('#w *')]
              .filter(e => e.childNodes.length && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
              .filter(e => e.getBoundingClientRect().width > 0 && !e.closest('.v,[aria-hidden=true]'))
              .map(e => [e.tagName + '.' + e.className, parseFloat(getComputedStyle(e).fontSize)])"""
        )
        small = [s for s in sizes if s[1] < 12]
        assert sizes and not small, small
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 280
        assert_clean(seen)


async def test_screenshot_sidebar_with_trend_lines(browser: Any, bundled_config: Config) -> None:
    """docs/widget-sidebar-trend.png: 300 px, five weeks of CBI bulletins (no bulletin on Fridays)."""
    async with running_service(bundled_config) as (_, service):
        await wait_status(service, "EUR", "ok")
    store = Store(bundled_config.storage.dir)
    try:
        document = store.document()
        assert document is not None
        last = date(2026, 2, 26)  # the fixture workbook's latest bulletin
        points: dict[str, dict[date, Point]] = {"EUR": {}, "GBP": {}, "USD": {}}
        for back in range(36, 0, -1):
            day = last - timedelta(days=back)
            if day.weekday() == 4:
                continue
            wave = Decimal(back % 9 - 4) / 1000
            points["EUR"][day] = Point(Decimal("1520") * (1 - wave), None, None, "cbi")
            points["GBP"][day] = Point(Decimal("1760") * (1 + wave / 2), None, None, "cbi")
            points["USD"][day] = Point(Decimal(1310), None, None, "cbi")
        assert store.save_merge(store.merge_state(), document, point_entries(store, points))
    finally:
        store.close()
    async with running_service(bundled_config) as (_, service):
        await wait_status(service, "EUR", "ok")
        page, seen = await open_page(browser, viewport={"width": 300, "height": 600}, device_scale_factor=1)
        await page.goto(f"{service}/widget?symbols=USD,EUR,GBP,SAR,IRR&trend=1")
        lines = page.locator("td.t svg")
        assert await lines.count() >= 3
        assert await page.locator("th.t").inner_text() == "٣٠ يوماً"  # a visible head
        spoken = await page.locator("tr[data-code=USD] td.t .v").inner_text()
        assert spoken.startswith("ثابت خلال")
        assert (await page.evaluate("() => document.documentElement.scrollWidth")) <= 300
        await screenshot(page, "widget-sidebar-trend.png")
        assert_clean(seen)

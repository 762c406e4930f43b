"""The widget in a real headless Chromium, as a reader and a site owner see it.

The service, its upstream and the embedding page all run on 127.0.0.1 (the host page on
another port, so another origin); Chromium is Debian's /usr/bin/chromium, driven by
Playwright's async API in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rates.config import Config, load_config
from rates.web import SERVICE
from tests.browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Observed,
    contrast,
    embedding_html,
    first_pixel,
    free_port,
    get_json,
    get_status,
    host_page,
    luminance,
    running_service,
    screenshots,
)

async_api = pytest.importorskip("playwright.async_api", reason="playwright for Python is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

USD_ARAB = "١٬٣١٠"
USD_LATN = "1,310"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"

# Inside a widget frame: what a reader sees and whether the frame fits its content.
FRAME_FACTS = """() => {
  const h = document.documentElement, w = document.getElementById('w');
  const usd = document.querySelector('tr[data-code=USD] .r b');
  return {
    lang: h.getAttribute('lang'), dir: h.getAttribute('dir'), dirComputed: getComputedStyle(h).direction,
    codes: [...document.querySelectorAll('tbody tr[data-code]:not([data-karat])')].map(r => r.dataset.code),
    usd: usd ? usd.textContent : null,
    content: w ? w.getBoundingClientRect().height : 0,
    scrollHeight: h.scrollHeight, clientHeight: h.clientHeight,
    scrollWidth: h.scrollWidth, clientWidth: h.clientWidth,
  };
}"""

# The painted background behind a body cell (the first opaque ancestor) and the cell's text colour.
COLOURS = """() => {
  const cell = document.querySelector('tbody th');
  let el = cell, bg = null;
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (c !== 'transparent' && !/^rgba\\(.*,\\s*0\\)$/.test(c)) { bg = c; break; }
  }
  return {bg, fg: getComputedStyle(cell).color, rate: getComputedStyle(document.querySelector('.r b')).color};
}"""

# Horizontal fit: the document does not scroll sideways and no cell pokes out of the viewport.
OVERFLOW = """() => {
  const h = document.documentElement, width = h.clientWidth, out = [];
  for (const el of document.querySelectorAll('caption, th, td, p, small, time, .s')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.left < -0.5 || r.right > width + 0.5)) out.push(el.tagName + ':' + el.textContent.slice(0, 30));
  }
  return {scrollWidth: h.scrollWidth, clientWidth: width, bodyScroll: document.body.scrollWidth, out,
          rows: document.querySelectorAll('tbody tr[data-code]:not([data-karat])').length,
          gold: [...document.querySelectorAll('tr[data-code=XAU]')]
                  .map(tr => tr.dataset.karat + ':' + tr.dataset.status)};
}"""


# Fixtures ----------------------------------------------------------------------


@pytest.fixture
async def browser(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """A headless Chromium; on a failing test every open page is saved under test-artifacts/."""
    failed_before = request.session.testsfailed
    async with async_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            if request.session.testsfailed > failed_before:
                await _save_failure_screens(chromium, request.node.name)
            await chromium.close()


async def _save_failure_screens(chromium: Any, test_name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", test_name)
    for c, context in enumerate(chromium.contexts):
        for p, page in enumerate(context.pages):
            with contextlib.suppress(Exception):  # a crashed or closed page: nothing to keep
                await page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}-{c}-{p}.png"), full_page=True, timeout=5000)


async def open_page(chromium: Any, **context_options: Any) -> tuple[Any, Observed]:
    """A fresh context and page, with every request, page error, console error and dialog recorded."""
    seen = Observed()
    context = await chromium.new_context(**context_options)
    context.on("request", lambda request: seen.requests.append(request.url))
    page = await context.new_page()
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))

    def on_console(message: Any) -> None:
        if message.type == "error":
            seen.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", on_console)

    async def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return page, seen


def assert_clean(seen: Observed, *, console: bool = True) -> None:
    assert seen.requests, "no request was recorded"
    assert not seen.off_loopback(), f"requests left loopback: {seen.off_loopback()}"
    assert not seen.page_errors, f"uncaught page errors: {seen.page_errors}"
    assert not seen.dialogs, f"a dialog was opened: {seen.dialogs}"
    if console:  # a CSP violation (inline style/script hash mismatch) shows up here
        assert not seen.console_errors, f"console errors: {seen.console_errors}"


async def frame_of(iframe: Any) -> Any:
    frame = await (await iframe.element_handle()).content_frame()
    assert frame is not None
    return frame


async def fits(page: Any, iframe: Any) -> tuple[float, dict[str, Any]]:
    """The iframe's height on the host page and the facts inside it."""
    frame = await frame_of(iframe)
    facts = await frame.evaluate(FRAME_FACTS)
    height = await iframe.evaluate("f => f.getBoundingClientRect().height")
    return height, facts


def assert_sized_to_content(height: float, facts: dict[str, Any]) -> None:
    assert height > 40, f"iframe height {height}"
    assert abs(height - facts["content"]) <= 1.5, f"iframe {height}px for content {facts['content']}px"
    assert facts["scrollHeight"] <= facts["clientHeight"] + 1, f"inner vertical scroll: {facts}"
    assert facts["scrollWidth"] <= facts["clientWidth"], f"inner horizontal scroll: {facts}"


# The embed on another origin ------------------------------------------------------


async def test_embed_loader_inserts_two_sized_widgets_on_another_origin(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        scripts = [
            f'<script src="{service}/widget.js" data-symbols="USD,EUR" async></script>',
            # lower case, reversed, with a space: the widget still lists config order
            f'<script src="{service}/widget.js" data-symbols="eur, usd" data-theme="dark" data-digits="latn" async>'
            "</script>",
        ]
        async with host_page({"/": embedding_html(scripts)}) as host:
            assert host.rsplit(":", 1)[1] != service.rsplit(":", 1)[1]  # another port: another origin
            page, seen = await open_page(browser, viewport={"width": 800, "height": 1000})
            await page.goto(f"{host}/")
            await page.wait_for_function(
                """() => { const f = [...document.querySelectorAll('iframe')];
                  return f.length === 2 && f.every(e => e.style.visibility === 'visible' && e.offsetHeight > 0); }""",
                timeout=15_000,
            )
            iframes = page.locator("iframe")
            assert await iframes.count() == 2
            expected = [("arab", USD_ARAB, "light"), ("latn", USD_LATN, "dark")]
            for index, (digits, usd, theme) in enumerate(expected):
                iframe = iframes.nth(index)
                assert await iframe.is_visible()
                # inserted right where its script stands (in its reserved box), between the host's paragraphs
                assert (
                    await page.evaluate(
                        "i => document.getElementById('after-' + i).previousElementSibling.firstElementChild.tagName",
                        index,
                    )
                    == "IFRAME"
                )
                src = await iframe.get_attribute("src")
                assert src is not None and src.startswith(f"{service}/widget?symbols=")
                assert (await iframe.get_attribute("title") or "").strip()
                height, facts = await fits(page, iframe)
                assert facts["lang"] == "ar" and facts["dir"] == "rtl" and facts["dirComputed"] == "rtl"
                assert facts["codes"] == ["USD", "EUR"], facts["codes"]
                assert facts["usd"] == usd
                assert_sized_to_content(height, facts)
                frame = await frame_of(iframe)
                assert await frame.evaluate("() => document.documentElement.dataset.digits") == digits
                assert await frame.evaluate("() => document.documentElement.dataset.theme") == theme
                rate = frame.locator("tr[data-code=USD] .r b")
                assert await rate.is_visible() and await rate.inner_text() == usd
            dark = await (await frame_of(iframes.nth(1))).evaluate(COLOURS)
            assert luminance(dark["bg"]) < 0.1 < luminance(dark["fg"]), dark

            # A narrower host column: each frame follows its content's new height.
            await page.set_viewport_size({"width": 320, "height": 1000})
            for index in range(2):
                for _ in range(50):
                    height, facts = await fits(page, iframes.nth(index))
                    if abs(height - facts["content"]) <= 1.5 and facts["clientWidth"] < 320:
                        break
                    await asyncio.sleep(0.1)
                assert_sized_to_content(height, facts)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "embed-host-320.png"), full_page=True)

            # the host's own content is untouched
            assert await page.locator("#host").is_visible() and await page.locator("#host-footer").is_visible()
            widget_loads = [u for u in seen.requests if u.startswith(f"{service}/widget?")]
            assert len(widget_loads) == 2, widget_loads
            assert_clean(seen)


async def test_an_embed_below_the_fold_loads_when_scrolled_to(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        spacer = '<div style="height:3000px"></div>'
        script = f'{spacer}<script src="{service}/widget.js" data-symbols="USD" async></script>'
        async with host_page({"/": embedding_html([script])}) as host:
            page, seen = await open_page(browser, viewport={"width": 600, "height": 700})
            await page.goto(f"{host}/")
            await page.locator("#after-0").scroll_into_view_if_needed()
            await page.wait_for_function(
                "() => { const f = document.querySelector('iframe'); return f && f.style.visibility === 'visible'; }",
                timeout=15_000,
            )
            height, facts = await fits(page, page.locator("iframe"))
            assert facts["codes"] == ["USD"] and facts["usd"] == USD_ARAB
            assert_sized_to_content(height, facts)
            assert_clean(seen)


async def test_dark_embed_keeps_its_rounded_corners_on_a_light_host(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        script = f'<script src="{service}/widget.js" data-symbols="USD" data-theme="dark" async></script>'
        async with host_page({"/": embedding_html([script])}) as host:
            page, _ = await open_page(browser, viewport={"width": 400, "height": 600}, device_scale_factor=1)
            await page.goto(f"{host}/")
            await page.wait_for_function(
                "() => { const f = document.querySelector('iframe'); return f && f.style.visibility === 'visible'; }",
                timeout=15_000,
            )
            box = await page.locator("iframe").bounding_box()
            assert box is not None
            corner = await page.screenshot(clip={"x": box["x"] + 1, "y": box["y"] + 1, "width": 1, "height": 1})
            # outside the 10px border radius: the host's white page shows through
            assert min(first_pixel(corner)) > 200, first_pixel(corner)


# Layout ----------------------------------------------------------------------------


async def test_no_horizontal_overflow_at_280_360_600(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        page, seen = await open_page(browser, viewport={"width": 280, "height": 800})
        for digits in ("arab", "latn"):
            await page.set_viewport_size({"width": 280, "height": 800})
            await page.goto(f"{service}/widget?digits={digits}&theme=light")
            for width in (280, 360, 600):
                await page.set_viewport_size({"width": width, "height": 800})
                facts = await page.evaluate(OVERFLOW)
                where = f"{digits} at {width}px"
                assert facts["rows"] == 16, where
                assert facts["gold"] == ["24:ok", "21:ok", "18:ok"], where  # the gold table fits too
                assert facts["clientWidth"] == width, (where, facts)
                assert facts["scrollWidth"] <= facts["clientWidth"], (where, facts)
                assert facts["bodyScroll"] <= facts["clientWidth"], (where, facts)
                assert not facts["out"], (where, facts["out"])
            # readable at 280: every rate visible and at least 12 px
            await page.set_viewport_size({"width": 280, "height": 800})
            sizes = await page.eval_on_selector_all(
                ".r b", "els => els.map(e => [e.offsetWidth > 0, parseFloat(getComputedStyle(e).fontSize)])"
            )
            assert sizes and all(visible and size >= 12 for visible, size in sizes), sizes
        assert_clean(seen)


# Themes and the screenshots ---------------------------------------------------------------


async def test_themes_light_dark_and_auto_follows_the_reader(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        page, seen = await open_page(browser, viewport={"width": 420, "height": 600})
        measured: dict[str, dict[str, str]] = {}
        for name, url, scheme in [
            ("light", "/widget?theme=light", "dark"),  # an explicit theme ignores the reader's setting
            ("dark", "/widget?theme=dark", "light"),
            ("auto-light", "/widget?theme=auto", "light"),
            ("auto-dark", "/widget?theme=auto", "dark"),
            ("default-light", "/widget", "dark"),  # the bundled config's theme is light: auto is opt-in
        ]:
            await page.emulate_media(color_scheme=scheme)
            await page.goto(service + url)
            measured[name] = colours = await page.evaluate(COLOURS)
            assert colours["bg"] is not None, (name, colours)
            if name.endswith("light"):
                assert luminance(colours["bg"]) > 0.8 and luminance(colours["fg"]) < 0.1, (name, colours)
            else:
                assert luminance(colours["bg"]) < 0.1 and luminance(colours["fg"]) > 0.6, (name, colours)
            assert contrast(colours["fg"], colours["bg"]) >= 7, (name, colours)
            assert contrast(colours["rate"], colours["bg"]) >= 4.5, (name, colours)
        assert measured["auto-dark"] == measured["dark"] and measured["auto-light"] == measured["light"]
        assert measured["default-light"] == measured["light"]
        assert_clean(seen)


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_screenshot_for_the_docs(browser: Any, bundled_config: Config, theme: str, tmp_path: Path) -> None:
    """widget-<theme>.png (in docs/ on request): the bundled 16 currencies, 420 px wide, full page."""
    async with running_service(bundled_config) as (_, service):
        page, seen = await open_page(browser, viewport={"width": 420, "height": 400}, device_scale_factor=1)
        await page.goto(f"{service}/widget?theme={theme}")
        await page.evaluate("() => document.fonts.ready")
        assert await page.locator("tbody tr[data-code]:not([data-karat])").count() == 16
        assert await page.locator("tr[data-code=USD] .r b").inner_text() == USD_ARAB
        # the Arabic text is drawn with an Arabic font when one is installed
        fonts = await page.evaluate("() => document.fonts.check('15px \"Noto Sans Arabic\"', 'دولار')")
        target = screenshots(tmp_path) / f"widget-{theme}.png"
        target.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
        assert_clean(seen)
        if not fonts:
            pytest.skip("screenshot saved, but no Arabic font (fonts-noto-core) is installed")


# Stale, unavailable, escaping, self-refresh ------------------------------------------------

LIVE_CONFIG = """\
currencies:
  - USD
  - EUR
  - {{code: KWD, name: "<img src=x onerror=alert(1)>دينار"}}
  - CUP
sources:
  - id: cbi
    kind: cbi
    url: {origin}/page/144
    every: 1h
    column: sell
  - id: house
    kind: fixed
    ref: IQD
    published: 2026-01-01
    rates: {{KWD: {kwd}}}
policy:
  stale_after: 1s
storage:
  dir: {store}
server:
  max_age: 10s
widget:
  theme: light
  digits: arab
"""


async def wait_status(origin: str, code: str, status: str, timeout: float = 8.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        document: Any = await get_json(f"{origin}/api/v1/rates/{code}")
        if document["status"] == status:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{code} still {document['status']}, not {status}"
        await asyncio.sleep(0.2)


async def test_stale_and_unavailable_rows_escaping_and_self_refresh(
    browser: Any, upstream: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATES_TICK", "1")  # re-merge every second, so 1s-old CBI quotes turn stale
    _, origin = upstream
    path = tmp_path / "live.yaml"
    path.write_text(LIVE_CONFIG.format(origin=origin, store=tmp_path / "store", kwd=4285), encoding="utf-8")
    async with running_service(load_config(path)) as (app, service):
        await wait_status(service, "USD", "stale")
        page, seen = await open_page(browser, viewport={"width": 360, "height": 700})
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
        await page.goto(f"{service}/widget")

        # Stale: the value, its date and a visible mark.
        usd = page.locator("tr[data-code=USD]")
        assert await usd.get_attribute("data-status") == "stale"
        assert await usd.locator(".r b").inner_text() == USD_ARAB
        date = usd.locator(".d time")
        assert await date.get_attribute("datetime") == "2026-02-26" and await date.is_visible()
        assert re.search(f"[{ARABIC_DIGITS}]+", await date.inner_text())
        mark = usd.locator(".s")
        assert await mark.is_visible() and (await mark.inner_text()).strip() == "قديم"
        box = await mark.bounding_box()
        assert box is not None and box["width"] > 10 and box["height"] > 8
        mark_bg = await mark.evaluate("e => getComputedStyle(e).backgroundColor")
        assert mark_bg not in ("rgba(0, 0, 0, 0)", "transparent")
        assert await page.locator("tr[data-code=EUR]").get_attribute("data-status") == "stale"

        # Unavailable: a dash and a reason, never a zero.
        cup = page.locator("tr[data-code=CUP]")
        assert await cup.get_attribute("data-status") == "unavailable"
        cell = (await cup.locator(".r").inner_text()).strip()
        assert cell.startswith("—"), cell
        assert await cup.locator(".r .v").inner_text() == "غير متاح"  # what a screen reader says for "—"
        # The reason is said once, visibly, in the footer.
        reason = page.locator("footer p", has_text="—")
        assert await reason.count() == 1 and await reason.is_visible()
        assert len((await reason.inner_text()).strip()) > 5
        assert not re.search(r"[0-9٠-٩۰-۹]", cell), cell
        assert not re.search(r"[0٠]", await cup.inner_text())

        # A config name is text, never markup.
        kwd = page.locator("tr[data-code=KWD]")
        assert await kwd.get_attribute("data-status") == "ok"
        assert "<img src=x onerror=alert(1)>" in await kwd.locator("th").inner_text()
        assert await page.locator("img").count() == 0

        # Self-refresh: new data appears in the same page, without navigation.
        assert await kwd.locator(".r b").inner_text() == "٤٬٢٨٥"
        await page.evaluate("() => { window.__sameDocument = 42; }")
        edited = tmp_path / "live.yaml.new"  # replaced whole: the 1s tick may re-read it any moment
        edited.write_text(LIVE_CONFIG.format(origin=origin, store=tmp_path / "store", kwd=4300), encoding="utf-8")
        edited.replace(path)
        assert await app[SERVICE].reload()
        # a fixed source's config is its payload: the reload itself publishes the new rate
        assert (await get_json(f"{service}/api/v1/rates/KWD"))["rate"] == 4300  # type: ignore[index]
        await page.wait_for_function(
            "() => document.querySelector('tr[data-code=KWD] .r b').textContent === '٤٬٣٠٠'", timeout=16_000
        )
        assert await page.evaluate("() => window.__sameDocument") == 42
        assert len(navigations) == 1, navigations
        assert await page.locator("tr[data-code=USD] .s").is_visible()  # the swap kept the marks
        refetches = [u for u in seen.requests if u.startswith(f"{service}/widget")]
        assert len(refetches) >= 2, refetches
        assert_clean(seen)


# The service down -------------------------------------------------------------------------


async def test_service_down_or_not_ready_leaves_the_host_page_intact(
    browser: Any, upstream: Any, tmp_path: Path
) -> None:
    dead = free_port()  # nothing listens there
    fixture_upstream, origin = upstream
    fixture_upstream.fault("/page/144", delay=60)  # the first fetch never ends: /widget stays 503
    path = tmp_path / "unready.yaml"
    path.write_text(
        "currencies: [USD]\n"
        "sources:\n"
        f"  - {{id: cbi, kind: cbi, url: '{origin}/page/144', every: 1h, timeout: 50s}}\n"
        f"storage: {{dir: {tmp_path / 'store'}}}\n",
        encoding="utf-8",
    )
    async with running_service(load_config(path), ready=False) as (_, unready):
        scripts = [
            f'<script src="http://127.0.0.1:{dead}/widget.js" data-symbols="USD" async></script>',
            f'<script src="{unready}/widget.js" data-symbols="USD" async></script>',
        ]
        async with host_page({"/": embedding_html(scripts)}) as host:
            page, seen = await open_page(browser, viewport={"width": 600, "height": 800})
            await page.goto(f"{host}/")
            await page.wait_for_load_state("networkidle")
            assert (await get_status(f"{unready}/readyz")) == 503  # still not ready (its fetch hangs 60 s)
            # The unready service answered 503 to the frame: its reserved box folds away.
            await page.wait_for_function(
                "() => [...document.querySelectorAll('iframe')].every(f => f.getBoundingClientRect().height === 0)",
                timeout=10_000,
            )
            assert await page.locator("#host").is_visible()
            for index in range(2):
                assert await page.locator(f"#before-{index}").is_visible()
                assert await page.locator(f"#after-{index}").is_visible()
            # The dead service's loader never ran; the unready one left its frame invisible, with no height.
            frames = await page.eval_on_selector_all(
                "iframe", "fs => fs.map(f => [f.src, getComputedStyle(f).visibility, f.getBoundingClientRect().height])"
            )
            assert len(frames) == 1, frames
            src, visibility, height = frames[0]
            assert src.startswith(f"{unready}/widget") and visibility == "hidden" and height == 0, frames
            assert not await page.locator("iframe").is_visible()
            # the two paragraphs around each script sit together: nothing from the widget between them
            for index in range(2):
                gap = await page.evaluate(
                    """i => document.getElementById('after-' + i).getBoundingClientRect().top
                             - document.getElementById('before-' + i).getBoundingClientRect().bottom""",
                    index,
                )
                assert gap < 40, (index, gap)
            assert any(u.startswith(f"{unready}/widget?") for u in seen.requests)
            assert (await get_status(f"{unready}/readyz")) == 503
            assert_clean(seen, console=False)  # the refused connection and the 503 are logged, not thrown

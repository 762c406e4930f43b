"""The widget in Arabic, Sorani and English, in a real headless Chromium, as each reader sees it.

One test per language and theme: the page's ``lang``/``dir``, its digits, where each row's
first column stands on screen (right in right-to-left pages, left in English), that it fits
280 px, and that nothing is left in Arabic on the Sorani and English pages.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from rates.config import Config
from tests.browser_support import CHROMIUM, embedding_html, host_page, running_service, screenshots
from tests.test_browser import OVERFLOW, assert_clean, browser, open_page

__all__ = ["browser"]  # the Chromium fixture, shared with the other browser tests

pytest.importorskip("playwright.async_api", reason="playwright for Python is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

# lang → (dir, the USD rate as shown by default, a caption word)
EXPECTED = {
    "ar": ("rtl", "١٬٣١٠", "الأسعار الرسمية"),
    "ckb": ("rtl", "١٬٣١٠", "نرخە فەرمییەکانی"),
    "en": ("ltr", "1,310", "Official exchange rates"),
}
ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")
# Letters of Arabic spelling that Sorani never uses (it writes ی, ک, ە instead).
ARABIC_ONLY = re.compile("[\u0629\u064a\u0643\u0649\u0623\u0625]")

# Each row's cells, left to right on screen, and the page's own words.
LAYOUT = """() => {
  const h = document.documentElement;
  const rows = [...document.querySelectorAll('tbody tr[data-code]:not([data-karat])')].map(tr => {
    const cells = [...tr.children].filter(c => c.offsetWidth > 0).map(c => c.getBoundingClientRect());
    return {code: tr.dataset.code, lefts: cells.map(r => r.left), rights: cells.map(r => r.right)};
  });
  const usd = document.querySelector('tr[data-code=USD] .r b');
  const code = document.querySelector('tr[data-code=USD] bdi');
  // Each credited source outside the table, in the order of the document.
  const credits = [...document.querySelectorAll('#w bdi')].filter(b => !b.closest('table'))
    .map(b => { const r = b.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top}; });
  return {lang: h.lang, dir: h.dir, direction: getComputedStyle(h).direction, rows, credits,
          usd: usd && usd.textContent, codeDirection: code && getComputedStyle(code).direction,
          caption: document.querySelector('caption').textContent, text: document.body.innerText};
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["ar", "ckb", "en"])
async def test_language_and_theme(browser: Any, bundled_config: Config, lang: str, theme: str, tmp_path: Path) -> None:
    direction, usd, caption = EXPECTED[lang]
    async with running_service(bundled_config) as (_, service):
        page, seen = await open_page(browser, viewport={"width": 420, "height": 400}, device_scale_factor=1)
        await page.goto(f"{service}/widget?lang={lang}&theme={theme}")
        await page.evaluate("() => document.fonts.ready")
        facts = await page.evaluate(LAYOUT)
        assert (facts["lang"], facts["dir"], facts["direction"]) == (lang, direction, direction)
        assert facts["usd"] == usd and caption in facts["caption"]
        assert facts["codeDirection"] == "ltr"  # a Latin code keeps its own direction in a Sorani row
        assert len(facts["rows"]) == 16
        for row in facts["rows"]:
            lefts, rights = row["lefts"], row["rights"]
            if direction == "rtl":  # the name column stands at the right, the date at the left
                assert rights == sorted(rights, reverse=True), row
            else:
                assert lefts == sorted(lefts), row
        credits = facts["credits"]
        same_line = [(a, b) for a, b in itertools.pairwise(credits) if a["top"] == b["top"]]
        assert same_line, credits
        for before, after in same_line:  # a list of sources reads in the page's direction, Latin names too
            assert (after["right"] <= before["left"]) if direction == "rtl" else (after["left"] >= before["right"])
        if lang == "ckb":
            assert not ARABIC_ONLY.search(facts["text"]), ARABIC_ONLY.findall(facts["text"])
            assert "دۆلاری ئەمریکی" in facts["text"] and "شوباتی" in facts["text"]
        if lang == "en":
            assert not ARABIC_SCRIPT.search(facts["text"]), ARABIC_SCRIPT.findall(facts["text"])
            assert "US Dollar" in facts["text"] and "Feb 26, 2026" in facts["text"]
        if lang != "ar":  # the Arabic page's screenshots are docs/widget-<theme>.png
            target = screenshots(tmp_path) / f"widget-{lang}-{theme}.png"
            await page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000

        await page.set_viewport_size({"width": 280, "height": 800})
        fit = await page.evaluate(OVERFLOW)
        assert fit["rows"] == 16 and fit["scrollWidth"] <= fit["clientWidth"] == 280, fit
        assert not fit["out"], fit["out"]
        assert_clean(seen)


async def test_the_embed_takes_data_lang(browser: Any, bundled_config: Config) -> None:
    async with running_service(bundled_config) as (_, service):
        scripts = [
            f'<script src="{service}/widget.js" data-symbols="USD" data-lang="en" async></script>',
            f'<script src="{service}/widget.js" data-symbols="USD" data-lang="ckb" async></script>',
        ]
        async with host_page({"/": embedding_html(scripts)}) as host:
            page, seen = await open_page(browser, viewport={"width": 600, "height": 900})
            await page.goto(f"{host}/")
            await page.wait_for_function(
                "() => [...document.querySelectorAll('iframe')].filter(f => f.style.visibility == 'visible')"
                ".length == 2",
                timeout=15_000,
            )
            for index, (lang, title, usd) in enumerate(
                [("en", "Exchange rates in Iraqi dinars", "1,310"), ("ckb", "نرخی دراوەکان بە دیناری عێراقی", "١٬٣١٠")]
            ):
                iframe = page.locator("iframe").nth(index)
                assert await iframe.get_attribute("title") == title
                frame = await (await iframe.element_handle()).content_frame()
                facts = await frame.evaluate(LAYOUT)
                assert (facts["lang"], facts["usd"]) == (lang, usd)
            assert_clean(seen)

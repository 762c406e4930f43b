"""Gold (contract sections 2, 6 and 8): XAU from the CBI's gold column, prices by karat.

Real parts: the fixture workbook over HTTP from the local upstream, a real store, the
real app. Prices are checked against a Decimal computation written here from the
contract's formula, never against the code's own.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from rates.cli import main
from rates.config import load_config
from rates.web import create_app
from tests.upstream import CBI_WORKBOOK, FIXTURES, Upstream

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
FIXTURE = (FIXTURES / "cbi_major_currencies_and_gold.xlsx").read_bytes()
OUNCE = Decimal("6742918")  # BG65 of sheet 2026: 26 February 2026, read off the sheet
GOLD_ROW = re.compile(r'<tr data-code="XAU" data-karat="(\d+)" data-status="(\w+)">(.*?)</tr>', re.S)


def six(value: Decimal) -> Decimal:
    """Six significant digits, half to even, as section 4 asks."""
    exponent = value.adjusted() - 5
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN).normalize()


def expected_price(ounce: Decimal, grams: Decimal, karat: int) -> Decimal:
    return six(ounce * grams / Decimal("31.1034768") * Decimal(karat) / Decimal(24))


def config_file(tmp_path: Path, origin: str, gold: str | None, currencies: str = "[USD, EUR]") -> Path:
    path = tmp_path / "config.yaml"
    text = f"""\
currencies: {currencies}
sources:
  - id: cbi
    kind: cbi
    url: {origin}/page/144
    timeout: 3s
  - id: decree
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {{USD: 1310}}
policy: {{max_jump: 10%, published_within: 3650d}}  # the CBI fixture is from February 2026
storage: {{dir: {tmp_path / "store"}}}
"""
    if gold is not None:
        text += f"widget:\n  gold: {gold}\n"
    path.write_text(text, encoding="utf-8")
    return path


async def gold_when(client: Client, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(400):
        response = await client.get("/api/v1/gold")
        if response.status == 200:
            body = json.loads(await response.read(), parse_float=Decimal)
            if ready(body):
                return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"gold never became ready: {body}")


async def held_codes(client: Client, source_id: str) -> list[str]:
    """The codes ``/api/v1/sources`` lists as held under ``source_id``, once its report shows any.

    The report is rebuilt right after the snapshot, so a poller may see the held rate a moment before it.
    """
    codes: list[str] = []
    for _ in range(100):
        report = json.loads(await (await client.get("/api/v1/sources")).read())
        codes = [h["code"] for s in report if s["id"] == source_id for h in s["held"]]
        if codes:
            break
        await asyncio.sleep(0.05)
    return codes


def with_ounce(value: float) -> bytes:
    """The fixture with another gold figure on its latest day (26 February 2026)."""
    book = openpyxl.load_workbook(io.BytesIO(FIXTURE))
    book["2026"]["BG65"] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("gold", "unit", "grams", "karats"),
    [
        ("{unit: mithqal, karats: [24, 21, 18]}", "mithqal", Decimal(5), [24, 21, 18]),
        ("{unit: mithqal, mithqal_grams: 4.25, karats: [21]}", "mithqal", Decimal("4.25"), [21]),
        ("{unit: gram, karats: [24, 22]}", "gram", Decimal(1), [24, 22]),
        ("{unit: ounce, karats: [24, 12]}", "ounce", Decimal("31.1034768"), [24, 12]),
    ],
)
async def test_gold_prices_from_the_real_workbook(
    aiohttp_client: MakeClient,
    upstream: tuple[Upstream, str],
    tmp_path: Path,
    gold: str,
    unit: str,
    grams: Decimal,
    karats: list[int],
) -> None:
    _, origin = upstream
    client = await aiohttp_client(create_app(load_config(config_file(tmp_path, origin, gold))))
    body = await gold_when(client, lambda b: b["status"] == "ok")
    assert set(body) == {"base", "source", "published", "status", "ounce", "unit", "grams", "prices"}
    assert (body["base"], body["source"], body["published"]) == ("IQD", "cbi", "2026-02-26")
    assert (body["unit"], body["grams"], body["ounce"]) == (unit, grams, six(OUNCE))
    assert body["prices"] == [{"karat": k, "rate": expected_price(OUNCE, grams, k)} for k in karats]
    etag = (await client.get("/api/v1/gold")).headers["ETag"]
    assert (await client.get("/api/v1/gold", headers={"If-None-Match": etag})).status == 304


async def test_another_gold_figure_and_the_widget_table(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    server, origin = upstream
    server.fault(CBI_WORKBOOK, body=with_ounce(7_000_000.5))
    config = load_config(config_file(tmp_path, origin, "{unit: mithqal, karats: [24, 21, 18]}"))
    client = await aiohttp_client(create_app(config))
    body = await gold_when(client, lambda b: b["status"] == "ok")
    ounce = Decimal("7000000.5")
    assert body["ounce"] == six(ounce)
    assert [p["rate"] for p in body["prices"]] == [expected_price(ounce, Decimal(5), k) for k in (24, 21, 18)]

    html = await (await client.get("/widget", params={"digits": "latn"})).text()
    rows = GOLD_ROW.findall(html)
    assert [(karat, status) for karat, status, _ in rows] == [("24", "ok"), ("21", "ok"), ("18", "ok")]
    assert html.index('data-code="USD"') < html.index('data-code="XAU"')  # after the currencies
    price_21 = expected_price(ounce, Decimal(5), 21)
    assert f"{price_21:,.2f}".rstrip("0").rstrip(".") in rows[1][2]
    arabic = await (await client.get("/widget", params={"digits": "arab"})).text()
    assert "ذهب عيار ٢١ — المثقال (٥ غرام)" in arabic
    assert "محسوبة من سعر الأونصة الذي ينشره البنك المركزي العراقي" in arabic
    # A page asking for other currencies only does not get the gold table.
    assert "XAU" not in await (await client.get("/widget", params={"symbols": "USD"})).text()


async def test_gold_unavailable_when_the_cbi_fails_from_the_first_fetch(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    server, origin = upstream
    server.fault(CBI_WORKBOOK, status=500, body=b"down")
    client = await aiohttp_client(create_app(load_config(config_file(tmp_path, origin, "{karats: [21]}"))))
    body = await gold_when(client, lambda b: True)
    assert (body["status"], body["ounce"], body["prices"]) == ("unavailable", None, [{"karat": 21, "rate": None}])
    html = await (await client.get("/widget")).text()
    rows = GOLD_ROW.findall(html)
    assert [(karat, status) for karat, status, _ in rows] == [("21", "unavailable")]
    assert "—" in rows[0][2] and "٠" not in rows[0][2] and ">0<" not in rows[0][2]


async def test_a_gold_jump_is_held(aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path) -> None:
    server, origin = upstream
    config = load_config(config_file(tmp_path, origin, "{karats: [24]}"))
    first = await aiohttp_client(create_app(config))
    await gold_when(first, lambda b: b["status"] == "ok")
    await first.close()
    server.fault(CBI_WORKBOOK, body=with_ounce(float(OUNCE) * 1.5))  # +50%: beyond max_jump
    again = await aiohttp_client(create_app(config))
    body = await gold_when(again, lambda b: b["status"] == "held")
    assert body["ounce"] == six(OUNCE)  # the old value stays until a second source or an admin agrees
    assert body["prices"] == [{"karat": 24, "rate": expected_price(OUNCE, Decimal(5), 24)}]
    assert await held_codes(again, "cbi") == ["XAU"]
    html = await (await again.get("/widget")).text()
    assert [status for _, status, _ in GOLD_ROW.findall(html)] == ["held"]


async def test_gold_not_configured_and_not_ready(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    server, origin = upstream
    client = await aiohttp_client(create_app(load_config(config_file(tmp_path, origin, None))))
    response = await client.get("/api/v1/gold")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_configured"
    await client.close()

    server.fault("/page/144", delay=5)
    path = tmp_path / "cold.yaml"
    path.write_text(
        f"currencies: [USD]\nsources:\n  - {{id: cbi, kind: cbi, url: '{origin}/page/144', timeout: 10s}}\n"
        f"storage: {{dir: {tmp_path / 'cold'}}}\nwidget: {{gold: {{karats: [21]}}}}\n",
        encoding="utf-8",
    )
    cold = await aiohttp_client(create_app(load_config(path)))
    response = await cold.get("/api/v1/gold")
    assert response.status == 503
    assert (await response.json())["error"]["code"] == "not_ready"


@pytest.mark.parametrize(
    ("gold", "message"),
    [
        ("{unit: carat}", "widget.gold.unit: Input should be 'mithqal', 'gram' or 'ounce'"),
        ("{mithqal_grams: 0}", "widget.gold.mithqal_grams: Input should be greater than 0"),
        ("{mithqal_grams: -4.25}", "widget.gold.mithqal_grams: Input should be greater than 0"),
        ("{karats: [21, 25]}", "widget.gold.karats[1]: Input should be less than or equal to 24"),
        ("{karats: [0]}", "widget.gold.karats[0]: Input should be greater than or equal to 1"),
        ("{karats: [21.5]}", "widget.gold.karats[0]: Input should be a valid integer"),
        ("{karats: []}", "widget.gold.karats: List should have at least 1 item"),
        ("{colour: gold}", "widget.gold.colour: unknown key"),
    ],
)
def test_check_config_gold_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], gold: str, message: str) -> None:
    path = config_file(tmp_path, "http://127.0.0.1:9", gold)
    assert main(["check-config", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    gold_line = len(path.read_text(encoding="utf-8").splitlines())  # "  gold: {...}" is the last line
    assert len(lines) == 1 and lines[0].startswith(f"{path}:{gold_line}: {message}"), lines

"""The publish directory (config ``publish``): real files, replaced atomically, and the command's outcome.

Real parts: the app through ``aiohttp_client``, the fixture upstream over HTTP, a real
store and a real directory in tmp_path, real child processes as the publish command.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from yarl import URL

from rates.config import load_config
from rates.errors import ConfigError
from rates.mirror import write_tree
from rates.service import Service
from rates.web import SERVICE, create_app
from tests.upstream import FIXTURES, Upstream, bundled_config_text, exact_json

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]
VARIANT = "/widget?symbols=USD,EGP&digits=latn"


def publish_config(tmp_path: Path, origin: str, publish: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(bundled_config_text(origin, str(tmp_path / "store")) + "\n" + publish, encoding="utf-8")
    return path


async def started(aiohttp_client: MakeClient, config: Path) -> tuple[Client, Service]:
    client = await aiohttp_client(create_app(load_config(config)), auto_decompress=False)
    service = client.app[SERVICE]
    publisher = service.publisher
    for _ in range(400):
        report = publisher.source_report
        if publisher.snapshot is not None and report and all(s["ok"] for s in report):
            break
        await client.get("/readyz")
        await asyncio.sleep(0.05)
    assert service.publisher.mirror is not None
    await service.publisher.mirror.idle()
    return client, service


async def body(client: Client, path: str | URL, headers: dict[str, str] | None = None) -> bytes:
    response = await client.get(path, headers=headers or {"Accept-Encoding": "identity"})
    assert response.status == 200, path
    return await response.read()


async def publish_entry(client: Client) -> dict[str, Any]:
    entries = {s["id"]: s for s in json.loads(await body(client, "/api/v1/sources"))}
    return entries["publish"]


async def change_er_api(upstream: Upstream, service: Service, egp_per_usd: str) -> None:
    """A new EGP quote from ExchangeRate-API (the bundled config's source for EGP), fetched now."""
    payload = json.loads(fixture_bytes(), parse_float=Decimal)
    payload["rates"]["EGP"] = Decimal(egp_per_usd)
    upstream.fault("/v6/latest/USD", body=exact_json(payload), content_type="application/json")
    await service.run_source("er-api")
    assert service.publisher.mirror is not None
    await service.publisher.mirror.idle()


def fixture_bytes() -> bytes:
    return (FIXTURES / "open_er_api_latest_USD.json").read_bytes()


async def test_every_prepared_body_is_a_file_with_its_gzip_sibling(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    client, _ = await started(aiohttp_client, publish_config(tmp_path, origin, "publish:\n  dir: public\n"))
    public = tmp_path / "public"
    for path, name in (
        ("/api/v1/rates", "api/v1/rates.json"),
        ("/api/v1/rates/EUR", "api/v1/rates/EUR.json"),
        ("/api/v1/rates/USD", "api/v1/rates/USD.json"),
        ("/widget", "widget.html"),
        ("/widget.js", "widget.js"),
        ("/api/v1/gold", "api/v1/gold.json"),  # the bundled config sets widget.gold
    ):
        served = await body(client, path)
        assert (public / name).read_bytes() == served, name
        assert gzip.decompress((public / f"{name}.gz").read_bytes()) == served, name
        # The gzip sibling is the service's own gzip body, byte for byte (same ETag family).
        assert (public / f"{name}.gz").read_bytes() == await body(client, path, {"Accept-Encoding": "gzip"})
    rates = json.loads((public / "api/v1/rates.json").read_bytes())
    assert [e["code"] for e in rates["rates"]][:3] == ["USD", "EUR", "GBP"]
    headers = (public / ".nginx/json.conf").read_text()
    assert 'Cache-Control "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400"' in headers
    assert "Content-Security-Policy" in (public / ".nginx/widget.conf").read_text()
    assert (await publish_entry(client))["ok"] is True


async def test_a_data_change_replaces_files_atomically_with_the_variants_in_use(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    fake, origin = upstream
    client, service = await started(aiohttp_client, publish_config(tmp_path, origin, "publish:\n  dir: public\n"))
    public = tmp_path / "public"
    old_rates = (public / "api/v1/rates.json").read_bytes()
    old_inode = (public / "api/v1/rates.json").stat().st_ino
    old_variant = await body(client, VARIANT)
    await body(client, "/api/v1/rates?symbols=EUR")
    await body(client, URL("/widget?symbols=USD%2CEUR", encoded=True))  # an escaped comma: not a safe file name

    await change_er_api(fake, service, "50")

    new_rates = await body(client, "/api/v1/rates")
    assert new_rates != old_rates
    assert (public / "api/v1/rates.json").read_bytes() == new_rates
    assert (public / "api/v1/rates.json").stat().st_ino != old_inode, "replaced by a rename, not rewritten in place"
    egp = {e["code"]: e for e in json.loads(new_rates, parse_float=Decimal)["rates"]}["EGP"]
    assert egp["rate"] == Decimal("26.2")  # 1310 / 50
    variant = public / "widget" / "symbols=USD,EGP&digits=latn.html"
    assert variant.read_bytes() == await body(client, VARIANT)
    assert variant.read_bytes() != old_variant
    assert (public / "api/v1/rates/symbols=EUR.json").read_bytes() == await body(client, "/api/v1/rates?symbols=EUR")
    assert sorted(p.name for p in (public / "widget").iterdir()) == [variant.name, variant.name + ".gz"]
    assert not list(public.rglob(".tmp-*")), "no half-written file is left behind"


async def test_the_command_runs_in_the_directory_after_each_write_and_is_reported(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    fake, origin = upstream
    script = (
        "import os, pathlib; d = pathlib.Path(os.environ['RATES_PUBLISH_DIR']);"
        " open(d.parent / 'synced.log', 'a').write(pathlib.Path('api/v1/rates.json').read_text() + '\\n')"
    )
    publish = f"publish:\n  dir: public\n  command: [{sys.executable}, -c, {json.dumps(script)}]\n"
    client, service = await started(aiohttp_client, publish_config(tmp_path, origin, publish))
    synced = (tmp_path / "synced.log").read_text().splitlines()
    assert synced[-1] == (await body(client, "/api/v1/rates")).decode()

    await change_er_api(fake, service, "50")
    synced = (tmp_path / "synced.log").read_text().splitlines()
    assert synced[-1] == (await body(client, "/api/v1/rates")).decode() and len(synced) >= 2
    entry = await publish_entry(client)
    assert entry["ok"] is True and entry["last_error"] is None and entry["last_success"] is not None
    assert entry["dir"] == str(tmp_path / "public")
    metrics = (await body(client, "/metrics")).decode()
    assert 'rates_publish_total{outcome="ok",step="command"}' in metrics
    assert "rates_publish_last_success_timestamp_seconds" in metrics


async def test_a_failing_command_is_reported_and_serving_goes_on(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    fake, origin = upstream
    script = "import sys; print('bucket rates-cdn not found'); sys.exit(3)"
    publish = f"publish:\n  dir: public\n  command: [{sys.executable}, -c, {json.dumps(script)}]\n  timeout: 30s\n"
    client, service = await started(aiohttp_client, publish_config(tmp_path, origin, publish))
    entry = await publish_entry(client)
    assert entry["ok"] is False
    assert entry["last_error"].endswith("exited with 3: bucket rates-cdn not found")
    assert entry["failures"] >= 1 and entry["last_error_at"] is not None

    await change_er_api(fake, service, "50")
    served = await body(client, "/api/v1/rates")
    assert b'"rate":26.2' in served  # the new data is served whatever the command does
    assert (tmp_path / "public/api/v1/rates.json").read_bytes() == served  # and the files are still written
    metrics = (await body(client, "/metrics")).decode()
    assert 'rates_publish_total{outcome="failed",step="command"}' in metrics


async def test_a_missing_program_is_reported(
    aiohttp_client: MakeClient, upstream: tuple[Upstream, str], tmp_path: Path
) -> None:
    _, origin = upstream
    publish = "publish:\n  dir: public\n  command: rates-no-such-sync-tool --all\n"
    client, _ = await started(aiohttp_client, publish_config(tmp_path, origin, publish))
    entry = await publish_entry(client)
    assert entry["ok"] is False and entry["last_error"].startswith("cannot run 'rates-no-such-sync-tool'")
    assert (await client.get("/api/v1/rates")).status == 200


def test_write_tree_prunes_only_stale_variants(tmp_path: Path) -> None:
    (tmp_path / "widget").mkdir()
    (tmp_path / "widget/theme=dark.html").write_bytes(b"old variant")
    (tmp_path / "robots.txt").write_bytes(b"someone else's file")
    write_tree(tmp_path, {"widget.html": b"<p>new</p>", "widget/theme=light.html": b"light"})
    assert (tmp_path / "widget.html").read_bytes() == b"<p>new</p>"
    assert sorted(p.name for p in (tmp_path / "widget").iterdir()) == ["theme=light.html"]
    assert (tmp_path / "robots.txt").read_bytes() == b"someone else's file"


@pytest.mark.parametrize(
    ("publish", "expected"),
    [
        ("publish:\n  command: rclone sync . cdn:rates\n", ":{line}: publish.dir: required"),
        ("publish:\n  dir: public\n  command: []\n", ":{line2}: publish.command: the command must name the program"),
        ('publish:\n  dir: public\n  command: "rclone \'sync"\n', ":{line2}: publish.command: cannot split"),
        ("publish:\n  dir: public\n  every: 5m\n", ":{line2}: publish.every: unknown key"),
        ("publish:\n  dir: public\n  timeout: soon\n", ":{line2}: publish.timeout: 'soon' is not a duration"),
    ],
)
def test_publish_config_errors_name_their_line(tmp_path: Path, publish: str, expected: str) -> None:
    base = bundled_config_text("http://127.0.0.1:9", str(tmp_path / "store"))
    path = tmp_path / "config.yaml"
    path.write_text(base + "\n" + publish, encoding="utf-8")
    line = base.count("\n") + 2
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    wanted = expected.format(line=line, line2=line + 2)
    assert any(wanted in problem for problem in caught.value.lines()), caught.value.lines()


def test_a_source_cannot_be_called_publish_when_publishing(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    text = bundled_config_text("http://127.0.0.1:9", "store").replace("- id: pegs", "- id: publish")
    path.write_text(text + "\npublish:\n  dir: public\n", encoding="utf-8")
    line = text.splitlines().index("  - id: publish") + 1
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.lines() == [f"{path}:{line}: sources[1].id: 'publish' names the publish step: pick another id"]


def test_publish_dir_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    base = bundled_config_text("http://127.0.0.1:9", "store")
    path.write_text(base + "\npublish:\n  dir: public\n  command: rclone sync . 'cdn:rates site'\n", encoding="utf-8")
    publish = load_config(path).publish
    assert publish is not None
    assert publish.dir == tmp_path / "public"
    assert publish.command == ["rclone", "sync", ".", "cdn:rates site"]

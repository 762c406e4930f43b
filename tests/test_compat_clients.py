"""Real clients of other rate APIs, written by other people, against a running ``rates serve``.

PyPI ``frankfurter`` 2.0.0 and ``forex-python`` 1.9.2, and npm ``open-exchange-rates`` 0.3.0
with ``money`` 0.2.0 (installed in tests/clients by ``npm ci``), each run as its own
process with nothing changed but its base URL and its CA trust (``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS``: a local CA made by ``trustme``). Each
converts USD→IQD, IQD→EUR, SAR→KWD and USD→IQD on a past date; the figures must be the
service's own official-dinar numbers from ``/api/v1/rates`` (and ``?date=``), over HTTP and
HTTPS (the ``frankfurter`` client only speaks HTTPS).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trustme

from rates.present import significant
from tests.service_process import (
    ROOT,
    Processes,
    ServiceProcess,
    UpstreamProcess,
    child_env,
    wait_for,
)

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow

CLIENTS = ROOT / "tests" / "clients"
PAST_DAY = "2026-03-15"  # after the fixture workbook's last day (2026-02-26), before today
CLIENT_SECONDS = 60


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A local CA and a certificate for 127.0.0.1 it signed (PEM files)."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    files["cert"].write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    return files


def clients_config(origin: str, store: Path) -> str:
    return f"""\
currencies: [USD, EUR, SAR, KWD]
sources:
  - id: cbi
    kind: cbi
    url: {origin}/page/144
  - id: pegs
    kind: fixed
    ref: USD
    published: 2001-07-09
    rates: {{SAR: 3.75}}
  - id: er-api
    kind: open-er-api
    url: {origin}/v6/latest/USD
policy:
  published_within: 3650d  # the fixtures were published in 2024 and February 2026
storage:
  dir: {store}
"""


@pytest.fixture(scope="module", params=["http", "https"])
def service(
    request: pytest.FixtureRequest,
    upstream_process: UpstreamProcess,
    tls_files: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    """One ``rates serve`` per scheme for the whole module, on the fixture upstream."""
    folder = tmp_path_factory.mktemp(f"serve-{request.param}")
    config = folder / "config.yaml"
    config.write_text(clients_config(upstream_process.origin, folder / "store"), encoding="utf-8")
    pool = Processes(folder / "logs")
    https = request.param == "https"
    args = ["--tls-cert", str(tls_files["cert"]), "--tls-key", str(tls_files["key"])] if https else []
    running = pool.service(config, args=args, ca=tls_files["ca"] if https else None)
    # Every source has answered once (the CBI's workbook included) before a client asks.
    wait_for(lambda: all(running.sources()[s]["ok"] for s in ("cbi", "er-api")), 20, "the first fetches")
    yield running
    pool.cleanup()


def native(service: ServiceProcess, day: str | None = None) -> dict[str, Decimal]:
    """IQD per unit from our own API (and ``?date=``), IQD itself 1."""
    path = "/api/v1/rates" + (f"?date={day}" if day else "")
    document = service.get_json(path)
    rates = {e["code"]: Decimal(str(e["rate"])) for e in document["rates"] if e["rate"] is not None}
    return {**rates, "IQD": Decimal(1)}


def expected(service: ServiceProcess, day: str | None = None) -> dict[str, Decimal]:
    """The four conversions as our own API gives them: B per A = IQD per A ÷ IQD per B."""
    iqd = native(service, day)
    return {
        "usd_iqd": significant(iqd["USD"]),
        "iqd_eur": significant(1 / iqd["EUR"]),
        "sar_kwd": significant(iqd["SAR"] / iqd["KWD"]),
    }


def run_client(argv: list[str], service: ServiceProcess, tls_files: dict[str, Path]) -> Any:
    trust = str(tls_files["ca"])
    env = child_env({"SSL_CERT_FILE": trust, "REQUESTS_CA_BUNDLE": trust, "NODE_EXTRA_CA_CERTS": trust})
    done = subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=CLIENT_SECONDS, check=False
    )
    assert done.returncode == 0, f"{argv[:3]} failed:\n{done.stderr[-2000:]}\n{service.log_tail()}"
    return json.loads(done.stdout.strip().splitlines()[-1], parse_float=Decimal)


def python_client(kind: str, base_url: str, service: ServiceProcess, tls_files: dict[str, Path]) -> Any:
    argv = [sys.executable, "-m", "tests.clients.python_clients", kind, base_url, PAST_DAY]
    return run_client(argv, service, tls_files)


def test_frankfurter_client(service: ServiceProcess, tls_files: dict[str, Path]) -> None:
    if service.ca is None:
        pytest.skip("the frankfurter client always builds https:// URLs")
    figures = python_client("frankfurter", f"127.0.0.1:{service.port}/v1", service, tls_files)
    want = expected(service)
    for name, value in want.items():
        assert Decimal(figures[name]) == value, name  # 1 × rate: the exact published figure
    assert Decimal(figures["usd_iqd"]) == native(service)["USD"]
    assert "IQD" in figures["currencies"] and {"USD", "EUR", "SAR", "KWD"} <= set(figures["currencies"])

    past = native(service, PAST_DAY)
    assert Decimal(figures["past_usd_iqd"]) == past["USD"]
    assert figures["past_date"] <= PAST_DAY
    series = figures["series"]
    # As Frankfurter: the series opens with the rates in force on its first day.
    assert series["base"] == "USD" and series["start_date"] == figures["past_date"]
    for day, rates in series["rates"].items():
        on_day = native(service, day)
        assert Decimal(str(rates["IQD"])) == on_day["USD"], day
        assert Decimal(str(rates["EUR"])) == significant(on_day["USD"] / on_day["EUR"]), day


def test_forex_python_client(service: ServiceProcess, tls_files: dict[str, Path]) -> None:
    figures = python_client("forex-python", f"{service.url}/api/", service, tls_files)
    for name, value in expected(service).items():
        assert Decimal(figures[name]) == value, name
    assert Decimal(figures["past_usd_iqd"]) == native(service, PAST_DAY)["USD"]
    all_rates = figures["all_from_usd"]
    assert Decimal(str(all_rates["IQD"])) == native(service)["USD"]
    assert "USD" not in all_rates  # Frankfurter's shape leaves the base out
    assert all(Decimal(str(v)) > 0 for v in all_rates.values())


def test_open_exchange_rates_npm_client(service: ServiceProcess, tls_files: dict[str, Path]) -> None:
    node = shutil.which("node")
    assert node, "node is needed (.ci/run installs it)"
    assert (CLIENTS / "node_modules" / "open-exchange-rates").is_dir(), "run `npm ci --prefix tests/clients` first"
    figures = run_client([node, str(CLIENTS / "oxr_convert.js"), f"{service.url}/api/", PAST_DAY], service, tls_files)
    latest, past = figures["latest"], figures["past"]
    assert latest["base"] == "USD"
    # money.js crosses client-side from USD-based rates in binary floating point: the figure
    # matches ours to the 6 significant digits we publish.
    for name, value in expected(service).items():
        assert abs(Decimal(str(latest[name])) / value - 1) < Decimal("1e-5"), (name, latest[name], value)
    assert Decimal(str(latest["usd_iqd"])) == native(service)["USD"]
    assert Decimal(str(past["usd_iqd"])) == native(service, PAST_DAY)["USD"]
    assert past["timestamp"] <= int(date.fromisoformat(PAST_DAY).strftime("%s")) * 1000 + 86_400_000

"""Hostile upstream payloads and keyed URLs against a real ``rates serve``: the numbers served afterwards.

Each finding of the hostile-input review becomes a case here: a timestamp beyond what a
date can hold, a quote of ``1E-999999``, and a feed whose URL carries its key.
"""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rates.document import encode
from tests.service_process import (
    ER_API_PATH,
    FEED_PATH,
    Processes,
    Reply,
    ServiceProcess,
    UpstreamProcess,
    child_env,
    cross,
    er_api_payload,
    er_api_rate,
    feed_body,
    rates_command,
    rates_config,
    wait_for,
    write_atomically,
)

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow

SECRET = "SECRET-KEY-0123"
KEYED_PATH = "/keyed/rates.json"
EXPECTED = {code: cross(code) for code in ("EUR", "GBP", "KWD", "TRY")}


def config_text(origin: str, store: Path) -> str:
    """The process tests' config plus a ``json`` source whose URL carries a key, twice over."""
    keyed = f"""
  - id: keyed
    kind: json
    url: http://reader:{SECRET}@{origin.removeprefix("http://")}{KEYED_PATH}?app_id={SECRET}
    ref: USD
    every: 1s
    timeout: 1s
policy:"""
    return rates_config(origin, store).replace("\npolicy:", keyed, 1)


@pytest.fixture(scope="module")
def service(
    request: pytest.FixtureRequest, upstream_process: UpstreamProcess, tmp_path_factory: pytest.TempPathFactory
) -> ServiceProcess:
    directory = tmp_path_factory.mktemp("edges")
    pool = Processes(directory / "logs")
    request.addfinalizer(pool.cleanup)
    upstream_process.clear()
    agreeing_feed(upstream_process)
    path = directory / "config.yaml"
    write_atomically(path, config_text(upstream_process.origin, directory / "store"))
    started = pool.service(path)
    wait_numbers(started, {code: (rate, "ok") for code, rate in EXPECTED.items()})
    return started


def agreeing_feed(upstream: UpstreamProcess) -> None:
    upstream.fault(FEED_PATH, body=feed_body({"USD": 1, "EUR": er_api_rate("EUR"), "KWD": er_api_rate("KWD")}))


@pytest.fixture(autouse=True)
def _feed(upstream_proc: UpstreamProcess) -> None:
    agreeing_feed(upstream_proc)


def wait_numbers(service: ServiceProcess, want: dict[str, tuple[Decimal | None, str]], timeout: float = 10) -> None:
    def matches() -> bool:
        served = service.numbers()
        return all(served[code] == value for code, value in want.items())

    try:
        wait_for(matches, timeout, "the served numbers")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nwanted {want}\nserved {service.numbers()}") from None


def wait_source(
    service: ServiceProcess, source_id: str, check: Callable[[dict[str, Any]], bool], what: str, timeout: float = 10
) -> dict[str, Any]:
    def look() -> dict[str, Any] | None:
        entry = service.sources()[source_id]
        return entry if check(entry) else None

    return wait_for(look, timeout, f"{source_id}: {what}")


def er_api_text(**changes: Any) -> str:
    """The real ExchangeRate-API fixture with top-level fields or rates replaced (raw JSON numbers)."""
    payload = er_api_payload()
    rates = changes.pop("rates", {})
    payload.update(changes)
    payload["rates"] = {**payload["rates"], **rates}
    return encode(payload).decode()


RAW = "__RAW__"


def with_raw(text: str, value: str) -> str:
    """``text`` with the string ``RAW`` written as the raw JSON number ``value`` (e.g. ``1E-999999``)."""
    assert f'"{RAW}"' in text
    return text.replace(f'"{RAW}"', value)


@pytest.mark.parametrize("stamp", ["1e12", "-1e20"])
def test_a_timestamp_beyond_any_date_fails_the_source_and_the_numbers_stay(
    stamp: str, service: ServiceProcess, upstream_proc: UpstreamProcess
) -> None:
    """Was: OverflowError/ValueError escaped refresh_all; no document was written and no failure recorded."""
    wait_source(service, "er-api", lambda s: s["ok"], "healthy first")
    upstream_proc.fault(ER_API_PATH, body=with_raw(er_api_text(time_last_update_unix=RAW), stamp))
    failing = wait_source(
        service, "er-api", lambda s: s["failures"] >= 2, "two failed fetches with an impossible timestamp"
    )
    assert failing["last_error"] == "'time_last_update_unix' is not a timestamp of a real day"
    assert service.get("/readyz").status == 200
    wait_numbers(service, {code: (rate, "ok") for code, rate in EXPECTED.items()})
    assert service.rates()["USD"]["rate"] == 1310

    upstream_proc.clear(ER_API_PATH)
    wait_source(service, "er-api", lambda s: s["ok"] and s["failures"] == 0, "recovered")


def test_a_quote_of_1e_minus_999999_is_rejected_and_the_document_keeps_moving(
    service: ServiceProcess, upstream_proc: UpstreamProcess
) -> None:
    """Was: accepted, then every merge raised decimal.Overflow and the served document froze."""
    eur = er_api_rate("EUR") * Decimal("1.01")  # a 1 % move: accepted, and proof the merge still runs
    upstream_proc.fault(ER_API_PATH, body=with_raw(er_api_text(rates={"EUR": eur, "TRY": RAW}), "1E-999999"))
    report = wait_source(service, "er-api", lambda s: bool(s["rejected"]), "TRY rejected")
    assert report["ok"]
    assert report["rejected"] == [
        {"code": "TRY", "reason": "out of range (1.000E-999999; a quote lies between 1E-12 and 1E+12)"}
    ]
    wait_numbers(
        service, {"EUR": (cross("EUR", eur), "ok"), "TRY": (EXPECTED["TRY"], "ok"), "USD": (Decimal(1310), "ok")}
    )

    upstream_proc.clear(ER_API_PATH)
    wait_numbers(service, {code: (rate, "ok") for code, rate in EXPECTED.items()})


def test_a_key_in_a_source_url_is_never_shown(service: ServiceProcess, upstream_proc: UpstreamProcess) -> None:
    """The keyed feed fails (the upstream has nothing there): its reason names the URL without the key."""
    keyed = wait_source(service, "keyed", lambda s: s["failures"] >= 1, "the keyed feed to fail")
    assert (
        keyed["last_error"] == f"http://***@127.0.0.1:{upstream_proc.port}{KEYED_PATH}?*** answered HTTP 404 Not Found"
    )
    for path in ("/api/v1/sources", "/api/v1/config", "/metrics", "/api/v1/rates", "/widget"):
        assert SECRET.encode() not in service.get(path).body, path
    assert SECRET not in service.log_text()

    # Once the feed answers, its numbers serve like any other's: the key did its job upstream.
    upstream_proc.fault(KEYED_PATH, body=json.dumps({"rates": {"CHF": 0.88}}))
    wait_source(service, "keyed", lambda s: s["ok"], "the keyed feed to answer")
    assert SECRET not in service.log_text()


# HTTP edges ------------------------------------------------------------------------------------


def send_raw(service: ServiceProcess, *requests: bytes) -> bytes:
    """Write raw request bytes on one connection; everything the service answers until it closes."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=5) as conn:
        for raw in requests:
            conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


JUNK = {
    "bad method": b"GE\x00T /api/v1/rates?key=JUNKBYTES HTTP/1.1\r\nHost: x\r\n\r\n",
    "header over 8190 bytes": b"GET /api/v1/rates HTTP/1.1\r\nHost: x\r\nX-Junk: JUNKBYTES" + b"a" * 9000 + b"\r\n\r\n",
    "malformed request line": b"GET /\x01JUNKBYTES HTTPX\r\n\r\n",
    "bad method after a good request": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBREW /?JUNKBYTES HTTP/1.1\r\n\r\n",
}


def test_junk_requests_are_one_warning_line_each_and_serving_goes_on(service: ServiceProcess) -> None:
    before = service.log_text()
    for name, raw in JUNK.items():
        answer = send_raw(service, raw)
        assert b" 400 Bad Request\r\n" in answer, name
    expected = len(JUNK)
    wait_for(lambda: service.log_text()[len(before) :].count("refused a malformed HTTP request") >= expected, 5, "log")
    new = service.log_text()[len(before) :]
    refused = [line for line in new.splitlines() if "refused a malformed HTTP request" in line]
    assert len(refused) == expected
    assert all(" WARNING aiohttp.server: refused a malformed HTTP request from 127.0.0.1 (" in line for line in refused)
    assert {line.rsplit("(", 1)[1] for line in refused} == {"BadHttpMethod)", "LineTooLong)", "InvalidURLError)"}
    assert "Traceback" not in new and "ERROR" not in new and "JUNKBYTES" not in new
    wait_numbers(service, {code: (rate, "ok") for code, rate in EXPECTED.items()})


def test_405_names_the_allowed_methods(service: ServiceProcess) -> None:
    request = urllib.request.Request(service.url + "/api/v1/rates", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        with error:
            reply = Reply(error.code, dict(error.headers.items()), error.read())
    assert reply.status == 405
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(reply.body)["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/api/v1/rates", "/api/v1/rates/XYZ", "/widget", "/nowhere"])
def test_the_server_header_names_no_versions(service: ServiceProcess, path: str) -> None:
    reply = service.get(path)
    assert reply.headers["Server"] == "iqd-rates"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/rates?symbols=u%C5%BFd", 400, "bad_symbol"),  # uſd: upper() folds the long s to USD
        ("/api/v1/rates?symbols=EUR,u%C5%BFd", 400, "bad_symbol"),
        ("/api/v1/rates/u%C5%BFd", 404, "unknown_currency"),
        ("/api/v1/history/u%C5%BFd", 404, "unknown_currency"),
        ("/api/v1/rates?symbols=%EF%BD%95sd", 400, "bad_symbol"),  # a full-width u
        ("/widget?symbols=u%C5%BFd", 400, "bad_symbol"),
    ],
)
def test_codes_are_ascii_letters_only(service: ServiceProcess, path: str, status: int, code: str) -> None:
    reply = service.get(path)
    assert (reply.status, json.loads(reply.body)["error"]["code"]) == (status, code)
    assert service.get_json("/api/v1/rates?symbols=usd")["rates"][0]["rate"] == 1310


def test_a_busy_port_is_one_line_and_exit_1(service: ServiceProcess) -> None:
    run = subprocess.run(
        [*rates_command(), "serve", "-c", str(service.config), "--port", str(service.port)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    # Nothing starts before the port is bound: no refresh runs, so no log line follows the error.
    assert run.stderr.splitlines() == [f"rates: cannot listen on 127.0.0.1:{service.port} (Address already in use)"]
    wait_numbers(service, {code: (rate, "ok") for code, rate in EXPECTED.items()})  # the running one is untouched

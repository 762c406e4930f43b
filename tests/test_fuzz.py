"""schemathesis against a real ``rates serve`` on loopback, fed by the local upstream.

The service runs as an admin runs it (``tests/service_process.py``) on the bundled
``config.yaml`` pointed at ``python -m tests.upstream``, plus one currency no source quotes
(so ``unavailable`` entries, with their nulls, are in the answers too). schemathesis's own
command line (``st run``) reads the service's ``/api/v1/openapi.json`` and sends generated
requests to every operation in it, in all its phases (explicit examples, coverage of
boundaries and invalid values, random fuzzing, stateful sequences). Each response must:

- not be a 5xx (``not_a_server_error``);
- match the schema of its status (``response_schema_conformance``);
- have a documented status (``status_code_conformance``);
- have a documented content type (``content_type_conformance``);
- carry the documented required headers (``response_headers_conformance``);
- and a method the document does not list must be a 405 with an ``Allow`` header naming the
  methods the path takes (``unsupported_method``, ``allow_header_conformance``).

Bounded: ``--max-examples`` per operation and a fixed seed, so a run is reproducible and
takes about a minute here (numbers in the README). Nothing is excluded. To explore
beyond the fixed seed: ``FUZZ_SEED=123 pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service_process import Processes, ServiceProcess
from tests.upstream import bundled_config_text

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15
SEED = os.environ.get("FUZZ_SEED", "20261130")
RUN_SECONDS = 300  # a hard stop far above the usual run: a hang fails instead of blocking CI
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "allow_header_conformance",
)
UNQUOTED = "XAG"  # silver: no fixture source quotes it, so its entry is unavailable


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The bundled config, served by a real process, after its first fetch from the local upstream."""
    directory = tmp_path_factory.mktemp("fuzz")
    pool = Processes(directory / "logs")
    try:
        upstream = pool.upstream()
        text = bundled_config_text(upstream.origin, str(directory / "store"))
        text = text.replace("  - USD\n", f"  - USD\n  - {UNQUOTED}\n", 1)
        config = directory / "config.yaml"
        config.write_text(text, encoding="utf-8")
        yield pool.service(config)
    finally:
        pool.cleanup()


def schemathesis_command(url: str) -> list[str]:
    st = Path(sys.executable).with_name("st")
    return [
        str(st) if st.exists() else "schemathesis",
        "run",
        f"{url}/api/v1/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
    ]


def test_api_conforms_to_its_openapi_document(service: ServiceProcess, tmp_path: Path) -> None:
    assert service.get_json("/api/v1/rates/" + UNQUOTED)["status"] == "unavailable"
    started = time.monotonic()
    run = subprocess.run(
        schemathesis_command(service.url),
        capture_output=True,
        text=True,
        cwd=tmp_path,  # where schemathesis may leave its files
        timeout=RUN_SECONDS,
        check=False,
    )
    took = time.monotonic() - started
    report = run.stdout + run.stderr
    summary = re.search(r"(\d+) generated, (\d+) passed", report)
    generated = summary.group(1) if summary else "?"
    print(f"schemathesis: {generated} test cases in {took:.0f} s (seed {SEED})")
    assert run.returncode == 0, report[-20000:]
    # Every case passed (schemathesis may still warn, e.g. that most random dates are refused).
    assert summary and summary.group(1) == summary.group(2), report[-20000:]
    assert int(summary.group(1)) > 100, report[-3000:]  # it really sent requests
    service.assert_running()
    log = service.log_text()
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]

"""HTTPS for ``rates serve`` (contract section 1): ``--tls-cert``/``--tls-key`` or
``server.tls_cert``/``server.tls_key``; exit 2, naming the file, when one cannot be read.

Real processes and a real local CA (``trustme``): the client trusts only that CA.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from rates.config import load_config
from rates.errors import ConfigError
from tests.service_process import Processes, run_rates

pytest_plugins = ("tests.service_process",)
pytestmark = pytest.mark.slow

CONFIG = """\
currencies: [USD]
sources:
  - id: decree
    kind: fixed
    ref: IQD
    published: 2023-02-08
    rates: {{USD: 1310}}
storage:
  dir: store
{server}"""


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, Path]:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "tls" / "cert.pem", "key": tmp_path / "tls" / "key.pem"}
    files["cert"].parent.mkdir()
    ca.cert_pem.write_to_path(str(files["ca"]))
    leaf.private_key_pem.write_to_path(str(files["key"]))
    files["cert"].write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return files


def write(tmp_path: Path, server: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(server=server), encoding="utf-8")
    return path


def test_tls_from_the_config_file_serves_https_only(
    processes: Processes, tmp_path: Path, pems: dict[str, Path]
) -> None:
    # Relative paths are relative to the config file's folder, like storage.dir.
    config = write(tmp_path, "server:\n  tls_cert: tls/cert.pem\n  tls_key: tls/key.pem\n")
    assert load_config(config).server.tls_cert == pems["cert"].resolve()
    service = processes.service(config, ca=pems["ca"])
    assert service.url.startswith("https://")
    assert service.get_json("/api/v1/rates/USD")["rate"] == 1310
    assert service.get_json("/latest?from=USD&to=IQD")["rates"] == {"IQD": 1310}
    assert "starting on https://" in service.log_text()
    # Nothing else is trusted, and plain HTTP gets no answer.
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(service.url + "/healthz", timeout=5, context=ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{service.port}/healthz", timeout=5).read()
    service.stop()


@pytest.mark.parametrize("broken", ["cert", "key"])
def test_an_unreadable_tls_file_exits_2_naming_it(tmp_path: Path, pems: dict[str, Path], broken: str) -> None:
    config = write(tmp_path)
    files = dict(pems)
    files[broken] = tmp_path / f"missing-{broken}.pem"
    done = run_rates(
        "serve", "-c", str(config), "--port", "0", "--tls-cert", str(files["cert"]), "--tls-key", str(files["key"])
    )
    assert done.returncode == 2, done.stderr
    assert str(files[broken]) in done.stderr
    assert "starting on" not in done.stderr


def test_a_key_that_is_not_pem_exits_2(tmp_path: Path, pems: dict[str, Path]) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n", encoding="utf-8")
    config = write(tmp_path, f"server:\n  tls_cert: {pems['cert']}\n  tls_key: {garbage}\n")
    done = run_rates("serve", "-c", str(config), "--port", "0")
    assert done.returncode == 2, done.stderr
    assert str(garbage) in done.stderr and done.stderr.count("\n") == 1


def test_one_tls_option_alone_is_refused(tmp_path: Path, pems: dict[str, Path]) -> None:
    config = write(tmp_path)
    done = run_rates("serve", "-c", str(config), "--tls-cert", str(pems["cert"]))
    assert done.returncode == 2 and "--tls-key" in done.stderr
    half = write(tmp_path, "server:\n  tls_key: tls/key.pem\n")
    with pytest.raises(ConfigError) as problem:
        load_config(half)
    assert problem.value.lines() == [
        f"{half}:10: server: tls_cert and tls_key go together: set both to serve HTTPS, or neither"
    ]

"""Keys riding in URLs never reach a message: userinfo, query and fragment are redacted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from rates.config import parse_config
from rates.errors import ConfigProblem, FetchError, SourceError
from rates.fetch import Fetcher
from rates.models import SourceStatus
from rates.publisher import read_report
from rates.redact import redact, redact_url
from rates.store import Store
from tests.upstream import Upstream


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://feed.example/latest.json?app_id=KEY", "https://feed.example/latest.json?***"),
        ("https://user:KEY@feed.example/latest.json", "https://***@feed.example/latest.json"),
        ("https://user:KEY@feed.example:8443/a/b?x=1&y=KEY#frag", "https://***@feed.example:8443/a/b?***"),
        ("http://feed.example?KEY", "http://feed.example?***"),
        ("http://feed.example/#KEY", "http://feed.example/"),
        ("https://feed.example/daily/usd.json", "https://feed.example/daily/usd.json"),
        ("HTTPS://a:b@c.example/", "HTTPS://***@c.example/"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact(f"cannot fetch {url}: refused") == f"cannot fetch {shown}: refused"


def test_every_url_in_a_message_is_redacted() -> None:
    text = "GET https://x.example/a?key=K1 failed, message='Bad', url='https://u:K2@x.example/a?key=K1'."
    assert redact(text) == "GET https://x.example/a?*** failed, message='Bad', url='https://***@x.example/a?***'."


def test_a_source_error_is_redacted_and_one_line_when_made() -> None:
    error = FetchError("feed", "cannot fetch https://x.example/r.json?app_id=KEY:\n  connection\treset")
    assert error.reason == "cannot fetch https://x.example/r.json?***: connection reset"
    assert str(error) == "feed: cannot fetch https://x.example/r.json?***: connection reset"
    assert len(SourceError("feed", "x" * 10_000).reason) == 300


def test_a_config_problem_is_redacted() -> None:
    problem = ConfigProblem("c.yaml", 3, "sources[0].url", "https://u:KEY@x.example/?k=KEY is not allowed")
    assert str(problem) == "c.yaml:3: sources[0].url: https://***@x.example/?*** is not allowed"


async def test_a_failed_fetch_never_names_the_key() -> None:
    """A real request to the local upstream: its 404 reason names the URL, not the key."""
    server = TestServer(Upstream().app, host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/no/such/feed.json")) + "?app_id=SECRET-KEY"
        userinfo = url.replace("http://", "http://me:SECRET-PASS@")
        async with Fetcher() as fetcher:
            for asked in (url, userinfo):
                with pytest.raises(FetchError) as info:
                    await fetcher.get("feed", asked, timeout=timedelta(seconds=5))
                assert "SECRET" not in str(info.value)
                assert "/no/such/feed.json?*** answered HTTP 404" in info.value.reason
    finally:
        await server.close()


def test_a_reason_stored_before_redaction_is_redacted_when_shown(tmp_path: Path) -> None:
    """A store written by an older version keeps its raw reason; /api/v1/sources and `rates status` redact it."""
    config = parse_config(
        "currencies: [USD]\nsources:\n  - {id: feed, kind: json, ref: USD, url: 'https://x.example/r.json?app_id=K'}\n",
        tmp_path / "c.yaml",
    )
    store = Store(tmp_path / "store")
    try:
        raw = "cannot fetch https://me:PASS@x.example/r.json?app_id=KEY: HTTP 403"
        store.save_fetch(None, SourceStatus("feed", last_error=raw, failures=1))
        (report,) = read_report(store, config, {})
    finally:
        store.close()
    assert report["last_error"] == "cannot fetch https://***@x.example/r.json?***: HTTP 403"

"""Throughput side by side: the service, a bare aiohttp app, nginx static, nginx in front.

Every row is one request (path + headers). Its bytes are taken from the service once, then
served unchanged by each reference; before measuring, each target is asked once and must
answer the same status and bytes. Rounds alternate targets (A B C D, A B C D) so that
a noisy neighbour hurts every target alike; the best round of each is reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bench import wrk
from tests.service_process import Reply, http_get

GZIP = {"Accept-Encoding": "gzip"}
_EXTENSIONS = {"application/json": ".json", "text/html": ".html", "text/javascript": ".js"}

# (label, path, request headers); "{etag}" is filled with the service's ETag of the path.
CORE_ROWS: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("/api/v1/rates", "/api/v1/rates", {}),
    ("/api/v1/rates, 304", "/api/v1/rates", {"If-None-Match": "{etag}"}),
    ("/widget", "/widget", {}),
    ("/widget?symbols=USD,EUR&digits=latn", "/widget?symbols=USD,EUR&digits=latn", {}),
    ("/api/v1/rates, gzip", "/api/v1/rates", GZIP),
    ("/widget.js", "/widget.js", {}),
    ("/api/v1/rates/USD", "/api/v1/rates/USD", {}),
    ("/api/v1/history/USD?days=30", "/api/v1/history/USD?days=30", {}),
)
# Routes added by other issues: measured when the service answers them with 200 ("{origin}":
# the service's own origin, URL-encoded).
NEWER_ROWS: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("/api/v1/history/USD?days=365", "/api/v1/history/USD?days=365", {}),
    ("/api/v1/history/USD?from=…&to=… (a year)", "/api/v1/history/USD?from=2025-01-01&to=2025-12-31", {}),
    ("/api/v1/history/USD.csv?days=30", "/api/v1/history/USD.csv?days=30", {}),
    ("/api/v1/rates?date=2026-01-15", "/api/v1/rates?date=2026-01-15", {}),
    ("/api/v1/gold", "/api/v1/gold", {}),
    ("/oembed", "/oembed?url={origin}%2Fwidget&format=json", {}),
    ("/latest (Frankfurter shape)", "/latest?from=USD", {}),
    ("/v1/latest (Frankfurter shape)", "/v1/latest?from=USD", {}),
    ("/api/latest.json (Open Exchange Rates shape)", "/api/latest.json", {}),
    ("/v1/currencies/usd.json (currency-api shape)", "/v1/currencies/usd.json", {}),
    ("/v6/latest/IQD (ExchangeRate-API shape)", "/v6/latest/IQD", {}),
)


@dataclass
class Row:
    label: str
    path: str
    headers: dict[str, str]
    reply: Reply
    file: str = ""  # the file name under the static root and the bare app's path
    runs: dict[str, list[wrk.Run]] = field(default_factory=dict)

    def best(self, target: str) -> wrk.Run | None:
        runs = [r for r in self.runs.get(target, []) if r.ok]
        return max(runs, key=lambda r: r.rps) if runs else None


@dataclass(frozen=True)
class Target:
    """Where one row is asked: a base URL, and how the row's path and headers map onto it."""

    name: str
    url: Callable[[Row], str | None]
    headers: Callable[[Row], dict[str, str]]


def discover(service_url: str) -> list[Row]:
    """The rows the service answers: every core row, and each newer route that has landed."""
    rows: list[Row] = []
    etags: dict[str, str] = {}
    origin = quote(service_url, safe="")
    for label, template, headers in CORE_ROWS + NEWER_ROWS:
        path = template.replace("{origin}", origin)
        wanted = {k: v.replace("{etag}", etags.get(path, "")) for k, v in headers.items()}
        reply = http_get(service_url + path, wanted)
        if reply.status not in (200, 304):
            if (label, template, headers) in CORE_ROWS:
                raise RuntimeError(f"the service answers {path} with {reply.status}: {reply.body[:200]!r}")
            continue
        if (label, template, headers) in NEWER_ROWS and not _landed(service_url, path, reply):
            continue
        etags.setdefault(path, reply.headers.get("ETag", ""))
        rows.append(Row(label, path, wanted, reply, file=f"r{len(rows):02d}"))
    return rows


def _landed(service_url: str, path: str, reply: Reply) -> bool:
    """A query parameter that has not landed is ignored: the answer is the plain route's."""
    plain, _, query = path.partition("?")
    return not query or http_get(service_url + plain).body != reply.body


# Written by aiohttp itself for any response: the bare app must not be handed them.
_PER_RESPONSE = {"date", "content-length", "connection", "keep-alive", "transfer-encoding"}


def _same_headers(reply: Reply) -> dict[str, str]:
    """The service's response headers, so the bare app answers the same bytes on the wire."""
    return {name: value for name, value in reply.headers.items() if name.lower() not in _PER_RESPONSE}


def write_references(rows: list[Row], static_root: Path, bare_manifest: Path) -> None:
    """Each row's bytes as a static file (gzip rows: the .gz sibling) and as a bare-app route.

    The bare app sends the service's headers too (an answer is its headers and its body), so
    the ratio to it is the cost of choosing the answer, not of the headers every answer carries.
    """
    static_root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, object]] = {}
    for row in rows:
        content_type = row.reply.headers.get("Content-Type", "application/json")
        row.file += _EXTENSIONS.get(content_type.split(";")[0].strip(), ".bin")
        encoding = row.reply.headers.get("Content-Encoding")
        if row.reply.status == 304:
            # nginx answers the 304 from its own ETag; the bare app just returns one.
            plain = next((r for r in rows if r.path == row.path and r.reply.status == 200 and not r.headers), None)
            (static_root / row.file).write_bytes(plain.reply.body if plain else b"")
            manifest["/" + row.file] = {"status": 304, "headers": _same_headers(row.reply)}
            continue
        raw = static_root / row.file
        if encoding == "gzip":
            (static_root / (row.file + ".gz")).write_bytes(row.reply.body)
            raw.write_bytes(b"")  # gzip_static needs the plain name to exist
        else:
            raw.write_bytes(row.reply.body)
        body = static_root / (row.file + (".gz" if encoding == "gzip" else ""))
        manifest["/" + row.file] = {"file": str(body), "status": 200, "headers": _same_headers(row.reply)}
    bare_manifest.write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def static_etag(static_url: str, row: Row) -> str:
    return http_get(f"{static_url}/{row.file}").headers.get("ETag", "")


def verify(target: Target, row: Row) -> str | None:
    """Ask once: the same status and bytes as the service, or why not."""
    url = target.url(row)
    if url is None:
        return "not served"
    reply = http_get(url, target.headers(row))
    if reply.status != row.reply.status:
        return f"answers {reply.status}, not {row.reply.status}"
    if reply.status == 200 and reply.body != row.reply.body:
        return f"answers other bytes ({len(reply.body)} vs {len(row.reply.body)})"
    return None


def measure(rows: list[Row], targets: list[Target], *, seconds: float, rounds: int, log: Callable[[str], None]) -> None:
    for target in targets:
        for row in rows:
            problem = verify(target, row)
            if problem is not None:
                log(f"  {target.name} {row.label}: {problem}; not measured")
                row.runs[target.name] = []
    for row in rows:  # warm every cache with the client's own headers (nginx's Vary sees exactly these)
        for target in targets:
            url = target.url(row)
            if url is not None and row.runs.get(target.name) != []:
                wrk.run(url, seconds=1, connections=4, headers=target.headers(row))
    for round_number in range(1, rounds + 1):
        for row in rows:
            for target in targets:
                url = target.url(row)
                if url is None or row.runs.get(target.name) == []:
                    continue
                run = wrk.run(url, seconds=seconds, headers=target.headers(row))
                row.runs.setdefault(target.name, []).append(run)
                figures = f"{run.rps:>9.0f} req/s p99 {run.p99:.2f} ms"
                log(f"  round {round_number} {row.label:<40} {target.name:<14} {figures}")

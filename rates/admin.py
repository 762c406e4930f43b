"""Admin commands that work on the store without a running server: status, accept, reject, export."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from rates.clock import baghdad_day, utc_now
from rates.config import Config
from rates.document import decode
from rates.models import MergeState
from rates.present import significant
from rates.publisher import read_report, source_report
from rates.record import RecordView, points_csv
from rates.record_store import load_points
from rates.recording import tracked_codes
from rates.snapshot import default_widget, widget_renderer
from rates.store import Store

EXIT_OK, EXIT_NOTHING = 0, 1


def print_status(config: Config) -> int:
    if not _has_store(config):
        report = source_report(config, {}, MergeState(), {})
    else:
        with Store(config.storage.dir, read_only=True) as store:  # looks, never moves or writes
            report = read_report(store, config, {})
    for source in report:
        state = "ok" if source["ok"] else ("never fetched" if source["last_success"] is None else "FAILING")
        print(f"{source['id']} ({source['kind']}): {state}")
        print(f"  last success: {source['last_success'] or '-'}")
        error = source["last_error"]
        print(f"  last error:   {error + ' at ' + str(source['last_error_at']) if error else '-'}")
        print(f"  next run:     {source['next_run'] or '-'}")
        for hold in source["held"]:
            print(
                f"  held: {hold['code']} {hold['from']} -> {hold['to']} since {hold['since']}"
                f" (rates accept {hold['code']} / rates reject {hold['code']})"
            )
    return EXIT_OK


def accept(config: Config, code: str, source: str | None) -> int:
    with Store(config.storage.dir) as store:
        hold = store.accept_hold(code.upper(), source)
    if hold is None:
        print(f"nothing is held for {code.upper()}" + (f" from {source}" if source else ""))
        return EXIT_NOTHING
    print(
        f"accepted {hold.code} {significant(hold.old)} -> {significant(hold.new)} from {hold.source};"
        " a running server applies it within a tick"
    )
    return EXIT_OK


def reject(config: Config, code: str) -> int:
    with Store(config.storage.dir) as store:
        hold = store.reject_hold(code.upper())
    if hold is None:
        print(f"nothing is held for {code.upper()}")
        return EXIT_NOTHING
    print(
        f"rejected {hold.code} -> {significant(hold.new)} from {hold.source};"
        f" {significant(hold.old)} stays until that source changes"
    )
    return EXIT_OK


def export(config: Config, directory: Path) -> int:
    """Write ``rates.json`` and ``widget.html`` for object storage or a CDN."""
    payload = None
    if _has_store(config):
        with Store(config.storage.dir, read_only=True) as store:
            payload = store.document()
    if payload is None:
        print("the store holds no rates document yet: run `rates fetch` or `rates serve` first")
        return EXIT_NOTHING
    html = widget_renderer(config).render(decode(payload), default_widget(config))
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(directory / "rates.json", payload)
    _write_atomically(directory / "widget.html", html.encode("utf-8"))
    print(f"wrote {directory / 'rates.json'} and {directory / 'widget.html'}")
    return EXIT_OK


def _has_store(config: Config) -> bool:
    return (config.storage.dir / "cache.db").exists()


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader (or a sync to a CDN) never sees half a file."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=f".{path.name}.") as handle:
        handle.write(data)
        temporary = Path(handle.name)
    temporary.chmod(0o644)
    os.replace(temporary, path)


def print_history(config: Config, code: str, first: date | None, last: date | None) -> int:
    """The ``.csv`` endpoint's lines for ``code``, read from the store."""
    code = code.upper()
    codes = tracked_codes(config)
    if code not in codes:
        print(f"rates: {code[:8]} is not one of the configured currencies: {', '.join(codes)}", file=sys.stderr)
        return EXIT_NOTHING
    last = last or baghdad_day(utc_now())
    record = RecordView.of({code: {}})
    if _has_store(config):
        with Store(config.storage.dir, read_only=True) as store:  # looks, never moves or writes
            record = RecordView.of(load_points(store, [code]))
    sys.stdout.write(points_csv(record.points(code, first, last)).decode("utf-8"))
    return EXIT_OK

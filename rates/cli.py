"""The ``rates`` command line: parse arguments, call the pipeline or the app."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rates.config import Config, config_path, load_config
from rates.document import decode
from rates.errors import ConfigError, RatesError, TlsError
from rates.fetch import Fetcher
from rates.refresh import Refresher, failed_network
from rates.store import Store

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # `fetch` prints one line per failed source itself: its log warnings would repeat them.
    level = {"serve": logging.INFO, "fetch": logging.ERROR}.get(args.command, logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    except TlsError as exc:
        print(f"rates: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except RatesError as exc:
        print(f"rates: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rates", description="Official exchange rates against the Iraqi dinar.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = _command(commands, "serve", "run the service until SIGINT/SIGTERM", _serve)
    serve.add_argument("--host", help="listen address (default: server.host)")
    serve.add_argument("--port", type=int, help="listen port (default: server.port)")
    serve.add_argument("--access-log", action="store_true", help="log one line per request (off: it costs throughput)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate (chain)")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")

    fetch = _command(commands, "fetch", "run every source once, store and print the result", _fetch)
    fetch.add_argument("--json", action="store_true", help="print the /api/v1/rates document")

    check = commands.add_parser("check-config", help="validate a config file")
    check.add_argument("path", nargs="?", help="the file (default: $RATES_CONFIG or ./config.yaml)")
    check.set_defaults(run=_check_config)

    _command(commands, "status", "print each source's health from the store", _status)

    accept = _command(commands, "accept", "accept a held move", _accept)
    accept.add_argument("code")
    accept.add_argument("--source", help="accept only if the move comes from this source id")
    reject = _command(commands, "reject", "drop a held move", _reject)
    reject.add_argument("code")

    history = _command(commands, "history", "print a currency's daily record as CSV (date,rate,buy,sell)", _history)
    history.add_argument("code")
    history.add_argument("--from", dest="first", type=_date, help="first date, YYYY-MM-DD (default: the oldest)")
    history.add_argument("--to", dest="last", type=_date, help="last date, YYYY-MM-DD (default: today)")

    export = _command(commands, "export", "write rates.json and widget.html to DIR", _export)
    export.add_argument("dir", type=Path)
    return parser


def _command(commands: Any, name: str, help_text: str, run: Callable[[argparse.Namespace], int]) -> Any:
    sub = commands.add_parser(name, help=help_text)
    sub.add_argument("-c", "--config", help="config file (default: $RATES_CONFIG or ./config.yaml)")
    sub.set_defaults(run=run)
    return sub


def _load(args: argparse.Namespace) -> Config:
    return load_config(config_path(args.config))


def _check_config(args: argparse.Namespace) -> int:
    path = config_path(args.path)
    load_config(path)
    print(f"{path}: valid")
    return EXIT_OK


def _fetch(args: argparse.Namespace) -> int:
    config = _load(args)
    return asyncio.run(_fetch_once(config, as_json=args.json))


async def _fetch_once(config: Config, *, as_json: bool) -> int:
    with Store(config.storage.dir) as store:
        async with Fetcher() as fetcher:
            outcomes, document = await Refresher(config, store, fetcher).refresh_all()
    for outcome in outcomes:
        if not outcome.ok:
            print(f"{outcome.source_id}: {outcome.message}", file=sys.stderr)
    if as_json:
        sys.stdout.write(document.decode("utf-8") + "\n")
    else:
        print(format_table(decode(document)))
    return EXIT_FAILED if failed_network(outcomes) else EXIT_OK


def format_table(document: dict[str, Any]) -> str:
    """The rates document as aligned plain text for a terminal."""
    head = ("code", "rate", "buy", "sell", "per", "published", "source", "status")
    rows = [head] + [
        tuple(
            "-" if entry[k] is None else str(entry[k])
            for k in ("code", "rate", "buy", "sell", "per", "published", "source", "status")
        )
        for entry in document["rates"]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*lines, f"updated_at {document['updated_at']}"])


def _status(args: argparse.Namespace) -> int:
    from rates.admin import print_status

    return print_status(_load(args))


def _accept(args: argparse.Namespace) -> int:
    from rates.admin import accept

    return accept(_load(args), args.code, args.source)


def _reject(args: argparse.Namespace) -> int:
    from rates.admin import reject

    return reject(_load(args), args.code)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("bad")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date written YYYY-MM-DD: {text[:16]!r}") from None


def _history(args: argparse.Namespace) -> int:
    from rates.admin import print_history

    if args.first is not None and args.last is not None and args.first > args.last:
        print(f"rates: --from {args.first} is after --to {args.last}", file=sys.stderr)
        return EXIT_CONFIG
    return print_history(_load(args), args.code, args.first, args.last)


def _export(args: argparse.Namespace) -> int:
    from rates.admin import export

    return export(_load(args), args.dir)


def _serve(args: argparse.Namespace) -> int:
    from rates.server import serve

    if (args.tls_cert is None) != (args.tls_key is None):
        print("rates: --tls-cert and --tls-key go together: give both to serve HTTPS", file=sys.stderr)
        return EXIT_CONFIG
    path = config_path(args.config)
    tls = None if args.tls_cert is None else (args.tls_cert, args.tls_key)
    return serve(path, load_config(path), host=args.host, port=args.port, access_log=args.access_log, tls=tls)

"""One WARNING line for a request aiohttp's parser refuses, instead of an ERROR traceback.

Junk on a public port (a bad method, a header over 8190 bytes, a malformed request line)
is normal traffic for a server; aiohttp logs each one with a ten-line traceback that also
quotes the request bytes. This adapter is handed to aiohttp's request handler as its
``logger`` (a documented argument): parser errors become one line naming the peer and the
kind of error, never the bytes; anything else is logged exactly as aiohttp would.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("aiohttp.server")


class ParserErrorLog(logging.LoggerAdapter[logging.Logger]):
    def __init__(self, logger: logging.Logger = log) -> None:
        super().__init__(logger, {})

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        refused = kwargs.get("exc_info")
        if isinstance(refused, HttpProcessingError):
            peer = args[0] if args else "?"
            self.logger.warning("refused a malformed HTTP request from %s (%s)", peer, type(refused).__name__)
            return
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs

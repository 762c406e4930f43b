"""The error tree of the service.

    RatesError
    ├── ConfigError      config.yaml is invalid (carries every problem found)
    ├── SourceError      one source could not give quotes (carries the source id)
    │   ├── FetchError   the request failed: network, status, timeout, size cap
    │   └── ParseError   the payload is not what the source's kind expects
    ├── StoreError       the diskcache store cannot be read or written
    ├── ListenError      ``rates serve`` cannot listen where it was asked to
    └── TlsError         a TLS certificate or key for ``rates serve`` cannot be used

Each error's ``str()`` is one sentence fit for an admin's log or a user's screen, with
every URL in it redacted (no userinfo, query or fragment: that is where keys ride).
"""

from __future__ import annotations

from dataclasses import dataclass

from rates.redact import redact


class RatesError(Exception):
    """Base of every error the service raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file, printed as ``FILE:LINE: dotted.path: message``."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        location = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {location}{redact(self.message)}"


class ConfigError(RatesError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.path))
        super().__init__("; ".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


MAX_REASON = 300


class SourceError(RatesError):
    def __init__(self, source_id: str, reason: str) -> None:
        self.source_id = source_id
        # Reasons quote URLs and foreign messages: cut to one line and redacted here, once.
        self.reason = redact(" ".join(reason.split()))[:MAX_REASON]
        super().__init__(f"{source_id}: {self.reason}")


class FetchError(SourceError):
    """The upstream could not be reached or answered with something we refuse."""


class ParseError(SourceError):
    """The upstream answered, but not with what its kind expects."""


class StoreError(RatesError):
    """The store could not be read or written."""


class ListenError(RatesError):
    """The port is taken, or the address is not one of this machine's."""


class TlsError(RatesError):
    """A TLS certificate or key file cannot be read or does not hold a usable pair."""

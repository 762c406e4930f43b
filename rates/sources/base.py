"""What every source adapter is: settings, a fetch step, and a pure ``parse``.

Fetch plus parse is the service's one boundary with the outside world, and upstream bytes
can make any library raise anything: ``ValueError`` from a date, ``OverflowError`` from a
timestamp, ``decimal`` signals, ``KeyError`` and ``zipfile.BadZipFile`` from a damaged
workbook, ``RecursionError`` from JSON nested a million deep. Every adapter's ``parse``
and ``fetch`` are wrapped when its class is defined (so a new kind cannot forget it): an
exception that is not already a :class:`SourceError` becomes a :class:`ParseError` (from
``parse``) or :class:`FetchError` (from the rest of ``fetch``) whose reason is one line,
as httpx's ``map_exceptions`` turns transport errors into its own.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rates.errors import FetchError, ParseError, SourceError
from rates.localized import Localized
from rates.models import QuoteSet
from rates.units import Duration

if TYPE_CHECKING:
    from rates.fetch import Fetcher

SourceId = Annotated[str, Field(pattern=r"^[a-z0-9-]+$", min_length=1, max_length=64)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
_CODE = re.compile(r"^[A-Za-z]{3}$")


def normalize_code(value: object) -> object:
    """Codes are case-insensitive in config; store them upper-case."""
    return value.upper() if isinstance(value, str) and _CODE.match(value) else value


class SourceSettings(BaseModel):
    """Keys every source takes; each kind extends this with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SourceId
    kind: str
    # How readers see the source credited (defaults per kind: rates.credits).
    name: Localized | None = None
    link: Annotated[str, Field(pattern=r"^https?://[^\s\"'<>]+$", max_length=300)] | None = None

    @property
    def network(self) -> bool:
        return False


class NetworkSettings(SourceSettings):
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    every: Duration = timedelta(hours=1)
    timeout: Duration = timedelta(seconds=20)

    @property
    def network(self) -> bool:
        return True


class RefInUrlSettings(NetworkSettings):
    """Kinds whose reference currency is named by the URL (``…/usd.json``)."""

    ref_in_url: ClassVar[re.Pattern[str]]
    url_shape: ClassVar[str]  # e.g. "/{ref}.json"
    url_example: ClassVar[str]

    @field_validator("url")
    @classmethod
    def _url_names_ref(cls, url: str) -> str:
        if not cls.ref_in_url.search(url):
            raise ValueError(f"the URL must end in {cls.url_shape}, e.g. {cls.url_example}")
        return url

    @property
    def ref(self) -> str:
        match = self.ref_in_url.search(self.url)
        assert match is not None  # checked by the validator
        return match.group(1).upper()


S = TypeVar("S", bound=SourceSettings)
N = TypeVar("N", bound=NetworkSettings)


def describe(exc: BaseException) -> str:
    """A foreign exception as a short one-line reason: its type, and its message's first line."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


@contextmanager
def map_exceptions(error: Callable[[str], SourceError], doing: str) -> Iterator[None]:
    """Let a :class:`SourceError` through; turn any other exception into ``error(reason)``."""
    try:
        yield
    except SourceError:
        raise
    except Exception as exc:  # the point of a boundary: whatever the adapter did not foresee
        raise error(f"{doing} failed ({describe(exc)})") from exc


def _bounded_parse(parse: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(parse)
    def wrapper(self: Source[Any], payload: bytes) -> Any:
        with map_exceptions(self.fail, "reading the payload"):
            return parse(self, payload)

    return wrapper


def _bounded_fetch(fetch: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fetch)
    async def wrapper(self: Source[Any], fetcher: Fetcher) -> Any:
        with map_exceptions(lambda reason: FetchError(self.id, reason), "fetching"):
            return await fetch(self, fetcher)

    return wrapper


class Source(ABC, Generic[S]):
    """A source adapter: registered under ``kind``, built from its ``Settings``."""

    kind: ClassVar[str]
    Settings: ClassVar[type[SourceSettings]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "parse" in own:
            setattr(cls, "parse", _bounded_parse(own["parse"]))  # noqa: B010 - mypy refuses assigning a method
        if "fetch" in own:
            setattr(cls, "fetch", _bounded_fetch(own["fetch"]))  # noqa: B010

    def __init__(self, settings: S) -> None:
        self.settings = settings

    @property
    def id(self) -> str:
        return self.settings.id

    @abstractmethod
    async def fetch(self, fetcher: Fetcher) -> QuoteSet:
        """Get the payload (through ``fetcher``: the one place that talks HTTP) and parse it."""

    @abstractmethod
    def parse(self, payload: bytes) -> QuoteSet:
        """Turn payload bytes into quotes. Pure: no I/O, no clock, no logging."""

    def fail(self, reason: str) -> ParseError:
        """The error to raise when the payload is not what this kind expects."""
        return ParseError(self.id, reason)


class NetworkSource(Source[N]):
    """A source with one URL whose body is the payload. Kinds that need more steps override ``fetch``."""

    async def fetch(self, fetcher: Fetcher) -> QuoteSet:
        payload = await fetcher.get(self.id, self.settings.url, self.settings.timeout)
        return self.parse(payload)

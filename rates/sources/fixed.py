"""Rates written in the config itself: decrees and pegs. Never stale."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from rates.fetch import Fetcher
from rates.models import Quote, QuoteSet
from rates.sources.base import CurrencyCode, Source, SourceSettings, normalize_code
from rates.validate import baghdad_today, date_problem, magnitude_problem


def _sane(number: Decimal) -> Decimal:
    problem = magnitude_problem(number)
    if problem is not None:
        raise ValueError(problem)
    return number


# The same bounds a fetched quote must pass (rates/validate.py), checked when the config is read.
Positive = Annotated[Decimal, Field(gt=0, allow_inf_nan=False), AfterValidator(_sane)]


class FixedRate(BaseModel):
    """A rate with its buy and sell, e.g. the CBI's 1300 / 1310 decree."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: Positive
    buy: Positive | None = None
    sell: Positive | None = None


def _rate_entry(value: object) -> object:
    """A bare number is a rate without buy and sell."""
    return value if isinstance(value, dict | FixedRate) else {"rate": value}


class FixedSettings(SourceSettings):
    kind: Literal["fixed"]
    ref: Annotated[CurrencyCode, BeforeValidator(normalize_code)]
    published: date
    rates: dict[
        Annotated[CurrencyCode, BeforeValidator(normalize_code)], Annotated[FixedRate, BeforeValidator(_rate_entry)]
    ] = Field(min_length=1)

    @field_validator("published")
    @classmethod
    def _real_day(cls, day: date) -> date:
        problem = date_problem(day, baghdad_today())
        if problem is not None:
            raise ValueError(f"{problem}: a decree's date is from 1990 to today")
        return day


class FixedSource(Source[FixedSettings]):
    kind = "fixed"
    Settings = FixedSettings

    async def fetch(self, fetcher: Fetcher) -> QuoteSet:
        return self.parse(b"")

    def parse(self, payload: bytes) -> QuoteSet:
        """The payload is ignored: the config is the payload."""
        settings = self.settings
        return QuoteSet(
            ref=settings.ref,
            quotes=tuple(_quote(code, value, settings.published) for code, value in settings.rates.items()),
        )


def _quote(code: str, value: FixedRate, published: date) -> Quote:
    return Quote(code=code, value=value.rate, published=published, buy=value.buy, sell=value.sell)

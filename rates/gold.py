"""Gold prices per unit and karat from the CBI's ounce price (contract section 8).

Pure. ``price = ounce × grams ÷ 31.1034768 × karat ÷ 24``, in Decimal, rounded to six
significant digits only when presented. The ounce is a troy ounce of fine (24 karat)
gold; ``grams`` is the weight of one ``unit``: an ounce, a gram, or a mithqal (5 g by
default; some markets use 4.25 g, hence ``mithqal_grams``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rates.present import significant

GOLD = "XAU"
OUNCE_GRAMS = Decimal("31.1034768")
FINE = 24
Karat = Annotated[int, Field(strict=True, ge=1, le=24)]


class GoldSettings(BaseModel):
    """``widget.gold``: per-unit prices by karat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: Literal["mithqal", "gram", "ounce"] = "mithqal"
    mithqal_grams: Annotated[Decimal, Field(gt=0, le=1000, allow_inf_nan=False)] = Decimal(5)
    karats: Annotated[list[Karat], Field(min_length=1, max_length=24)] = [24, 21, 18]

    @property
    def grams(self) -> Decimal:
        return {"ounce": OUNCE_GRAMS, "gram": Decimal(1), "mithqal": self.mithqal_grams}[self.unit]


def price(ounce: Decimal, grams: Decimal, karat: int) -> Decimal:
    """IQD for ``grams`` of ``karat`` gold, exact (not yet rounded)."""
    return ounce * grams / OUNCE_GRAMS * karat / FINE


def gold_document(settings: GoldSettings, xau: Mapping[str, Any] | None, exact: Decimal | None) -> dict[str, Any]:
    """The ``/api/v1/gold`` body from XAU's entry (its ``status``, ``source``, ``published``)
    and its exact rate (``exact``; None when unavailable)."""
    entry = xau or {}
    ounce = exact if entry.get("status") != "unavailable" else None
    return {
        "base": "IQD",
        "source": entry.get("source"),
        "published": entry.get("published"),
        "status": entry.get("status", "unavailable") if ounce is not None else "unavailable",
        "ounce": None if ounce is None else significant(ounce),
        "unit": settings.unit,
        "grams": settings.grams,
        "prices": [
            {"karat": karat, "rate": None if ounce is None else significant(price(ounce, settings.grams, karat))}
            for karat in settings.karats
        ],
    }

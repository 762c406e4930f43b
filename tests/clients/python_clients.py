"""The real PyPI clients of other rate APIs, pointed at our service; run as a separate process.

    python -m tests.clients.python_clients frankfurter HOST:PORT/v1 DAY
    python -m tests.clients.python_clients forex-python http(s)://HOST:PORT/api/ DAY

Each client is used as its README shows; only its base URL is changed (and its CA trust,
by the caller's ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE``). Prints one JSON line of the
figures the client computed, numbers as strings so nothing is lost on the way.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from typing import Any


def frankfurter_figures(base_url: str, day: str) -> dict[str, Any]:
    import frankfurter.engine
    from frankfurter import FrankfurterEngine

    # The engine copies the module's BASE_URL ("api.frankfurter.dev/v1") at init and always
    # prefixes https://: HTTPS only.
    frankfurter.engine.BASE_URL = base_url
    engine = FrankfurterEngine()
    past = engine.fetch_data_for_date(day, base="USD", symbols="IQD")
    series = engine.fetch_time_series_data(base="USD", symbols="IQD,EUR", start_date=day, end_date=None)
    return {
        "usd_iqd": engine.convert_currency(1, "USD", "IQD"),
        "iqd_eur": engine.convert_currency(1, "IQD", "EUR"),
        "sar_kwd": engine.convert_currency(1, "SAR", "KWD"),
        "past_usd_iqd": past["rates"]["IQD"],
        "past_date": past["date"],
        "series": series,
        "currencies": sorted(engine.fetch_currencies()),
    }


def forex_python_figures(base_url: str, day: str) -> dict[str, Any]:
    from forex_python.converter import CurrencyRates

    class Rates(CurrencyRates):  # type: ignore[misc]
        def _source_url(self) -> str:  # the only place the client keeps its base URL
            return base_url

    rates = Rates(force_decimal=True)  # its documented exact mode: Decimal figures
    return {
        "usd_iqd": rates.get_rate("USD", "IQD"),
        "iqd_eur": rates.get_rate("IQD", "EUR"),
        "sar_kwd": rates.convert("SAR", "KWD", Decimal(1)),
        "past_usd_iqd": rates.get_rate("USD", "IQD", date.fromisoformat(day)),
        "all_from_usd": rates.get_rates("USD"),
    }


def main() -> None:
    kind, base_url, day = sys.argv[1:4]
    figures = {"frankfurter": frankfurter_figures, "forex-python": forex_python_figures}[kind](base_url, day)
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()

"""Pure: sources' kept quotes + each currency's baseline → one IQD rate per currency.

Plain data, in three steps, no I/O and no clock:

1. :func:`resolution_order`: every currency to resolve (the shown ones and the reference
   currencies crosses go through), each after the references it needs. Where references
   need each other in a circle, the circle is cut at the currency it comes back to: that
   currency's candidate through the circle is dropped.
2. :func:`candidates`: each source's IQD value for a currency, an explicit list of
   :class:`Candidate` sorted by rank: preference order, except that values resting on an
   aggregator's own dinar figure come after every other (the last resort).
3. :func:`decide`: a pure function of (candidates, baseline, hold) → what is shown.

Each currency is computed in its own Decimal context with traps: a currency that cannot be
computed (an overflow, say) becomes ``unavailable`` with a reason, and the others go on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    Underflow,
    localcontext,
)

from rates.clock import baghdad_day
from rates.config import Config, Policy
from rates.history import dated
from rates.models import BASE, Hold, KeptQuote, KeptQuotes, Rate, Rejection, Resolved
from rates.present import plain, significant
from rates.validate import relative_gap

# Why a rate is unavailable, as codes: the widget words them in its language (widget.texts).
NO_SOURCE = "no_source"
NOT_REACHED = "not_reached"
NOT_COMPUTABLE = "not_computable"
OUT_OF_RANGE = "out_of_range"  # quoted, but only outside the currency's configured range

# Wide exponents, and every condition that would make a number wrong is an error, not a rounding.
ARITHMETIC = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow, Underflow],
)

# A computed rate outside these (IQD per one unit) is a symptom, not a price: a trillionth of a dinar
# to a quadrillion dinars covers every currency and metal, and keeps published numbers short.
SANE = (Decimal("1E-12"), Decimal("1E+15"))

Edge = tuple[str, str]  # (currency, source id): the currency's candidate from that source


@dataclass(frozen=True)
class Chosen:
    """A resolved currency's value, as crosses through it use it."""

    value: Resolved | None
    last_resort: bool = False


@dataclass(frozen=True)
class MergeInput:
    config: Config
    sources: Mapping[str, KeptQuotes]
    baselines: Mapping[str, Resolved]
    holds: Mapping[str, Hold]
    rejections: Mapping[str, Rejection]
    now: datetime


@dataclass(frozen=True)
class MergeResult:
    rates: tuple[Rate, ...]
    baselines: dict[str, Resolved]
    holds: dict[str, Hold]
    # Source id → (code, reason): values outside a currency's ``range``, refused.
    refused: dict[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Candidate:
    resolved: Resolved
    rank: int  # lower is preferred
    last_resort: bool = False  # rests on an aggregator's own dinar figure


@dataclass(frozen=True)
class Decision:
    shown: Resolved | None
    held: bool
    baseline: Resolved | None  # the baseline after this decision
    hold: Hold | None  # the hold after this decision


@dataclass(frozen=True)
class Resolution:
    """A currency's candidates, and what went wrong with the ones that are not there."""

    candidates: tuple[Candidate, ...]
    refused: tuple[tuple[str, str, str], ...] = ()  # (source, code, reason)
    uncomputable: bool = False


def merge(state: MergeInput) -> MergeResult:
    config = state.config
    shown = set(config.codes)
    order, dropped = resolution_order(config, state.sources)
    values: dict[str, Chosen] = {}
    decisions: dict[str, Decision] = {}
    reasons: dict[str, str] = {}
    refused: dict[str, list[tuple[str, str]]] = {}
    for code in order:
        with localcontext(ARITHMETIC):
            try:
                resolution = candidates(code, state, values, dropped)
                if code in shown:
                    decision = decide(
                        code,
                        resolution.candidates,
                        state.baselines.get(code),
                        state.holds.get(code),
                        policy=config.policy,
                        now=state.now,
                        rejected=code in state.rejections,
                    )
                else:  # a reference only: no baseline, no hold of its own
                    first = resolution.candidates[0].resolved if resolution.candidates else None
                    decision = Decision(first, False, None, None)
            except DecimalException:
                resolution = Resolution((), uncomputable=True)
                decision = Decision(None, False, state.baselines.get(code), state.holds.get(code))
        for source_id, refused_code, reason in resolution.refused:
            refused.setdefault(source_id, []).append((refused_code, reason))
        last_resort = bool(resolution.candidates) and decision.shown is resolution.candidates[0].resolved
        values[code] = Chosen(decision.shown, last_resort and resolution.candidates[0].last_resort)
        decisions[code] = decision
        if decision.shown is None:
            reasons[code] = _why_none(code, resolution, state)
    baselines = dict(state.baselines)
    holds = {code: hold for code, hold in state.holds.items() if code in shown}
    for code in shown:
        decision = decisions[code]
        if decision.baseline is not None:
            baselines[code] = decision.baseline
        if decision.hold is None:
            holds.pop(code, None)
        else:
            holds[code] = decision.hold
    rates = tuple(_rate(c.code, c.per, decisions[c.code], reasons.get(c.code)) for c in config.currencies)
    return MergeResult(rates, baselines, holds, {sid: tuple(found) for sid, found in refused.items()})


# 1. The order --------------------------------------------------------------------------


def resolution_order(config: Config, sources: Mapping[str, KeptQuotes]) -> tuple[list[str], frozenset[Edge]]:
    """Currencies in an order where each comes after the references its crosses need.

    Returns the order and the dropped edges: where references need each other in a circle,
    the candidate of the currency the circle comes back to, through that circle.
    """
    dropped: set[Edge] = set()
    while True:
        order, back = _depth_first(config, sources, dropped)
        if back is None:
            return order, frozenset(dropped)
        dropped.add(back)


def _needs(config: Config, sources: Mapping[str, KeptQuotes], code: str) -> list[tuple[str, str]]:
    """(source id, reference) for each cross candidate of ``code``, in preference order."""
    found = []
    for source_id in config.preference(code):
        quotes = sources.get(source_id)
        if quotes is not None and not quotes.direct and code != quotes.ref and code in quotes.quotes:
            found.append((source_id, quotes.ref))
    return found


def _depth_first(
    config: Config, sources: Mapping[str, KeptQuotes], dropped: set[Edge]
) -> tuple[list[str], Edge | None]:
    """Post-order from the shown currencies; the first edge to drop when a circle is met."""
    order: list[str] = []
    done: set[str] = set()
    path: list[Edge] = []  # (currency, the source through which we went deeper)

    def visit(code: str) -> Edge | None:
        for source_id, ref in _needs(config, sources, code):
            if (code, source_id) in dropped or ref in done:
                continue
            on_path = [edge for edge in path if edge[0] == ref]
            if on_path or ref == code:
                return on_path[0] if on_path else (code, source_id)
            path.append((code, source_id))
            back = visit(ref)
            path.pop()
            if back is not None:
                return back
        done.add(code)
        order.append(code)
        return None

    for code in config.codes:
        if code not in done:
            back = visit(code)
            if back is not None:
                return order, back
    return order, None


# 2. The candidates ---------------------------------------------------------------------


def candidates(code: str, state: MergeInput, values: Mapping[str, Chosen], dropped: frozenset[Edge]) -> Resolution:
    """Each source's IQD rate for ``code``, best first, minus rejected and refused values."""
    config = state.config
    preference = config.preference(code)
    found: list[Candidate] = []
    refused: list[tuple[str, str, str]] = []
    uncomputable = False
    limits = config.currency_range(code)
    for index, source_id in enumerate(preference):
        if (code, source_id) in dropped:
            continue
        try:
            made = _from_source(code, source_id, state, values)
        except DecimalException:
            uncomputable = True
            continue
        if made is None:
            continue
        resolved, last_resort = made
        if not (resolved.rate.is_finite() and SANE[0] <= resolved.rate <= SANE[1]):
            uncomputable = True
            continue
        if limits is not None and not limits[0] <= resolved.rate <= limits[1]:
            low, high = plain(limits[0]), plain(limits[1])
            reason = f"out of range {low}..{high} IQD ({plain(significant(resolved.rate))})"
            refused.append((source_id, code, reason))
            continue
        if _rejected(resolved, state.rejections):
            continue
        resolved = replace(resolved, provisional=resolved.provisional or _unsettled(preference[:index], state))
        found.append(Candidate(resolved, index + (len(preference) if last_resort else 0), last_resort))
    found.sort(key=lambda c: c.rank)
    return Resolution(tuple(found), tuple(refused), uncomputable and not found)


def _why_none(code: str, resolution: Resolution, state: MergeInput) -> str:
    if resolution.uncomputable:
        return NOT_COMPUTABLE
    if resolution.refused:  # a reader is told the number exists but is not believed, not that none exists
        return OUT_OF_RANGE
    return _why_unavailable(code, state)


def _unsettled(before: Sequence[str], state: MergeInput) -> bool:
    """A preferred network source has never answered: a value chosen now is not yet a baseline to hold against."""
    network = {s.id for s in state.config.sources if s.network}
    return any(sid in network and sid not in state.sources for sid in before)


def _rejected(resolved: Resolved, rejections: Mapping[str, Rejection]) -> bool:
    rejection = rejections.get(resolved.code)
    return (
        rejection is not None
        and rejection.source == resolved.source
        and significant(rejection.rate) == significant(resolved.rate)
    )


def _from_source(
    code: str, source_id: str, state: MergeInput, values: Mapping[str, Chosen]
) -> tuple[Resolved, bool] | None:
    """The IQD rate this source gives for ``code``, and whether it rests on an aggregator's own dinar figure."""
    quotes = state.sources.get(source_id)
    if quotes is None:
        return None
    if quotes.direct:
        stored = quotes.quotes.get(code)
        return None if stored is None else (_direct(code, source_id, stored, state), False)
    if code == quotes.ref:
        own = _own_dinar_figure(quotes, state)
        return None if own is None else (own, True)
    stored = quotes.quotes.get(code)
    if stored is None:
        return None
    chosen = values.get(quotes.ref, Chosen(None))
    ref = chosen.value if chosen.value is not None else _own_dinar_figure(quotes, state)
    if ref is None:
        return None
    return _cross(code, quotes, stored, ref, state), chosen.value is None or chosen.last_resort


def _direct(code: str, source_id: str, stored: KeptQuote, state: MergeInput) -> Resolved:
    quote = stored.quote
    assert quote.published is not None  # the refresh dates undated quotes
    fixed = not _network(source_id, state)
    return Resolved(
        code=code,
        rate=+quote.value,  # unary plus: the value under this currency's context
        source=source_id,
        published=quote.published,
        fetched_at=stored.fetched_at,
        stale=_stale(source_id, stored, state),
        buy=None if quote.buy is None else +quote.buy,
        sell=None if quote.sell is None else +quote.sell,
        fixed=fixed,
    )


def _own_dinar_figure(quotes: KeptQuotes, state: MergeInput) -> Resolved | None:
    """The aggregator's own IQD per ref: the last resort, named as the source."""
    stored = quotes.quotes.get(BASE)
    if stored is None:
        return None
    return replace(_direct(quotes.ref, quotes.source_id, stored, state), buy=None, sell=None)


def _cross(code: str, quotes: KeptQuotes, stored: KeptQuote, ref: Resolved, state: MergeInput) -> Resolved:
    """IQD per C = (IQD per ref) ÷ (C per ref), the ref's dinar rate resolved by its own list."""
    quote = stored.quote
    assert quote.published is not None
    per_ref = quote.value
    fixed = not _network(quotes.source_id, state)
    return Resolved(
        code=code,
        rate=ref.rate / per_ref,
        source=quotes.source_id,
        published=_cross_published(quote.published, fixed, ref),
        fetched_at=_fetched_at(quotes.source_id, stored.fetched_at, ref, state),
        stale=ref.stale or _stale(quotes.source_id, stored, state),
        buy=None if ref.buy is None else ref.buy / per_ref,
        sell=None if ref.sell is None else ref.sell / per_ref,
        fixed=fixed and ref.fixed,
        provisional=ref.provisional,
    )


def _cross_published(day: date, fixed: bool, ref: Resolved) -> date:
    """Dated by its changing side: the older non-fixed date; only pegs and decrees: the latest."""
    return dated([(day, fixed), (ref.published, ref.fixed)])


def _fetched_at(source_id: str, fetched_at: datetime, ref: Resolved, state: MergeInput) -> datetime:
    """A cross is as fresh as its older network side; a peg or decree side has no fetch time to speak of."""
    sides = ((source_id, fetched_at), (ref.source, ref.fetched_at))
    network = [t for sid, t in sides if _network(sid, state)]
    return min(network) if network else min(fetched_at, ref.fetched_at)


def _network(source_id: str, state: MergeInput) -> bool:
    return any(s.id == source_id and s.network for s in state.config.sources)


def _stale(source_id: str, stored: KeptQuote, state: MergeInput) -> bool:
    """Decrees and pegs do not age; a network quote does, by its fetch and by its date."""
    if not _network(source_id, state):
        return False
    policy = state.config.policy
    if state.now - stored.fetched_at > policy.stale_after:
        return True
    published = stored.quote.published
    return published is not None and baghdad_day(state.now) - published > timedelta(days=policy.published_within.days)


def _why_unavailable(code: str, state: MergeInput) -> str:
    """Sources that never answered may yet quote it; sources that answered do not."""
    return NOT_REACHED if _unsettled(state.config.preference(code), state) else NO_SOURCE


# 3. The decision -------------------------------------------------------------------------


def decide(
    code: str,
    found: Sequence[Candidate],
    baseline: Resolved | None,
    hold: Hold | None,
    *,
    policy: Policy,
    now: datetime,
    rejected: bool = False,
) -> Decision:
    """What to show for a shown currency, given its candidates, its baseline and its hold."""
    if not found:
        if baseline is not None and rejected:
            # An admin rejected the only new value: the old one stays, shown with its date as stale.
            return Decision(replace(baseline, stale=True), False, baseline, None)
        return Decision(None, False, baseline, None)
    first = found[0].resolved
    if baseline is None or _confirmed(first, baseline, found[1:], policy):
        return Decision(first, False, first, None)
    same_move = hold is not None and hold.source == first.source and hold.new == first.rate
    since = hold.since if same_move and hold is not None else now
    return Decision(baseline, True, baseline, Hold(code, first.source, baseline.rate, first.rate, since))


def _confirmed(new: Resolved, baseline: Resolved, others: Sequence[Candidate], policy: Policy) -> bool:
    if relative_gap(new.rate, baseline.rate) <= policy.max_jump:
        return True
    if baseline.provisional and new.source != baseline.source:
        return True  # set while a preferred source was still silent: that source now speaks
    return any(
        o.resolved.source != new.source and relative_gap(o.resolved.rate, new.rate) <= policy.agree_within
        for o in others
    )


def _rate(code: str, per: int, decision: Decision, reason: str | None) -> Rate:
    resolved = decision.shown
    if resolved is None:
        return Rate(code=code, per=per, status="unavailable", reason=reason or NO_SOURCE)
    status = "held" if decision.held else ("stale" if resolved.stale else "ok")
    return Rate(
        code=code,
        per=per,
        status=status,
        rate=resolved.rate,
        buy=resolved.buy,
        sell=resolved.sell,
        source=resolved.source,
        published=resolved.published,
        fetched_at=resolved.fetched_at,
    )

"""What a calculation returns (`PayoutRun`) and what earlier statements stated (`Ledger`).

Both engines build a `PayoutRun` from the same fields, so a reference run and a batch
run compare equal. A `Ledger` is the memory between runs: what each component was
stated to earn in each closed period, and the recoverable draw still owed. It never
changes in place: `Ledger.record` returns a new ledger.
"""

from __future__ import annotations

import dataclasses
import threading
from bisect import bisect_left
from collections.abc import ItemsView, KeysView, Mapping, Sequence, ValuesView
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import compress, count, repeat
from operator import eq, ge, is_
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NoReturn, SupportsIndex, TypeVar, final, overload

from salesflow._interop import require_pandas
from salesflow.errors import InvalidValueError, Location
from salesflow.money import Money

from ._schedule import tidy

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd

    from salesflow.errors import Problem

    from ._statement import Line, Statement

__all__ = ["BuiltOnUse", "EarnedKey", "Ledger", "PayoutRun", "StatementsOnUse", "money_text"]

EarnedKey = tuple[str, str, str]
"""(payee, component id, period label): the key of what a component earned."""

K = TypeVar("K")
V = TypeVar("V")

LEDGER_FORMAT: Final = 1
"""The version of `Ledger.to_dict`'s layout."""


def money_text(value: Money) -> str:
    """The amount as a plain decimal string, at the minor unit when that is exact."""
    return f"{tidy(value.amount, value.currency.minor_units):f}"


def _frozen(mapping: Mapping[K, V]) -> Mapping[K, V]:
    if isinstance(mapping, BuiltOnUse):
        return mapping  # read-only already
    return MappingProxyType(dict(mapping))


@final
class BuiltOnUse(Mapping[K, V]):
    """A read-only mapping whose items are computed on first use, then kept.

    The batch engine's `PayoutRun.earned` is one: a cell per payee, component and
    period, made from the run's arrays only when the mapping is read (by
    `Ledger.record`, say), not while the statements are built. It behaves as the dict
    it holds: equal to any mapping with the same items.

    >>> earned = BuiltOnUse(lambda: {("ann", "commission", "FY2027-M01"): 1})
    >>> earned == {("ann", "commission", "FY2027-M01"): 1}, len(earned)
    (True, 1)
    """

    __slots__ = ("_build", "_items")

    def __init__(self, build: Callable[[], dict[K, V]]) -> None:
        """Hold ``build``: called once, on first use, for the items."""
        self._build: Callable[[], dict[K, V]] | None = build
        self._items: dict[K, V] | None = None

    def _mapping(self) -> dict[K, V]:
        if self._items is None:
            build, self._build = self._build, None
            assert build is not None  # noqa: S101 - dropped only once the items are kept
            self._items = build()
        return self._items

    def __getitem__(self, key: K) -> V:
        """The value of ``key``."""
        return self._mapping()[key]

    def __iter__(self) -> Iterator[K]:
        """The keys."""
        return iter(self._mapping())

    def __len__(self) -> int:
        """The number of items."""
        return len(self._mapping())

    def __eq__(self, other: object) -> bool:
        """Equal to a mapping with the same items."""
        if isinstance(other, BuiltOnUse):
            other = other._mapping()
        return self._mapping() == other

    __hash__ = None  # type: ignore[assignment]  # equality by content, as a dict

    def __repr__(self) -> str:
        """As the dict it holds."""
        return f"{type(self).__name__}({self._mapping()!r})"

    def keys(self) -> KeysView[K]:
        """The keys, as the dict's view."""
        return self._mapping().keys()

    def values(self) -> ValuesView[V]:
        """The values, as the dict's view."""
        return self._mapping().values()

    def items(self) -> ItemsView[K, V]:
        """The items, as the dict's view."""
        return self._mapping().items()


@final
class StatementsOnUse(Sequence["Statement"]):
    """A run's statements, sorted by payee, each built on first use and then kept.

    The batch engine's `PayoutRun.statements` is one: the payees, totals and line
    counts are known when the run is made; a statement's lines are built when it is
    first read, with those of its neighbours (a block of `BLOCK` statements at once),
    and kept. Iterating over statements none of which is built yet builds them all in
    one go (Python's cyclic collector, paused while they are made, then runs once
    rather than between blocks). It behaves as the tuple it stands for: equal to (and
    hashed, ordered, added and repeated as) that tuple; a copy or a pickle is that
    tuple. Threads may read it at once: a block is built once, under a lock. Once every
    block is built, the builder (and the arrays it reads) is let go.
    """

    __slots__ = ("_build", "_counts", "_lock", "_missing", "_payees", "_statements", "_totals")

    BLOCK: Final = 256
    """How many neighbouring statements are built together."""

    def __init__(
        self,
        payees: Sequence[str],
        totals: Sequence[Money],
        counts: Sequence[int],
        build: Callable[[int, int], Sequence[Statement]],
    ) -> None:
        """Stand for the statements of ``payees`` (sorted, with those totals and counts).

        ``build(first, stop)`` must return the statements of ``payees[first:stop]``.

        Raises:
            ValueError: ``payees``, ``totals`` and ``counts`` differ in length, or
                ``payees`` is not sorted with each payee once.
        """
        if not len(payees) == len(totals) == len(counts):
            msg = "payees, totals and counts must have one item per statement"
            raise ValueError(msg)
        self._payees = tuple(payees)
        # PayoutRun keeps them in this order and looks payees up by bisection.
        if any(map(ge, self._payees, self._payees[1:])):
            msg = "payees must be sorted, each once"
            raise ValueError(msg)
        self._totals = tuple(totals)
        self._counts = tuple(counts)
        self._build: Callable[[int, int], Sequence[Statement]] | None = build
        self._statements: list[Statement | None] = [None] * len(self._payees)
        self._missing = len(self._payees)  # statements not built yet
        self._lock = threading.Lock()

    @property
    def payees(self) -> tuple[str, ...]:
        """The payees, sorted: one per statement."""
        return self._payees

    @property
    def totals(self) -> tuple[Money, ...]:
        """Each statement's total, without building its lines."""
        return self._totals

    @property
    def line_counts(self) -> tuple[int, ...]:
        """How many lines each statement has, without building them."""
        return self._counts

    def __len__(self) -> int:
        """The number of statements."""
        return len(self._payees)

    @overload
    def __getitem__(self, index: int) -> Statement: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Statement, ...]: ...

    def __getitem__(self, index: int | slice) -> Statement | tuple[Statement, ...]:
        """A statement (built with its block if not yet), or a tuple of them."""
        if isinstance(index, slice):
            return tuple(self[at] for at in range(*index.indices(len(self))))
        at = range(len(self))[index]  # negative indices; IndexError when out of range
        made = self._statements[at]
        if made is None:
            first = at - at % self.BLOCK
            self._make(first, min(first + self.BLOCK, len(self)))
            made = self._statements[at]
            assert made is not None  # noqa: S101 - _make fills the whole block
        return made

    def __iter__(self) -> Iterator[Statement]:
        """The statements in payee order (all built at once if none is yet)."""
        if self._missing == len(self) > self.BLOCK:
            self._make_all()
        for at in range(len(self)):
            yield self[at]

    def __eq__(self, other: object) -> bool:
        """Equal to a tuple or `StatementsOnUse` of equal statements."""
        if not isinstance(other, tuple | StatementsOnUse):
            return NotImplemented
        if len(self) != len(other):
            return False
        if isinstance(other, StatementsOnUse) and other.payees != self.payees:
            return False
        return all(map(eq, self, other))

    def __hash__(self) -> int:
        """The hash of the tuple it stands for."""
        return hash(tuple(self))

    def __lt__(self, other: object) -> bool:
        """Ordered as the tuple it stands for."""
        return _as_tuple(self) < _as_tuple(other)

    def __le__(self, other: object) -> bool:
        """Ordered as the tuple it stands for."""
        return _as_tuple(self) <= _as_tuple(other)

    def __gt__(self, other: object) -> bool:
        """Ordered as the tuple it stands for."""
        return _as_tuple(self) > _as_tuple(other)

    def __ge__(self, other: object) -> bool:
        """Ordered as the tuple it stands for."""
        return _as_tuple(self) >= _as_tuple(other)

    def __add__(self, other: object) -> tuple[Statement, ...]:
        """The tuple it stands for, then ``other``'s statements (a tuple)."""
        return tuple(self) + _as_tuple(other)

    def __radd__(self, other: object) -> tuple[Statement, ...]:
        """``other``'s statements (a tuple), then the tuple it stands for."""
        return _as_tuple(other) + tuple(self)

    def __mul__(self, times: SupportsIndex) -> tuple[Statement, ...]:
        """The tuple it stands for, repeated."""
        return tuple(self) * times

    __rmul__ = __mul__

    def __repr__(self) -> str:
        """As the tuple it stands for."""
        return repr(tuple(self))

    def __reduce__(self) -> tuple[type[tuple[Statement, ...]], tuple[tuple[Statement, ...]]]:
        """Pickled (and copied) as the tuple it stands for."""
        return tuple, (tuple(self),)

    def _make(self, first: int, stop: int) -> None:
        """Build statements ``first`` to ``stop - 1`` unless another thread just did."""
        with self._lock:
            if self._statements[first] is None:  # a range is built whole or not at all
                self._build_range(first, stop)

    def _make_all(self) -> None:
        """Build every statement unless some are built already (by another thread)."""
        with self._lock:
            if self._missing == len(self):
                self._build_range(0, len(self))

    def _build_range(self, first: int, stop: int) -> None:
        build = self._build
        assert build is not None  # noqa: S101 - dropped only once every statement is built
        made = build(first, stop)
        if len(made) != stop - first or any(
            s.payee != p for s, p in zip(made, self._payees[first:stop], strict=True)
        ):
            msg = f"the builder gave other statements than those of payees {first} to {stop - 1}"
            raise RuntimeError(msg)
        self._statements[first:stop] = made
        self._missing -= stop - first
        if not self._missing:
            self._build = None  # every statement is kept: the arrays behind it can go


def _as_tuple(statements: object) -> tuple[Statement, ...]:
    """A tuple or `StatementsOnUse` as a tuple; anything else cannot be combined."""
    if isinstance(statements, StatementsOnUse):
        return tuple(statements)
    if isinstance(statements, tuple):
        return statements
    msg = f"statements combine with a tuple, not {type(statements).__name__}"
    raise TypeError(msg)


@final
@dataclass(frozen=True, slots=True)
class PayoutRun:
    """The statements of one plan for one statement period, and what a ledger records.

    Attributes:
        plan: The plan id.
        period: The statement period's label (``"FY2027-M03"``).
        currency: The plan currency (ISO code).
        statements: One `Statement` per payee on the plan in the period, sorted by payee:
            a tuple, or from the batch engine a `StatementsOnUse` that builds each
            statement's lines when first read (``total``, ``payees`` and ``to_frame``
            do not build them).
        problems: Findings about the input (credit that could not be given, payees
            not in the org), as data; not on any statement.
        periods: The labels of the fiscal year's periods from the first through
            ``period``: the periods this run computed.
        earned: What each component earned, per (payee, component, period label),
            for every payee with a statement and every period in ``periods``; only
            nonzero amounts are held (a missing key is zero). Recalculation,
            adjustment and draw lines are not part of it. A read-only mapping; the
            batch engine's (a `BuiltOnUse`) makes its items when first read.
        draw_balances: The recoverable draw each payee with a statement still owes
            after ``period``; only nonzero balances are held.
    """

    plan: str
    period: str
    currency: str
    statements: Sequence[Statement]
    problems: tuple[Problem, ...] = ()
    periods: tuple[str, ...] = ()
    earned: Mapping[EarnedKey, Money] = field(default_factory=lambda: MappingProxyType({}))
    draw_balances: Mapping[str, Money] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        """Freeze the mappings and sort the statements by payee."""
        if not isinstance(self.statements, StatementsOnUse):  # sorted already
            object.__setattr__(self, "statements", tuple(sorted(self.statements, key=_payee)))
        object.__setattr__(self, "problems", tuple(self.problems))
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "earned", _frozen(self.earned))
        object.__setattr__(self, "draw_balances", _frozen(self.draw_balances))

    def statement(self, payee: str) -> Statement:
        """The statement of ``payee``.

        Raises:
            KeyError: ``payee`` has no statement in this run (not on the plan).
        """
        statements = self.statements
        if isinstance(statements, StatementsOnUse):  # its payees, without building
            payees = statements.payees
            at = bisect_left(payees, payee)
            found = at < len(payees) and payees[at] == payee
        else:
            at = bisect_left(statements, payee, key=_payee)  # sorted by payee
            found = at < len(statements) and statements[at].payee == payee
        if found:
            return statements[at]
        msg = f"{payee!r} has no statement for plan {self.plan!r} in {self.period}"
        raise KeyError(msg)

    @property
    def payees(self) -> tuple[str, ...]:
        """The payees with a statement, sorted."""
        if isinstance(self.statements, StatementsOnUse):
            return self.statements.payees
        return tuple(statement.payee for statement in self.statements)

    @property
    def total(self) -> Money:
        """The sum of every statement's total (``0.00`` at the minor unit when none)."""
        zero = Money.from_minor_units(0, self.currency)
        return zero + Money.sum(_totals(self.statements), self.currency)

    def to_dict(self) -> dict[str, object]:
        """The run as JSON-safe data: amounts as decimal strings, dates ISO."""
        return {
            "plan": self.plan,
            "period": self.period,
            "currency": self.currency,
            "total": money_text(self.total),
            "statements": [_statement_dict(s) for s in self.statements],
            "problems": [_problem_dict(p) for p in self.problems],
            "periods": list(self.periods),
            "earned": [
                {"payee": p, "component": c, "period": k, "amount": money_text(v)}
                for (p, c, k), v in sorted(self.earned.items())
            ],
            "draw_balances": {p: money_text(v) for p, v in sorted(self.draw_balances.items())},
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per statement: payee, plan, period, currency, total, lines (pandas)."""
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        statements = self.statements
        if isinstance(statements, StatementsOnUse):
            counts: Sequence[int] = statements.line_counts
        else:
            counts = [len(s.lines) for s in statements]
        size = len(statements)
        columns = {
            "payee": list(self.payees),
            "plan": [self.plan] * size,
            "period": [self.period] * size,
            "currency": [self.currency] * size,
            "total": [total.amount for total in _totals(statements)],
            "lines": list(counts),
        }
        return pd.DataFrame(columns, columns=list(columns))

    def lines_frame(self) -> pd.DataFrame:
        """One row per statement line, with its payee and English explanation (pandas)."""
        require_pandas()
        import pandas as pd  # noqa: PLC0415 - an optional dependency, imported on use

        rows = [
            {"payee": s.payee, "position": position, **_line_row(line)}
            for s in self.statements
            for position, line in enumerate(s.lines)
        ]
        return pd.DataFrame(rows, columns=["payee", "position", *_LINE_COLUMNS])


def _payee(statement: Statement) -> str:
    return statement.payee


def _totals(statements: Sequence[Statement]) -> Sequence[Money]:
    """Each statement's total; a `StatementsOnUse` gives them without building lines."""
    if isinstance(statements, StatementsOnUse):
        return statements.totals
    return [statement.total for statement in statements]


_LINE_COLUMNS: Final = (
    "kind",
    "component",
    "amount",
    "transaction",
    "date",
    "credit",
    "basis",
    "before",
    "tiers",
    "rates",
    "exact",
    "capped_from",
    "attainment",
    "threshold",
    "rank",
    "period",
    "note",
    "days",
    "explanation",
)


def _line_row(line: Line) -> dict[str, object]:
    row: dict[str, object] = {}
    for name in _LINE_COLUMNS[:-1]:
        value = getattr(line, name)
        row[name] = value.amount if isinstance(value, Money) else value
    row["explanation"] = line.explain("en")
    return row


def _line_dict(line: Line) -> dict[str, object]:
    data: dict[str, object] = {}
    for item in dataclasses.fields(line):
        value = getattr(line, item.name)
        if value is None or value == ():
            continue
        if isinstance(value, Money):
            data[item.name] = money_text(value)
        elif isinstance(value, Decimal):
            # Equal lines give equal text whichever engine made them (50.00 == 50.000000).
            data[item.name] = f"{tidy(value, line.amount.currency.minor_units):f}"
        elif item.name == "rates":
            data[item.name] = [f"{rate.normalize():f}" for rate in value]
        elif item.name in {"tiers", "days"}:
            data[item.name] = list(value)
        elif item.name == "date":
            data[item.name] = value.isoformat()
        else:
            data[item.name] = value
    return data


def _statement_dict(statement: Statement) -> dict[str, object]:
    return {
        "payee": statement.payee,
        "plan": statement.plan,
        "period": statement.period,
        "total": money_text(statement.total),
        "lines": [_line_dict(line) for line in statement.lines],
        "problems": [_problem_dict(p) for p in statement.problems],
    }


def _problem_dict(problem: Problem) -> dict[str, object]:
    where = str(problem.location) if problem.location else None
    return {
        "code": problem.code,
        "severity": problem.severity.value,
        "message": problem.message,
        "location": where,
    }


_Stated = tuple[str, str, str]  # (payee, plan, period label)
_Amount = tuple[str, str, str, str]  # (payee, plan, component, period label)


@final
@dataclass(frozen=True, slots=True)
class _State:
    amounts: Mapping[_Amount, Money]
    recorded: Mapping[_Stated, str]  # -> the plan currency code
    closed: Mapping[str, str]  # plan -> the last period recorded
    draws: Mapping[tuple[str, str], Money]


_EMPTY: Final = _State({}, {}, {}, {})


@final
class Ledger:
    """What earlier statements stated, between runs: immutable; `record` returns a new one.

    It holds, per (payee, plan, component, period), the amount the component was last
    stated to earn (the recalculation of a later period compares against it), which
    periods of each plan are recorded, and per (payee, plan) the recoverable draw still
    owed.

    >>> ledger = Ledger()
    >>> ledger.stated("ann", "ae", "commission", "FY2027-M01") is None
    True
    >>> ledger.draw_balance("ann", "ae") is None
    True
    """

    __slots__ = ("_state",)

    def __init__(self) -> None:
        """An empty ledger: nothing stated, no draw owed."""
        self._state = _EMPTY

    def __eq__(self, other: object) -> bool:
        """Equal when everything recorded is equal."""
        if not isinstance(other, Ledger):
            return NotImplemented
        return self._state == other._state

    __hash__ = None  # type: ignore[assignment]  # equality by content; not a dict key

    def __repr__(self) -> str:
        """A short summary."""
        state = self._state
        return f"<Ledger {len(state.recorded)} statements, {len(state.draws)} draws owed>"

    def stated(self, payee: str, plan: str, component: str, period: str) -> Money | None:
        """What ``component`` was last stated to earn for ``payee`` in ``period``.

        ``None`` when no statement of ``payee`` under ``plan`` for ``period`` was
        recorded; zero when one was and the component earned nothing.
        """
        amount = self._state.amounts.get((payee, plan, component, period))
        if amount is not None:
            return amount
        currency = self._state.recorded.get((payee, plan, period))
        return None if currency is None else Money.zero(currency)

    def stated_many(
        self, plan: str, component: str, payees: Sequence[str], periods: Sequence[str]
    ) -> list[Money | None]:
        """`stated` for every payee and period at once (the batch engine's recalculation).

        Returns:
            ``len(payees) * len(periods)`` items, payee-major: the item of
            ``payees[i]`` and ``periods[j]`` is ``stated(payees[i], plan, component,
            periods[j])``.

        >>> Ledger().stated_many("ae", "commission", ["ann", "bo"], ["FY2027-M01"])
        [None, None]
        """
        state = self._state
        amounts, recorded = state.amounts, state.recorded
        keys = [(p, plan, component, k) for p in payees for k in periods]
        found = list(map(amounts.get, keys))
        zeros: dict[str, Money] = {}
        for at in list(compress(count(), map(is_, found, repeat(None)))):
            payee, period = payees[at // len(periods)], periods[at % len(periods)]
            code = recorded.get((payee, plan, period))
            if code is not None:
                if code not in zeros:
                    zeros[code] = Money.zero(code)
                found[at] = zeros[code]
        return found

    def draw_balance(self, payee: str, plan: str) -> Money | None:
        """The recoverable draw ``payee`` still owes under ``plan``; ``None``: nothing."""
        return self._state.draws.get((payee, plan))

    def last_period(self, plan: str) -> str | None:
        """The label of the last period recorded for ``plan``, or ``None``.

        Labels of one fiscal calendar sort in time order (``FY2027-M09`` <
        ``FY2027-M10``), which is how periods are compared.
        """
        return self._state.closed.get(plan)

    def record(self, run: PayoutRun) -> Ledger:
        """A new ledger with ``run`` recorded.

        For every payee with a statement in ``run``, what each component earned in
        every period through ``run.period`` (as recomputed: a recalculation line is
        paid once) and the draw balance after it.

        Raises:
            InvalidValueError: ``run``'s period is not after the last period recorded
                for its plan (code ``incentives.period_recorded``): issued statements
                are never rewritten; calculate from the ledger as it was instead.
        """
        state = self._state
        last = state.closed.get(run.plan)
        if last is not None and run.period <= last:
            msg = (
                f"plan {run.plan!r} is recorded through {last}; {run.period} cannot be "
                "recorded again (record each period once, in order)"
            )
            raise InvalidValueError(
                msg, code="incentives.period_recorded", location=Location(path="run.period")
            )
        payees = set(run.payees)
        periods = set(run.periods)
        amounts = {
            key: value
            for key, value in state.amounts.items()
            if not (key[1] == run.plan and key[0] in payees and key[3] in periods)
        }
        for (payee, component, period), amount in run.earned.items():
            if payee in payees and not amount.amount.is_zero():
                amounts[(payee, run.plan, component, period)] = amount
        recorded = dict(state.recorded)
        recorded.update({(p, run.plan, k): run.currency for p in payees for k in run.periods})
        draws = {
            key: value
            for key, value in state.draws.items()
            if not (key[1] == run.plan and key[0] in payees)
        }
        for payee, balance in run.draw_balances.items():
            if payee in payees and not balance.amount.is_zero():
                draws[(payee, run.plan)] = balance
        return _ledger(_State(amounts, recorded, {**state.closed, run.plan: run.period}, draws))

    def to_dict(self) -> dict[str, object]:
        """The ledger as JSON-safe data (amounts as decimal strings); see `from_dict`."""
        state = self._state
        return {
            "format": LEDGER_FORMAT,
            "closed": dict(sorted(state.closed.items())),
            "statements": [
                {"payee": p, "plan": plan, "period": k, "currency": currency}
                for (p, plan, k), currency in sorted(state.recorded.items())
            ],
            "earned": [
                {
                    "payee": p,
                    "plan": plan,
                    "component": c,
                    "period": k,
                    "amount": money_text(v),
                    "currency": v.currency.code,
                }
                for (p, plan, c, k), v in sorted(state.amounts.items())
            ],
            "draws": [
                {"payee": p, "plan": plan, "amount": money_text(v), "currency": v.currency.code}
                for (p, plan), v in sorted(state.draws.items())
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Ledger:
        """Read back what `to_dict` wrote.

        Raises:
            InvalidValueError: the data is not a ledger (code ``incentives.invalid_ledger``,
                location naming the entry).
        """
        if not isinstance(data, dict) or data.get("format") != LEDGER_FORMAT:
            _bad_ledger("ledger.format", f"not a ledger of format {LEDGER_FORMAT}")
        closed = data.get("closed", {})
        if not isinstance(closed, dict):
            _bad_ledger("ledger.closed", "closed must map plan ids to period labels")
        recorded: dict[_Stated, str] = {}
        for index, entry in _entries(data, "statements"):
            payee, plan, period, currency = _texts(
                entry, ("payee", "plan", "period", "currency"), f"statements[{index}]"
            )
            recorded[(payee, plan, period)] = currency
        amounts: dict[_Amount, Money] = {}
        for index, entry in _entries(data, "earned"):
            payee, plan, component, period = _texts(
                entry, ("payee", "plan", "component", "period"), f"earned[{index}]"
            )
            amount = _money(entry, f"ledger.earned[{index}]")
            amounts[(payee, plan, component, period)] = amount
            recorded.setdefault((payee, plan, period), amount.currency.code)
        draws: dict[tuple[str, str], Money] = {}
        for index, entry in _entries(data, "draws"):
            payee, plan = _texts(entry, ("payee", "plan"), f"draws[{index}]")
            draws[(payee, plan)] = _money(entry, f"ledger.draws[{index}]")
        plans = {str(k): str(v) for k, v in closed.items()}
        return _ledger(_State(amounts, recorded, plans, draws))


def _ledger(state: _State) -> Ledger:
    ledger = Ledger()
    object.__setattr__(ledger, "_state", state)
    return ledger


def _bad_ledger(where: str, message: str) -> NoReturn:
    raise InvalidValueError(
        message, code="incentives.invalid_ledger", location=Location(path=where)
    )


def _entries(data: Mapping[str, object], name: str) -> Iterator[tuple[int, Mapping[str, object]]]:
    raw = data.get(name, [])
    if not isinstance(raw, list):
        _bad_ledger(f"ledger.{name}", f"{name} must be a list")
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            _bad_ledger(f"ledger.{name}[{index}]", "an entry must be a mapping")
        yield index, entry


def _texts(entry: Mapping[str, object], names: tuple[str, ...], where: str) -> tuple[str, ...]:
    values: list[str] = []
    for name in names:
        value = entry.get(name)
        if not isinstance(value, str) or not value:
            _bad_ledger(f"ledger.{where}.{name}", f"{name} must be a non-empty string")
        values.append(str(value))
    return tuple(values)


def _money(entry: Mapping[str, object], where: str) -> Money:
    amount, currency = entry.get("amount"), entry.get("currency")
    if not isinstance(amount, str) or not isinstance(currency, str):
        _bad_ledger(f"{where}.amount", "amount and currency must be strings")
    try:
        return Money(Decimal(str(amount)), str(currency))
    except (InvalidOperation, InvalidValueError) as err:
        _bad_ledger(f"{where}.amount", f"cannot read {amount!r} {currency!r}: {err}")

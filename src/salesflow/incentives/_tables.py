"""Rate tables: the definition of tiers and rates (data, not code).

A `RateTable` is a frozen pydantic model that round-trips JSON/YAML exactly and has a
JSON Schema. `load_rate_table` reports every problem of a table at once, each located
(``table.tiers[1].rate``), as one `DefinitionError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Final, Literal, Self, final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from salesflow._definitions import read_mapping, validation_problems
from salesflow.errors import DefinitionError, Location, Problem, Severity

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    _Report = Callable[[str, str, str], None]

__all__ = [
    "RATE_PLACES",
    "Basis",
    "Boundary",
    "RateTable",
    "Tier",
    "TierStyle",
    "load_rate_table",
]

RATE_PLACES: Final = 6
"""Rates, and the edges of attainment tables, have at most this many decimal places."""

TierStyle = Literal["marginal", "retroactive"]
TierStyle.__doc__ = """How a tier's rate applies.

* ``"marginal"``: only to the part of the value inside the tier (an accelerator).
* ``"retroactive"``: to the whole value once it is in the tier (reaching it re-rates
  everything below).
"""

Boundary = Literal["up", "down"]
Boundary.__doc__ = """Which tier a value exactly on an edge belongs to.

* ``"up"`` (the default): to the upper tier (a tier is ``[start, end)``).
* ``"down"``: to the lower tier (a tier is ``(start, end]``; 0 is in the first).
"""

Basis = Literal["amount", "attainment"]
Basis.__doc__ = """What the tier edges measure.

* ``"amount"`` (the default): amounts in the currency rated.
* ``"attainment"``: fractions of the quota (``1.0`` is 100%); a quota is required.
"""


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _at_most_rate_places(value: Decimal) -> Decimal:
    if _places(value.normalize()) > RATE_PLACES:
        msg = f"{value} has more than {RATE_PLACES} decimal places"
        raise ValueError(msg)
    return value


_NonNegative = Annotated[Decimal, Field(ge=0)]
_Rate = Annotated[Decimal, Field(ge=0), AfterValidator(_at_most_rate_places)]


@final
class Tier(BaseModel):
    """One tier of a `RateTable`.

    Attributes:
        start: Where the tier begins (an amount, or a fraction of quota), ``>= 0``.
        end: Where it ends, ``None`` for the open last tier.
        rate: The rate (``0.05`` is 5%), ``>= 0``, at most `RATE_PLACES` decimals.
        style: `TierStyle`; default ``"marginal"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: _NonNegative
    end: _NonNegative | None = None
    rate: _Rate
    style: TierStyle = "marginal"


@final
class RateTable(BaseModel):
    """Tiers and rates, contiguous from 0, the last one open.

    Attributes:
        basis: `Basis`; default ``"amount"``.
        tiers: The tiers, sorted, with no gap or overlap; only the last is open.
        boundary: `Boundary`; default ``"up"``.

    >>> table = RateTable.model_validate({"tiers": [
    ...     {"start": 0, "end": 100000, "rate": "0.02"},
    ...     {"start": 100000, "rate": "0.05"},
    ... ]})
    >>> table.basis, table.boundary, table.tiers[1].style
    ('amount', 'up', 'marginal')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    basis: Basis = "amount"
    tiers: tuple[Tier, ...]
    boundary: Boundary = "up"

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        problems = table_problems([_shape_of(t) for t in self.tiers], self.basis, path="table")
        if problems:
            raise ValueError("; ".join(f"{p.location}: {p.message}" for p in problems))
        return self


@final
@dataclass(frozen=True, slots=True)
class _Edges:
    """A tier's start and end as far as they read (``None``: unreadable)."""

    start: Decimal | None
    end: Decimal | None
    open: bool  # the end is present and null


def _shape_of(tier: Tier) -> _Edges:
    return _Edges(tier.start, tier.end, open=tier.end is None)


_EDGE: Final = TypeAdapter(_NonNegative)


def _read_edges(raw: object) -> _Edges:
    if not isinstance(raw, dict):
        return _Edges(None, None, open=False)

    def read(name: str) -> Decimal | None:
        try:
            return _EDGE.validate_python(raw.get(name))
        except ValidationError:
            return None

    return _Edges(read("start"), read("end"), open=raw.get("end") is None)


def table_problems(tiers: Sequence[_Edges], basis: object, *, path: str) -> list[Problem]:
    """Every problem of the shape of ``tiers``: order, gaps, overlaps, the open end.

    Checks that need an edge that did not read are skipped; the field validation
    reports that edge.
    """
    problems: list[Problem] = []

    def report(code: str, where: str, message: str) -> None:
        location = Location(path=f"{path}{where}")
        problems.append(Problem(f"table.{code}", Severity.ERROR, message, location))

    if not tiers:
        report("no_tiers", ".tiers", "a rate table needs at least one tier")
        return problems
    if tiers[0].start is not None and tiers[0].start != 0:
        report(
            "not_from_zero", ".tiers[0].start", f"the first tier starts at {tiers[0].start}, not 0"
        )
    for index, tier in enumerate(tiers):
        _tier_problems(index, tier, tiers, report)
        if basis == "attainment":
            _places_problems(index, tier, report)
    return problems


def _tier_problems(index: int, tier: _Edges, tiers: Sequence[_Edges], report: _Report) -> None:
    here = f".tiers[{index}]"
    last = index == len(tiers) - 1
    if tier.open and not last:
        report("open_not_last", f"{here}.end", f"tiers[{index}] is open but is not the last")
    if last and not tier.open and tier.end is not None:
        report(
            "last_not_open",
            f"{here}.end",
            f"the last tier must be open (end: null), not end at {tier.end}",
        )
    if tier.start is not None and tier.end is not None and tier.end <= tier.start:
        report(
            "empty_tier",
            here,
            f"tiers[{index}] ends at {tier.end}, not after its start {tier.start}",
        )
    following = None if last else tiers[index + 1].start
    if following is None or tier.end is None:
        return
    nxt = index + 1
    if following > tier.end:
        message = (
            f"gap between tiers[{index}] (ends at {tier.end}) "
            f"and tiers[{nxt}] (starts at {following})"
        )
        report("gap", f".tiers[{nxt}].start", message)
    elif following < tier.end:
        message = (
            f"tiers[{index}] (ends at {tier.end}) overlaps tiers[{nxt}] (starts at {following})"
        )
        report("overlap", f".tiers[{nxt}].start", message)


def _places_problems(index: int, tier: _Edges, report: _Report) -> None:
    for name, edge in (("start", tier.start), ("end", tier.end)):
        if edge is not None and _places(edge.normalize()) > RATE_PLACES:
            message = f"attainment edge {edge} has more than {RATE_PLACES} decimal places"
            report("edge_places", f".tiers[{index}].{name}", message)


def load_rate_table(data: str | Mapping[str, object] | RateTable) -> RateTable:
    """Load a table from YAML/JSON text or parsed data, reporting every problem at once.

    Raises:
        ParseError: the text is not valid YAML, with its line and column.
        DefinitionError: one `Problem` per fault, located like ``table.tiers[1].rate``,
            with codes ``table.<pydantic error type>`` for fields and ``table.gap``,
            ``table.overlap``, ``table.not_from_zero``, ``table.open_not_last``,
            ``table.last_not_open``, ``table.empty_tier``, ``table.edge_places``,
            ``table.no_tiers`` for the shape.

    >>> load_rate_table({"tiers": [
    ...     {"start": 0, "end": 100, "rate": "-0.01"},
    ...     {"start": 120, "rate": "0.05"},
    ... ]})
    Traceback (most recent call last):
    ...
    salesflow.errors.DefinitionError: 2 problems:
      error table.greater_than_equal at table.tiers[0].rate: Input should be ...
      error table.gap at table.tiers[1].start: gap between tiers[0] (ends at 100) and ...
    """
    if isinstance(data, RateTable):
        return data
    if isinstance(data, str):
        data = read_mapping(data, source="table", what="a rate table")
    try:
        return RateTable.model_validate(data)
    except ValidationError as err:
        found = validation_problems(err, path="table", code="table")
        # The shape is re-checked below with every edge that reads, located per tier.
        problems = [p for p in found if p.location is None or p.location.path != "table"]
    shape: list[Problem] = []
    if isinstance(data.get("tiers"), list | tuple):
        edges = [_read_edges(raw) for raw in _raw_tiers(data)]
        shape = table_problems(edges, data.get("basis", "amount"), path="table")
    raise DefinitionError.from_problems(_in_document_order(problems + shape))


def _raw_tiers(data: Mapping[str, object]) -> list[object]:
    raw = data.get("tiers")
    return list(raw) if isinstance(raw, list | tuple) else []


def _in_document_order(problems: list[Problem]) -> list[Problem]:
    def key(problem: Problem) -> tuple[int, str]:
        where = problem.location.path if problem.location and problem.location.path else ""
        index = where.split("[", 1)[1].split("]", 1)[0] if "[" in where else "-1"
        return (int(index) if index.isdigit() else -1, where)

    return sorted(problems, key=key)

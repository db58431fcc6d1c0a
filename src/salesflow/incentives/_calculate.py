"""`calculate`: one plan's statements for one period, by the engine the caller picks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from salesflow.errors import InvalidValueError, Location

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from decimal import Decimal

    from salesflow.periods import Period
    from salesflow.targets import OrgTree

    from ._inputs import Adjustment, Assignment, Transaction
    from ._plan import Plan
    from ._prepare import QuotaSource
    from ._run import Ledger, PayoutRun

__all__ = ["Engine", "calculate"]

Engine = Literal["reference", "batch"]
Engine.__doc__ = """Which engine computes a run; both give equal runs, to the cent.

* ``"reference"``: the scalar reference engine (Decimal, one row at a time; readable).
* ``"batch"``: the vectorized engine (numpy, integer minor units; for big inputs).
"""


def calculate(  # noqa: PLR0913 - the documented entry point; everything after `*` is a keyword
    plan: Plan | Sequence[Plan],
    transactions: Iterable[Transaction],
    assignments: Iterable[Assignment],
    *,
    period: Period | str,
    ledger: Ledger,
    quotas: Mapping[str, QuotaSource] | None = None,
    kpis: Mapping[str, Mapping[tuple[str, str], Decimal]] | None = None,
    org: OrgTree | None = None,
    fx: Mapping[str, Decimal] | None = None,
    adjustments: Iterable[Adjustment] = (),
    engine: Engine = "batch",
) -> PayoutRun:
    """The statements of every payee on ``plan`` for ``period``.

    Every period of the fiscal year from the first through ``period`` is computed
    (running totals, gates, caps, milestones and recalculations need them); only
    ``period``'s statements are returned. See docs/incentives.md for the semantics.

    Args:
        plan: The plan, or the versions of one plan id (same fiscal year, calendar,
            period, currency and rounding; effective ranges that do not overlap).
        transactions: The transactions (any order; ids unique).
        assignments: Who is on which plan when (other plans' assignments are ignored).
        period: The statement period: a `Period` of the plan's grain, or its label.
        ledger: What earlier statements stated (`Ledger()` when none).
        quotas: Measure name -> its quotas (a `TargetGrid` or a mapping
            (payee, period label) -> `Money` / ``int``).
        kpis: External measure name -> (payee, period label) -> value.
        org: The org, for override (roll-up) credit.
        fx: Currency code -> plan-currency units per unit, for transactions in
            another currency.
        adjustments: Manual adjustments; those of this plan and period are paid.
        engine: ``"batch"`` (default) or ``"reference"``; equal results.

    Raises:
        InvalidValueError: bad input, with a stable code and a location (see the
            errors table in docs/incentives.md); nothing is half-computed.
    """
    if engine == "reference":
        from ._reference import calculate_reference  # noqa: PLC0415 - engines load on use

        compute = calculate_reference
    elif engine == "batch":
        from ._batch import calculate_batch  # noqa: PLC0415 - engines load on use

        compute = calculate_batch
    else:
        msg = f"engine must be 'reference' or 'batch', not {engine!r}"
        raise InvalidValueError(
            msg, code="incentives.unknown_engine", location=Location(path="engine")
        )
    return compute(
        plan,
        transactions,
        assignments,
        period=period,
        ledger=ledger,
        quotas=quotas,
        kpis=kpis,
        org=org,
        fx=fx,
        adjustments=adjustments,
    )

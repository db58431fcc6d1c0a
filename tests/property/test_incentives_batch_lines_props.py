"""Property tests: the statement lines the batch engine builds in bulk (`_batch_lines`).

A range of payees gives, payee by payee, what each payee's own one-payee range gives;
its bulk lines then the rest are the component's lines (`Paid.lines`, the commission's
built by the same builders) less the zero lines a statement does not show; the bulk
lines counted are the bulk lines built; and what they pay plus the rest is what the
lines pay. That the lines equal the reference
engine's is `test_incentives_engines_props`'s (statement for statement).
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings

from salesflow.errors import SalesflowError
from salesflow.incentives import Ledger, PayoutColumns, calculate_columns
from salesflow.incentives._batch_lines import bulk_lines, component_lines

from strategies.incentive_plans import Scenario, scenarios


def _columns(scenario: Scenario) -> PayoutColumns | None:
    arguments: dict[str, Any] = scenario.arguments()
    try:
        return calculate_columns(**arguments, ledger=Ledger())
    except SalesflowError:
        return None  # bad input is the engines' error test's, not this one's


@settings(max_examples=60)
@given(scenarios(kinds=("commission", "clawed", "bonus")))
def test_bulk_lines_of_a_range_are_each_payees_own_shown_lines(scenario: Scenario) -> None:
    columns = _columns(scenario)
    assume(columns is not None and columns.payees)
    assert columns is not None
    count = len(columns.payees)
    for paid in columns._paid.values():
        every = component_lines(paid, 0, count)
        built = bulk_lines(paid, 0, count)
        for position in range(count):
            own = [
                line
                for line in paid.lines(position)
                if line.kind in {"credit", "gate"} or not line.amount.amount.is_zero()
            ]
            assert built[position] + every.rest[position] == own
            assert int(every.counts[position]) == len(built[position])
            one = component_lines(paid, position, position + 1)
            assert bulk_lines(paid, position, position + 1) == [built[position]]
            assert one.rest == [every.rest[position]]
            # What the bulk lines pay, plus the rest, is what the lines pay.
            paid_units = sum(int(line.amount.amount * 100) for line in own)
            rest_units = sum(int(line.amount.amount * 100) for line in every.rest[position])
            assert int(every.minor[position]) + rest_units == paid_units

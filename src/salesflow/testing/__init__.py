"""Helpers for test suites of code built on salesflow (install the ``[testing]`` extra).

`salesflow.testing.workflow` proves workflow definitions sound: path enumeration,
pytest assertions with readable messages, Hypothesis strategies and a
``RuleBasedStateMachine`` that drives instances. Hypothesis is imported only here.
"""

__all__: list[str] = []

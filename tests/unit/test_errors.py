"""The exception tree: every leaf is a SalesflowError and the builtin a caller expects."""

import pickle

import pytest

import salesflow
from salesflow import errors
from salesflow.errors import (
    CalendarError,
    CurrencyMismatchError,
    DefinitionError,
    EvaluationError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    InvalidValueError,
    Location,
    MoneyOverflowError,
    ParseError,
    Problem,
    SalesflowError,
    Severity,
    UnknownCurrencyError,
)

BUILTIN_OF = {
    InvalidValueError: ValueError,
    CurrencyMismatchError: ValueError,
    UnknownCurrencyError: ValueError,
    ParseError: ValueError,
    ExpressionSyntaxError: ValueError,
    DefinitionError: ValueError,
    ExpressionTypeError: TypeError,
    CalendarError: ValueError,
    EvaluationError: ArithmeticError,
    MoneyOverflowError: OverflowError,
}


def _error_classes() -> set[type[SalesflowError]]:
    return {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, SalesflowError) and obj is not SalesflowError
    }


def test_every_error_class_is_mapped_to_its_builtin_in_this_test():
    assert _error_classes() == set(BUILTIN_OF)


@pytest.mark.parametrize(("cls", "builtin"), list(BUILTIN_OF.items()), ids=lambda c: c.__name__)
def test_each_leaf_is_catchable_as_salesflow_error_and_as_its_builtin(cls, builtin):
    err = cls("boom")
    assert isinstance(err, SalesflowError)
    assert isinstance(err, builtin)


def test_default_codes_are_distinct_so_hosts_can_match_on_them():
    codes = [cls.default_code for cls in _error_classes()]
    assert len(codes) == len(set(codes))


def test_instance_code_refines_the_class_default():
    err = ParseError("bad label", code="periods.bad_label")
    assert err.code == "periods.bad_label"
    assert ParseError("x").code == "parse"


def test_message_is_prefixed_by_the_location_and_parts_are_exposed():
    err = ExpressionSyntaxError("unexpected ')'", location=Location(line=2, column=14))
    assert str(err) == "line 2, column 14: unexpected ')'"
    assert (err.line, err.column, err.path) == (2, 14, None)
    assert err.message == "unexpected ')'"


def test_path_location_renders_the_document_path():
    err = DefinitionError("must be >= 0", location=Location(path="plan.tiers[1].rate"))
    assert str(err) == "plan.tiers[1].rate: must be >= 0"
    assert err.path == "plan.tiers[1].rate"


def test_error_without_location_is_just_the_message():
    err = CalendarError("2301-01-01 is outside the calendar")
    assert str(err) == "2301-01-01 is outside the calendar"
    assert err.location is None


def test_definition_error_reports_every_problem_at_once():
    problems = [
        Problem("tiers.gap", Severity.ERROR, "gap between 100 and 120", Location(path="t[1]")),
        Problem("tiers.overlap", Severity.ERROR, "overlap at 200", Location(path="t[3]")),
    ]
    err = DefinitionError.from_problems(problems)
    assert err.problems == tuple(problems)
    assert "gap between 100 and 120" in str(err)
    assert "overlap at 200" in str(err)
    assert str(err).startswith("2 problems:")


def test_definition_error_from_a_single_problem_takes_its_code_and_location():
    only = Problem("x.bad", Severity.ERROR, "bad", Location(path="a.b"))
    err = ExpressionTypeError.from_problems([only])
    assert isinstance(err, ExpressionTypeError)
    assert err.code == "x.bad"
    assert str(err) == "a.b: bad"


def test_problem_renders_severity_code_location_and_message():
    p = Problem(
        "workflow.dead_end", Severity.WARNING, "'审批中' has no way out", Location(path="s")
    )
    assert str(p) == "warning workflow.dead_end at s: '审批中' has no way out"
    assert str(Problem("c", Severity.INFO, "m")) == "info c: m"


def test_problems_and_locations_are_immutable_values():
    p = Problem("c", Severity.INFO, "m", Location(path="x"))
    with pytest.raises(AttributeError):
        p.code = "d"  # type: ignore[misc]
    assert p == Problem("c", Severity.INFO, "m", Location(path="x"))
    assert hash(p) == hash(Problem("c", Severity.INFO, "m", Location(path="x")))


def test_errors_are_exported_from_the_package_root():
    for cls in _error_classes():
        assert getattr(salesflow, cls.__name__) is cls


def test_problem_survives_pickling_for_multiprocess_hosts():
    p = Problem("c", Severity.ERROR, "m", Location(path="x", line=1, column=2))
    assert pickle.loads(pickle.dumps(p)) == p  # noqa: S301 - our own bytes


@pytest.mark.parametrize(
    "cls", sorted(BUILTIN_OF, key=lambda c: c.__name__), ids=lambda c: c.__name__
)
def test_errors_survive_pickling_with_code_location_and_problems(cls):
    problems = (Problem("c", Severity.ERROR, "m"),)
    kwargs = {"problems": problems} if issubclass(cls, DefinitionError) else {}
    err = cls("boom", code="x.y", location=Location(path="p", line=3, column=4), **kwargs)
    back = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes
    assert type(back) is cls
    assert (back.code, back.location, back.message, str(back)) == (
        "x.y",
        err.location,
        "boom",
        str(err),
    )
    assert getattr(back, "problems", ()) == kwargs.get("problems", ())

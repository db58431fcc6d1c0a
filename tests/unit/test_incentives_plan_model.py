"""Incentive plan definitions: loading, round trips, and every problem located."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from salesflow.errors import DefinitionError, InvalidValueError
from salesflow.incentives._inputs import Adjustment, Assignment, Split, Transaction
from salesflow.incentives._plan import Commission, Plan, Scorecard, load_plan
from salesflow.money import Money

PLAN_YAML = """
id: ae-2027
name: 客户经理提成方案
currency: CNY
fiscal_year: 2027
period: quarter
rounding: half_up
fields: {product: string, new_logo: bool}
crediting: {override_levels: 1}
measures:
  bookings: {quota: true, where: 'product != "services"'}
  all_credit: {credit: [direct, overlay, override]}
  new_logos: {aggregate: count, where: new_logo}
  csat: {aggregate: external}
components:
  - kind: commission
    id: commission
    measure: bookings
    rating: cumulative
    accumulate: year
    table:
      basis: attainment
      tiers:
        - {start: 0, end: "0.5", rate: "0.02"}
        - {start: "0.5", end: 1, rate: "0.05", style: retroactive}
        - {start: 1, rate: "0.08"}
    gate: {measure: bookings, attainment: "0.3"}
    cap: {per_transaction: "50000", per_year: "200000", target_incentive_multiple: 2}
    floor: {per_period: "1000"}
    clawback: {within_days: 90}
  - {kind: bonus, id: logo-spiff, measure: new_logos, amount: "2000", per: transaction,
     start: 2027-03-01, end: 2027-04-30}
  - {kind: milestone, id: club, measure: bookings, attainment: 1, amount: "10000", accumulate: year}
  - kind: scorecard
    id: scorecard
    target_incentive: "0.3"
    gate: {measure: bookings, attainment: "0.5"}
    kpis:
      - measure: bookings
        weight: "0.6"
        curve:
          - {attainment: "0.5", payout: 0}
          - {attainment: 1, payout: 1}
          - {attainment: "1.5", payout: 2}
      - measure: csat
        weight: "0.4"
        curve: [{attainment: "0.8", payout: "0.5"}, {attainment: 1, payout: 1}]
  - {kind: pool, id: team-pool, group_by: team, measure: bookings, rate: "0.001",
     split: contribution}
  - {kind: contest, id: q-contest, measure: new_logos, prizes: ["5000", "3000", "1000"],
     ties: share, accumulate: period, minimum: 1}
draw: {amount: "3000", recoverable: true}
"""


def _base(**changes):
    data = {
        "id": "p",
        "currency": "CNY",
        "fiscal_year": 2027,
        "rounding": "half_even",
        "measures": {"bookings": {"quota": True}},
        "components": [
            {
                "kind": "commission",
                "id": "c",
                "measure": "bookings",
                "rating": "individual",
                "accumulate": "period",
                "table": {"tiers": [{"start": 0, "rate": "0.05"}]},
            }
        ],
    }
    data.update(changes)
    return data


def _codes(data):
    with pytest.raises(DefinitionError) as caught:
        load_plan(data)
    return [(p.code, str(p.location.path)) for p in caught.value.problems]


def test_a_full_plan_loads_with_every_component_kind():
    plan = load_plan(PLAN_YAML)
    kinds = [component.kind for component in plan.components]
    assert kinds == ["commission", "bonus", "milestone", "scorecard", "pool", "contest"]
    commission = plan.component("commission")
    assert isinstance(commission, Commission)
    assert commission.cap is not None
    assert commission.cap.target_incentive_multiple == Decimal(2)
    assert plan.period.value == "quarter"
    assert plan.draw is not None
    assert plan.draw.recoverable is True
    assert plan.name == "客户经理提成方案"


def test_a_plan_round_trips_through_json_exactly():
    plan = load_plan(PLAN_YAML)
    text = plan.model_dump_json()
    assert load_plan(json.loads(text)) == plan
    # Decimals are written as strings, so nothing goes through a float.
    assert '"0.02"' in text


def test_the_default_calendar_is_calendar_months_and_the_default_period_the_month():
    plan = load_plan(_base())
    assert plan.period.value == "month"
    assert plan.calendar.year(2027).start == dt.date(2027, 1, 1)


def test_component_lookup_names_the_missing_id():
    plan = load_plan(_base())
    with pytest.raises(KeyError, match="'nope'"):
        plan.component("nope")


def test_rounding_has_no_default():
    data = _base()
    del data["rounding"]
    assert ("plan.missing", "plan.rounding") in _codes(data)


def test_commission_rating_and_window_have_no_default():
    data = _base()
    del data["components"][0]["rating"]
    del data["components"][0]["accumulate"]
    codes = _codes(data)
    assert ("plan.missing", "plan.components[0].rating") in codes
    assert ("plan.missing", "plan.components[0].accumulate") in codes


def test_gapped_tiers_are_located_inside_the_component():
    data = _base()
    data["components"][0]["table"] = {
        "tiers": [{"start": 0, "end": 100, "rate": "0.01"}, {"start": 120, "rate": "0.02"}]
    }
    [(code, where)] = _codes(data)
    assert code == "plan.value_error"
    assert where == "plan.components[0].table"


def test_unknown_measures_are_named_where_they_are_used():
    data = _base()
    data["components"][0]["measure"] = "revenue"
    data["components"][0]["gate"] = {"measure": "margin", "attainment": "0.5"}
    codes = _codes(data)
    assert ("plan.unknown_measure", "plan.components[0].measure") in codes
    assert ("plan.unknown_measure", "plan.components[0].gate.measure") in codes


def test_an_attainment_table_needs_a_measure_with_quotas():
    data = _base(measures={"bookings": {}})
    data["components"][0]["table"]["basis"] = "attainment"
    assert _codes(data) == [("plan.measure_kind", "plan.components[0].measure")]


def test_a_commission_cannot_rate_a_count_measure():
    data = _base(measures={"bookings": {"aggregate": "count"}})
    assert _codes(data) == [("plan.measure_kind", "plan.components[0].measure")]


def test_a_filter_with_an_unknown_field_is_reported_with_its_path():
    data = _base(measures={"bookings": {"where": 'prodct == "saas"'}})
    [(code, where)] = _codes(data)
    assert (code, where) == ("plan.filter", "plan.measures.bookings.where")


def test_filters_read_declared_and_builtin_fields():
    data = _base(
        fields={"product": "string"},
        measures={"bookings": {"where": 'product == "saas" && amount > 100.00 && payee != owner'}},
    )
    assert load_plan(data).measures["bookings"].where is not None


def test_a_declared_field_may_not_shadow_a_builtin():
    assert ("plan.builtin_field", "plan.fields.amount") in _codes(_base(fields={"amount": "int"}))


def test_amounts_must_sit_on_the_currency_minor_unit():
    data = _base(currency="JPY", draw={"amount": "1.5", "recoverable": False})
    data["components"][0]["cap"] = {"per_period": "0.5"}
    codes = _codes(data)
    assert ("plan.not_on_minor_unit", "plan.draw.amount") in codes
    assert ("plan.not_on_minor_unit", "plan.components[0].cap.per_period") in codes


def test_a_floor_above_the_period_cap_is_refused_because_the_cap_would_never_bind():
    data = _base()
    data["components"][0]["cap"] = {"per_period": "1000"}
    data["components"][0]["floor"] = {"per_period": "1000.01"}
    assert _codes(data) == [("plan.floor_above_cap", "plan.components[0].floor.per_period")]
    data["components"][0]["floor"] = {"per_period": "1000"}  # equal: the cap still binds
    assert load_plan(data).components[0].floor is not None


def test_duplicate_component_ids_are_refused():
    data = _base()
    data["components"] = data["components"] * 2
    assert _codes(data) == [("plan.duplicate_component", "plan.components[1].id")]


def test_scorecard_weights_must_sum_to_one():
    data = _base()
    data["components"] = [
        {
            "kind": "scorecard",
            "id": "s",
            "target_incentive": "1",
            "kpis": [
                {"measure": "bookings", "weight": "0.5", "curve": [{"attainment": 1, "payout": 1}]},
                {"measure": "bookings", "weight": "0.4", "curve": [{"attainment": 1, "payout": 1}]},
            ],
        }
    ]
    [(code, where)] = _codes(data)
    assert (code, where) == ("plan.value_error", "plan.components[0]")


def test_a_curve_must_increase():
    data = _base()
    data["components"] = [
        {
            "kind": "scorecard",
            "id": "s",
            "target_incentive": "1",
            "kpis": [
                {
                    "measure": "bookings",
                    "weight": "1",
                    "curve": [{"attainment": 1, "payout": 1}, {"attainment": 1, "payout": 2}],
                }
            ],
        }
    ]
    [(code, where)] = _codes(data)
    assert code == "plan.value_error"
    assert where == "plan.components[0].kpis[0]"


def test_a_milestone_takes_exactly_one_threshold():
    data = _base()
    data["components"] = [
        {"kind": "milestone", "id": "m", "measure": "bookings", "amount": "1", "accumulate": "year"}
    ]
    assert _codes(data) == [("plan.value_error", "plan.components[0]")]


def test_an_external_measure_cannot_be_rated_or_filtered():
    data = _base(measures={"bookings": {"aggregate": "external", "where": "amount > 1.00"}})
    codes = _codes(data)
    assert ("plan.external_filter", "plan.measures.bookings") in codes
    assert ("plan.measure_kind", "plan.components[0].measure") in codes


def test_a_campaign_outside_the_fiscal_year_is_refused():
    data = _base(measures={"bookings": {}})
    data["components"] = [
        {
            "kind": "bonus",
            "id": "b",
            "measure": "bookings",
            "amount": "100",
            "per": "period",
            "start": "2026-12-01",
        }
    ]
    assert _codes(data) == [("plan.campaign", "plan.components[0].start")]


def test_a_week_statement_period_is_allowed_and_a_day_is_not():
    assert load_plan(_base(period="week")).period.value == "week"
    assert ("plan.period", "plan.period") in _codes(_base(period="day"))


def test_every_problem_of_a_plan_is_reported_at_once():
    data = _base(currency="CNY", draw={"amount": "0.001", "recoverable": True})
    data["components"][0]["measure"] = "nope"
    data["measures"] = {"bookings": {"where": "1 +"}}
    assert len(_codes(data)) == 3


def test_yaml_that_is_not_a_mapping_is_refused():
    with pytest.raises(DefinitionError, match="mapping"):
        load_plan("- a\n- b\n")


def test_constructing_a_plan_directly_runs_the_same_checks():
    data = _base()
    data["components"][0]["measure"] = "nope"
    with pytest.raises(ValueError, match="no measure named 'nope'"):
        Plan.model_validate(data)


def test_the_scorecard_model_is_frozen():
    plan = load_plan(PLAN_YAML)
    scorecard = plan.component("scorecard")
    assert isinstance(scorecard, Scorecard)
    with pytest.raises(ValueError, match="frozen"):
        scorecard.target_incentive = Decimal(1)


class TestInputs:
    def test_a_transaction_cancelled_before_its_date_is_refused(self):
        with pytest.raises(InvalidValueError) as caught:
            Transaction(
                "t1",
                dt.date(2027, 3, 1),
                Money("100", "CNY"),
                "rep-1",
                cancelled=dt.date(2027, 2, 1),
            )
        assert caught.value.code == "incentives.cancelled_before_date"

    def test_a_split_share_outside_zero_to_one_is_refused(self):
        with pytest.raises(InvalidValueError, match="share"):
            Split("rep-1", Decimal("1.5"))
        with pytest.raises(InvalidValueError, match="share"):
            Split("rep-1", Decimal(0))

    def test_a_transaction_copies_its_fields_so_callers_cannot_change_them(self):
        fields = {"product": "saas"}
        tx = Transaction("t1", dt.date(2027, 3, 1), Money("1", "CNY"), "rep", fields=fields)
        fields["product"] = "services"
        assert tx.fields["product"] == "saas"

    def test_an_assignment_knows_the_days_it_covers(self):
        on = Assignment("rep", "p", start=dt.date(2027, 2, 1), end=dt.date(2027, 2, 28))
        assert on.covers(dt.date(2027, 2, 1))
        assert not on.covers(dt.date(2027, 3, 1))
        assert on.overlaps(dt.date(2027, 1, 1), dt.date(2027, 2, 1))
        assert not on.overlaps(dt.date(2027, 3, 1), dt.date(2027, 3, 31))

    def test_an_assignment_ending_before_it_starts_is_refused(self):
        with pytest.raises(InvalidValueError, match="ends"):
            Assignment("rep", "p", start=dt.date(2027, 2, 1), end=dt.date(2027, 1, 1))

    def test_an_adjustment_needs_a_reason_and_an_author(self):
        with pytest.raises(InvalidValueError, match="reason"):
            Adjustment("rep", "p", "2027-01", Money("1", "CNY"), "", "ops")

"""Unit tests for salesflow.incentives rate tables; figures worked by hand in comments."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
import numpy as np
import pytest

from salesflow.errors import (
    CurrencyMismatchError,
    DefinitionError,
    InvalidValueError,
    MoneyOverflowError,
)
from salesflow.incentives import (
    RateTable,
    load_rate_table,
    payout,
    rate_cumulative,
    rate_transactions,
)
from salesflow.money import Money


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


ACCELERATOR = RateTable.model_validate(
    {
        "tiers": [
            {"start": 0, "end": 100000, "rate": "0.02"},
            {"start": 100000, "rate": "0.05"},
        ]
    }
)

# The decelerator: 2% below half of quota; reaching 50% re-rates everything at 5%.
LIFT = RateTable.model_validate(
    {
        "basis": "attainment",
        "tiers": [
            {"start": 0, "end": "0.5", "rate": "0.02"},
            {"start": "0.5", "rate": "0.05", "style": "retroactive"},
        ],
    }
)
QUOTA = cny("100000")


# --- P(v) -------------------------------------------------------------------------


def test_marginal_tier_rates_only_the_part_inside_it():
    # 100,000 x 2% + 50,000 x 5% = 2,000 + 2,500
    assert payout(ACCELERATOR, cny("150000")) == cny("4500")


def test_retroactive_tier_pays_whole_attainment_at_its_rate():
    # 60,000 is 60% of quota: retroactive tier 2, 60,000 x 5%
    assert payout(LIFT, cny("60000"), quota=QUOTA) == cny("3000")
    # 40,000 is 40%: marginal tier 1, 40,000 x 2%
    assert payout(LIFT, cny("40000"), quota=QUOTA) == cny("800")


def test_boundary_up_puts_a_value_on_the_edge_in_the_upper_tier():
    assert payout(LIFT, cny("50000"), quota=QUOTA) == cny("2500")  # 50,000 x 5%


def test_boundary_down_puts_a_value_on_the_edge_in_the_lower_tier():
    down = LIFT.model_copy(update={"boundary": "down"})
    assert payout(down, cny("50000"), quota=QUOTA) == cny("1000")  # 50,000 x 2%
    assert payout(down, cny("50000.01"), quota=QUOTA) == cny("2500.0005")


def test_marginal_tier_after_a_retroactive_one_starts_from_its_payout_at_the_edge():
    table = RateTable.model_validate(
        {
            "tiers": [
                {"start": 0, "end": 100, "rate": "0.1", "style": "retroactive"},
                {"start": 100, "rate": "0.2"},
            ]
        }
    )
    # below: 100 x 10% = 10 at the edge; then 10 + (150 - 100) x 20% = 20
    assert payout(table, cny("150")) == cny("20")


def test_negative_value_pays_the_negated_payout():
    assert payout(ACCELERATOR, cny("-150000")) == cny("-4500")


def test_attainment_edges_sit_on_whole_minor_units_by_the_boundary_rule():
    # 50% of 100.01 is 50.005: 'up' needs 50.01 to reach it, 'down' keeps 50.00 below.
    quota = cny("100.01")
    assert payout(LIFT, cny("50.00"), quota=quota) == cny("1.00")  # 50.00 x 2%
    assert payout(LIFT, cny("50.01"), quota=quota) == cny("2.5005")  # 50.01 x 5%
    down = LIFT.model_copy(update={"boundary": "down"})
    assert payout(down, cny("50.00"), quota=quota) == cny("1.00")
    assert payout(down, cny("50.01"), quota=quota) == cny("2.5005")


# --- rating transactions ------------------------------------------------------------


def test_cumulative_crossing_transaction_carries_the_retroactive_lift():
    lines = rate_transactions(
        LIFT, [cny("40000"), cny("20000")], how="cumulative", rounding="half_up", quota=QUOTA
    )
    # P(40,000) = 800; P(60,000) = 3,000, so the second line is 2,200
    assert [line.payout for line in lines] == [cny("800"), cny("2200")]
    assert lines[1].tiers == (0, 1)
    assert lines[1].rates == (Decimal("0.02"), Decimal("0.05"))


def test_refund_below_the_lift_claws_it_back():
    lines = rate_transactions(
        LIFT, [cny("60000"), cny("-20000")], how="cumulative", rounding="half_up", quota=QUOTA
    )
    assert [line.payout for line in lines] == [cny("3000"), cny("-2200")]  # 800 - 3,000


def test_individual_rating_rates_each_amount_from_zero():
    lines = rate_transactions(
        ACCELERATOR, [cny("80000"), cny("40000")], how="individual", rounding="half_up"
    )
    assert [line.payout for line in lines] == [cny("1600"), cny("800")]


def test_cumulative_lines_round_the_running_payout_so_they_sum_to_its_rounding():
    flat = RateTable.model_validate({"tiers": [{"start": 0, "rate": "0.05"}]})
    lines = rate_transactions(flat, [cny("0.10")] * 3, how="cumulative", rounding="half_up")
    # running payouts 0.005, 0.010, 0.015 round to 0.01, 0.01, 0.02
    assert [line.payout for line in lines] == [cny("0.01"), cny("0.00"), cny("0.01")]
    assert [line.exact for line in lines] == [cny("0.005")] * 3


def test_each_line_explains_itself_in_english_and_chinese():
    lines = rate_transactions(
        LIFT, [cny("40000"), cny("20000")], how="cumulative", rounding="half_up", quota=QUOTA
    )
    en, zh = lines[1].explanation_en, lines[1].explanation_zh
    assert "tier 1 (marginal 2%)" in en
    assert "tier 2 (retroactive 5%)" in en
    assert "2200.00 CNY" in en
    assert "第1档\uff08累进 2%\uff09" in zh
    assert "第2档\uff08追溯 5%\uff09" in zh
    assert "本笔提成 3000.00 - 800.00 = 2200.00 CNY" in zh


def test_individual_lines_are_not_described_as_running_totals():
    lines = rate_transactions(
        ACCELERATOR, [cny("80000"), cny("10")], how="individual", rounding="half_up"
    )
    assert lines[1].before == Money.zero("CNY")
    assert "running total" not in lines[1].explanation_en
    assert lines[1].explanation_en == (
        "amount 10.00 CNY: in tier 1 (marginal 2%); P(10.00) = 10.00 x 2% = 0.20; line 0.20 CNY"
    )
    assert lines[1].explanation_zh.startswith("金额 10.00 CNY\uff1a位于第1档\uff08累进 2%\uff09")


def test_explanation_shows_the_exact_payout_and_its_rounding():
    flat = RateTable.model_validate({"tiers": [{"start": 0, "rate": "0.05"}]})
    lines = rate_transactions(flat, [cny("0.10")], how="cumulative", rounding="half_up")
    assert "P(0.10) = 0.10 x 5% = 0.005 ~ 0.01" in lines[0].explanation_en


def test_refund_through_zero_lists_every_tier_it_sweeps():
    lines = rate_transactions(
        ACCELERATOR, [cny("150000"), cny("-200000")], how="cumulative", rounding="half_up"
    )
    assert lines[1].tiers == (0, 1)


def test_rating_refuses_an_unknown_mode_and_no_transactions():
    with pytest.raises(InvalidValueError, match="cumulative"):
        rate_transactions(ACCELERATOR, [cny("1")], how="running", rounding="half_up")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError) as err:
        rate_transactions(ACCELERATOR, [], how="cumulative", rounding="half_up")
    assert err.value.code == "incentives.no_transactions"


# --- quotas and edges ---------------------------------------------------------------


@pytest.mark.parametrize("quota", ["0", "-100"])
def test_quota_of_zero_or_less_is_refused_naming_it(quota):
    with pytest.raises(InvalidValueError, match="quota") as err:
        payout(LIFT, cny("1"), quota=cny(quota))
    assert err.value.code == "incentives.quota_not_positive"
    assert err.value.path == "quota"


def test_attainment_table_without_quota_is_refused():
    with pytest.raises(InvalidValueError) as err:
        payout(LIFT, cny("1"))
    assert err.value.code == "incentives.quota_required"


def test_quota_for_an_amount_table_is_refused_not_ignored():
    with pytest.raises(InvalidValueError) as err:
        payout(ACCELERATOR, cny("1"), quota=QUOTA)
    assert err.value.code == "incentives.quota_unexpected"


def test_quota_in_another_currency_is_refused():
    with pytest.raises(CurrencyMismatchError):
        payout(LIFT, cny("1"), quota=Money("100", "USD"))


def test_amount_edge_between_minor_units_is_refused_naming_the_tier():
    table = RateTable.model_validate(
        {"tiers": [{"start": 0, "end": "10.005", "rate": "0.1"}, {"start": "10.005", "rate": 0}]}
    )
    with pytest.raises(InvalidValueError) as err:
        payout(table, cny("1"))
    assert err.value.code == "incentives.edge_not_on_minor_unit"
    assert err.value.path == "table.tiers[1].start"


# --- definitions --------------------------------------------------------------------


def test_table_round_trips_json_exactly():
    text = LIFT.model_dump_json()
    assert RateTable.model_validate_json(text) == LIFT
    assert json.loads(text)["tiers"][1] == {
        "start": "0.5",
        "end": None,
        "rate": "0.05",
        "style": "retroactive",
    }


def test_json_schema_accepts_a_dumped_table_and_rejects_a_bad_style():
    schema = RateTable.model_json_schema()
    jsonschema.validate(json.loads(LIFT.model_dump_json()), schema)
    bad = json.loads(LIFT.model_dump_json())
    bad["tiers"][0]["style"] = "flat"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_load_reads_yaml_with_defaults():
    table = load_rate_table("tiers:\n  - {start: 0, rate: 0.03}\n")
    assert (table.basis, table.boundary, table.tiers[0].style) == ("amount", "up", "marginal")
    assert table.tiers[0].rate == Decimal("0.03")


def test_load_reports_every_problem_at_once_with_paths():
    with pytest.raises(DefinitionError) as err:
        load_rate_table(
            {
                "tiers": [
                    {"start": 0, "end": 100, "rate": "-0.01"},
                    {"start": 120, "end": 200, "rate": "0.0000001"},
                    {"start": 150, "rate": "0.05"},
                ]
            }
        )
    found = {(p.code, p.location.path if p.location else None) for p in err.value.problems}
    assert found == {
        ("table.greater_than_equal", "table.tiers[0].rate"),
        ("table.value_error", "table.tiers[1].rate"),
        ("table.gap", "table.tiers[1].start"),
        ("table.overlap", "table.tiers[2].start"),
    }
    assert "gap between tiers[0] (ends at 100) and tiers[1] (starts at 120)" in str(err.value)
    assert "tiers[1] (ends at 200) overlaps tiers[2] (starts at 150)" in str(err.value)


@pytest.mark.parametrize(
    ("tiers", "code", "path"),
    [
        ([], "table.no_tiers", "table.tiers"),
        ([{"start": 5, "rate": 0}], "table.not_from_zero", "table.tiers[0].start"),
        ([{"start": 0, "end": 10, "rate": 0}], "table.last_not_open", "table.tiers[0].end"),
        (
            [{"start": 0, "rate": 0}, {"start": 0, "rate": 0}],
            "table.open_not_last",
            "table.tiers[0].end",
        ),
        (
            [{"start": 0, "end": 0, "rate": 0}, {"start": 0, "rate": 0}],
            "table.empty_tier",
            "table.tiers[0]",
        ),
    ],
)
def test_load_names_each_shape_problem(tiers, code, path):
    with pytest.raises(DefinitionError) as err:
        load_rate_table({"tiers": tiers})
    assert (code, path) in {(p.code, p.location.path) for p in err.value.problems if p.location}


def test_attainment_edges_with_more_than_six_places_are_refused():
    with pytest.raises(DefinitionError) as err:
        load_rate_table(
            {
                "basis": "attainment",
                "tiers": [
                    {"start": 0, "end": "0.5000001", "rate": 0},
                    {"start": "0.5000001", "rate": 0},
                ],
            }
        )
    assert {p.code for p in err.value.problems} == {"table.edge_places"}


def test_constructing_a_gapped_table_directly_is_refused():
    with pytest.raises(ValueError, match="gap"):
        RateTable.model_validate(
            {"tiers": [{"start": 0, "end": 1, "rate": 0}, {"start": 2, "rate": 0}]}
        )


def test_float_rate_in_yaml_reads_as_its_decimal_text():
    table = load_rate_table("tiers:\n  - {start: 0, rate: 0.035}\n")
    assert table.tiers[0].rate == Decimal("0.035")


# --- the vectorized engine ------------------------------------------------------------


def test_vectorized_rates_payees_separately_in_input_order():
    amounts = np.array([4_000_000, 3_000_000, 2_000_000, 3_000_000])  # fen
    payees = np.array([0, 1, 0, 1])
    quotas = np.array([10_000_000, 5_000_000])  # 100,000 and 50,000 CNY
    lines = rate_cumulative(amounts, payees, LIFT, quotas, currency="CNY", rounding="half_up")
    # payee 0: 40,000 -> 800; 60,000 -> 3,000 (lift): 2,200
    # payee 1: 30,000 is 60% of 50,000 -> 1,500; 60,000 -> 3,000: 1,500
    assert lines.tolist() == [80_000, 150_000, 220_000, 150_000]


def test_vectorized_quota_of_zero_is_refused_naming_the_payee():
    with pytest.raises(InvalidValueError) as err:
        rate_cumulative(
            np.array([1]), np.array([1]), LIFT, np.array([5, 0]), currency="CNY", rounding="up"
        )
    assert err.value.code == "incentives.quota_not_positive"
    assert err.value.path == "quotas_minor[1]"


def test_vectorized_payout_beyond_int64_raises_money_overflow():
    wide = RateTable.model_validate({"tiers": [{"start": 0, "rate": "1.5"}]})
    with pytest.raises(MoneyOverflowError):
        rate_cumulative(np.array([2**62]), np.array([0]), wide, currency="CNY", rounding="half_up")


def test_vectorized_running_total_beyond_int64_raises_money_overflow():
    free = RateTable.model_validate({"tiers": [{"start": 0, "rate": 0}]})
    with pytest.raises(MoneyOverflowError):
        rate_cumulative(
            np.array([2**62, 2**62]), np.array([0, 0]), free, currency="CNY", rounding="floor"
        )


def test_vectorized_running_totals_of_separate_payees_do_not_overflow_each_other():
    free = RateTable.model_validate({"tiers": [{"start": 0, "rate": 0}]})
    lines = rate_cumulative(
        np.array([2**62, 2**62]), np.array([0, 1]), free, currency="CNY", rounding="floor"
    )
    assert lines.tolist() == [0, 0]


def test_vectorized_refuses_mismatched_shapes_and_negative_payees():
    with pytest.raises(InvalidValueError):
        rate_cumulative(np.array([1, 2]), np.array([0]), ACCELERATOR, currency="CNY", rounding="up")
    with pytest.raises(InvalidValueError) as err:
        rate_cumulative(np.array([1]), np.array([-1]), ACCELERATOR, currency="CNY", rounding="up")
    assert err.value.path == "payees[0]"


def test_vectorized_empty_input_gives_empty_output():
    lines = rate_cumulative(
        np.array([], dtype=np.int64),
        np.array([], dtype=np.intp),
        ACCELERATOR,
        currency="CNY",
        rounding="up",
    )
    assert lines.shape == (0,)
    assert lines.dtype == np.int64


def test_documented_three_tier_example_pays_as_worked_by_hand():
    table = load_rate_table(
        "basis: attainment\n"
        "tiers:\n"
        '  - {start: 0, end: "0.5", rate: "0.02"}\n'
        '  - {start: "0.5", end: "1.0", rate: "0.05", style: retroactive}\n'
        '  - {start: "1.0", rate: "0.08"}\n'
    )
    amounts = [cny("40000"), cny("30000"), cny("50000"), cny("-30000")]
    lines = rate_transactions(table, amounts, how="cumulative", rounding="half_up", quota=QUOTA)
    # P(40k) = 800; P(70k) = 70k x 5% = 3,500; P(120k) = 5,000 + 20k x 8% = 6,600;
    # P(90k) = 90k x 5% = 4,500.
    assert [line.payout for line in lines] == [cny("800"), cny("2700"), cny("3100"), cny("-2100")]
    assert [line.tiers for line in lines] == [(0,), (0, 1), (1, 2), (2, 1)]

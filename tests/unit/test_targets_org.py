"""Org trees: loading, validation with every problem at once, effective dating."""

import datetime as dt
from decimal import Decimal

import networkx as nx
import pytest

from salesflow import DefinitionError, InvalidValueError, ParseError
from salesflow.targets import OrgMember, OrgTree

D = dt.date


def _codes(err: DefinitionError) -> list[str]:
    return [p.code for p in err.problems]


SAMPLE = [
    {"id": "公司", "name": "华夏销售有限公司", "role": "company"},
    {"id": "华东", "parent": "公司", "role": "region"},
    {"id": "华南", "parent": "公司", "role": "region"},
    {"id": "上海一组", "parent": "华东", "role": "team", "attributes": {"capacity": 3}},
    {"id": "深圳一组", "parent": "华南", "role": "team", "attributes": {"capacity": "2.5"}},
    {"id": "王芳", "parent": "上海一组", "role": "rep"},
    {"id": "李雷", "parent": "上海一组", "role": "rep", "end": "2026-06-30"},
    {"id": "李雷", "parent": "深圳一组", "role": "rep", "start": "2026-07-01"},
    {"id": "陈晨", "parent": "深圳一组", "role": "rep", "start": "2026-04-15"},
]


def test_chinese_ids_and_names_load_and_snapshot_in_top_down_order():
    snap = OrgTree.from_records(SAMPLE).as_of(D(2026, 5, 1))
    assert snap.root == "公司"
    assert snap.order[:3] == ("公司", "华东", "华南")
    positions = snap.index
    for node in snap.order[1:]:
        assert positions[snap.parent(node)] < positions[node]


def test_a_person_who_moves_team_reports_to_each_team_in_its_own_stretch():
    tree = OrgTree.from_records(SAMPLE)
    assert tree.as_of(D(2026, 6, 30)).parent("李雷") == "上海一组"
    assert tree.as_of(D(2026, 7, 1)).parent("李雷") == "深圳一组"
    assert [m.parent for m in tree.history("李雷")] == ["上海一组", "深圳一组"]


def test_a_new_hire_is_absent_before_the_start_day_and_present_from_it():
    tree = OrgTree.from_records(SAMPLE)
    assert "陈晨" not in tree.as_of(D(2026, 4, 14))
    assert "陈晨" in tree.as_of(D(2026, 4, 15))
    assert tree.member_on("陈晨", D(2026, 4, 14)) is None


def test_change_dates_are_the_days_the_structure_changes():
    assert OrgTree.from_records(SAMPLE).change_dates() == (D(2026, 4, 15), D(2026, 7, 1))


def test_active_days_counts_inclusive_days_across_all_records_of_a_node():
    tree = OrgTree.from_records(SAMPLE)
    # 李雷 is active all year across two records; 陈晨 from 15 April.
    assert tree.active_days("李雷", D(2026, 1, 1), D(2026, 12, 31)) == 365
    assert tree.active_days("陈晨", D(2026, 4, 1), D(2026, 4, 30)) == 16
    assert tree.active_days("陈晨", D(2026, 1, 1), D(2026, 3, 31)) == 0


def test_attributes_keep_exact_numbers_and_labels():
    tree = OrgTree.from_records(SAMPLE)
    snap = tree.as_of(D(2026, 1, 1))
    assert snap.member("上海一组").attributes == {"capacity": 3}
    assert snap.member("深圳一组").attributes == {"capacity": "2.5"}
    member = OrgMember(id="x", attributes={"potential": Decimal("1.25")})
    assert member.attributes["potential"] == Decimal("1.25")


def test_arrays_give_parent_positions_and_depths_for_vectorized_roll_up():
    snap = OrgTree.from_records(SAMPLE).as_of(D(2026, 5, 1))
    for i, node in enumerate(snap.order):
        parent = snap.parent(node)
        expected_parent = -1 if parent is None else snap.index[parent]
        assert snap.parent_index[i] == expected_parent
        assert snap.depth[i] == len(snap.ancestors(node))
    assert set(snap.leaves()) == {"王芳", "李雷", "陈晨"}


def test_networkx_graph_of_a_snapshot_is_a_tree_rooted_at_the_root():
    snap = OrgTree.from_records(SAMPLE).as_of(D(2026, 5, 1))
    assert nx.is_arborescence(snap.graph)
    assert snap.graph.nodes["王芳"]["member"].role == "rep"


def test_numeric_ids_from_a_csv_are_read_as_text():
    tree = OrgTree.from_records([{"id": 1}, {"id": 2, "parent": 1}])
    assert tree.as_of(D(2026, 1, 1)).parent("2") == "1"


def test_every_problem_is_reported_at_once_with_its_record():
    records = [
        {"id": "co"},
        {"id": "other-root"},
        {"id": "a", "parent": "nobody"},
        {"id": "b", "parent": "co", "start": "not a date"},
        {"id": "c", "parent": "co", "end": "2026-01-01", "start": "2026-02-01"},
    ]
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records(records)
    paths = {p.location.path for p in caught.value.problems if p.location}
    assert "members[3].start" in paths
    assert "members[4]" in paths  # end before start is a whole-record check


def test_structural_problems_are_all_reported_together():
    records = [
        {"id": "co"},
        {"id": "other-root"},
        {"id": "a", "parent": "nobody"},
        {"id": "dup", "parent": "co"},
        {"id": "dup", "parent": "co", "start": "2026-03-01"},
    ]
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records(records)
    assert sorted(_codes(caught.value)) == [
        "org.duplicate_id",
        "org.multiple_roots",
        "org.unknown_parent",
    ]
    text = str(caught.value)
    assert "'nobody'" in text
    assert "'co', 'other-root'" in text


def test_a_cycle_is_named_with_its_path():
    records = [{"id": "co"}, {"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}]
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records(records)
    (problem,) = caught.value.problems
    assert problem.code == "org.cycle"
    assert "a → b → a" in problem.message or "b → a → b" in problem.message


def test_a_self_parent_is_a_cycle():
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records([{"id": "co"}, {"id": "a", "parent": "a"}])
    assert _codes(caught.value) == ["org.cycle"]


def test_edges_that_never_hold_on_the_same_day_are_not_a_cycle():
    records = [
        {"id": "co"},
        {"id": "a", "parent": "co"},
        {"id": "b", "parent": "co"},
        {"id": "a", "parent": "b", "start": "2027-01-01"},
    ]
    with pytest.raises(DefinitionError):  # a has two records on 2027-01-01: overlap
        OrgTree.from_records(records)
    records[1] = {"id": "a", "parent": "co", "end": "2026-12-31"}
    records.append({"id": "b", "parent": "a", "end": "2026-06-30"})
    records[2] = {"id": "b", "parent": "co", "start": "2026-07-01"}
    tree = OrgTree.from_records(records)  # b→a until June, a→b from 2027: never both
    assert tree.as_of(D(2027, 2, 1)).parent("a") == "b"


def test_edges_that_hold_together_on_some_day_are_a_cycle_dated_that_day():
    records = [
        {"id": "co"},
        {"id": "a", "parent": "co", "end": "2026-02-28"},
        {"id": "a", "parent": "b", "start": "2026-03-01"},
        {"id": "b", "parent": "a", "start": "2026-01-01"},
    ]
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records(records)
    problem = next(p for p in caught.value.problems if p.code == "org.cycle")
    assert "on 2026-03-01" in problem.message


def test_a_report_active_when_its_parent_is_not_is_refused_with_the_day():
    records = [
        {"id": "co"},
        {"id": "team", "parent": "co", "end": "2026-06-30"},
        {"id": "rep", "parent": "team"},
    ]
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records(records)
    (problem,) = caught.value.problems
    assert problem.code == "org.parent_inactive"
    assert "2026-07-01" in problem.message
    assert problem.location is not None
    assert problem.location.path == "members[2].parent"


def test_a_parent_covered_by_consecutive_records_is_active_throughout():
    records = [
        {"id": "co"},
        {"id": "team", "parent": "co", "end": "2026-06-30"},
        {"id": "team", "parent": "co", "start": "2026-07-01"},
        {"id": "rep", "parent": "team"},
    ]
    assert "rep" in OrgTree.from_records(records)


def test_an_org_without_a_root_is_refused():
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records([{"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}])
    assert "org.no_root" in _codes(caught.value)


def test_unknown_fields_are_refused_not_ignored():
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records([{"id": "co", "manager": "x"}])
    assert caught.value.problems[0].location.path == "members[0].manager"


def test_asking_for_a_node_that_is_not_there_names_it():
    tree = OrgTree.from_records(SAMPLE)
    with pytest.raises(InvalidValueError, match="'陈晨' is not in the org on 2026-01-01"):
        tree.as_of(D(2026, 1, 1)).children("陈晨")
    with pytest.raises(InvalidValueError, match="'nobody' is not in the org"):
        tree.history("nobody")


def test_a_snapshot_before_the_root_exists_is_refused():
    tree = OrgTree.from_records([{"id": "co", "start": "2020-01-01"}])
    with pytest.raises(InvalidValueError, match="root 'co' is not active on 2019-12-31"):
        tree.as_of(D(2019, 12, 31))


def test_an_org_loads_from_yaml_text_with_chinese_ids():
    tree = OrgTree.from_yaml("- {id: 公司}\n- {id: 华东, parent: 公司, start: 2026-03-01}\n")
    assert tree.as_of(D(2026, 3, 1)).parent("华东") == "公司"


def test_broken_yaml_points_at_the_line_and_column():
    with pytest.raises(ParseError) as caught:
        OrgTree.from_yaml("- {id: 公司}\n- {id: 华东, parent: [公司\n")
    assert (caught.value.path, caught.value.line) == ("org", 3)


def test_yaml_that_is_not_a_list_of_records_is_refused_with_the_reason():
    with pytest.raises(DefinitionError, match="an org is a list of member records, not dict"):
        OrgTree.from_yaml("id: 公司")
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records([{"id": "co"}, "not a record"])
    assert caught.value.problems[0].location.path == "members[1]"


def test_a_real_cycle_is_found_among_many_that_never_hold_on_one_day():
    def day(month, dom):
        return D(2026, month, dom).isoformat()

    records = [{"id": "co"}]
    for i in range(1, 26):  # H and Ni point at each other, but never on the same day
        records += [
            {"id": "H", "parent": f"N{i}", "start": day(1, i), "end": day(1, i)},
            {"id": f"N{i}", "parent": "co", "start": day(1, i), "end": day(1, i)},
            {"id": f"N{i}", "parent": "H", "start": day(2, i), "end": day(2, i)},
            {"id": "H", "parent": "co", "start": day(2, i), "end": day(2, i)},
        ]
    records += [
        {"id": "H", "parent": "N0", "start": day(3, 1), "end": day(3, 1)},
        {"id": "N0", "parent": "H", "start": day(3, 1), "end": day(3, 1)},
    ]
    with pytest.raises(DefinitionError, match="cycle on 2026-03-01") as caught:
        OrgTree.from_records(records)
    assert [p.code for p in caught.value.problems] == ["org.cycle"]

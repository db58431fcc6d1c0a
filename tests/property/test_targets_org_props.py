"""Properties of org snapshots over random valid trees, and of cycle detection."""

import datetime as dt

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesflow import DefinitionError
from salesflow.targets import OrgTree

from strategies.targets import org_records

DAY = dt.date(2026, 1, 1)


@given(org_records())
def test_snapshot_lists_every_node_once_with_parents_before_children(records):
    snap = OrgTree.from_records(records).as_of(DAY)
    assert sorted(snap.order) == sorted(r["id"] for r in records)
    for i, node in enumerate(snap.order):
        parent_pos = snap.parent_index[i]
        assert parent_pos < i
        assert (parent_pos == -1) == (node == snap.root)


@given(org_records())
def test_depth_and_leaves_agree_with_the_networkx_graph(records):
    snap = OrgTree.from_records(records).as_of(DAY)
    graph = snap.graph
    assert nx.is_arborescence(graph)
    lengths = nx.single_source_shortest_path_length(graph, snap.root)
    assert [lengths[n] for n in snap.order] == snap.depth.tolist()
    assert set(snap.leaves()) == {n for n in graph if graph.out_degree(n) == 0}


@given(org_records(), st.data())
def test_pointing_a_node_at_one_of_its_descendants_is_reported_as_a_cycle(records, data):
    snap = OrgTree.from_records(records).as_of(DAY)
    movable = [n for n in snap.order if n != snap.root]
    if not movable:
        return
    node = data.draw(st.sampled_from(movable))
    below = [node, *nx.descendants(snap.graph, node)]
    new_parent = data.draw(st.sampled_from(below))
    broken = [dict(r, parent=new_parent) if r["id"] == node else r for r in records]
    with pytest.raises(DefinitionError) as caught:
        OrgTree.from_records(broken)
    assert "org.cycle" in {p.code for p in caught.value.problems}

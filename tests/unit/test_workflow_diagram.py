"""Mermaid and DOT export: labels for guards, roles, approvals and SLAs; highlighting."""

import datetime as dt
from pathlib import Path

from salesflow.workflow import (
    Actor,
    Approval,
    ApprovalStep,
    State,
    Transition,
    Workflow,
    WorkflowDefinition,
    load_workflow,
    to_dot,
    to_mermaid,
)

EXAMPLE = load_workflow(
    (Path(__file__).parents[2] / "examples" / "workflows" / "deal.yaml").read_text("utf-8")
)
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def _walked():
    wf = Workflow(EXAMPLE)
    deal = wf.start("D", {"customer": "x"}, now=T0)
    return wf.fire(deal, "确认需求", Actor("li", {"销售"}), now=T0).instance


def test_mermaid_shows_guards_roles_actions_slas_and_approvals():
    text = to_mermaid(EXAMPLE)
    assert text.startswith("stateDiagram-v2")
    assert "申请折扣 [discount > 5] (销售) / 通知销售经理" in text
    assert "SLA 16 working hours" in text
    assert "SLA 2 business days, then 超时关闭" in text
    assert "approval 财务审批" in text
    assert "when discount > 10" in text
    assert "--> [*]: won" in text


def test_mermaid_labels_never_carry_a_raw_colon_after_the_separator():
    for line in to_mermaid(EXAMPLE).splitlines():
        if ": " in line:
            assert ":" not in line.split(": ", 1)[1]


def test_mermaid_highlights_the_current_state_and_the_visited_ones():
    text = to_mermaid(EXAMPLE, _walked())
    lines = text.splitlines()
    assert "    class s1 current" in lines
    assert "    class s0 visited" in lines


def test_dot_groups_states_by_phase_and_bolds_the_path_taken():
    text = to_dot(EXAMPLE, _walked())
    assert text.startswith('digraph "商机推进" {')
    assert 'label="售前";' in text
    assert '"线索" -> "需求确认" [label="确认需求 (销售)", style=bold];' in text
    assert '"需求确认" [shape=box, label="需求确认\\nSLA 5 business days", ' in text
    assert 'fillcolor="#fde68a"' in text
    assert '"折扣审批" -> "合同谈判" [label="approved", style=dashed];' in text


def test_dot_escapes_quotes_in_guards():
    text = to_dot(EXAMPLE)
    assert 'region == \\"华东\\"' in text


def test_diagrams_say_when_a_step_is_decided_by_quorum_rather_than_veto():
    definition = load_workflow("""
name: 表决
initial: 起草
states:
  - name: 起草
    approval:
      steps:
        - {name: 董事会, people: [zhao, qian, sun], quorum: 2, rejection: quorum}
        - {name: 法务, people: [li]}
      approved: 生效
      rejected: 起草
  - {name: 生效, terminal: true}
""")
    # Mermaid notes write a colon full-width (an ASCII one would end the note's label).
    colon = "\N{FULLWIDTH COLON}"
    text = to_mermaid(definition)
    assert f"approval 董事会{colon} 2 of zhao, qian, sun, rejected only when out of reach" in text
    assert f"approval 法务{colon} 1 of li\n" in text
    assert "approval 董事会: 2 of zhao, qian, sun, rejected only when out of reach" in to_dot(
        definition
    )


def _parallel_walked():
    """b -> c on go twice (n > 5, n <= 5); the approval in a moved to b; n is 9."""
    definition = WorkflowDefinition(
        name="w",
        initial="a",
        fields={"n": "int"},
        states=[
            State(
                name="a",
                approval=Approval(
                    steps=[ApprovalStep(name="s", people=["p"])], approved="b", rejected="a"
                ),
            ),
            State(name="b"),
            State(name="c", terminal=True),
        ],
        transitions=[
            Transition(event="go", source="b", target="c", guard="n > 5"),
            Transition(event="go", source="b", target="c", guard="n <= 5"),
        ],
    )
    wf = Workflow(definition)
    instance = wf.start("x", {"n": 9}, now=T0, actor=Actor("req"))
    instance = wf.approve(instance, Actor("p"), now=T0).instance
    return definition, wf.fire(instance, "go", Actor("q"), now=T0).instance


def test_dot_bolds_only_the_one_of_two_parallel_transitions_that_fired():
    definition, instance = _parallel_walked()
    lines = to_dot(definition, instance).splitlines()
    assert '  "b" -> "c" [label="go [n > 5]", style=bold];' in lines
    assert '  "b" -> "c" [label="go [n <= 5]"];' in lines
    # One style attribute for a taken approval move: Graphviz keeps only the last.
    assert '  "a" -> "b" [label="approved", style="dashed,bold"];' in lines
    assert '  "a" -> "a" [label="rejected", style=dashed];' in lines


def test_mermaid_marks_the_moves_taken_not_only_the_states():
    definition, instance = _parallel_walked()
    lines = to_mermaid(definition, instance).splitlines()
    assert "    s1 --> s2: \N{HEAVY CHECK MARK} go [n > 5]" in lines
    assert "    s1 --> s2: go [n <= 5]" in lines
    assert "    s0 --> s1: \N{HEAVY CHECK MARK} approved" in lines
    assert "    s0 --> s0: rejected" in lines
    assert "\N{HEAVY CHECK MARK}" not in to_mermaid(definition)


# -- review round 4: a history that ran on an older version ------------------------------


def _go_twice(version, *order, hi="n > 5"):
    """a -> b on go twice (n > 5 and n <= 5, in the given order), then b -> z on end."""
    transitions = {
        "hi": Transition(event="go", source="a", target="b", guard=hi),
        "lo": Transition(event="go", source="a", target="b", guard="n <= 5"),
        "end": Transition(event="end", source="b", target="z"),
    }
    return Workflow(
        WorkflowDefinition(
            name="w",
            version=version,
            initial="a",
            fields={"n": "int"},
            states=[State(name="a"), State(name="b"), State(name="z", terminal=True)],
            transitions=[transitions[name] for name in order],
        )
    )


def _fired_hi_then_migrated(v2):
    v1 = _go_twice(1, "hi", "lo", "end")
    instance = v1.fire(v1.start("x", {"n": 9}, now=T0), "go", Actor("u"), now=T0).instance
    return v2.migrate(instance, now=T0).instance


def test_after_a_migration_that_reorders_transitions_the_one_that_fired_is_marked():
    # n = 9 took "n > 5", index 0 in v1; v2 lists it second. The index alone pointed at
    # "n <= 5", which was drawn bold and ticked instead.
    v2 = _go_twice(2, "lo", "hi", "end")
    instance = _fired_hi_then_migrated(v2)
    dot = to_dot(v2.definition, instance).splitlines()
    assert '  "a" -> "b" [label="go [n > 5]", style=bold];' in dot
    assert '  "a" -> "b" [label="go [n <= 5]"];' in dot
    mermaid = to_mermaid(v2.definition, instance).splitlines()
    assert "    s0 --> s1: \N{HEAVY CHECK MARK} go [n > 5]" in mermaid
    assert "    s0 --> s1: go [n <= 5]" in mermaid


def test_after_a_migration_a_transition_that_no_longer_exists_marks_nothing():
    # v2 changed the guard that fired: neither of its go transitions is the one taken.
    v2 = _go_twice(2, "lo", "hi", "end", hi="n > 6")
    instance = _fired_hi_then_migrated(v2)
    assert "style=bold" not in to_dot(v2.definition, instance)
    assert "\N{HEAVY CHECK MARK}" not in to_mermaid(v2.definition, instance)


def test_steps_made_after_the_migration_are_marked_by_their_index():
    # "end" is fired on v2, after the migration: its index is v2's and is trusted.
    v2 = _go_twice(2, "lo", "hi", "end")
    instance = _fired_hi_then_migrated(v2)
    ended = v2.fire(instance, "end", Actor("u"), now=T0).instance
    dot = to_dot(v2.definition, ended).splitlines()
    assert '  "b" -> "z" [label="end", style=bold];' in dot
    assert '  "a" -> "b" [label="go [n > 5]", style=bold];' in dot
    # Drawn on v1, the steps made on v2 are matched by guard too, not by v2's indexes.
    v1 = _go_twice(1, "hi", "lo", "end").definition
    on_v1 = to_dot(v1, ended).splitlines()
    assert '  "a" -> "b" [label="go [n > 5]", style=bold];' in on_v1
    assert '  "a" -> "b" [label="go [n <= 5]"];' in on_v1
    assert '  "b" -> "z" [label="end", style=bold];' in on_v1

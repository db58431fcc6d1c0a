"""Sales processes and approvals as verified state machines.

A workflow is a definition (data: YAML, JSON or pydantic models) of states,
transitions with guards and roles, approvals and SLAs. `load_workflow` reads one and
reports every problem at once; `lint` checks it as a graph (unreachable states, dead
ends, overlapping guards, unreachable quorums, ...); `Workflow` runs instances purely
(time comes in as ``now``; every change returns a new instance and the events to
store). See ``docs/workflow.md``.

>>> import datetime as dt
>>> wf = Workflow(load_workflow('''
... name: 折扣审批
... initial: 申请
... fields: {discount: int}
... roles: [sales, finance]
... states:
...   - name: 申请
...     approval:
...       steps: [{name: 财务, roles: [finance]}]
...       approved: 通过
...       rejected: 驳回
...   - {name: 通过, terminal: true, outcome: approved}
...   - {name: 驳回, terminal: true, outcome: rejected}
... '''))
>>> now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
>>> request = wf.start("R-7", {"discount": 15}, now=now, actor=Actor("li", {"sales"}))
>>> wf.approve(request, Actor("wang", {"finance"}), now=now).instance.state
'通过'
"""

from salesflow.workflow._approvals import ApprovalProgress, Decision, PlannedStep
from salesflow.workflow._definition import (
    Approval,
    ApprovalStep,
    Sla,
    State,
    Transition,
    WorkflowDefinition,
    dump_workflow,
    workflow_json_schema,
)
from salesflow.workflow._diagram import to_dot, to_mermaid
from salesflow.workflow._engine import Workflow
from salesflow.workflow._graph import state_graph
from salesflow.workflow._guards import Overlap, compare_guards
from salesflow.workflow._instance import (
    SYSTEM,
    Action,
    Actor,
    EventOption,
    Fired,
    Instance,
    Refusal,
    Step,
)
from salesflow.workflow._lint import lint, load_workflow
from salesflow.workflow._paths import (
    Edge,
    StatePath,
    coverage_paths,
    shortest_paths,
    simple_paths,
)
from salesflow.workflow._sla import Due

__all__ = [
    "SYSTEM",
    "Action",
    "Actor",
    "Approval",
    "ApprovalProgress",
    "ApprovalStep",
    "Decision",
    "Due",
    "Edge",
    "EventOption",
    "Fired",
    "Instance",
    "Overlap",
    "PlannedStep",
    "Refusal",
    "Sla",
    "State",
    "StatePath",
    "Step",
    "Transition",
    "Workflow",
    "WorkflowDefinition",
    "compare_guards",
    "coverage_paths",
    "dump_workflow",
    "lint",
    "load_workflow",
    "shortest_paths",
    "simple_paths",
    "state_graph",
    "to_dot",
    "to_mermaid",
    "workflow_json_schema",
]

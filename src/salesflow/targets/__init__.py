"""Sales targets: org trees, decomposition down the org and fiscal time.

- `OrgTree`, `OrgMember`, `OrgSnapshot`: the effective-dated org, validated as a whole.
- `TargetPlan`: the definition of a breakdown (YAML/JSON, with a JSON Schema).
- `decompose`: the breakdown itself, a `TargetGrid` of every node in every period,
  exact to the minor unit, each cell explainable (`TargetGrid.explain`).

- `track`: actuals rolled up the org and time against the targets: attainment, pace
  against the phased targets, projections, gap and the run-rate needed to close it.

- `TargetHistory`: re-planning mid-year as new versions (the past kept) and diffs.
"""

from salesflow.targets._grid import CellSource, Derivation, TargetGrid, TargetRow, decompose
from salesflow.targets._org import NodeId, OrgMember, OrgSnapshot, OrgTree
from salesflow.targets._plan import (
    FreedTarget,
    OrgMethod,
    OrgRule,
    TargetPlan,
    TimeMethod,
    TimeSplit,
    load_plan,
)
from salesflow.targets._tracking import (
    Actuals,
    Pace,
    Tracking,
    TrackRow,
    seasonality_from_history,
    track,
)
from salesflow.targets._versions import TargetChange, TargetHistory, TargetVersion

__all__ = [
    "Actuals",
    "CellSource",
    "Derivation",
    "FreedTarget",
    "NodeId",
    "OrgMember",
    "OrgMethod",
    "OrgRule",
    "OrgSnapshot",
    "OrgTree",
    "Pace",
    "TargetChange",
    "TargetGrid",
    "TargetHistory",
    "TargetPlan",
    "TargetRow",
    "TargetVersion",
    "TimeMethod",
    "TimeSplit",
    "TrackRow",
    "Tracking",
    "decompose",
    "load_plan",
    "seasonality_from_history",
    "track",
]

"""Sales targets: org trees, decomposition down the org and fiscal time, tracking.

This module is being built in stages (issue 3). What exists now:

- `OrgTree`, `OrgMember`, `OrgSnapshot`: the effective-dated org, validated as a whole.
"""

from salesflow.targets._org import NodeId, OrgMember, OrgSnapshot, OrgTree

__all__ = ["NodeId", "OrgMember", "OrgSnapshot", "OrgTree"]

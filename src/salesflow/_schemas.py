"""The published JSON Schemas of salesflow's definitions, and the script that writes them.

``python -m salesflow._schemas DIR`` writes one file per definition into ``DIR``
(the repository keeps them in ``docs/schemas/``, checked by a test), for editors and
for hosts that validate definitions outside Python.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter

from salesflow.incentives import Plan, RateTable
from salesflow.periods import BusinessCalendar, FiscalCalendar
from salesflow.targets import OrgMember, TargetPlan
from salesflow.workflow import workflow_json_schema

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["SCHEMAS", "render", "write"]

SCHEMAS: dict[str, Callable[[], dict[str, object]]] = {
    "business-calendar.schema.json": BusinessCalendar.model_json_schema,
    "fiscal-calendar.schema.json": TypeAdapter(FiscalCalendar).json_schema,
    "incentive-plan.schema.json": Plan.model_json_schema,
    "rate-table.schema.json": RateTable.model_json_schema,
    "org.schema.json": lambda: TypeAdapter(list[OrgMember]).json_schema(),
    "target-plan.schema.json": TargetPlan.model_json_schema,
    "workflow.schema.json": workflow_json_schema,
}
"""File name -> the function that builds the schema."""


def render(name: str) -> str:
    """The text of one schema file, as committed (sorted keys, 2-space indent)."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **SCHEMAS[name]()}
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = directory / name
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        sys.stdout.write(f"{path}\n")

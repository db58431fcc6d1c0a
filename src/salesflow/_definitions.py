"""Loading definitions: pydantic validation errors turned into located `Problem` values.

Every definition (calendars, orgs, target plans, workflows, incentive plans) is a
frozen pydantic model; loading one reports every problem at once as a
`DefinitionError` whose problems carry a code and a document path, never a raw
pydantic `ValidationError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from salesflow.errors import DefinitionError, Location, ParseError, Problem, Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["load_model", "read_mapping", "read_yaml", "validation_problems"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def validation_problems(err: ValidationError, *, path: str, code: str) -> list[Problem]:
    """One `Problem` per pydantic error, coded ``<code>.<type>`` at ``<path>.<loc>``.

    >>> from pydantic import BaseModel
    >>> class Tier(BaseModel):
    ...     rate: int
    >>> try:
    ...     Tier.model_validate({"rate": "x"})
    ... except ValidationError as err:
    ...     print(validation_problems(err, path="plan.tiers[1]", code="plan")[0])
    error plan.int_parsing at plan.tiers[1].rate: Input should be a valid integer, ...
    """
    problems = []
    for detail in err.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in detail["loc"])
        problems.append(
            Problem(
                f"{code}.{detail['type']}",
                Severity.ERROR,
                detail["msg"],
                Location(path=f"{path}{where}"),
            )
        )
    return problems


def load_model(
    model: type[ModelT], data: Mapping[str, object] | ModelT, *, path: str, code: str
) -> ModelT:
    """Validate ``data`` as ``model``; raise `DefinitionError` with every problem located.

    Raises:
        DefinitionError: ``data`` does not fit ``model``; one `Problem` per field error.
    """
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise DefinitionError.from_problems(
            validation_problems(err, path=path, code=code)
        ) from None


def read_yaml(text: str, *, source: str = "<text>") -> object:
    """Parse YAML (or JSON, a subset of it) safely: plain data, no tags, no code.

    Raises:
        ParseError: the text is not valid YAML, with the line and column of the fault.

    >>> read_yaml("{total: 1200.00 CNY, fiscal_year: 2026}")
    {'total': '1200.00 CNY', 'fiscal_year': 2026}
    >>> read_yaml("a: [1, 2", source="plan.yaml")
    Traceback (most recent call last):
    ...
    salesflow.errors.ParseError: plan.yaml line 1, column 9: not valid YAML: expected ...
    """
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        location = Location(
            path=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
        message = f"not valid YAML: {err.problem or err.context}"
        raise ParseError(message, code="definition.yaml", location=location) from None
    except yaml.YAMLError as err:
        msg = f"not valid YAML: {err}"
        raise ParseError(msg, code="definition.yaml", location=Location(path=source)) from None


def read_mapping(text: str, *, source: str, what: str) -> dict[str, object]:
    """`read_yaml` for a definition, which must be a mapping of fields.

    Args:
        text: The YAML or JSON text.
        source: The document's root path (``"plan"``): the location and the code prefix.
        what: The definition's name for the message (``"a rate table"``).

    Raises:
        ParseError: the text is not valid YAML, with its line and column.
        DefinitionError: the text holds something else than a mapping
            (code ``<source>.not_a_mapping``).

    >>> read_mapping("- a", source="plan", what="a plan")
    Traceback (most recent call last):
    ...
    salesflow.errors.DefinitionError: plan: a plan is a mapping of fields, not list
    """
    parsed = read_yaml(text, source=source)
    if not isinstance(parsed, dict):
        msg = f"{what} is a mapping of fields, not {type(parsed).__name__}"
        raise DefinitionError(msg, code=f"{source}.not_a_mapping", location=Location(path=source))
    return parsed

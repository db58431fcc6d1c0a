"""What an expression may refer to: named, typed fields.

A `Schema` is data (a frozen pydantic model), so definitions that carry expressions
can carry their schema too and round-trip it through YAML or JSON in the compact
spelling ``{"amount": "decimal(2)", "close_date": "date?"}``.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal, Self, final

from pydantic import BaseModel, ConfigDict, RootModel, model_serializer, model_validator
from pydantic import Field as PydanticField

from salesflow.expressions._parser import is_field_name
from salesflow.expressions._types import DECIMAL_MAX_SCALE, Kind, Ty

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["Field", "FieldType", "Schema"]

FieldType = Literal["bool", "int", "double", "decimal", "string", "date", "timestamp", "duration"]
FieldType.__doc__ = "The name of a field's type (and of an expression's result type)."

_SPELLING: Final = re.compile(
    r"\s*(?P<type>bool|int|double|string|date|timestamp|duration|decimal\s*\(\s*(?P<scale>\d+)\s*\))"
    r"\s*(?P<nullable>\?)?\s*"
)


@final
class Field(BaseModel):
    """The type of one field of a `Schema`.

    Written as text it is the type name, ``decimal(scale)`` for decimals, and a
    trailing ``?`` when the field may be null (``None`` in a row, masked or NaT in
    a column).

    Attributes:
        type: The field's type.
        nullable: Whether the value may be missing (null). Default ``False``.
        scale: For ``decimal`` only, and required there: digits after the point
            (0 to 18). Columns carry such a field as int64 scaled by ``10**scale``
            (cents for 2).

    >>> Field.model_validate("decimal(2)?")
    Field(type='decimal', nullable=True, scale=2)
    >>> str(Field(type="date"))
    'date'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: FieldType
    nullable: bool = False
    scale: int | None = PydanticField(default=None, ge=0, le=DECIMAL_MAX_SCALE)

    @model_validator(mode="before")
    @classmethod
    def _from_spelling(cls, data: object) -> object:
        if not isinstance(data, str):
            return data
        match = _SPELLING.fullmatch(data)
        if match is None:
            msg = (
                f"{data!r} is not a field type; write one of bool, int, double, decimal(N),"
                " string, date, timestamp, duration, with a trailing ? when nullable"
            )
            raise ValueError(msg)
        scale = match["scale"]
        return {
            "type": "decimal" if scale is not None else match["type"],
            "nullable": match["nullable"] is not None,
            "scale": None if scale is None else int(scale),
        }

    @model_validator(mode="after")
    def _scale_only_on_decimal(self) -> Self:
        if self.type == "decimal" and self.scale is None:
            msg = "a decimal field needs its scale, e.g. decimal(2) for cents"
            raise ValueError(msg)
        if self.type != "decimal" and self.scale is not None:
            msg = f"only decimal fields have a scale, not {self.type}"
            raise ValueError(msg)
        return self

    @model_serializer(mode="plain")
    def _to_spelling(self) -> str:
        return str(self)

    def __str__(self) -> str:
        """The compact spelling, e.g. ``decimal(2)?``."""
        name = f"decimal({self.scale})" if self.type == "decimal" else self.type
        return name + ("?" if self.nullable else "")

    def to_ty(self) -> Ty:
        """The checker's view of this field."""
        return Ty(Kind(self.type), self.nullable, self.scale)


@final
class Schema(RootModel[dict[str, Field]]):
    """The fields an expression may use, by name.

    Names are identifiers (any script) or dotted paths of them (``deal.amount``),
    matched exactly as written; CEL's reserved words (``in``, ``if``, ...) cannot be
    names.

    >>> schema = Schema({"amount": "decimal(2)", "region": "string", "close_date": "date?"})
    >>> schema["close_date"]
    Field(type='date', nullable=True, scale=None)
    >>> schema.model_dump()
    {'amount': 'decimal(2)', 'region': 'string', 'close_date': 'date?'}
    """

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _names_are_writable(self) -> Self:
        bad = [name for name in self.root if not is_field_name(name)]
        if bad:
            msg = (
                f"field names must be identifiers or dotted paths of them, and not a reserved"
                f" word: {', '.join(map(repr, bad))}"
            )
            raise ValueError(msg)
        return self

    def __getitem__(self, name: str) -> Field:
        """The field called ``name``; `KeyError` if there is none."""
        return self.root[name]

    def __contains__(self, name: object) -> bool:
        """Whether there is a field called ``name``."""
        return name in self.root

    def __iter__(self) -> Iterator[str]:  # type: ignore[override] # iterate names, like a Mapping
        """The field names, in the order given."""
        return iter(self.root)

    def __len__(self) -> int:
        """The number of fields."""
        return len(self.root)

    @property
    def fields(self) -> Mapping[str, Field]:
        """The fields by name (read-only view)."""
        return MappingProxyType(self.root)

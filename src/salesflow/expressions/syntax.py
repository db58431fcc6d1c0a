"""The syntax tree of an expression: a public, stable view for tools that analyse rules.

Linting a workflow needs to read a guard, not only evaluate it: to prove that two
guards on the same event cannot both hold, it looks at comparisons and set
membership on the same field. This module is that view: `parse` turns source into a
tree of frozen nodes, `unparse` prints a tree back to source (``parse(unparse(t)) ==
t``). The tree is untyped; compile with `salesflow.expressions.compile_expression` to
check and evaluate.

>>> tree = parse('amount > 1000 && region in ["east", "north"]')
>>> tree.op, tree.left.op, tree.left.left.path, tree.right.right.items[1].value
('&&', '>', 'amount', 'north')
>>> unparse(tree)
'amount > 1000 && region in ["east", "north"]'
"""

from salesflow.expressions._ast import (
    Binary,
    Call,
    Conditional,
    ListLiteral,
    Literal,
    LiteralKind,
    Name,
    Node,
    Unary,
    unparse,
)
from salesflow.expressions._parser import parse

__all__ = [
    "Binary",
    "Call",
    "Conditional",
    "ListLiteral",
    "Literal",
    "LiteralKind",
    "Name",
    "Node",
    "Unary",
    "parse",
    "unparse",
]

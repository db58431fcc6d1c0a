"""Text to syntax tree: the grammar (a CEL subset), the cost bounds, literal decoding.

The grammar is CEL's expression grammar without maps, messages, indexing, macros,
bytes, unsigned, raw and triple-quoted strings, with identifiers widened to Unicode
letters (``金额``). It is parsed by lark's LALR parser, which works with an explicit
stack, so a deep input cannot exhaust Python's recursion; the tree's depth is then
checked, iteratively, before anything recursive touches it.

CEL reference: https://github.com/google/cel-spec/blob/master/doc/langdef.md
"""

from __future__ import annotations

import functools
import re
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Final, NoReturn

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from salesflow.errors import ExpressionSyntaxError, Location
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
)

if TYPE_CHECKING:
    from lark.tree import Meta

__all__ = [
    "MAX_DEPTH",
    "MAX_LIST_ITEMS",
    "MAX_SOURCE_LENGTH",
    "RESERVED_WORDS",
    "is_field_name",
    "parse",
]

MAX_SOURCE_LENGTH: Final = 10_000
"""Longest source accepted, in characters."""
MAX_DEPTH: Final = 100
"""Deepest nesting of operators, calls and lists accepted."""
MAX_LIST_ITEMS: Final = 1_000
"""Most items in one list literal."""

# CEL's keywords and the words it reserves for the host language's sake.
RESERVED_WORDS: Final = frozenset(
    {
        "as", "break", "const", "continue", "else", "false", "for", "function", "if",
        "import", "in", "let", "loop", "package", "namespace", "null", "return", "true",
        "var", "void", "while",
    }
)  # fmt: skip

_GRAMMAR = r"""
?start: expr

?expr: or_expr
     | or_expr QMARK or_expr ":" expr -> conditional
?or_expr: and_expr
        | or_expr OR and_expr -> binary
?and_expr: relation
         | and_expr AND relation -> binary
?relation: addition
         | relation (EQ | NE | LT | LE | GT | GE | IN) addition -> binary
?addition: multiplication
         | addition (PLUS | MINUS) multiplication -> binary
?multiplication: unary
               | multiplication (STAR | SLASH | PERCENT) unary -> binary
?unary: member
      | BANG+ member -> unary
      | MINUS+ member -> unary
?member: primary
       | member DOT IDENT -> select
       | member DOT IDENT "(" ")" -> member_call
       | member DOT IDENT "(" _args ")" -> member_call
?primary: IDENT -> name
        | IDENT "(" ")" -> global_call
        | IDENT "(" _args ")" -> global_call
        | "(" expr ")"
        | LBRACK "]" -> list_
        | LBRACK _args "]" -> list_
        | LBRACK _args "," "]" -> list_
        | INT -> int_
        | FLOAT -> number
        | STRING -> string
        | "true" -> true
        | "false" -> false
        | "null" -> null
_args: expr | _args "," expr

QMARK: "?"
OR: "||"
AND: "&&"
EQ: "=="
NE: "!="
LT: "<"
LE: "<="
GT: ">"
GE: ">="
IN: /in\b/
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"
BANG: "!"
DOT: "."
LBRACK: "["
IDENT: /[^\W\d]\w*/
INT: /0[xX][0-9a-fA-F]+|[0-9]+/
FLOAT.2: /[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/
STRING: /"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*'/
COMMENT: /\/\/[^\n]*/
%ignore /[ \t\n\r\f]+/
%ignore COMMENT
"""

# How lark's terminal names read in "expected ..." messages.
_TERMINAL_TEXT: Final = {
    "QMARK": "'?'",
    "OR": "'||'",
    "AND": "'&&'",
    "EQ": "'=='",
    "NE": "'!='",
    "LT": "'<'",
    "LE": "'<='",
    "GT": "'>'",
    "GE": "'>='",
    "IN": "'in'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "PERCENT": "'%'",
    "BANG": "'!'",
    "DOT": "'.'",
    "LBRACK": "'['",
    "RSQB": "']'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "COLON": "':'",
    "IDENT": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a string",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "NULL": "'null'",
    "$END": "the end",
}
_OPERAND_TERMINALS: Final = frozenset(
    {"IDENT", "INT", "FLOAT", "STRING", "LPAR", "LBRACK", "MINUS", "BANG"}
)
_KEYWORD_TERMINALS: Final = frozenset({"TRUE", "FALSE", "NULL"})

_SIMPLE_ESCAPES: Final = {
    "\\": "\\",
    "?": "?",
    '"': '"',
    "'": "'",
    "`": "`",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_HEX_ESCAPE_WIDTH: Final = {"x": 2, "X": 2, "u": 4, "U": 8}
_OCTAL = re.compile(r"[0-3][0-7]{2}")
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_INT64_DIGITS: Final = 19  # 2**63 has 19 decimal digits; more cannot fit
_MAX_DOUBLE_EXPONENT: Final = 308  # beyond it a double overflows to infinity
_MAX_INT_LITERAL: Final = 2**63  # reachable only under a unary minus; the checker sees to it

_parser_lock = threading.Lock()
_parser: Lark | None = None


@functools.lru_cache(maxsize=512)  # hosts compile the same guard often; trees are immutable
def parse(source: str, *, path: str | None = None) -> Node:
    """Parse ``source`` into a syntax tree, enforcing the cost bounds.

    Raises:
        ExpressionSyntaxError: The text is not a well-formed expression, or exceeds
            a bound; the location points at the fault.
    """
    if len(source) > MAX_SOURCE_LENGTH:
        message = (
            f"expression is {len(source)} characters long; at most {MAX_SOURCE_LENGTH} allowed"
        )
        raise _syntax_error(message, "too_long", _position_of(source, MAX_SOURCE_LENGTH), path)
    try:
        tree = _get_parser().parse(source)
    except UnexpectedInput as err:
        raise _from_lark(err, source, path) from None
    _check_bounds(tree, path)
    try:
        return _ToAst(path).transform(tree)
    except VisitError as err:  # lark wraps what a callback raises
        if isinstance(err.orig_exc, ExpressionSyntaxError):
            raise err.orig_exc from None
        raise


def is_field_name(name: str) -> bool:
    """Whether ``name`` can be written in an expression: dotted identifiers, no keyword.

    >>> is_field_name("deal.amount"), is_field_name("金额"), is_field_name("in")
    (True, True, False)
    """
    return all(
        _IDENTIFIER.fullmatch(part) and part not in RESERVED_WORDS for part in name.split(".")
    )


def _get_parser() -> Lark:
    global _parser  # noqa: PLW0603 - built once on first use; building costs ~25 ms
    with _parser_lock:
        if _parser is None:
            _parser = Lark(
                _GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False
            )
        return _parser


def _syntax_error(
    message: str, refinement: str, where: tuple[int, int], path: str | None
) -> ExpressionSyntaxError:
    line, column = where
    return ExpressionSyntaxError(
        message,
        code=f"expression_syntax.{refinement}",
        location=Location(path=path, line=line, column=column),
    )


def _position_of(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _describe_expected(names: set[str] | frozenset[str]) -> str:
    if names >= _OPERAND_TERMINALS:
        names = (names - _OPERAND_TERMINALS - _KEYWORD_TERMINALS) | {"operand"}
    texts = sorted(_TERMINAL_TEXT.get(n, "an operand" if n == "operand" else n) for n in names)
    return ", ".join(texts)


def _from_lark(err: UnexpectedInput, source: str, path: str | None) -> ExpressionSyntaxError:
    if isinstance(err, UnexpectedCharacters):
        offset = err.pos_in_stream or 0
        char = source[offset] if offset < len(source) else ""
        message = f"unexpected character {char!r}"
        if err.allowed:
            message += f"; expected {_describe_expected(set(err.allowed))}"
        return _syntax_error(message, "unexpected_character", (err.line, err.column), path)
    if isinstance(err, UnexpectedToken) and err.token.type != "$END":
        token = err.token
        expected = _describe_expected(set(err.expected))
        message = f"unexpected {str(token)!r}; expected {expected}"
        return _syntax_error(message, "unexpected_token", (_line(token), _column(token)), path)
    expected_names = err.expected if isinstance(err, UnexpectedEOF | UnexpectedToken) else set()
    message = "unexpected end of expression"
    if expected_names:
        message += f"; expected {_describe_expected(set(expected_names))}"
    return _syntax_error(message, "unexpected_end", _position_of(source, len(source)), path)


def _check_bounds(tree: Tree[Token], path: str | None) -> None:
    """Reject trees nested deeper than `MAX_DEPTH` or lists longer than `MAX_LIST_ITEMS`.

    Iterative on purpose: the tree may be thousands of levels deep here.
    """
    stack: list[tuple[Tree[Token] | Token, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data == "unary":
            depth += len(node.children) - 2  # a run of n operators nests n deep
        if depth > MAX_DEPTH:
            where = (node.meta.line, node.meta.column)
            message = f"expression nests deeper than {MAX_DEPTH} levels"
            raise _syntax_error(message, "too_deep", where, path)
        if node.data == "list_" and len(node.children) - 1 > MAX_LIST_ITEMS:
            where = (node.meta.line, node.meta.column)
            message = f"list has {len(node.children) - 1} items; at most {MAX_LIST_ITEMS} allowed"
            raise _syntax_error(message, "list_too_long", where, path)
        stack.extend((child, depth + 1) for child in node.children)


@v_args(meta=True)
class _ToAst(Transformer[Token, Node]):
    """Lark tree to `Node`s; decodes literals and collapses dotted names."""

    def __init__(self, path: str | None) -> None:
        super().__init__()
        self._path = path

    def _error(self, message: str, refinement: str, line: int, column: int) -> NoReturn:
        raise _syntax_error(message, refinement, (line, column), self._path)

    def _name_part(self, token: Token) -> str:
        text = str(token)
        if text in RESERVED_WORDS:
            self._error(
                f"{text!r} is a reserved word", "reserved_word", _line(token), _column(token)
            )
        return text

    def name(self, meta: Meta, children: list[Token]) -> Node:
        return Name(self._name_part(children[0]), line=meta.line, column=meta.column)

    def select(self, meta: Meta, children: list[Node | Token]) -> Node:
        target, _dot, field = children
        assert isinstance(field, Token)  # noqa: S101 - shape fixed by the grammar
        if not isinstance(target, Name):
            self._error(
                "only field names can be followed by '.name'; indexing values is not supported",
                "select_on_value",
                _line(field),
                _column(field),
            )
        path = f"{target.path}.{self._name_part(field)}"
        return Name(path, line=meta.line, column=meta.column)

    def member_call(self, meta: Meta, children: list[Node | Token]) -> Node:
        target, _dot, function, *args = children
        assert isinstance(function, Token)  # noqa: S101 - shape fixed by the grammar
        assert isinstance(target, Node)  # noqa: S101
        del meta
        return Call(
            self._name_part(function),
            _nodes(args),
            target,
            line=_line(function),
            column=_column(function),
        )

    def global_call(self, meta: Meta, children: list[Node | Token]) -> Node:
        function, *args = children
        assert isinstance(function, Token)  # noqa: S101 - shape fixed by the grammar
        return Call(self._name_part(function), _nodes(args), line=meta.line, column=meta.column)

    def list_(self, meta: Meta, children: list[Node | Token]) -> Node:
        return ListLiteral(_nodes(children[1:]), line=meta.line, column=meta.column)

    def unary(self, meta: Meta, children: list[Node | Token]) -> Node:
        *operators, operand = children
        assert isinstance(operand, Node)  # noqa: S101 - shape fixed by the grammar
        del meta
        for op in reversed(operators):
            assert isinstance(op, Token)  # noqa: S101
            operand = Unary(str(op), operand, line=_line(op), column=_column(op))
        return operand

    def binary(self, meta: Meta, children: list[Node | Token]) -> Node:
        left, op, right = children
        assert isinstance(op, Token)  # noqa: S101 - shape fixed by the grammar
        assert isinstance(left, Node)  # noqa: S101
        assert isinstance(right, Node)  # noqa: S101
        del meta
        return Binary(str(op), left, right, line=_line(op), column=_column(op))

    def conditional(self, meta: Meta, children: list[Node | Token]) -> Node:
        condition, qmark, then, otherwise = children
        assert isinstance(qmark, Token)  # noqa: S101 - shape fixed by the grammar
        nodes = _nodes([condition, then, otherwise])
        del meta
        return Conditional(*nodes, line=_line(qmark), column=_column(qmark))

    def int_(self, meta: Meta, children: list[Token]) -> Node:
        text = str(children[0])
        is_hex = text[:2] in {"0x", "0X"}
        digits = (text[2:] if is_hex else text).lstrip("0")
        # Length first: int() of thousands of digits is slow (and limited by Python).
        value = None
        if len(digits) <= (16 if is_hex else _INT64_DIGITS):
            value = int(text, 16) if is_hex else int(text)
        if value is None or value > _MAX_INT_LITERAL:
            self._error(
                f"integer literal {text} does not fit in a 64-bit integer",
                "int_out_of_range",
                meta.line,
                meta.column,
            )
        return Literal(LiteralKind.INT, value, line=meta.line, column=meta.column)

    def number(self, meta: Meta, children: list[Token]) -> Node:
        value = Decimal(str(children[0]))
        if value.adjusted() > _MAX_DOUBLE_EXPONENT:
            self._error(
                f"number {children[0]} is out of range",
                "number_out_of_range",
                meta.line,
                meta.column,
            )
        return Literal(LiteralKind.NUMBER, value, line=meta.line, column=meta.column)

    def string(self, meta: Meta, children: list[Token]) -> Node:
        token = children[0]
        text = self._unescape(str(token)[1:-1], token)
        return Literal(LiteralKind.STRING, text, line=meta.line, column=meta.column)

    def true(self, meta: Meta, _children: list[Token]) -> Node:
        return Literal(LiteralKind.BOOL, value=True, line=meta.line, column=meta.column)

    def false(self, meta: Meta, _children: list[Token]) -> Node:
        return Literal(LiteralKind.BOOL, value=False, line=meta.line, column=meta.column)

    def null(self, meta: Meta, _children: list[Token]) -> Node:
        return Literal(LiteralKind.NULL, None, line=meta.line, column=meta.column)

    def _unescape(self, body: str, token: Token) -> str:
        out: list[str] = []
        i = 0
        while i < len(body):
            char = body[i]
            if char != "\\":
                out.append(char)
                i += 1
                continue
            decoded, width = self._escape_at(body, i, token)
            out.append(decoded)
            i += width
        text = "".join(out)
        if "\x00" in text:
            # numpy's fixed-width strings drop trailing NULs: the vectorized path
            # could not agree with the scalar one on such a value.
            self._error("strings cannot contain U+0000 (NUL)", "nul", _line(token), _column(token))
        return text

    def _escape_at(self, body: str, i: int, token: Token) -> tuple[str, int]:
        """Decode the escape starting at ``body[i]`` (a backslash): text and its length."""
        kind = body[i + 1]  # the token's pattern guarantees a character after '\'
        decoded: tuple[str, int] | None = None
        if kind in _SIMPLE_ESCAPES:
            decoded = _SIMPLE_ESCAPES[kind], 2
        elif kind in _HEX_ESCAPE_WIDTH:
            width = _HEX_ESCAPE_WIDTH[kind]
            digits = body[i + 2 : i + 2 + width]
            if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
                code = int(digits, 16)
                if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:  # noqa: PLR2004 - Unicode
                    decoded = chr(code), 2 + width
        elif _OCTAL.fullmatch(body[i + 1 : i + 4]):
            decoded = chr(int(body[i + 1 : i + 4], 8)), 4
        if decoded is None:
            message = f"invalid escape sequence {body[i : i + 2]!r}"
            self._error(message, "invalid_escape", _line(token), _column(token) + 1 + i)
        return decoded


def _line(token: Token) -> int:
    return token.line or 1


def _column(token: Token) -> int:
    return token.column or 1


def _nodes(items: list[Node | Token]) -> tuple[Node, ...]:
    return tuple(item for item in items if isinstance(item, Node))

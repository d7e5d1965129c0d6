"""A small, safe attribute-expression language for matching agents to contacts.

    language in ["yue", "zh"] and contact.age_band == agent.age_band
    agent.languages has contact.language or not (contact.vip == true)

Grammar (precedence from low to high)::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := operand [op operand]      op: == != < <= > >= in "not in" has
    operand    := literal | list | path | "(" expr ")"
    path       := ("agent" | "contact") "." name | name     (a bare name is an agent attribute)
    literal    := "string" | 'string' | number | true | false | null
    list       := "[" [literal ("," literal)*] "]"

Semantics: a missing attribute is null. `==`/`!=` never equate a boolean with a number.
`<`, `<=`, `>`, `>=` compare two numbers or two strings and are false otherwise. `x in list` is
true when x is an element; when x is itself a list, when the two share an element. `a has x`
is true when list a contains x. `and`/`or`/`not` use truthiness (null, false, 0, "" and [] are
false). Evaluation never raises.

The text is tokenised and parsed once into a tree of closures (no `eval`, no attribute access
on Python objects), so matching costs a few function calls. A syntax error raises
`ExpressionError` with the 0-based position of the offending character.
(Modelled on the worker expressions of Twilio TaskRouter, "Expression syntax" reference.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from lianluo.domain.routing.errors import ExpressionError

Attributes = Mapping[str, object]
_Evaluator = Callable[[Attributes, Attributes], object]

MAX_EXPRESSION_CHARS = 4_000
MAX_NESTING = 40

_KEYWORDS = frozenset({"and", "or", "not", "in", "has", "true", "false", "null"})
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],.])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, name, keyword, op, punct, end
    text: str
    position: int
    value: object = None


def _unescape(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            ch = text[pos]
            if ch in "\"'":
                raise ExpressionError("unterminated string", expression=text, position=pos)
            raise ExpressionError(f"unexpected character {ch!r}", expression=text, position=pos)
        kind = match.lastgroup or ""
        lexeme = match.group()
        if kind == "number":
            number: float | int = float(lexeme) if any(c in lexeme for c in ".eE") else int(lexeme)
            tokens.append(_Token("number", lexeme, pos, number))
        elif kind == "string":
            tokens.append(_Token("string", lexeme, pos, _unescape(lexeme[1:-1])))
        elif kind == "name":
            tokens.append(_Token("keyword" if lexeme in _KEYWORDS else "name", lexeme, pos))
        elif kind in ("op", "punct"):
            tokens.append(_Token(kind, lexeme, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: object, b: object) -> bool:
    if a.__class__ is str or a is None:  # the common case: no bool, list or tuple rules
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _ordered(a: object, b: object) -> bool:
    return (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))


def _contains(container: object, item: object) -> bool:
    if not isinstance(container, list | tuple | set | frozenset):
        return False
    return any(_equal(element, item) for element in container)


def _in(a: object, b: object) -> bool:
    if isinstance(a, list | tuple | set | frozenset):
        return any(_contains(b, element) for element in a)
    return _contains(b, a)


def _compare(op: str, left: _Evaluator, right: _Evaluator) -> _Evaluator:
    if op == "==":
        return lambda ag, co: _equal(left(ag, co), right(ag, co))
    if op == "!=":
        return lambda ag, co: not _equal(left(ag, co), right(ag, co))
    if op == "in":
        return lambda ag, co: _in(left(ag, co), right(ag, co))
    if op == "not in":
        return lambda ag, co: not _in(left(ag, co), right(ag, co))
    if op == "has":
        return lambda ag, co: _contains(left(ag, co), right(ag, co))

    def ordered(ag: Attributes, co: Attributes) -> bool:
        a, b = left(ag, co), right(ag, co)
        if not _ordered(a, b):
            return False
        if op == "<":
            return a < b  # type: ignore[operator]
        if op == "<=":
            return a <= b  # type: ignore[operator]
        if op == ">":
            return a > b  # type: ignore[operator]
        return a >= b  # type: ignore[operator]

    return ordered


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0
        self.contact_names: set[str] = set()
        self.agent_names: set[str] = set()

    # -- helpers -------------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.peek()
        return ExpressionError(message, expression=self.text, position=token.position)

    def describe(self, token: _Token) -> str:
        return "end of expression" if token.kind == "end" else repr(token.text)

    def expect_punct(self, text: str) -> _Token:
        token = self.peek()
        if token.kind != "punct" or token.text != text:
            raise self.error(f"expected {text!r}, found {self.describe(token)}")
        return self.advance()

    def is_keyword(self, word: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.index + offset, len(self.tokens) - 1)]
        return token.kind == "keyword" and token.text == word

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> _Evaluator:
        if self.peek().kind == "end":
            raise self.error("empty expression")
        node = self.parse_or()
        if self.peek().kind != "end":
            raise self.error(f"unexpected {self.describe(self.peek())}")
        return node

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression nested deeper than {MAX_NESTING}")

    def parse_or(self) -> _Evaluator:
        self.nested()
        parts = [self.parse_and()]
        while self.is_keyword("or"):
            self.advance()
            parts.append(self.parse_and())
        self.depth -= 1
        if len(parts) == 1:
            return parts[0]
        alternatives = tuple(parts)

        def either(ag: Attributes, co: Attributes) -> bool:
            for part in alternatives:
                if part(ag, co):
                    return True
            return False

        return either

    def parse_and(self) -> _Evaluator:
        parts = [self.parse_not()]
        while self.is_keyword("and"):
            self.advance()
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        conjuncts = tuple(parts)

        def both(ag: Attributes, co: Attributes) -> bool:
            for part in conjuncts:
                if not part(ag, co):
                    return False
            return True

        return both

    def parse_not(self) -> _Evaluator:
        if self.is_keyword("not") and not self.is_keyword("in", 1):
            self.advance()
            self.nested()
            inner = self.parse_not()
            self.depth -= 1
            return lambda ag, co: not inner(ag, co)
        return self.parse_comparison()

    def parse_comparison(self) -> _Evaluator:
        left = self.parse_operand()
        token = self.peek()
        op: str | None = None
        if token.kind == "op":
            op = token.text
            self.advance()
        elif self.is_keyword("in") or self.is_keyword("has"):
            op = token.text
            self.advance()
        elif self.is_keyword("not") and self.is_keyword("in", 1):
            op = "not in"
            self.advance()
            self.advance()
        if op is None:
            return left
        right = self.parse_operand()
        return _compare(op, left, right)

    def parse_operand(self) -> _Evaluator:
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.advance()
            inner = self.parse_or()
            self.expect_punct(")")
            return inner
        if token.kind == "punct" and token.text == "[":
            constant: object = self.parse_list()
            return lambda ag, co: constant
        if token.kind in ("number", "string") or (
            token.kind == "keyword" and token.text in ("true", "false", "null")
        ):
            literal = self.parse_literal()
            return lambda ag, co: literal
        if token.kind == "name":
            return self.parse_path()
        raise self.error(f"expected a value, found {self.describe(token)}")

    def parse_literal(self) -> object:
        token = self.advance()
        if token.kind in ("number", "string"):
            return token.value
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token.text]
        raise self.error(f"expected a literal, found {self.describe(token)}", token)

    def parse_list(self) -> tuple[object, ...]:
        self.expect_punct("[")
        items: list[object] = []
        if self.peek().kind == "punct" and self.peek().text == "]":
            self.advance()
            return ()
        while True:
            items.append(self.parse_literal())
            token = self.peek()
            if token.kind == "punct" and token.text == ",":
                self.advance()
                continue
            if token.kind == "punct" and token.text == "]":
                self.advance()
                return tuple(items)
            raise self.error(f"expected ',' or ']', found {self.describe(token)}")

    def parse_path(self) -> _Evaluator:
        head = self.advance()
        nxt = self.peek()
        if nxt.kind == "punct" and nxt.text == ".":
            if head.text not in ("agent", "contact"):
                raise self.error(
                    f"unknown scope {head.text!r}; use agent.<name> or contact.<name>", head
                )
            self.advance()
            name_token = self.peek()
            if name_token.kind not in ("name", "keyword"):
                raise self.error(f"expected an attribute name, found {self.describe(name_token)}")
            self.advance()
            name = name_token.text
            if head.text == "contact":
                self.contact_names.add(name)
                return lambda ag, co: co.get(name)
            self.agent_names.add(name)
            return lambda ag, co: ag.get(name)
        name = head.text
        self.agent_names.add(name)
        return lambda ag, co: ag.get(name)


@dataclass(frozen=True, slots=True, eq=False)
class CompiledExpression:
    """A parsed attribute expression. Call `matches(agent_attributes, contact_attributes)`.

    contact_attributes: the contact attribute names it reads (the engine groups contacts that
    agree on these, since they see the same agents).
    """

    text: str
    contact_attributes: frozenset[str]
    agent_attributes: frozenset[str]
    _evaluate: _Evaluator = field(repr=False)

    def matches(self, agent: Attributes, contact: Attributes) -> bool:
        return bool(self._evaluate(agent, contact))


def compile_expression(text: str) -> CompiledExpression:
    """Parse `text` once into a matcher; raise `ExpressionError` with the error position.

    Recursive-descent parser over the grammar in this module's docstring (Aho, Lam, Sethi,
    Ullman, "Compilers", 2nd ed., section 4.4); Twilio TaskRouter's expression syntax is the
    model for the operators.
    """
    if not isinstance(text, str):
        raise ExpressionError("expression must be a string", expression=repr(text), position=0)
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(
            f"expression longer than {MAX_EXPRESSION_CHARS} characters",
            expression=text[:40] + "...",
            position=MAX_EXPRESSION_CHARS,
        )
    parser = _Parser(text)
    evaluate = parser.parse()
    return CompiledExpression(
        text=text,
        contact_attributes=frozenset(parser.contact_names),
        agent_attributes=frozenset(parser.agent_names),
        _evaluate=evaluate,
    )


def freeze(value: object) -> Hashable:
    """A hashable stand-in for an attribute value (lists become tuples, dicts sorted items).

    Two values freeze equal only if every expression treats them alike (True and 1 do not).
    """
    if isinstance(value, bool):
        return ("<bool>", value)
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, Hashable):
        return value
    return repr(value)

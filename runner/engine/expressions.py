"""The two small languages of batch segment jobs, parsed into values (item filters, in
`runner.engine.item_filters`, are read with the same parser).

- Item attribute expressions, the `itemAttributes` of `aws-item-attribute-affinity` input
  lines: `ITEMS.<field> = "<value>"` conditions joined by `AND`.
- Filter expressions, the subset of Personalize's filter language that selects users,
  which is what a segment filter does:

      INCLUDE UserID WHERE Users.MEMBERSHIP IN ("gold", "silver") AND Users.AGE >= 18
      EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("purchase")

  Conditions are `Users.<field>` or `Interactions.EVENT_TYPE` with `IN (…)`, `NOT IN (…)`,
  `=`, `<`, `<=`, `>`, `>=`, joined by `AND` (binding tighter) and `OR`; several
  expressions are chained with `|` (what they select: `runner.engine.filters`).
  Placeholders (`$NAME`) are refused: a batch segment job has no way to pass their values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from runner.engine.errors import EngineError

Operator = Literal["IN", "NOT IN", "=", "<", "<=", ">", ">="]
COMPARISONS: frozenset[str] = frozenset({"<", "<=", ">", ">="})


class ExpressionError(EngineError):
    """An expression that the local engine cannot parse or does not support."""


@dataclass(frozen=True)
class Condition:
    dataset: str  # "ITEMS", "USERS" or "INTERACTIONS"
    field: str
    operator: Operator
    values: tuple[str, ...]


@dataclass(frozen=True)
class FilterExpression:
    action: Literal["INCLUDE", "EXCLUDE"]
    # Disjunctive normal form: OR of ANDs.
    any_of: tuple[tuple[Condition, ...], ...]


_TOKEN = re.compile(
    r"""(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
      | (?P<placeholder>\$\w+)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),|])
      | (?P<word>[A-Za-z_][\w]*(?:\.[\w]+)?)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens = []
    position = len(text) - len(text.lstrip())
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise ExpressionError(
                f"unexpected {text[position:][:20]!r} at column {position + 1} in {text!r}"
            )
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
        position += len(text[position:]) - len(text[position:].lstrip())
    return tokens


class Parser:
    """A reader of the tokens of one expression; item filters extend it with placeholders."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def peek_word(self) -> str | None:
        token = self.peek()
        return token.text.upper() if token is not None and token.kind == "word" else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise self.error("unexpected end")
        self.index += 1
        return token

    def expect_word(self, word: str) -> None:
        token = self.peek()
        if token is None or token.kind != "word" or token.text.upper() != word:
            raise self.error(f"expected {word}")
        self.index += 1

    def expect_punct(self, punct: str) -> None:
        token = self.peek()
        if token is None or token.text != punct:
            raise self.error(f"expected {punct!r}")
        self.index += 1

    def error(self, message: str) -> ExpressionError:
        token = self.peek()
        where = f"at column {token.position + 1}" if token is not None else "at the end"
        return ExpressionError(f"{message} {where} of {self.text!r}")

    def value(self) -> str:
        if self.peek() is None:
            raise self.error("expected a quoted value or a number")
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return token.text
        if token.kind == "placeholder":
            self.index -= 1
            raise self.error(
                f"placeholder {token.text} is not supported: a batch segment job cannot "
                "pass filter values; write the value into the expression"
            )
        self.index -= 1
        raise self.error("expected a quoted value or a number")

    def field(self, allowed: tuple[str, ...]) -> tuple[str, str]:
        expected = f"expected {' or '.join(a.title() + '.<field>' for a in allowed)}"
        if self.peek() is None:
            raise self.error(expected)
        token = self.take()
        dataset, _, field = token.text.partition(".")
        if token.kind != "word" or not field or dataset.upper() not in allowed:
            self.index -= 1
            raise self.error(expected)
        return dataset.upper(), field

    def condition(self, allowed: tuple[str, ...]) -> Condition:
        dataset, field = self.field(allowed)
        token = self.peek()
        if token is not None and token.kind == "op":
            self.take()
            if token.text not in ("=", *COMPARISONS):
                self.index -= 1
                raise self.error(f"operator {token.text} is not supported")
            operator: Operator = token.text  # type: ignore[assignment]
            return Condition(dataset, field, operator, (self.value(),))
        negated = self.peek_word() == "NOT"
        if negated:
            self.take()
        self.expect_word("IN")
        self.expect_punct("(")
        values = [self.value()]
        while self.peek() is not None and self.tokens[self.index].text == ",":
            self.take()
            values.append(self.value())
        self.expect_punct(")")
        return Condition(dataset, field, "NOT IN" if negated else "IN", tuple(values))

    def at_end(self) -> bool:
        return self.index == len(self.tokens)

    def expressions(
        self,
        subject: str,
        condition: Callable[[], Condition],
        *,
        refused: Mapping[str, str] | None = None,
        check: Callable[[FilterExpression], None] | None = None,
    ) -> tuple[FilterExpression, ...]:
        """`INCLUDE|EXCLUDE <subject> WHERE <conditions>`, chained with `|`, to the end.

        `condition` parses one condition; `AND` binds tighter than `OR`. `refused` gives the
        message for another subject; `check` sees each expression as soon as it is read.
        """
        expressions = []
        while True:
            word = self.peek_word()
            if word not in ("INCLUDE", "EXCLUDE"):
                raise self.error("expected INCLUDE or EXCLUDE")
            self.take()
            action: Literal["INCLUDE", "EXCLUDE"] = "INCLUDE" if word == "INCLUDE" else "EXCLUDE"
            other = self.peek_word()
            if refused is not None and other is not None and other in refused:
                raise self.error(refused[other])
            self.expect_word(subject)
            self.expect_word("WHERE")
            any_of = []
            all_of = [condition()]
            while self.peek_word() in ("AND", "OR"):
                if self.take().text.upper() == "OR":
                    any_of.append(tuple(all_of))
                    all_of = []
                all_of.append(condition())
            any_of.append(tuple(all_of))
            expression = FilterExpression(action, tuple(any_of))
            if check is not None:
                check(expression)
            expressions.append(expression)
            if self.at_end():
                return tuple(expressions)
            self.expect_punct("|")


def parse_item_attributes(text: str) -> tuple[Condition, ...]:
    """`ITEMS.genres = "Comedy" AND ITEMS.year = "2001"` → its conditions."""
    parser = Parser(text)
    conditions = []
    while True:
        condition = parser.condition(("ITEMS",))
        if condition.operator != "=":
            raise ExpressionError(
                f"item attribute expressions compare with '=' only, not {condition.operator}: "
                f"{text!r}"
            )
        conditions.append(condition)
        if parser.at_end():
            return tuple(conditions)
        parser.expect_word("AND")


def parse_filter(text: str) -> tuple[FilterExpression, ...]:
    """A filter expression (or several chained with `|`) that selects users."""
    parser = Parser(text)
    return parser.expressions(
        "USERID",
        lambda: parser.condition(("USERS", "INTERACTIONS")),
        refused={
            "ITEMID": "ItemID filters apply to item recommendations; a segment filter selects "
            "UserID"
        },
    )

"""The fast path: plain block YAML read line by line, without libyaml.

`runner.yaml.reader.decode` tries this first; what it cannot read goes to `runner.yaml.events`.
Kept because the gain is one a pre-commit hook feels: on the example specs it reads a file
in about 100 µs where libyaml's C parser, through its events, takes about 340 µs (3.3
times; a quarter of a second saved over 1,000 specs).
"""

from __future__ import annotations

import re
from typing import Any

from runner.yaml.document import (
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_IMPLICIT_KEY,
    Document,
    Path_,
    Positions,
)
from runner.yaml.scalars import FALSE, NULL, TRUE, IntegerTooLong, resolve_plain
from runner.yaml.span import Marks, Span

# The fast path. Specs are nearly always block mappings and sequences of `key: value`
# lines with plain or simply quoted scalars; for that subset of YAML a reading line by line
# gives the same values several times faster than libyaml's events, which are Python
# objects. Anything outside the subset (flow collections, anchors, tags, block or
# multi-line scalars, escapes, tabs, duplicate keys, errors, ...) returns None, and the
# events decide. A test holds the two to the same result. Braces may follow the first
# character of a plain scalar (`weekly-{week}`, a recurring spec's placeholder): in block
# context they are flow indicators only where a scalar starts.
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.\-]*):(?: +|$)")
_PLAIN = re.compile(r"[A-Za-z0-9_./=+~()\-][A-Za-z0-9_./:=+~()\-, {}]*")
_NOT_KEYS = NULL | TRUE | FALSE
_COMMON_LINE = re.compile(
    r"( *)(- +)?([A-Za-z_][A-Za-z0-9_.\-]*):"
    r"(?: +([A-Za-z0-9_./=+~()\-][A-Za-z0-9_./:=+~()\-, {}]*))?(?: +#.*)? *"
)
_EMPTY: Any = object()
# What YAML does not allow in a stream (C0 controls but tab and line breaks, DEL, C1 but
# NEL, surrogates, U+FFFE/U+FFFF): libyaml reports it where it stands.
_NOT_PRINTABLE = re.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _NotPlain(Exception):
    """Outside the subset the fast path reads."""


class _Line:
    __slots__ = ("content", "dash", "indent", "key", "number", "value")

    def __init__(
        self, number: int, indent: int, dash: bool, content: int, key: str | None, value: Any
    ) -> None:
        self.number = number
        self.indent = indent
        self.dash = dash
        self.content = content
        self.key = key
        self.value = value


def _scalar_text(text: str) -> Any:
    """The value of what follows `key: ` or `- `, comment included; _EMPTY if nothing."""
    if not text or text[0] == "#":
        return _EMPTY
    quote = text[0]
    if quote in "\"'":
        end = text.find(quote, 1)
        value = text[1:end]
        rest = text[end + 1 :]
        if (
            end < 0
            or "\\" in value
            or not value.isprintable()
            or (rest and not (rest[0] == " " and rest.lstrip(" ").startswith("#")))
        ):
            raise _NotPlain
        return value
    value, _, _ = text.partition(" #")
    value = value.rstrip(" ")
    if (
        _PLAIN.fullmatch(value) is None
        or value == "-"
        or value.endswith(":")
        or ": " in value
        or (value[0] == "-" and value[1:2] == " ")
    ):
        raise _NotPlain
    return resolve_plain(value)


def _lines(text: str) -> list[list[_Line]]:
    """The documents' lines, tokenised; raises _NotPlain outside the subset."""
    documents: list[list[_Line]] = [[]]
    explicit = False
    common = _COMMON_LINE.fullmatch
    for number, raw in enumerate(text.split("\n"), start=1):
        match = common(raw)
        if match is not None:
            # The usual line, `[- ]key: plain value [# comment]`, in one regular expression.
            spaces, dash_text, key, plain = match.groups()
            if key in _NOT_KEYS or len(key) > MAX_IMPLICIT_KEY:
                raise _NotPlain
            if plain is not None:
                plain = plain.rstrip(" ")
            if plain is None:
                value = _EMPTY
            elif ": " in plain or plain[-1] == ":" or plain == "-" or plain.startswith("- "):
                raise _NotPlain
            else:
                value = resolve_plain(plain)
            indent = len(spaces)
            content = indent + len(dash_text) if dash_text else indent
            documents[-1].append(_Line(number, indent, bool(dash_text), content, key, value))
            continue
        line = raw.rstrip(" ")
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "#":
            continue
        if line.startswith(("---", "...", "%")):
            if line != "---":
                raise _NotPlain
            # What comes before the first `---` is a document only if it holds something.
            if explicit or documents[0]:
                if len(documents) == MAX_DOCUMENTS:
                    raise _NotPlain
                documents.append([])
            explicit = True
            continue
        indent = len(line) - len(stripped)
        dash = stripped == "-" or stripped.startswith("- ")
        content = indent
        if dash:
            rest = stripped[1:].lstrip(" ")
            content = len(line) - len(rest)
            stripped = rest
        match = _KEY.match(stripped)
        if match is not None:
            key = match.group(1)
            if key in _NOT_KEYS or len(key) > MAX_IMPLICIT_KEY:
                raise _NotPlain
            value = _scalar_text(stripped[match.end() :])
        else:
            key = None
            value = _scalar_text(stripped)
            if value is _EMPTY and not dash:
                raise _NotPlain
        documents[-1].append(_Line(number, indent, dash, content, key, value))
    if not explicit and not documents[0]:
        return []
    return documents


class _Blocks:
    """Block structure from tokenised lines: mappings by indentation, `- ` sequences.

    The lines end with a sentinel at indent -1, which closes every open block.
    """

    def __init__(self, lines: list[_Line]) -> None:
        self.lines = [*lines, _END]
        self.at = 0
        self.depth = 0

    def done(self) -> bool:
        return self.lines[self.at] is _END

    def node(self) -> Any:
        line = self.lines[self.at]
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _NotPlain
        value = self.sequence(line.indent) if line.dash else self.mapping(line.indent, line)
        self.depth -= 1
        return value

    def value_after(self, indent: int) -> Any:
        """The block under a key or a `-` with nothing after it, or null."""
        following = self.lines[self.at]
        if following.indent > indent or (following.indent == indent and following.dash):
            return self.node()
        return None

    def mapping(self, indent: int, line: _Line) -> dict[str, Any]:
        result: dict[str, Any] = {}
        lines = self.lines
        while True:
            key = line.key
            if key is None or key in result:
                raise _NotPlain
            self.at += 1
            value = line.value
            result[key] = self.value_after(indent) if value is _EMPTY else value
            line = lines[self.at]
            if line.indent < indent:
                return result
            if line.indent > indent or line.dash:
                raise _NotPlain

    def sequence(self, indent: int) -> list[Any]:
        result: list[Any] = []
        lines = self.lines
        line = lines[self.at]
        while line.indent == indent and line.dash:
            if line.key is not None:
                result.append(self.mapping(line.content, line))
            elif line.value is _EMPTY:
                self.at += 1
                result.append(self.node() if lines[self.at].indent > indent else None)
            else:
                self.at += 1
                result.append(line.value)
            line = lines[self.at]
        if line.indent > indent:
            raise _NotPlain
        return result


_END = _Line(0, -1, False, -1, None, None)


def decode_plain_blocks(text: str) -> list[Document] | None:
    """The documents of `text` if it is within the fast path's subset, else None."""
    # Anchors and aliases (`&a`, `*a`) start a node, where no pattern of the subset takes
    # them; inside a quoted scalar (a cron expression's `*`) they are characters.
    if "\t" in text or "\r" in text or _NOT_PRINTABLE.search(text) is not None:
        return None
    try:
        tokenised = _lines(text)
        documents: list[Document] = []
        shared = Positions(text, _locate)
        for index, lines in enumerate(tokenised):
            if not lines:
                data: Any = None
                start = Span(1, 1, 1, 1)
            else:
                blocks = _Blocks(lines)
                data = blocks.node()
                if not blocks.done():
                    raise _NotPlain
                first = lines[0]
                start = Span(first.number, first.indent + 1, first.number, first.indent + 1)
            documents.append(Document(index, data, start, shared=shared))
    except (_NotPlain, IntegerTooLong):
        return None
    return documents


def _locate(text: str) -> list[tuple[dict[Path_, Marks], Span]]:
    # Positions come from libyaml's events, loaded only when a finding needs one.
    from runner.yaml.events import locate

    return locate(text)

"""What decoding a YAML file gives: documents with positions on demand, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from runner.yaml.span import Marks, Span, marks_span

Path_: TypeAlias = tuple[str | int, ...]

MAX_DEPTH = 64
# Values that aliases may add to one document (a "billion laughs" stops here); the values
# written out are bounded by the file's size.
MAX_NODES = 10_000
# Documents in one file: a spec takes a few hundred bytes, so a file of the largest size
# loaded (1 MiB) holds far fewer.
MAX_DOCUMENTS = 10_000
# libyaml takes `key:` for a mapping's key only if the key, from its first character to the
# `:`, is at most this long (the YAML spec's limit on implicit keys); a longer one is an
# error there, which the fast path leaves to libyaml to report.
MAX_IMPLICIT_KEY = 1024

# Finds the position of every node, and the start, of each document of a text, again.
Locator: TypeAlias = Callable[[str], list[tuple[dict[Path_, Marks], Span]]]


class Positions:
    """The positions of every document of one text, found once for all of them.

    The documents of one decoding share it: the first that needs a position finds those of
    the whole text (one more decoding, linear in its size), the others then read theirs.
    Finding them cannot fail for a text that decoded, since both decoders accept the same
    YAML; if it does anyway (a bug in the fast path), the error is kept in `error` for the
    loader to report as the file's finding, and every node is placed at the error.
    """

    __slots__ = ("_found", "_locate", "_text", "error")

    def __init__(self, text: str, locate: Locator) -> None:
        self._text = text
        self._locate = locate
        self._found: list[tuple[dict[Path_, Marks], Span]] | None = None
        self.error: YamlSyntaxError | None = None

    def of(self, index: int) -> tuple[dict[Path_, Marks], Span]:
        if self.error is not None:
            return {}, self.error.span
        if self._found is None:
            try:
                self._found = self._locate(self._text)
            except YamlSyntaxError as error:
                self.error = error
                return {}, error.span
            self._text = ""
        return self._found[index]


class Document:
    """One YAML document of a file: its plain value and the position of every node.

    Positions are found only when asked for: most documents are valid and never need them,
    and recording them would double the cost of decoding. The decoder that made the
    document gives the `Positions` of its text that finds them.
    """

    __slots__ = ("_positions", "_shared", "data", "index", "start")

    def __init__(
        self,
        index: int,
        data: Any,
        start: Span,
        *,
        positions: dict[Path_, Marks] | None = None,
        shared: Positions | None = None,
    ) -> None:
        self.index = index
        self.data = data
        self.start = start
        self._positions = positions
        self._shared = shared

    @property
    def syntax_error(self) -> YamlSyntaxError | None:
        """The error met finding this document's positions again, if any."""
        return None if self._shared is None else self._shared.error

    @property
    def positions(self) -> dict[Path_, Marks]:
        if self._positions is None:
            assert self._shared is not None, "a document without positions shares its text's"
            self._positions, self.start = self._shared.of(self.index)
        return self._positions

    def locate(self, path: Path_, *, key: bool = False) -> Span:
        """The span of the node at `path` (of its key with `key`), or of its nearest ancestor."""
        positions = self.positions
        while path not in positions and path:
            path = path[:-1]
        marks = positions.get(path)
        if marks is None:
            return self.start
        start, end, key_start, key_end = marks
        if key and key_start is not None:
            return marks_span(key_start, key_end)
        return marks_span(start, end)


class YamlSyntaxError(Exception):
    """The file is not YAML the runner accepts; `span` says where."""

    def __init__(self, message: str, span: Span, rule: str = "yaml-syntax") -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.rule = rule


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    path: Path_
    key: str
    span: Span
    first: Span


@dataclass
class Decoded:
    documents: list[Document]
    duplicate_keys: list[DuplicateKey]

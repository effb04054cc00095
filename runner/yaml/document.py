"""What decoding a YAML file gives: documents with positions on demand, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from runner.yaml.span import Marks, Span, marks_span

Path_: TypeAlias = tuple[str | int, ...]

MAX_DEPTH = 64
MAX_NODES = 10_000

# Finds the positions of every node of document `index` of a text, and its start, again.
Locator: TypeAlias = Callable[[str, int], tuple[dict[Path_, Marks], Span]]


class Document:
    """One YAML document of a file: its plain value and the position of every node.

    Positions are found only when asked for: most documents are valid and never need them,
    and recording them would double the cost of decoding. The decoder that made the
    document gives the `locate` that finds them.
    """

    __slots__ = ("_locate", "_positions", "_text", "data", "index", "start")

    def __init__(
        self,
        index: int,
        data: Any,
        start: Span,
        *,
        text: str = "",
        positions: dict[Path_, Marks] | None = None,
        locate: Locator | None = None,
    ) -> None:
        self.index = index
        self.data = data
        self.start = start
        self._text = text
        self._positions = positions
        self._locate = locate

    @property
    def positions(self) -> dict[Path_, Marks]:
        if self._positions is None:
            assert self._locate is not None, "a document without positions knows its locator"
            self._positions, self.start = self._locate(self._text, self.index)
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

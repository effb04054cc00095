"""YAML through libyaml's events (ruamel.yaml.clib): all of YAML, every error with its place.

The only module that imports ruamel.yaml, and only when the fast path (`runner.yaml.fast`)
cannot read a file or a finding needs positions. It drives the C event parser and composes
the documents itself, iteratively, so that it can keep positions, refuse duplicate keys,
bound nesting and alias expansion, and resolve scalars with the YAML 1.2 core schema
without the cost of ruamel's resolver.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml import events as ev

# libyaml's event parser; the dependency is declared for CPython, where it is a wheel.
from ruamel.yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from runner.yaml.document import (
    MAX_DEPTH,
    MAX_DOCUMENTS,
    MAX_IMPLICIT_KEY,
    MAX_NODES,
    Decoded,
    Document,
    DuplicateKey,
    Path_,
    Positions,
    YamlSyntaxError,
)
from runner.yaml.scalars import MAX_INT_CHARS, IntegerTooLong, resolve_plain
from runner.yaml.span import Marks, Span, char_span, marks_span

_TAGS = {
    "tag:yaml.org,2002:str": str,
    "!!str": str,
}


def _scalar(event: Any) -> Any:
    tag = event.tag
    try:
        if tag is None or tag == "!":
            return resolve_plain(event.value) if event.implicit[0] else event.value
        if tag in _TAGS:
            return event.value
        if tag in ("tag:yaml.org,2002:int", "!!int") and type(resolve_plain(event.value)) is int:
            return resolve_plain(event.value)
    except IntegerTooLong:
        raise YamlSyntaxError(
            f"an integer of {len(event.value):,} characters (at most {MAX_INT_CHARS:,}): "
            "a spec's numbers are far shorter",
            marks_span(event.start_mark, event.end_mark),
            rule="yaml-too-large",
        ) from None
    raise _bad_tag(event)


_SCALAR = ev.ScalarEvent
_ALIAS = ev.AliasEvent
_MAPPING_START = ev.MappingStartEvent
_SEQUENCE_START = ev.SequenceStartEvent
_COLLECTION_END = (ev.MappingEndEvent, ev.SequenceEndEvent)
_COLLECTION_TAGS = frozenset({None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Frame:
    """A mapping or sequence being built, and the key waiting for its value."""

    __slots__ = (
        "anchor",
        "container",
        "first_count",
        "has_key",
        "key",
        "key_marks",
        "path",
        "start",
    )

    def __init__(self, container: Any, path: Path_, start: Any, first_count: int) -> None:
        self.container = container
        self.path = path
        self.start = start
        self.first_count = first_count
        self.anchor: str | None = start.anchor
        self.key: str | None = None
        self.has_key = False
        self.key_marks: tuple[Any, Any] | None = None


class _Composer:
    """Builds plain values from parser events, recording positions by path.

    Containers are built with an explicit stack, so that deep nesting cannot exhaust the
    interpreter's stack (libyaml's own composer would crash the process).
    """

    def __init__(self, next_event: Callable[[], Any], text: str, *, record: bool) -> None:
        self.next_event = next_event
        self.record = record
        # Without recording, the documents share the positions found again when needed.
        self.shared = None if record else Positions(text, locate)
        self.duplicates: list[DuplicateKey] = []

    def document(self, index: int, start_event: Any) -> Document:
        record = self.record
        positions: dict[Path_, Marks] = {}
        doc = Document(
            index,
            None,
            marks_span(start_event.start_mark, start_event.end_mark),
            positions=positions if record else None,
            shared=self.shared,
        )
        anchors: dict[str, tuple[Any, int]] = {}
        # The values met so far, those the aliases repeat included (an anchor's weight is
        # what it holds), and those that the aliases added.
        nodes = 0
        repeated = 0
        stack: list[_Frame] = []
        next_event = self.next_event
        event = next_event()
        while True:
            kind = type(event)
            if kind is _SCALAR or kind is _ALIAS:
                if kind is _SCALAR:
                    value = _scalar(event)
                    nodes += 1
                    if event.anchor is not None:
                        anchors[event.anchor] = (value, 1)
                else:
                    if event.anchor not in anchors:
                        # libyaml's parser leaves this to the composer: ours.
                        raise YamlSyntaxError(
                            f"invalid YAML: the alias *{event.anchor} refers to no anchor; "
                            f"define &{event.anchor} before it, in the same document",
                            marks_span(event.start_mark, event.end_mark),
                        )
                    value, weight = anchors[event.anchor]
                    nodes += weight
                    repeated += weight
                    if repeated > MAX_NODES:
                        raise _too_many(event)
                if record:
                    start, end = event.start_mark, event.end_mark
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                if event.tag not in _COLLECTION_TAGS:
                    raise _bad_tag(event)
                if len(stack) >= MAX_DEPTH:
                    raise YamlSyntaxError(
                        f"nesting deeper than {MAX_DEPTH} levels: a spec is far shallower",
                        marks_span(event.start_mark, event.end_mark),
                        rule="yaml-too-large",
                    )
                nodes += 1
                parent = stack[-1] if stack else None
                if parent is None or not record:
                    path: Path_ = ()
                elif parent.key is not None:
                    path = (*parent.path, parent.key)
                elif type(parent.container) is list:
                    path = (*parent.path, len(parent.container))
                else:
                    path = (*parent.path, "<key>")
                stack.append(_Frame({} if kind is _MAPPING_START else [], path, event, nodes))
                event = next_event()
                continue
            elif kind in _COLLECTION_END:
                frame = stack.pop()
                value = frame.container
                if frame.anchor is not None:
                    anchors[frame.anchor] = (value, nodes - frame.first_count + 1)
                if record:
                    start, end = frame.start.start_mark, event.end_mark
            else:  # pragma: no cover - libyaml guarantees the order of events
                raise YamlSyntaxError(f"unexpected {kind.__name__}", doc.start)

            if not stack:
                if record:
                    positions[()] = (start, end, None, None)
                doc.data = value
                break
            parent = stack[-1]
            container = parent.container
            if type(container) is list:
                if record:
                    positions[(*parent.path, len(container))] = (start, end, None, None)
                container.append(value)
            elif not parent.has_key:
                parent.key = value if type(value) is str else _key_text(value)
                parent.has_key = True
                if record:
                    parent.key_marks = (start, end)
            else:
                key = parent.key
                assert key is not None
                if key in container:
                    if not record:
                        raise _Duplicate
                    key_start, key_end = parent.key_marks  # type: ignore[misc]
                    first = positions[(*parent.path, key)]
                    self.duplicates.append(
                        DuplicateKey(
                            parent.path,
                            key,
                            marks_span(key_start, key_end),
                            marks_span(first[2], first[3]),
                        )
                    )
                else:
                    container[key] = value
                    if record:
                        key_start, key_end = parent.key_marks  # type: ignore[misc]
                        positions[(*parent.path, key)] = (start, end, key_start, key_end)
                parent.key = None
                parent.has_key = False
            event = next_event()
        if type(next_event()) is not ev.DocumentEndEvent:  # pragma: no cover
            raise YamlSyntaxError("expected the end of the document", doc.start)
        return doc


class _Duplicate(Exception):
    """A duplicate key, met while not recording positions: decode again, recording them."""


def _key_text(value: Any) -> str:
    return str(value)


def _too_many(event: Any) -> YamlSyntaxError:
    return YamlSyntaxError(
        f"the aliases of the document expand to more than {MAX_NODES} values "
        "(aliases that repeat one another?): a spec is far smaller",
        marks_span(event.start_mark, event.end_mark),
        rule="yaml-too-large",
    )


def _bad_tag(event: Any) -> YamlSyntaxError:
    # Shown as written: `!!float`, not `tag:yaml.org,2002:float`.
    tag = str(event.tag).replace("tag:yaml.org,2002:", "!!", 1)
    return YamlSyntaxError(
        f"the tag {tag} is not supported in a spec: remove it",
        marks_span(event.start_mark, event.end_mark),
        rule="yaml-tag",
    )


def _reader_error(error: ReaderError, text: str) -> YamlSyntaxError:
    """A character YAML does not allow, where it stands: libyaml gives its offset in the
    UTF-8 encoding of the text, and a character's position is in characters."""
    before = text.encode("utf-8", "surrogatepass")[: error.position].decode("utf-8", "replace")
    char = text[len(before)] if len(before) < len(text) else ""
    what = f"U+{ord(char):04X}" if char else "a character"
    name = " (a NUL byte)" if char == "\x00" else ""
    return YamlSyntaxError(
        f"invalid YAML: the character {what}{name}: {error.reason}; remove it",
        char_span(text, len(before)),
    )


_LINE_START = re.compile(r" *(?:- +)*")


def _syntax_error(error: YAMLError, text: str) -> YamlSyntaxError:
    if isinstance(error, ReaderError):
        return _reader_error(error, text)
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    span = marks_span(mark, mark) if mark is not None else Span(1, 1, 1, 1)
    lines = text.splitlines()
    line = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    if "\t" in line[: span.col] and not line[: line.find("\t")].strip(" -"):
        col = line.find("\t") + 1
        return YamlSyntaxError(
            "a tab character where YAML allows only spaces: indent with spaces",
            Span(span.line, col, span.line, col + 1),
            rule="yaml-tab",
        )
    key = _LINE_START.sub("", line[: span.col - 1], count=1)
    if line[span.col - 1 : span.col] == ":" and len(key) > MAX_IMPLICIT_KEY:
        return YamlSyntaxError(
            f"invalid YAML: a key of {len(key):,} characters; YAML allows at most "
            f"{MAX_IMPLICIT_KEY:,} before the `:`: shorten it",
            Span(span.line, span.col - len(key), span.line, span.col),
        )
    context = getattr(error, "context", None)
    message = problem
    if isinstance(error, MarkedYAMLError) and context:
        # "while parsing a flow sequence": say where it started, often the real mistake.
        started = error.context_mark
        if started is not None and started.line + 1 != span.line:
            context = f"{context} started on line {started.line + 1}"
        message = f"{problem} ({context})"
    return YamlSyntaxError(f"invalid YAML: {message}", span)


def decode_events(text: str, *, positions: bool) -> Decoded:
    """Decoding through libyaml's events: all of YAML, and every error with its place."""
    documents: list[Document] = []
    next_event = _Parser(text).get_event
    composer = _Composer(next_event, text, record=positions)
    try:
        while (event := next_event()) is not None:
            if type(event) is ev.DocumentStartEvent:
                if len(documents) == MAX_DOCUMENTS:
                    raise YamlSyntaxError(
                        f"more than {MAX_DOCUMENTS:,} documents in one file, this one "
                        "included: a file holds a few specs; split it",
                        marks_span(event.start_mark, event.end_mark),
                        rule="yaml-too-large",
                    )
                documents.append(composer.document(len(documents), event))
    except YAMLError as error:
        raise _syntax_error(error, text) from None
    except _Duplicate:
        return decode_events(text, positions=True)
    return Decoded(documents, composer.duplicates)


def locate(text: str) -> list[tuple[dict[Path_, Marks], Span]]:
    """The positions of every node of each document of `text`, and where it starts."""
    return [
        (document.positions, document.start)
        for document in decode_events(text, positions=True).documents
    ]

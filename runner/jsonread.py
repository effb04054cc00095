"""The one reader of JSON documents that come from outside: states, saved plans, answers.

`json.loads` alone has no limits: a document nested a few thousand levels deep raises
`RecursionError`, an integer of 5,000 digits `ValueError` (Python's int-str limit), a
gigabyte file is read whole. `parse` refuses each with `JsonLimitError`, whose message
says what was too big; the caller puts its own context (which file) around it.

Depth is measured before parsing, over the brackets outside strings with C-speed regular
expressions, so that nothing downstream recurses deeper than the limit. That costs about
as much as the parse itself (0.4 s for a 12 MB state of 20,000 records): a reader that
checks every value's type and accepts no nesting deeper than its format (the state's
codec) passes `max_depth=None` and keeps only Python's own guard, reported as the same
error. Every integer's digits are counted as it is parsed. A string holding a lone
surrogate (`"\\ud800"`: JSON allows the escape, but it is no character) is refused too:
no writer could encode it, so a state or an answer holding one would break every output
that shows it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonLimitError", "Limits", "parse", "read_limited"]


@dataclass(frozen=True)
class Limits:
    # Bytes of the whole document.
    max_bytes: int = 256 * 1024 * 1024
    # Arrays and objects inside each other; None: only as deep as Python's parser goes
    # (about 1,000 levels), for a reader that refuses any nesting its format does not have.
    max_depth: int | None = 64
    # Digits of an integer (no state or plan needs more than a few).
    max_int_digits: int = 30


DEFAULT_LIMITS = Limits()


class JsonLimitError(ValueError):
    """The document is larger, deeper or has a longer number than the reader accepts, or a
    string that is not text (a lone surrogate)."""


# A string with its escapes (the "unrolled loop" form: no backtracking).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
_STRING_OR_BRACKET = re.compile(_STRING.pattern + r"|[\[\]{}]", re.DOTALL)
# The escape of a surrogate (high or low), or one as a character of a text given.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Half of a surrogate pair: JSON's `\ud800` escape parses to it, but it is no character, and
# no output (nor the state) could encode a text holding it. Its search is `lone_surrogate`.
_SURROGATE = re.compile("[\ud800-\udfff]")
lone_surrogate = _SURROGATE.search


def _too_deep(text: str, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels deep.

    The brackets outside strings are kept, and the innermost pairs removed `limit` times
    (each a C-speed pass): a document nested at most `limit` deep has none left. What is
    left otherwise (deeper, or brackets that do not pair) is counted one by one."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        brackets, removed = _INNERMOST.subn("", brackets)
        if not removed:
            break
    if not brackets:
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif token in ("]", "}"):
            depth -= 1
    return False


def _refuse_constant(name: str) -> Any:
    raise JsonLimitError(f"it has {name}, which is not a JSON number")


def parse(
    data: bytes | str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """The JSON value of `data` (UTF-8 if bytes).

    `JsonLimitError` for a document over `limits`; `json.JSONDecodeError` for one that is
    not JSON; `UnicodeDecodeError` for bytes that are not UTF-8.
    """
    # A character is at least a byte: a text longer than the limit is over it.
    if len(data) > limits.max_bytes:
        raise JsonLimitError(
            f"it is {len(data):,} bytes, more than the {limits.max_bytes:,} this reader accepts"
        )
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if limits.max_depth is not None and _too_deep(text, limits.max_depth):
        raise JsonLimitError(
            f"it nests arrays and objects more than {limits.max_depth} levels deep"
        )
    digits = limits.max_int_digits

    def parse_int(literal: str) -> int:
        length = len(literal.lstrip("-"))
        if length > digits:
            raise JsonLimitError(f"it has an integer of {length:,} digits (at most {digits})")
        return int(literal)

    try:
        # Every integer through `parse_int`: a Python call per integer costs less than a
        # search of the text for a long run of digits (0.19 s for a 6 MB state; issue 11).
        value = json.loads(
            text,
            parse_int=parse_int,
            parse_constant=_refuse_constant,
            object_pairs_hook=object_pairs_hook,
        )
    except RecursionError:
        raise JsonLimitError(
            "it nests arrays and objects deeper than the JSON parser goes"
        ) from None
    # One C-speed search; the values are walked only when a surrogate may be in them (a
    # pair of escapes is one character, which is text).
    if _SURROGATE_ESCAPE.search(text) is not None or (
        not isinstance(data, bytes) and lone_surrogate(text) is not None
    ):
        _refuse_lone_surrogates(value)
    return value


def _refuse_lone_surrogates(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found = lone_surrogate(item)
            if found is not None:
                raise JsonLimitError(
                    f"it has a string holding \\u{ord(found.group()):04x}, half of a "
                    "surrogate pair, which is no character"
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def read_limited(stream: Any, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """At most `limits.max_bytes` of a binary stream; `JsonLimitError` if it holds more."""
    data: bytes = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise JsonLimitError(f"it is more than the {limits.max_bytes:,} bytes this reader accepts")
    return data

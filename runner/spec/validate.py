"""Validation of decoded documents against the published JSON Schema.

A small compiler from the keywords the generated schema uses to Python closures: `lint`
checks every spec on every commit, and importing jsonschema (or pydantic) would cost more
than the whole check. The schema stays the single source of truth; a test runs jsonschema
and this validator over the same documents and requires them to agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from runner.yaml.document import Path_

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

# Keywords that only document: editors show them, validation ignores them.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "markdownDescription",
        "examples",
        "default",
    }
)


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One way a document breaks the schema, at `path` (at its key when `at_key`)."""

    path: Path_
    rule: str
    message: str
    at_key: bool = False


Check = Callable[[Any, Path_, list[SchemaError]], None]


def label(path: Path_) -> str:
    """`jobInput.s3DataSource.path`, `tags[1].tagKey`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def describe(value: Any) -> str:
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, dict):
        return "a mapping"
    return "a list"


_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "string": ("a string", lambda v: type(v) is str),
    # JSON Schema's integers are the numbers without a fraction, 100.0 too; the loader
    # sends them as integers.
    "integer": ("an integer", lambda v: type(v) is int or (type(v) is float and v.is_integer())),
    "number": ("a number", lambda v: type(v) in (int, float)),
    "boolean": ("true or false", lambda v: type(v) is bool),
    "object": ("a mapping", lambda v: type(v) is dict),
    "array": ("a list", lambda v: type(v) is list),
    "null": ("null", lambda v: v is None),
}


def _suggest(key: str, known: list[str]) -> str:
    import difflib

    folded = {name.lower(): name for name in known}
    close = difflib.get_close_matches(key.lower(), list(folded), n=1, cutoff=0.6)
    if close:
        return f": did you mean {folded[close[0]]!r}?"
    return f"; expected one of: {', '.join(known)}"


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        if pointer not in self.refs:
            if not pointer.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {pointer!r}")
            # The generated schema has no recursive definitions.
            self.refs[pointer] = self.compile(self.root["$defs"][pointer.removeprefix("#/$defs/")])
        return self.refs[pointer]

    def compile(self, node: dict[str, Any]) -> Check:
        unknown = (
            set(node)
            - _ANNOTATIONS
            - {
                "$ref",
                "anyOf",
                "type",
                "const",
                "enum",
                "pattern",
                "minLength",
                "maxLength",
                "minimum",
                "maximum",
                "properties",
                "required",
                "additionalProperties",
                "items",
                "minItems",
                "maxItems",
            }
        )
        if unknown:
            raise ValueError(f"the validator does not know the keywords {sorted(unknown)}")
        if "const" in node:
            return _const(node["const"])
        checks: list[Check] = []
        if "$ref" in node:
            checks.append(self.ref(node["$ref"]))
        if "enum" in node:
            checks.append(_enum(node["enum"]))
        if "anyOf" in node:
            checks.append(self.any_of(node["anyOf"]))
        kind = node.get("type")
        if kind == "string":
            checks.append(self.string(node))
        elif kind in ("integer", "number"):
            checks.append(_number(node))
        elif kind == "object":
            checks.append(self.mapping(node))
        elif kind == "array":
            checks.append(self.array(node))
        if kind is not None:
            return _typed(kind, checks)
        if len(checks) == 1:
            return checks[0]

        def all_of(value: Any, path: Path_, errors: list[SchemaError]) -> None:
            for check in checks:
                check(value, path, errors)

        return all_of

    def any_of(self, branches: list[dict[str, Any]]) -> Check:
        """Branches of different types (a string, or a mapping): the value is checked by
        the branch of its type, so that its errors are that branch's."""
        typed: list[tuple[str, Check]] = []
        for branch in branches:
            target = branch
            if "$ref" in branch:
                target = self.root["$defs"][branch["$ref"].removeprefix("#/$defs/")]
            kind = target.get("type")
            if kind not in _TYPES or any(kind == other for other, _ in typed):
                raise ValueError(f"anyOf needs branches of distinct types, got {branches}")
            typed.append((kind, self.compile(branch)))
        expected = " or ".join(_TYPES[kind][0] for kind, _ in typed)

        def check(value: Any, path: Path_, errors: list[SchemaError]) -> None:
            for kind, sub in typed:
                if _TYPES[kind][1](value):
                    sub(value, path, errors)
                    return
            errors.append(
                SchemaError(
                    path, "type", f"{label(path)}: expected {expected}, got {describe(value)}"
                )
            )

        return check

    def string(self, node: dict[str, Any]) -> Check:
        min_length = node.get("minLength", 0)
        max_length = node.get("maxLength")
        pattern = ecma_regex(node["pattern"]) if "pattern" in node else None
        example = node.get("examples", [None])[0]

        def check(value: str, path: Path_, errors: list[SchemaError]) -> None:
            if len(value) < min_length:
                what = "must not be empty" if min_length == 1 else f"needs {min_length}+ chars"
                errors.append(SchemaError(path, "length", f"{label(path)}: {what}"))
                return
            if max_length is not None and len(value) > max_length:
                errors.append(
                    SchemaError(
                        path,
                        "length",
                        f"{label(path)}: {len(value)} characters long, "
                        f"at most {max_length} are allowed",
                    )
                )
                return
            if pattern is not None and pattern.search(value) is None:
                hint = f" (for example {example!r})" if example is not None else ""
                culprit = pattern.first_refused(value)
                if culprit is not None:
                    hint = f": {_character(culprit)} is not allowed{hint}"
                errors.append(
                    SchemaError(
                        path,
                        "pattern",
                        f"{label(path)}: {visible(value)} does not match "
                        f"the pattern {node['pattern']}{hint}",
                    )
                )

        return check

    def mapping(self, node: dict[str, Any]) -> Check:
        properties = {name: self.compile(sub) for name, sub in node.get("properties", {}).items()}
        required = node.get("required", [])
        closed = node.get("additionalProperties", True) is False
        known = list(properties)

        def check(value: dict[str, Any], path: Path_, errors: list[SchemaError]) -> None:
            for name in required:
                if name not in value:
                    where = f"{label(path)}: " if path else ""
                    errors.append(
                        SchemaError(
                            path, "required", f"{where}missing required key {name!r}", at_key=True
                        )
                    )
            for key, item in value.items():
                sub = properties.get(key)
                if sub is not None:
                    sub(item, (*path, key), errors)
                elif closed:
                    errors.append(
                        SchemaError(
                            (*path, key),
                            "unknown-key",
                            f"unknown key {key!r}{_suggest(key, known)}",
                            at_key=True,
                        )
                    )

        return check

    def array(self, node: dict[str, Any]) -> Check:
        items = self.compile(node["items"]) if "items" in node else None
        min_items = node.get("minItems", 0)
        max_items = node.get("maxItems")

        def check(value: list[Any], path: Path_, errors: list[SchemaError]) -> None:
            if len(value) < min_items:
                errors.append(
                    SchemaError(path, "length", f"{label(path)}: at least {min_items} items")
                )
            if max_items is not None and len(value) > max_items:
                errors.append(
                    SchemaError(
                        path,
                        "length",
                        f"{label(path)}: {len(value)} items, at most {max_items} are allowed",
                    )
                )
            if items is not None:
                for index, item in enumerate(value):
                    items(item, (*path, index), errors)

        return check


class EcmaPattern:
    """A schema `pattern` with the meaning JSON Schema gives it (ECMA-262, `u` flag), run
    by Python's `re`.

    Editors and check-jsonschema read schema patterns as ECMA-262, where `$` is the end of
    the text (Python's also matches before a final newline: `jobName: "a\\n"` would pass),
    `\\d` is an ASCII digit (Python's is any Unicode digit) and `.` matches no line
    terminator. `\\p{L}`, `\\p{Z}` and `\\p{N}` (Unicode letters, separators, numbers) come
    from the committed table `runner.spec.unicode_ranges`; they are spelled out, which takes
    a regular expression of some 800 ranges, only for the first value that is not ASCII
    (for ASCII, their ASCII members are exact). Other class escapes differ too; the schema
    does not use them.
    """

    def __init__(self, pattern: str) -> None:
        self.source = pattern
        self._ascii = re.compile(_translate(pattern, unicode=False))
        self._unicode: re.Pattern[str] | None = None if "\\p{" in pattern else self._ascii

    def search(self, value: str) -> re.Match[str] | None:
        if value.isascii():
            return self._ascii.search(value)
        if self._unicode is None:
            self._unicode = re.compile(_translate(self.source, unicode=True))
        return self._unicode.search(value)

    def first_refused(self, value: str) -> str | None:
        """For a pattern that allows a set of characters (`^[...]*$`, `^([...]*)$`), the
        first character of `value` outside it; None for any other pattern."""
        if _CHARACTER_SET.fullmatch(self.source) is None:
            return None
        return next((char for char in value if self.search(char) is None), None)


_CHARACTER_SET = re.compile(r"\^\(?\[[^\[\]]*\]\*\)?\$")


def _character(char: str) -> str:
    import unicodedata

    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "") + f" ({visible(char)})"


def visible(value: str) -> str:
    """`value` as a JSON string, with invisible characters (controls, format characters,
    combining marks, separators other than the space) escaped: `"zero\\u200bwidth"`."""
    import unicodedata

    text = json.dumps(value, ensure_ascii=False)
    if text.isascii() or (
        text.isprintable() and all(unicodedata.category(char)[0] != "M" for char in text)
    ):
        return text
    return "".join(
        char
        if char == " " or unicodedata.category(char)[0] not in "CZM"
        else (f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        for char in text
    )


def ecma_regex(pattern: str) -> EcmaPattern:
    return EcmaPattern(pattern)


_ASCII_MEMBERS = {"L": "A-Za-z", "Z": " ", "N": "0-9"}


def _translate(pattern: str, *, unicode: bool) -> str:
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            escape = pattern[index : index + 2]
            if escape == "\\d":
                out.append("0-9" if in_class else "[0-9]")
            elif escape == "\\p":
                end = pattern.find("}", index)
                name = pattern[index + 3 : end]
                if pattern[index + 2 : index + 3] != "{" or name not in _ASCII_MEMBERS:
                    raise ValueError(f"the validator does not translate {escape} in {pattern!r}")
                members = _unicode_members(name) if unicode else _ASCII_MEMBERS[name]
                out.append(members if in_class else f"[{members}]")
                index = end + 1
                continue
            elif escape[1:] in ("D", "w", "W", "s", "S", "b", "B", "P"):
                raise ValueError(f"the validator does not translate {escape} in {pattern!r}")
            else:
                out.append(escape)
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        elif char == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif char == "$":
            out.append(r"\Z")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _unicode_members(category: str) -> str:
    """A class body for the code points of a Unicode general category (`L`, `Z`, `N`)."""
    from runner.spec.unicode_ranges import RANGES

    body = []
    for word in RANGES[category].split():
        low, _, high = word.partition("-")
        body.append(f"\\U{int(low, 16):08x}")
        if high:
            body.append(f"-\\U{int(high, 16):08x}")
    return "".join(body)


def _typed(kind: str, checks: list[Check]) -> Check:
    name, test = _TYPES[kind]

    def check(value: Any, path: Path_, errors: list[SchemaError]) -> None:
        if not test(value):
            hint = ""
            if kind == "string" and isinstance(value, (int, float, bool)):
                hint = " (quote it to make it a string)"
            errors.append(
                SchemaError(
                    path, "type", f"{label(path)}: expected {name}, got {describe(value)}{hint}"
                )
            )
            return
        for sub in checks:
            sub(value, path, errors)

    return check


def _const(expected: Any) -> Check:
    def check(value: Any, path: Path_, errors: list[SchemaError]) -> None:
        if value != expected or type(value) is not type(expected):
            errors.append(
                SchemaError(
                    path,
                    "const",
                    f"{label(path)}: must be {json.dumps(expected)}, not {describe(value)}",
                )
            )

    return check


def _enum(allowed: list[Any]) -> Check:
    def check(value: Any, path: Path_, errors: list[SchemaError]) -> None:
        if value not in allowed:
            options = ", ".join(json.dumps(option) for option in allowed)
            errors.append(
                SchemaError(
                    path, "enum", f"{label(path)}: must be one of {options}, not {describe(value)}"
                )
            )

    return check


def _number(node: dict[str, Any]) -> Check:
    minimum = node.get("minimum")
    maximum = node.get("maximum")

    def check(value: float, path: Path_, errors: list[SchemaError]) -> None:
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            if minimum is not None and maximum is not None:
                bounds = f"from {minimum:,} to {maximum:,}"
            elif minimum is not None:
                bounds = f"at least {minimum:,}"
            else:
                bounds = f"at most {maximum:,}"
            errors.append(
                SchemaError(path, "range", f"{label(path)}: {value:,} is out of range, {bounds}")
            )

    return check


@cache
def load_schema(name: str) -> dict[str, Any]:
    with (SCHEMA_DIR / name).open("rb") as file:
        schema: dict[str, Any] = json.load(file)
    return schema


@cache
def validator(name: str) -> Callable[[Any], list[SchemaError]]:
    """The compiled validator of the packaged schema `name`."""
    root = load_schema(name)
    check = _Compiler(root).compile({key: root[key] for key in root if key != "$defs"})

    def validate(document: Any) -> list[SchemaError]:
        errors: list[SchemaError] = []
        check(document, (), errors)
        return errors

    return validate

"""Request validation against botocore's own model of the Personalize API.

The model file is read straight from botocore's data folder (without importing botocore:
that is `runner.backends.aws`'s job), and checked the way the service checks a request:
required members, types, lengths, ranges and patterns, with its error wording.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
import sys
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.extras import require_extra

API_VERSION = "2018-05-22"

_AT_LEAST = "greater than or equal to"
_AT_MOST = "less than or equal to"
_UNICODE_PROPERTY = re.compile(r"\\p\{(\w+)\}")


def _botocore_data() -> Path:
    require_extra("local", "botocore")
    spec = importlib.util.find_spec("botocore")
    assert spec is not None, "require_extra found botocore"
    assert spec.submodule_search_locations, "botocore is a package"
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@functools.cache
def service_model() -> Mapping[str, Any]:
    folder = _botocore_data() / "personalize" / API_VERSION
    plain = folder / "service-2.json"
    if plain.exists():
        return json.loads(plain.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    with gzip.open(folder / "service-2.json.gz", "rt", encoding="utf-8") as file:
        return json.load(file)  # type: ignore[no-any-return]


def input_shape(operation: str) -> str:
    return str(service_model()["operations"][operation]["input"]["shape"])


def validate(operation: str, request: Mapping[str, Any]) -> list[str]:
    """The constraint violations in `request`, worded as the service words them."""
    errors: list[str] = []
    _check_structure(input_shape(operation), request, "", errors)
    return errors


def known_members(operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """`request` without the members the model does not have, at any depth.

    The service ignores members it does not know, as the JSON protocol allows (boto3 never
    sends one: it validates against the same model): they are dropped, never stored or
    echoed back by a Describe.
    """
    known: dict[str, Any] = _known(input_shape(operation), request)
    return known


def _known(name: str, value: Any) -> Any:
    shape = _shape(name)
    if shape["type"] == "structure" and isinstance(value, Mapping):
        members = shape.get("members", {})
        return {
            key: _known(members[key]["shape"], item)
            for key, item in value.items()
            if key in members
        }
    if shape["type"] == "list" and isinstance(value, list):
        return [_known(shape["member"]["shape"], item) for item in value]
    return value


def duplicate_tag_keys(tags: list[Mapping[str, Any]]) -> list[str]:
    """The keys given to more than one tag of one request, in order of first use."""
    seen: set[str] = set()
    twice: list[str] = []
    for tag in tags:
        key = tag["tagKey"]
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def validation_message(errors: list[str]) -> str:
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: " + "; ".join(errors)


def _shape(name: str) -> Mapping[str, Any]:
    return service_model()["shapes"][name]  # type: ignore[no-any-return]


def _holds_sensitive(shape: Mapping[str, Any]) -> bool:
    """Whether a value of the shape is, or holds, a `sensitive` one (a tag list holds
    `TagValue`s): the service's messages never print those."""
    if shape.get("sensitive"):
        return True
    if shape["type"] == "list":
        return _holds_sensitive(_shape(shape["member"]["shape"]))
    if shape["type"] == "structure":
        return any(
            _holds_sensitive(_shape(member["shape"])) for member in shape["members"].values()
        )
    return False


def _describe(value: object, shape: Mapping[str, Any]) -> str:
    if value is None:
        return "Value null"
    if _holds_sensitive(shape):
        return "Value"
    if isinstance(value, bool):
        return f"Value '{str(value).lower()}'"
    if isinstance(value, str | int | float):
        return f"Value '{value}'"
    return f"Value '{json.dumps(value, separators=(',', ':'))}'"


def _violation(value: object, shape: Mapping[str, Any], path: str, constraint: str) -> str:
    return f"{_describe(value, shape)} at '{path}' failed to satisfy constraint: {constraint}"


def _check(name: str, value: object, path: str, errors: list[str]) -> None:
    shape = _shape(name)
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, Mapping):
            errors.append(_violation(value, shape, path, "Member must be a structure"))
            return
        _check_structure(name, value, path, errors)
    elif kind == "list":
        if not isinstance(value, list):
            errors.append(_violation(value, shape, path, "Member must be a list"))
            return
        _check_length(len(value), value, shape, path, errors)
        for index, item in enumerate(value, start=1):
            _check(shape["member"]["shape"], item, f"{path}.{index}.member", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(_violation(value, shape, path, "Member must be a string"))
            return
        _check_length(len(value), value, shape, path, errors)
        if "enum" in shape and value not in shape["enum"]:
            errors.append(
                _violation(
                    value,
                    shape,
                    path,
                    f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]",
                )
            )
        pattern = shape.get("pattern")
        if pattern is not None and not _matches(pattern, value):
            errors.append(
                _violation(
                    value,
                    shape,
                    path,
                    f"Member must satisfy regular expression pattern: {pattern}",
                )
            )
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(_violation(value, shape, path, "Member must be an integer"))
            return
        if "min" in shape and value < shape["min"]:
            errors.append(
                _violation(value, shape, path, f"Member must have value {_AT_LEAST} {shape['min']}")
            )
        if "max" in shape and value > shape["max"]:
            errors.append(
                _violation(value, shape, path, f"Member must have value {_AT_MOST} {shape['max']}")
            )
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(_violation(value, shape, path, "Member must be a timestamp"))
    elif kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(_violation(value, shape, path, "Member must be a number"))
            return
        for bound, constraint, out in (
            ("min", _AT_LEAST, value < shape.get("min", value)),
            ("max", _AT_MOST, value > shape.get("max", value)),
        ):
            if out:
                errors.append(
                    _violation(
                        value, shape, path, f"Member must have value {constraint} {shape[bound]}"
                    )
                )
    elif kind == "map":
        # `HyperParameters` (item exploration), `RankingInfluence` of batch inference jobs.
        if not isinstance(value, Mapping):
            errors.append(_violation(value, shape, path, "Member must be a map"))
            return
        _check_length(len(value), value, shape, path, errors)
        for key, item in value.items():
            _check(shape["key"]["shape"], key, path, errors)
            _check(shape["value"]["shape"], item, f"{path}.{key}", errors)
    else:  # pragma: no cover - the batch job operations use no other types
        raise NotImplementedError(f"shape type {kind!r} ({name})")


def _check_structure(name: str, value: Mapping[str, Any], path: str, errors: list[str]) -> None:
    shape = _shape(name)
    required = set(shape.get("required", ()))
    # The service ignores members it does not know, as the JSON protocol allows.
    for member, spec in shape.get("members", {}).items():
        member_path = f"{path}.{member}" if path else member
        item = value.get(member)
        if item is None:
            if member in required:
                errors.append(
                    _violation(None, _shape(spec["shape"]), member_path, "Member must not be null")
                )
            continue
        _check(spec["shape"], item, member_path, errors)


def _check_length(
    length: int, value: object, shape: Mapping[str, Any], path: str, errors: list[str]
) -> None:
    if "min" in shape and length < shape["min"]:
        errors.append(
            _violation(value, shape, path, f"Member must have length {_AT_LEAST} {shape['min']}")
        )
    if "max" in shape and length > shape["max"]:
        errors.append(
            _violation(value, shape, path, f"Member must have length {_AT_MOST} {shape['max']}")
        )


def _matches(pattern: str, value: str) -> bool:
    # The service matches the whole value (Java's `Pattern.matches`), whatever the anchors
    # say: `^[a-zA-Z0-9][a-zA-Z0-9\-_]*` does not allow `a b` as a job name.
    return _compile(pattern, unicode=not value.isascii()).fullmatch(value) is not None


@functools.cache
def _compile(pattern: str, *, unicode: bool) -> re.Pattern[str]:
    """The model's (Java) pattern as a Python one.

    Java's `\\d`, `\\w` and `\\s` are ASCII-only, hence `re.ASCII`. Python's `re` has no
    `\\p{…}` classes: they are spelled out as code point ranges, read from `unicodedata`.
    Listing every code point takes a while, so that is done only for a non-ASCII value;
    for ASCII values the ASCII members of each class are exact.
    """
    out: list[str] = []
    in_class = False
    position = 0
    while position < len(pattern):
        char = pattern[position]
        found = _UNICODE_PROPERTY.match(pattern, position)
        if found:
            ranges = _property_ranges(found.group(1), unicode=unicode)
            out.append(ranges if in_class else f"[{ranges}]")
            position = found.end()
            continue
        if char == "\\":
            out.append(pattern[position : position + 2])
            position += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        position += 1
    return re.compile("".join(out), re.ASCII)


_ASCII_PROPERTIES = {
    "L": "A-Za-z",
    "N": "0-9",
    "Z": " ",
    "ASCII": "\\x00-\\x7f",
}


def _property_ranges(name: str, *, unicode: bool) -> str:
    if name == "ASCII" or not unicode:
        if name not in _ASCII_PROPERTIES:
            raise NotImplementedError(f"pattern class \\p{{{name}}}")
        return _ASCII_PROPERTIES[name]
    return _unicode_ranges(name)


def _unicode_ranges(category: str) -> str:
    """A regular-expression class body for a Unicode general category (`L`, `Nd`, …)."""
    ranges = _category_ranges()
    names = [name for name in ranges if name.startswith(category)]
    if not names:
        raise NotImplementedError(f"pattern class \\p{{{category}}}")
    return "".join(
        f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}"
        for name in names
        for low, high in ranges[name]
    )


@functools.cache
def _category_ranges() -> dict[str, list[tuple[int, int]]]:
    """The code point ranges of every two-letter Unicode general category, in one pass."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    previous = ""
    for code_point in range(sys.maxunicode + 1):
        category = unicodedata.category(chr(code_point))
        if category == previous:
            low, _ = ranges[category][-1]
            ranges[category][-1] = (low, code_point)
        else:
            ranges.setdefault(category, []).append((code_point, code_point))
            previous = category
    return ranges

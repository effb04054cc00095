"""jsonschema for the tests, reading `pattern` as ECMA-262 (through regress), as JSON
Schema specifies and as editors and check-jsonschema do; Python's `re` differs on `$`,
`\\d` and `.`. The one test module that imports jsonschema and regress."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import regress
from jsonschema import Draft202012Validator, ValidationError


@cache
def _regex(pattern: str) -> Any:
    return regress.Regex(pattern, "u")


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _regex(pattern).find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


EcmaDraft202012Validator: Any = jsonschema.validators.extend(
    Draft202012Validator, {"pattern": _ecma_pattern}
)


_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("regex", raises=regress.RegressError)  # type: ignore[untyped-decorator]
def _is_ecma_regex(instance: object) -> bool:
    # The metaschema's `format: regex` is ECMA-262, as for `pattern`: `\p{L}` is one.
    if isinstance(instance, str):
        _regex(instance)
    return True


def check_schema(schema: dict[str, Any]) -> None:
    """Raises if `schema` is not a valid draft 2020-12 schema."""
    Draft202012Validator.check_schema(schema, format_checker=_FORMATS)


def is_valid(schema: dict[str, Any], instance: Any) -> bool:
    return bool(EcmaDraft202012Validator(schema).is_valid(instance))


def errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [error.message for error in EcmaDraft202012Validator(schema).iter_errors(instance)]


def validate(schema: dict[str, Any], instance: Any) -> None:
    """Raises `ValidationError` unless `instance` is valid."""
    EcmaDraft202012Validator(schema).validate(instance)


def errors_of_its_draft(schema: dict[str, Any], instance: Any) -> list[str]:
    """`instance`'s errors against a schema of the draft its `$schema` names (the OASIS
    SARIF 2.1.0 schema is draft-04), formats checked where jsonschema can."""
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    checker = validator.FORMAT_CHECKER
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(schema, format_checker=checker).iter_errors(instance)
    ]

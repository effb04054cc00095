"""Every constraint of the spec models reaches the published schemas, which the fast
validator and editors read: on an optional field (`str | None`) pydantic leaves a `pattern`
given to `Field` out of the schema, so the validator accepted what the model refuses
(`explorationWeight: "TITLE"`, `schedule.start: "soon"`)."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from runner.spec.inference_model import BatchInferenceJobSpec
from runner.spec.model import BatchSegmentJobSpec

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def _patterns(metadata: list[Any], annotation: Any) -> set[str]:
    """The patterns of a field: on `Field`, and on a string type inside its annotation."""
    found = {m.pattern for m in metadata if isinstance(getattr(m, "pattern", None), str)}
    for arg in typing.get_args(annotation):
        found |= _patterns(list(getattr(arg, "__metadata__", ())), arg)
    return found


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    seen[model.__name__] = model
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            current = stack.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                if current.__name__ not in seen:
                    _models(current, seen)
            else:
                stack.extend(typing.get_args(current))
    return seen


def _schema_patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return own.union(*(_schema_patterns(v) for k, v in node.items() if k != "pattern"))
    if isinstance(node, list):
        return set().union(*(_schema_patterns(item) for item in node))
    return set()


@pytest.mark.parametrize(
    ("model", "schema"),
    [
        (BatchSegmentJobSpec, "batch-segment-job.v1.json"),
        (BatchInferenceJobSpec, "batch-inference-job.v1.json"),
    ],
)
def test_every_pattern_of_the_model_is_in_its_schema(model: type[BaseModel], schema: str) -> None:
    document = json.loads((SCHEMAS / schema).read_text(encoding="utf-8"))
    definitions = document.get("$defs", {})
    missing = []
    for name, each in _models(model, {}).items():
        node = document if each is model else definitions.get(name, {})
        for field, info in each.model_fields.items():
            expected = _patterns(list(info.metadata), info.annotation)
            shown = _schema_patterns(node.get("properties", {}).get(field, {}))
            # A field whose type is a model of its own has its patterns in its definition.
            missing += [f"{name}.{field}: {pattern}" for pattern in expected - shown]
    assert missing == []

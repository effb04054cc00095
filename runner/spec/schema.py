"""Generating the published JSON Schema (draft 2020-12) from the model."""

from __future__ import annotations

import json
from typing import Any

from runner.kinds import BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB
from runner.spec import API_VERSION_V1

SCHEMA_FILES = {API_VERSION_V1: "batch-segment-job.v1.json"}
"""The segment job schema of each spec format version (the first kind's)."""
KIND_SCHEMA_FILES: dict[tuple[str, str], str] = {
    (API_VERSION_V1, BATCH_SEGMENT_JOB.name): "batch-segment-job.v1.json",
    (API_VERSION_V1, BATCH_INFERENCE_JOB.name): "batch-inference-job.v1.json",
}
"""The schema of each kind in each spec format version: the spec's `kind` chooses it."""
SCHEMA_ID_BASE = "urn:personalize-runner:schema:"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def generate(
    api_version: str = API_VERSION_V1, kind: str = BATCH_SEGMENT_JOB.name
) -> dict[str, Any]:
    from runner.spec.inference_model import BatchInferenceJobSpec
    from runner.spec.model import BatchSegmentJobSpec

    model = BatchInferenceJobSpec if kind == BATCH_INFERENCE_JOB.name else BatchSegmentJobSpec
    schema = model.model_json_schema(mode="validation")
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if "description" in definition:
            definition["description"] = " ".join(definition["description"].split())
        for field in definition.get("properties", {}).values():
            # Optional fields may be left out but not set to null: no `default: null`.
            if field.get("default", 0) is None:
                del field["default"]
    name = KIND_SCHEMA_FILES[api_version, kind]
    head = {
        "$schema": DRAFT_2020_12,
        "$id": SCHEMA_ID_BASE + name.removesuffix(".json"),
        "title": schema.pop("title"),
        "description": " ".join(schema.pop("description").split()),
        "$comment": (
            "Generated from personalize-runner's model by `personalize-runner schema`; "
            "do not edit. Put `# yaml-language-server: $schema=<path to this file>` at the top "
            "of a spec for completion and documentation in editors."
        ),
    }
    generated = {**head, **schema}
    _add_markdown_descriptions(generated)
    return generated


_VALUES = frozenset({"examples", "default", "const", "enum"})


def _add_markdown_descriptions(node: object) -> None:
    """A `markdownDescription` beside every `description`: the descriptions are Markdown
    (backticks), which editors (yaml-language-server, VS Code) render only from it."""
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            node["markdownDescription"] = node["description"]
        for key, value in node.items():
            # Values, not schemas: a spec's own keys are no keywords.
            if key not in _VALUES:
                _add_markdown_descriptions(value)
    elif isinstance(node, list):
        for value in node:
            _add_markdown_descriptions(value)


def render(api_version: str = API_VERSION_V1, kind: str = BATCH_SEGMENT_JOB.name) -> str:
    return json.dumps(generate(api_version, kind), indent=2, ensure_ascii=False) + "\n"

"""Generating the published JSON Schema (draft 2020-12) from the model."""

from __future__ import annotations

import json
from typing import Any

from runner.spec import API_VERSION_V1

SCHEMA_FILES = {API_VERSION_V1: "batch-segment-job.v1.json"}
SCHEMA_ID_BASE = "urn:personalize-runner:schema:"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def generate(api_version: str = API_VERSION_V1) -> dict[str, Any]:
    from runner.spec.model import BatchSegmentJobSpec

    schema = BatchSegmentJobSpec.model_json_schema(mode="validation")
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if "description" in definition:
            definition["description"] = " ".join(definition["description"].split())
        for field in definition.get("properties", {}).values():
            # Optional fields may be left out but not set to null: no `default: null`.
            if field.get("default", 0) is None:
                del field["default"]
    name = SCHEMA_FILES[api_version]
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
    return {**head, **schema}


def render(api_version: str = API_VERSION_V1) -> str:
    return json.dumps(generate(api_version), indent=2, ensure_ascii=False) + "\n"

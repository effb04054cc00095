"""`JobSpec` values built directly, and spec files written for the loader and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.kinds import BATCH_SEGMENT_JOB, JobKind
from runner.spec import API_VERSION_V1, KIND, JobSpec
from runner.spec.loader import parse_specs
from tests.support.job_requests import job_request


def make_spec(
    name: str = "holiday-promo",
    *,
    file: str | None = None,
    kind: JobKind = BATCH_SEGMENT_JOB,
    **fields: Any,
) -> JobSpec:
    """The spec of `job_request(name, **fields)` of `kind`, made by the loader from a JSON
    document."""
    document = {"apiVersion": API_VERSION_V1, "kind": kind.name, **job_request(name, **fields)}
    specs, findings = parse_specs(json.dumps(document).encode(), file or f"specs/{name}.yaml")
    assert findings == [], findings
    (spec,) = specs
    return spec


def spec_yaml(name: str, *, region: str = "us-east-1", extra: str = "", kind: str = KIND) -> str:
    return (
        "apiVersion: personalize-runner/v1\n"
        f"kind: {kind}\n"
        f"jobName: {name}\n"
        f"solutionVersionArn: arn:aws:personalize:{region}:123456789012:"
        "solution/item-affinity/4fd8ee1c\n"
        "jobInput:\n"
        "  s3DataSource:\n"
        "    path: s3://acme-personalize/batch/in/items.jsonl\n"
        "jobOutput:\n"
        "  s3DataDestination:\n"
        f"    path: s3://acme-personalize/batch/out/{name}/\n"
        "roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole\n"
        f"{extra}"
    )


def write_specs(folder: Path, names: list[str] | range, **options: Any) -> list[Path]:
    """One spec file per name in `folder`: `<name>.yaml`, `<name>.<kind>.yaml` for a kind
    other than batch segment jobs (`kind=`), so that both kinds may share a name."""
    folder.mkdir(parents=True, exist_ok=True)
    kind = options.get("kind", KIND)
    paths = []
    for name in names:
        path = folder / (f"{name}.yaml" if kind == KIND else f"{name}.{kind}.yaml")
        path.write_text(spec_yaml(str(name), **options), encoding="utf-8")
        paths.append(path)
    return paths

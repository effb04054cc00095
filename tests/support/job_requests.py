"""`CreateBatchSegmentJob` requests (valid `CreateBatchInferenceJob` requests too) and input
files for tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runner.kinds import BATCH_SEGMENT_JOB, JobKind

ACCOUNT = "123456789012"
REGION = "us-east-1"
INPUT_PATH = "s3://acme-personalize/batch/in/items.jsonl"
OUTPUT_PATH = "s3://acme-personalize/batch/out/"


def solution_version_arn(
    *, region: str = REGION, account: str = ACCOUNT, partition: str = "aws"
) -> str:
    return f"arn:{partition}:personalize:{region}:{account}:solution/item-affinity/4fd8ee1c"


def job_request(
    name: str = "holiday-promo",
    *,
    region: str = REGION,
    account: str = ACCOUNT,
    partition: str = "aws",
    input_path: str = INPUT_PATH,
    output_path: str = OUTPUT_PATH,
    **fields: Any,
) -> dict[str, Any]:
    """A valid request; `fields` add or replace top-level members."""
    request: dict[str, Any] = {
        "jobName": name,
        "solutionVersionArn": solution_version_arn(
            region=region, account=account, partition=partition
        ),
        "jobInput": {"s3DataSource": {"path": input_path}},
        "jobOutput": {"s3DataDestination": {"path": output_path}},
        "roleArn": f"arn:{partition}:iam::{account}:role/PersonalizeBatchRole",
    }
    request.update(fields)
    return request


def job_arn(
    name: str,
    *,
    region: str = REGION,
    account: str = ACCOUNT,
    partition: str = "aws",
    kind: JobKind = BATCH_SEGMENT_JOB,
) -> str:
    return f"arn:{partition}:personalize:{region}:{account}:{kind.resource_type}/{name}"


def write_object(s3_root: Path, s3_path: str, content: str | bytes) -> Path:
    """Put an object where the local service reads `s3_path`."""
    bucket_and_key = s3_path.removeprefix("s3://")
    path = s3_root / bucket_and_key
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def json_lines(records: Iterable[object]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def write_items(s3_root: Path, s3_path: str = INPUT_PATH, items: Iterable[str] = ("105",)) -> Path:
    """An item-affinity input file."""
    return write_object(s3_root, s3_path, json_lines({"itemId": item} for item in items))

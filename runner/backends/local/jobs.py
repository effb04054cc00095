"""Running the local service's jobs over local files, by kind.

`s3://bucket/key` is the file `<s3_root>/bucket/key`. `CHECKS` holds each kind's runner
that only checks the job's input the way the service does before it computes; `WITH_ENGINE`
each kind's runner that then computes on the local engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from runner.kinds import BATCH_SEGMENT_JOB


class JobRunner(Protocol):
    """What runs a finished job of the local service."""

    def __call__(self, request: Mapping[str, Any], *, s3_root: Path) -> str | None:
        """The job's failure reason, or None when it succeeded."""


MAX_INPUT_FILES = 1000
MAX_INPUT_BYTES = 1024**3


def local_path(s3_path: str, *, s3_root: Path) -> Path | None:
    """Where the object or prefix `s3://bucket/key` lives under `s3_root`; None if not S3."""
    scheme, _, rest = s3_path.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme != "s3" or not bucket or bucket in (".", ".."):
        return None
    parts = [part for part in key.split("/") if part]
    if any(part in (".", "..") for part in parts):
        return None
    return s3_root.joinpath(bucket, *parts)


def input_files(s3_path: str, *, s3_root: Path) -> list[Path] | None:
    """The files a job reads: the object itself, or every object under the prefix."""
    path = local_path(s3_path, s3_root=s3_root)
    if path is None:
        return None
    if path.is_file() and not s3_path.endswith("/"):
        return [path]
    if path.is_dir():
        return sorted(file for file in path.rglob("*") if file.is_file())
    return []


def run_batch_segment_job(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    """Run the job that `request` (a `CreateBatchSegmentJob` body) describes.

    Returns the job's `failureReason`, or None when it succeeded.
    """
    source = request["jobInput"]["s3DataSource"]["path"]
    destination = request["jobOutput"]["s3DataDestination"]["path"]
    if local_path(destination, s3_root=s3_root) is None:
        return f"Output path {destination} is not a valid S3 location (s3://bucket/prefix/)."
    files = input_files(source, s3_root=s3_root)
    if files is None:
        return f"Input path {source} is not a valid S3 location (s3://bucket/key)."
    if not files:
        return f"Input data not found: no objects exist at {source}."
    if len(files) > MAX_INPUT_FILES:
        return (
            f"Too many input files at {source}: {len(files)} files, the limit is {MAX_INPUT_FILES}."
        )
    size = sum(file.stat().st_size for file in files)
    if size > MAX_INPUT_BYTES:
        return f"Input data at {source} is {size} bytes, the limit is {MAX_INPUT_BYTES} (1 GB)."
    records = 0
    for file in files:
        problem, count = _check_json_lines(file, object_path=_s3_path(file, s3_root=s3_root))
        if problem is not None:
            return problem
        records += count
    if records == 0:
        return f"Input data at {source} is empty: it has no JSON records."
    return None


def _s3_path(file: Path, *, s3_root: Path) -> str:
    return "s3://" + file.relative_to(s3_root).as_posix()


def _check_json_lines(file: Path, *, object_path: str) -> tuple[str | None, int]:
    count = 0
    try:
        with file.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    record = None
                if not isinstance(record, dict):
                    return (
                        f"Invalid input data in {object_path} at line {number}: "
                        "the input must be JSON Lines, one JSON object per line.",
                        count,
                    )
                count += 1
    except OSError as error:
        return f"Could not read input data {object_path}: {error.strerror}.", count
    return None, count


def run_with_engine(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    """The service's checks of the input, then the local engine computes the segments.

    The engine's models and filters live beside the S3 folder, in `<root>/engine`.
    """
    problem = run_batch_segment_job(request, s3_root=s3_root)
    if problem is not None:
        return problem
    from runner.engine.jobs import execute_job
    from runner.engine.store import ModelStore

    return execute_job(request, s3_root=s3_root, models=ModelStore(s3_root.parent / "engine"))


# Each kind's runner, by kind name.
CHECKS: Mapping[str, JobRunner] = {BATCH_SEGMENT_JOB.name: run_batch_segment_job}
WITH_ENGINE: Mapping[str, JobRunner] = {BATCH_SEGMENT_JOB.name: run_with_engine}

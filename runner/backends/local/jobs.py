"""Running the local service's jobs over local files, by kind.

`s3://bucket/key` is the file `<s3_root>/bucket/key`. `CHECKS` holds each kind's runner
that only checks the job's input the way the service does before it computes; `WITH_ENGINE`
each kind's runner that then computes on the local engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from runner.engine.errors import JobFailed
from runner.engine.inputs import read_job_input
from runner.kinds import BATCH_INFERENCE_JOB, BATCH_SEGMENT_JOB


class JobRunner(Protocol):
    """What runs a finished job of the local service."""

    def __call__(self, request: Mapping[str, Any], *, s3_root: Path) -> str | None:
        """The job's failure reason, or None when it succeeded."""


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


def _path_problem(request: Mapping[str, Any]) -> str | None:
    source = request["jobInput"]["s3DataSource"]["path"]
    destination = request["jobOutput"]["s3DataDestination"]["path"]
    if local_path(destination, s3_root=Path()) is None:
        return f"Output path {destination} is not a valid S3 location (s3://bucket/prefix/)."
    if local_path(source, s3_root=Path()) is None:
        return f"Input path {source} is not a valid S3 location (s3://bucket/key)."
    return None


def run_batch_segment_job(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    """Check the input of the job that `request` (a `CreateBatchSegmentJob` body) describes,
    as the service does before it computes, with the engine's one reader of job input.

    Returns the job's `failureReason`, or None when it succeeded.
    """
    problem = _path_problem(request)
    if problem is not None:
        return problem
    try:
        read_job_input(request["jobInput"]["s3DataSource"]["path"], s3_root=s3_root)
    except JobFailed as failure:
        return str(failure)
    return None


def run_with_engine(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    """The service's checks of the input, then the local engine computes the segments.

    The engine's models and filters live beside the S3 folder, in `<root>/engine`.
    """
    problem = _path_problem(request)
    if problem is not None:
        return problem
    # The engine reads the input with the same reader as `run_batch_segment_job`, once.
    from runner.engine.jobs import execute_job
    from runner.engine.store import ModelStore

    return execute_job(request, s3_root=s3_root, models=ModelStore(s3_root.parent / "engine"))


THEME_GENERATION_REFUSED = (
    "theme generation is not available locally: its themes come from the service's "
    "generative model (Content Generator); use batchInferenceJobMode BATCH_INFERENCE"
)


def run_batch_inference_job(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    """Check the input of a `CreateBatchInferenceJob` body as the service does before it
    computes. A theme generation job fails: no local model makes themes."""
    if request.get("batchInferenceJobMode") == "THEME_GENERATION":
        return THEME_GENERATION_REFUSED
    return run_batch_segment_job(request, s3_root=s3_root)


def run_inference_with_engine(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    """The service's checks of the input, then the local engine computes the
    recommendations (`runner.engine.inference`), on the models in `<root>/engine`."""
    problem = _path_problem(request)
    if problem is not None:
        return problem
    from runner.engine.inference import execute_inference_job
    from runner.engine.store import ModelStore

    return execute_inference_job(
        request, s3_root=s3_root, models=ModelStore(s3_root.parent / "engine")
    )


# Each kind's runner, by kind name.
CHECKS: Mapping[str, JobRunner] = {
    BATCH_SEGMENT_JOB.name: run_batch_segment_job,
    BATCH_INFERENCE_JOB.name: run_batch_inference_job,
}
WITH_ENGINE: Mapping[str, JobRunner] = {
    BATCH_SEGMENT_JOB.name: run_with_engine,
    BATCH_INFERENCE_JOB.name: run_inference_with_engine,
}

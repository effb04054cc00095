"""The one reader of a batch job's input, for every kind and for the local service's checks.

What the request asks of every kind of job (its S3 paths, `numResults`) is read here too.
`s3://bucket/key` is the file `<s3_root>/bucket/key` (`local_path`). The input path is an
S3 prefix: every file whose key starts with it is read (`s3://b/in` also reads
`s3://b/in-old/x`, as on S3; end the path with `/` to read one folder), in S3's key order.

What the service does with a line that is not a JSON object, its documentation does not say
(it says only that the input must be JSON): the safer choice is taken, the job fails as a
whole and names the file and the line, rather than writing output that silently lacks a
query. A JSON object that cannot be answered is that line's error in the output.

Pure Python (no numpy): the local service without the engine checks input with it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.engine.errors import JobFailed
from runner.fs import NotRegularFile, open_regular

MAX_INPUT_FILES = 1_000
MAX_INPUT_BYTES = 1_000_000_000
OUTPUT_SUFFIX = ".out"


@dataclass(frozen=True)
class InputFile:
    key: str  # the S3 key
    path: Path
    output_name: str  # relative to the output path


@dataclass(frozen=True)
class InputQueries:
    """One input file's queries: the JSON object of each non-blank line, in order."""

    file: InputFile
    queries: list[dict[str, Any]]


@dataclass(frozen=True)
class JobRequest:
    """What a job's request asks of the local engine, checked as far as the request goes."""

    num_results: int
    input_path: str  # s3://bucket/key
    output_path: str
    solution_version_arn: str
    filter_arn: str | None


def job_request(
    request: Mapping[str, Any], *, default_num_results: int, max_num_results: int
) -> JobRequest:
    """A job's `CreateBatch…Job` request; `JobFailed` with the reason it cannot run."""
    return JobRequest(
        num_results=num_results_of(request, default=default_num_results, maximum=max_num_results),
        input_path=s3_path(request, "jobInput", "s3DataSource"),
        output_path=s3_path(request, "jobOutput", "s3DataDestination"),
        solution_version_arn=str(request.get("solutionVersionArn")),
        filter_arn=str(request["filterArn"]) if request.get("filterArn") else None,
    )


def s3_path(request: Mapping[str, Any], field: str, source: str) -> str:
    """The request's `<field>.<source>.path`, an `s3://bucket/key` path; `JobFailed` if not."""
    try:
        path = request[field][source]["path"]
    except (KeyError, TypeError):
        raise JobFailed(f"the request has no {field}.{source}.path") from None
    bucket = path.removeprefix("s3://").partition("/")[0] if isinstance(path, str) else ""
    if not isinstance(path, str) or not path.startswith("s3://") or not bucket:
        raise JobFailed(f"{field}.{source}.path {path!r} is not an s3://bucket/key path")
    if ".." in path.split("/"):
        raise JobFailed(f"{field}.{source}.path {path!r}: the local engine refuses '..' in keys")
    return path


def local_path(path: str, *, s3_root: Path) -> Path:
    """Where the object or prefix `path` (checked by `s3_path`) lives under `s3_root`."""
    bucket, _, key = path.removeprefix("s3://").partition("/")
    return s3_root.joinpath(bucket, *[part for part in key.split("/") if part])


def num_results_of(request: Mapping[str, Any], *, default: int, maximum: int) -> int:
    """The request's `numResults`, or `default`; `JobFailed` unless it is 1 to `maximum`."""
    value = request.get("numResults", default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise JobFailed(f"numResults must be an integer from 1 to {maximum:,}")
    return value


def list_input_files(input_path: str, *, s3_root: Path) -> list[InputFile]:
    """The files under an S3 prefix, in S3's (UTF-8 binary) key order, within the limits."""
    bucket, _, prefix = input_path.removeprefix("s3://").partition("/")
    bucket_root = s3_root / bucket
    folder, _, _ = prefix.rpartition("/")
    base = bucket_root / folder if folder else bucket_root
    found: list[tuple[bytes, str, Path]] = []
    if base.is_dir():
        for directory, _, names in os.walk(base):
            for name in names:
                path = Path(directory, name)
                key = path.relative_to(bucket_root).as_posix()
                if key.startswith(prefix) and not name.startswith("."):
                    found.append((key.encode(), key, path))
    found.sort()
    if not found:
        raise JobFailed(f"no input file under {input_path}")
    if len(found) > MAX_INPUT_FILES:
        raise JobFailed(
            f"{input_path} holds {len(found):,} input files; a job reads at most "
            f"{MAX_INPUT_FILES:,}"
        )
    size = 0
    for _, key, path in found:
        try:
            size += path.stat().st_size
        except OSError as error:
            where = f"s3://{bucket}/{key}"
            raise JobFailed(f"Could not read input data {where}: {error.strerror}.") from None
    if size > MAX_INPUT_BYTES:
        raise JobFailed(f"the input under {input_path} is {size:,} bytes; a job reads at most 1 GB")
    strip = len(folder) + 1 if folder else 0
    return [InputFile(key, path, key[strip:] + OUTPUT_SUFFIX) for _, key, path in found]


def read_queries(file: InputFile, *, bucket: str) -> InputQueries:
    """The queries of one input file. Raises `JobFailed` at the first line that is not a
    JSON object (or not UTF-8)."""
    queries: list[dict[str, Any]] = []
    where = f"s3://{bucket}/{file.key}"
    try:
        # S3 holds objects only: a FIFO or a device under the local bucket is refused, never
        # opened (it could block the job forever).
        with os.fdopen(open_regular(file.path), "rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.strip():
                    continue
                try:
                    query = json.loads(raw)
                except (UnicodeDecodeError, json.JSONDecodeError):
                    query = None
                if not isinstance(query, dict):
                    raise JobFailed(
                        f"Invalid input data in {where} at line {number}: the input must be "
                        "JSON Lines, one JSON object per line."
                    )
                queries.append(query)
    except NotRegularFile as error:
        what = f"it is {error.what}, not a file"
        raise JobFailed(f"Could not read input data {where}: {what}.") from None
    except OSError as error:
        raise JobFailed(f"Could not read input data {where}: {error.strerror}.") from None
    return InputQueries(file, queries)


@dataclass(frozen=True)
class QueryLimit:
    """How many queries a job reads from one input file, and how its failure says so."""

    most: int
    queries: str = "queries"  # what the failure calls them
    rule: str = "a file may hold"  # the failure's "<rule> at most <most>"


def read_job_input(
    input_path: str, *, s3_root: Path, limit: QueryLimit | None = None
) -> list[InputQueries]:
    """Every input file of a job with its queries; raises `JobFailed` with the job's
    failure reason. Input without a single query fails too, and a file with more queries
    than `limit` allows."""
    bucket = input_path.removeprefix("s3://").partition("/")[0]
    read = [
        read_queries(file, bucket=bucket) for file in list_input_files(input_path, s3_root=s3_root)
    ]
    if not any(item.queries for item in read):
        raise JobFailed(f"Input data at {input_path} is empty: it has no JSON records.")
    for item in read:
        if limit is not None and len(item.queries) > limit.most:
            raise JobFailed(
                f"input file {item.file.key} has {len(item.queries):,} {limit.queries}; "
                f"{limit.rule} at most {limit.most:,}"
            )
    return read

"""Running a batch segment job over local files, as the service runs it over S3.

`s3://bucket/key` is the file `<s3_root>/bucket/key`. The input path is an S3 prefix:
every file whose key starts with it is read (`s3://b/in` also reads `s3://b/in-old/x`,
as on S3; end the path with `/` to read one folder). Each input file gives
`<input file name>.out` under the output path; a file in a subfolder of the input
prefix keeps that subfolder in the output.

Output lines, one per non-blank input line, in order:

    {"input": {"itemId": "105"}, "output": {"recommendedUsers": ["106", "107"]}}
    {"input": "not json", "error": "Invalid JSON: …"}

The job fails as a whole, with a `failureReason`, when a service limit is exceeded
(1,000 input files, 1 GB, 500 item or 10 attribute queries per file, `numResults`
1-5,000,000), when its solution version or filter is unknown locally, or when the filter
uses what the local engine does not support.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from runner.engine.errors import EngineError, JobFailed, LineError
from runner.engine.expressions import ExpressionError, parse_filter, parse_item_attributes
from runner.engine.model import ITEM_AFFINITY, Matrix, SegmentModel
from runner.engine.store import ModelStore
from runner.fs import write_atomically

MAX_INPUT_FILES = 1_000
MAX_INPUT_BYTES = 1_000_000_000
MAX_QUERIES_PER_FILE = {ITEM_AFFINITY: 500, "aws-item-attribute-affinity": 10}
MAX_NUM_RESULTS = 5_000_000
DEFAULT_NUM_RESULTS = 25
OUTPUT_SUFFIX = ".out"


@dataclass(frozen=True)
class InputFile:
    key: str  # the S3 key
    path: Path
    output_name: str  # relative to the output path


def execute_job(request: Mapping[str, Any], *, s3_root: Path, models: ModelStore) -> str | None:
    """Run a `CreateBatchSegmentJob` request; its `failureReason`, or None when ACTIVE."""
    try:
        run_job(request, s3_root=s3_root, models=models)
    except EngineError as error:
        return str(error)
    return None


def run_job(request: Mapping[str, Any], *, s3_root: Path, models: ModelStore) -> list[Path]:
    """Run a job; the output files written. Raises `EngineError` with the failure reason."""
    num_results = request.get("numResults", DEFAULT_NUM_RESULTS)
    if (
        not isinstance(num_results, int)
        or isinstance(num_results, bool)
        or not 1 <= num_results <= MAX_NUM_RESULTS
    ):
        raise JobFailed(f"numResults must be an integer from 1 to {MAX_NUM_RESULTS:,}")
    input_path = _s3_path(request, "jobInput", "s3DataSource")
    output_path = _s3_path(request, "jobOutput", "s3DataDestination")
    model = models.load_model(str(request.get("solutionVersionArn")))
    allowed = None
    if request.get("filterArn"):
        expression = models.load_filter(str(request["filterArn"])).expression
        try:
            allowed = model.allowed_users(parse_filter(expression))
        except ExpressionError as error:
            raise JobFailed(
                f"filter {request['filterArn']} is not supported by the local engine: {error}"
            ) from None
    files = list_input_files(input_path, s3_root=s3_root)
    lines_of_files = [_read_lines(file, recipe=model.recipe) for file in files]
    out_root = _local_path(output_path, s3_root=s3_root)
    written = []
    for file, lines in zip(files, lines_of_files, strict=True):
        target = out_root / file.output_name
        answers = answer_lines(lines, model=model, num_results=num_results, allowed=allowed)
        write_atomically(target, partial(_write_lines, answers))
        written.append(target)
    return written


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
    size = sum(path.stat().st_size for _, _, path in found)
    if size > MAX_INPUT_BYTES:
        raise JobFailed(f"the input under {input_path} is {size:,} bytes; a job reads at most 1 GB")
    strip = len(folder) + 1 if folder else 0
    return [InputFile(key, path, key[strip:] + OUTPUT_SUFFIX) for _, key, path in found]


def answer_lines(
    lines: list[str], *, model: SegmentModel, num_results: int, allowed: np.ndarray[Any, Any] | None
) -> list[str]:
    """One JSON output line per input line, in order; errors on the lines that have them."""
    queries: list[tuple[int, Any, np.ndarray[Any, np.dtype[np.int64]]]] = []
    answers: list[str] = []
    for number, line in enumerate(lines):
        try:
            query = json.loads(line)
        except json.JSONDecodeError as error:
            answers.append(_error(line, f"Invalid JSON: {error.msg} at column {error.colno}"))
            continue
        try:
            queries.append((number, query, _items_of(query, model)))
            answers.append("")
        except LineError as error:
            answers.append(_error(query, str(error)))
    if queries:
        selector = _selector([items for _, _, items in queries], n_items=model.n_items)
        segments = model.segments(selector, num_results=num_results, allowed=allowed)
        for (number, query, _), users in zip(queries, segments, strict=True):
            recommended = model.user_ids[users].tolist()
            answers[number] = json.dumps(
                {"input": query, "output": {"recommendedUsers": recommended}},
                ensure_ascii=False,
            )
    return answers


def _items_of(query: Any, model: SegmentModel) -> np.ndarray[Any, np.dtype[np.int64]]:
    key = "itemId" if model.recipe == ITEM_AFFINITY else "itemAttributes"
    if not isinstance(query, dict) or set(query) != {key}:
        example = (
            '{"itemId": "105"}'
            if key == "itemId"
            else ('{"itemAttributes": "ITEMS.genres = \\"Comedy\\""}')
        )
        raise LineError(
            f"Expected an object with only {key!r} for a solution version trained with "
            f"{model.recipe}, such as {example}"
        )
    value = query[key]
    if not isinstance(value, str) or not value.strip():
        raise LineError(f"{key!r} must be a non-empty string")
    if key == "itemId":
        return np.array([model.item_index(value)], dtype=np.int64)
    try:
        conditions = parse_item_attributes(value)
    except ExpressionError as error:
        raise LineError(f"Invalid itemAttributes: {error}") from None
    return model.matching_items(conditions)


def _selector(items: list[np.ndarray[Any, np.dtype[np.int64]]], *, n_items: int) -> Matrix:
    """Queries as rows of weights over items: uniform over each query's items."""
    lengths = np.array([len(group) for group in items], dtype=np.int64)
    rows = np.repeat(np.arange(len(items)), lengths)
    weights = np.repeat(1.0 / lengths, lengths).astype(np.float32)
    return Matrix((weights, (rows, np.concatenate(items))), shape=(len(items), n_items))


def _write_lines(lines: list[str], stream: BinaryIO) -> None:
    stream.write("".join(line + "\n" for line in lines).encode())


def _error(query: Any, message: str) -> str:
    return json.dumps({"input": query, "error": message}, ensure_ascii=False)


def _read_lines(file: InputFile, *, recipe: str) -> list[str]:
    try:
        text = file.path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise JobFailed(f"input file {file.key} is not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    limit = MAX_QUERIES_PER_FILE[recipe]
    if len(lines) > limit:
        raise JobFailed(
            f"input file {file.key} has {len(lines):,} queries; with {recipe} a file may "
            f"hold at most {limit}"
        )
    return lines


def _s3_path(request: Mapping[str, Any], field: str, source: str) -> str:
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


def _local_path(s3_path: str, *, s3_root: Path) -> Path:
    bucket, _, key = s3_path.removeprefix("s3://").partition("/")
    return s3_root.joinpath(bucket, *[part for part in key.split("/") if part])

"""Running a batch segment job over local files, as the service runs it over S3.

The input is read by `runner.engine.inputs` (the one reader of a job's input): an S3 prefix
mapped to local files, each `<input file name>.out` under the output path; a file in a
subfolder of the input prefix keeps that subfolder in the output. A line that is not a JSON
object fails the job (see `inputs`).

Output lines, one per non-blank input line, in order, as the developer guide's "Batch
segment job output format examples" show them: Item-Affinity wraps the query in `input`,
Item-Attribute-Affinity does not:

    {"input": {"itemId": "105"}, "output": {"recommendedUsers": ["106", "107"]}}
    {"itemAttributes": "ITEMS.genres = \"Comedy\"", "output": {"recommendedUsers": ["25"]}}
    {"input": {"itemId": "nope"}, "error": "Item 'nope' has no interactions …"}

The job fails as a whole, with a `failureReason`, when a service limit is exceeded
(1,000 input files, 1 GB, 500 item or 10 attribute queries per file, `numResults`
1-5,000,000), when a line is not a JSON object, when its solution version or filter is
unknown locally, or when the filter uses what the local engine does not support.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from runner.engine.errors import EngineError, LineError
from runner.engine.expressions import ExpressionError, parse_filter, parse_item_attributes
from runner.engine.filters import job_filter
from runner.engine.inputs import (
    MAX_INPUT_BYTES,
    MAX_INPUT_FILES,
    OUTPUT_SUFFIX,
    InputFile,
    QueryLimit,
    job_request,
    list_input_files,
    read_job_input,
)
from runner.engine.model import ITEM_AFFINITY, SegmentModel
from runner.engine.neighbors import Matrix
from runner.engine.outputs import write_outputs
from runner.engine.store import ModelStore

__all__ = ["MAX_INPUT_BYTES", "MAX_INPUT_FILES", "OUTPUT_SUFFIX", "InputFile", "list_input_files"]

MAX_QUERIES_PER_FILE = {ITEM_AFFINITY: 500, "aws-item-attribute-affinity": 10}
MAX_NUM_RESULTS = 5_000_000
DEFAULT_NUM_RESULTS = 25


def execute_job(request: Mapping[str, Any], *, s3_root: Path, models: ModelStore) -> str | None:
    """Run a `CreateBatchSegmentJob` request; its `failureReason`, or None when ACTIVE."""
    try:
        run_job(request, s3_root=s3_root, models=models)
    except EngineError as error:
        return str(error)
    return None


def run_job(request: Mapping[str, Any], *, s3_root: Path, models: ModelStore) -> list[Path]:
    """Run a job; the output files written. Raises `EngineError` with the failure reason."""
    job = job_request(
        request, default_num_results=DEFAULT_NUM_RESULTS, max_num_results=MAX_NUM_RESULTS
    )
    model = models.load_model(job.solution_version_arn)
    allowed = None
    if job.filter_arn is not None:
        expression = models.load_filter(job.filter_arn).expression
        with job_filter(job.filter_arn):
            allowed = model.allowed_users(parse_filter(expression))
    limit = QueryLimit(
        MAX_QUERIES_PER_FILE[model.recipe], rule=f"with {model.recipe} a file may hold"
    )
    read = read_job_input(job.input_path, s3_root=s3_root, limit=limit)
    answer = partial(answer_lines, model=model, num_results=job.num_results, allowed=allowed)
    return write_outputs(read, job.output_path, s3_root=s3_root, answer=answer)


def answer_lines(
    queries: list[dict[str, Any]],
    *,
    model: SegmentModel,
    num_results: int,
    allowed: np.ndarray[Any, Any] | None,
) -> list[str]:
    """One JSON output line per query, in order; errors on the lines that have them."""
    answerable: list[tuple[int, dict[str, Any], np.ndarray[Any, np.dtype[np.int64]]]] = []
    answers: list[str] = []
    for number, query in enumerate(queries):
        try:
            answerable.append((number, query, _items_of(query, model)))
            answers.append("")
        except LineError as error:
            answers.append(_answer(query, model, error=str(error)))
    if answerable:
        selector = _selector([items for _, _, items in answerable], n_items=model.n_items)
        segments = model.segments(selector, num_results=num_results, allowed=allowed)
        for (number, query, _), users in zip(answerable, segments, strict=True):
            recommended = model.user_ids[users].tolist()
            answers[number] = _answer(query, model, output={"recommendedUsers": recommended})
    return answers


def _answer(
    query: dict[str, Any],
    model: SegmentModel,
    *,
    output: dict[str, Any] | None = None,
    error: str | None = None,
) -> str:
    """An output line: Item-Affinity wraps the query in `input`; Item-Attribute-Affinity
    puts its `itemAttributes` at the top (the developer guide's output examples)."""
    if model.recipe == ITEM_AFFINITY or set(query) != {"itemAttributes"}:
        line: dict[str, Any] = {"input": query}
    else:
        line = dict(query)
    if output is not None:
        line["output"] = output
    if error is not None:
        line["error"] = error
    return json.dumps(line, ensure_ascii=False)


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

"""Running a batch inference job over local files, as the service runs it over S3.

Input files are read by the engine's one input reader (`runner.engine.inputs`), as for
batch segment jobs: every file under the input prefix gives `<input file name>.out` under
the output path, and a line that is not a JSON object fails the job. Input lines by the
recipe type of the solution version (the developer guide, "Preparing input data for batch
recommendations"):

    {"userId": "4638"}                                  USER_PERSONALIZATION, POPULAR_ITEMS
    {"userId": "891", "itemList": ["27", "886"]}        PERSONALIZED_RANKING
    {"itemId": "105"}                                   RELATED_ITEMS

Output lines, one per non-blank input line, in order ("Batch inference job output
examples"; `scores` only for USER_PERSONALIZATION and PERSONALIZED_RANKING, the recipes
whose models the service says return scores):

    {"input": {"userId": "4638"},
     "output": {"recommendedItems": ["63992", …], "scores": [0.0152238, …]}, "error": null}
    {"input": {"itemId": "105"}, "output": {"recommendedItems": ["106", "107"]}, "error": null}
    {"input": {"itemId": 105}, "error": "'itemId' must be a non-empty string"}

A user or an item that the model does not know gets popular items, as at the service
(SIMS and Similar-Items say so for unknown items); items of an `itemList` that the model
does not know go to the end of the ranking, in their input order, with the score 0, as
GetPersonalizedRanking documents. A line may carry `filterValues`, the values of the
filter's placeholders (`runner.engine.item_filters`); lines with the same values share
the filter's mask.

The job fails as a whole, with a `failureReason`, when: it is a theme generation job
(`batchInferenceJobMode: THEME_GENERATION`: the themes come from the service's generative
model); the input has more than 1,000 files or 1 GB, or a file more than 50 million lines;
`numResults` is not 1-500 (the developer guide gives no batch maximum; 500 is the runtime
APIs' maximum); the input path holds no file or no query, or a line is not a JSON object;
the solution version or the filter does not exist locally, the solution version is a
USER_SEGMENTATION one, or the filter selects users or uses what the local engine does not
support.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from runner.engine.errors import EngineError, JobFailed, LineError
from runner.engine.expressions import ExpressionError, FilterExpression
from runner.engine.filters import job_filter
from runner.engine.inputs import QueryLimit, job_request, read_job_input
from runner.engine.item_filters import (
    FilterValues,
    allowed_items,
    filter_values,
    is_item_filter,
    needs_user,
    parse_item_filter,
    placeholders,
    substitute,
)
from runner.engine.outputs import write_outputs
from runner.engine.recipes import (
    PERSONALIZED_RANKING,
    POPULAR_ITEMS,
    RELATED_ITEMS,
    USER_PERSONALIZATION,
)
from runner.engine.recommender import RecommendationModel, Rows
from runner.engine.store import ModelStore

DEFAULT_NUM_RESULTS = 25
MAX_NUM_RESULTS = 500
MAX_LINES_PER_FILE = 50_000_000
MAX_ITEM_LIST = 500
THEME_GENERATION = "THEME_GENERATION"
_SCORE_DECIMALS = 7  # as in the developer guide's examples
_WITH_SCORES = (USER_PERSONALIZATION, PERSONALIZED_RANKING)
_EXAMPLES = {
    USER_PERSONALIZATION: '{"userId": "4638"}',
    POPULAR_ITEMS: '{"userId": "4638"}',
    PERSONALIZED_RANKING: '{"userId": "891", "itemList": ["27", "886"]}',
    RELATED_ITEMS: '{"itemId": "105"}',
}


@dataclass(frozen=True)
class Query:
    line: int
    input: dict[str, Any]
    user: int  # row of the user; -1 when unknown or absent
    item: int  # row of the item (RELATED_ITEMS); -1 when unknown
    item_list: tuple[str, ...] = ()
    filter_values: FilterValues = ()


def execute_inference_job(
    request: Mapping[str, Any], *, s3_root: Path, models: ModelStore
) -> str | None:
    """Run a `CreateBatchInferenceJob` request; its `failureReason`, or None when ACTIVE."""
    try:
        run_inference_job(request, s3_root=s3_root, models=models)
    except EngineError as error:
        return str(error)
    return None


def run_inference_job(
    request: Mapping[str, Any], *, s3_root: Path, models: ModelStore
) -> list[Path]:
    """Run a job; the output files written. Raises `EngineError` with the failure reason."""
    if request.get("batchInferenceJobMode") == THEME_GENERATION:
        raise JobFailed(
            "theme generation is not available locally: its themes come from the service's "
            "generative model (Content Generator); use batchInferenceJobMode BATCH_INFERENCE"
        )
    job = job_request(
        request, default_num_results=DEFAULT_NUM_RESULTS, max_num_results=MAX_NUM_RESULTS
    )
    model = models.load_recommender(job.solution_version_arn)
    expressions: tuple[FilterExpression, ...] = ()
    if job.filter_arn is not None:
        expression = models.load_filter(job.filter_arn).expression
        if not is_item_filter(expression):
            raise JobFailed(
                f"filter {job.filter_arn} selects users (UserID); a batch inference job needs "
                "a filter of items (INCLUDE or EXCLUDE ItemID)"
            )
        with job_filter(job.filter_arn):
            expressions = parse_item_filter(expression)
            some_values = tuple((name, ("0",)) for name in sorted(placeholders(expressions)))
            allowed_items(model, substitute(expressions, some_values), np.zeros(0, np.int64))
    limit = QueryLimit(MAX_LINES_PER_FILE, queries="lines")
    read = read_job_input(job.input_path, s3_root=s3_root, limit=limit)
    answer = partial(answer_lines, model=model, num_results=job.num_results, filter_=expressions)
    return write_outputs(read, job.output_path, s3_root=s3_root, answer=answer)


def answer_lines(
    queries: list[dict[str, Any]],
    *,
    model: RecommendationModel,
    num_results: int,
    filter_: tuple[FilterExpression, ...] = (),
) -> list[str]:
    """One JSON output line per query (an input line's object), in order; errors on the
    lines that have them."""
    answers = [""] * len(queries)
    parsed: list[tuple[int, dict[str, Any], FilterValues]] = []
    names = placeholders(filter_)
    problems: dict[FilterValues, str | None] = {}  # what each line's filterValues give
    for number, value in enumerate(queries):
        try:
            checked = _check(value, model.recipe_type, needs_user(filter_))
            values = filter_values(value.get("filterValues"), names)
            if values not in problems:
                problems[values] = _problem(model, filter_, values)
            if problems[values] is not None:
                raise LineError(str(problems[values]))
            parsed.append((number, checked, values))
        except (LineError, ExpressionError) as error:
            answers[number] = json.dumps({"input": value, "error": str(error)}, ensure_ascii=False)
    users = model.user_rows([str(value.get("userId", "")) for _, value, _ in parsed])
    items = model.item_rows([str(value.get("itemId", "")) for _, value, _ in parsed])
    answerable = [
        Query(number, value, int(user), int(item), tuple(value.get("itemList", ())), values)
        for (number, value, values), user, item in zip(parsed, users, items, strict=True)
    ]
    block = model.block_size()
    for start in range(0, len(answerable), block):
        chunk = answerable[start : start + block]
        for query, output in zip(chunk, _answer(chunk, model, num_results, filter_), strict=True):
            answers[query.line] = json.dumps(
                {"input": query.input, "output": output, "error": None}, ensure_ascii=False
            )
    return answers


def _answer(
    queries: list[Query],
    model: RecommendationModel,
    num_results: int,
    filter_: tuple[FilterExpression, ...],
) -> list[dict[str, Any]]:
    """The `output` objects of a block of queries, scored together."""
    kind = model.recipe_type
    users: Rows = np.array([query.user for query in queries], dtype=np.int64)
    allowed = _allowed(model, filter_, queries, users) if filter_ else None
    if kind == PERSONALIZED_RANKING:
        scores = model.user_scores(users)
        rows = None if allowed is None else np.broadcast_to(allowed, scores.shape)
        return [
            _ranking(model, scores[k], query.item_list, None if rows is None else rows[k])
            for k, query in enumerate(queries)
        ]
    if kind == RELATED_ITEMS:
        items: Rows = np.array([query.item for query in queries], dtype=np.int64)
        not_itself = np.ones((len(items), model.n_items), dtype=np.bool_)
        known = np.flatnonzero(items >= 0)
        not_itself[known, items[known]] = False
        allowed = not_itself if allowed is None else allowed & not_itself
        best = model.best(model.item_score_rows(items), num_results=num_results, allowed=allowed)
    else:
        best = model.best(
            model.user_score_rows(users),
            num_results=num_results,
            allowed=allowed,
            fallback=model.popularity_share,
        )
    outputs = []
    for recommended, scores_of_items in best:
        output: dict[str, Any] = {"recommendedItems": model.item_ids[recommended].tolist()}
        if kind in _WITH_SCORES:
            output["scores"] = _rounded(scores_of_items)
        outputs.append(output)
    return outputs


def _problem(
    model: RecommendationModel, filter_: tuple[FilterExpression, ...], values: FilterValues
) -> str | None:
    """Why the filter cannot take a line's filterValues, or None."""
    if not values:
        return None
    try:
        allowed_items(model, substitute(filter_, values), np.zeros(0, dtype=np.int64))
    except ExpressionError as error:
        return f"Invalid filterValues: {error}"
    return None


def _allowed(
    model: RecommendationModel,
    filter_: tuple[FilterExpression, ...],
    queries: list[Query],
    users: Rows,
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """The items the filter lets through for each query (1 x items when the same for all)."""
    groups: dict[FilterValues, list[int]] = {}
    for row, query in enumerate(queries):
        groups.setdefault(query.filter_values, []).append(row)
    if len(groups) == 1:
        return allowed_items(model, substitute(filter_, queries[0].filter_values), users)
    allowed = np.empty((len(queries), model.n_items), dtype=np.bool_)
    for values, rows in groups.items():
        allowed[rows] = allowed_items(model, substitute(filter_, values), users[rows])
    return allowed


def _ranking(
    model: RecommendationModel,
    scores: np.ndarray[Any, np.dtype[np.float32]],
    item_list: tuple[str, ...],
    allowed: np.ndarray[Any, np.dtype[np.bool_]] | None,
) -> dict[str, Any]:
    listed = list(dict.fromkeys(item_list))
    rows = model.item_rows(listed)
    known = rows[rows >= 0]
    ranked = model.rank_list(scores, known, allowed)
    values = scores[ranked].astype(np.float64)
    total = values.sum()
    shares = values / total if total > 0 else np.zeros(len(values))
    unknown = [item for item, row in zip(listed, rows.tolist(), strict=True) if row < 0]
    return {
        "recommendedItems": model.item_ids[ranked].tolist() + unknown,
        "scores": _rounded(shares) + [0.0] * len(unknown),
    }


def _check(value: Any, kind: str, filter_needs_user: bool) -> dict[str, Any]:
    """The input object of a line, checked against the recipe type; `LineError` if wrong."""
    required = {
        USER_PERSONALIZATION: {"userId"},
        POPULAR_ITEMS: {"userId"},
        PERSONALIZED_RANKING: {"userId", "itemList"},
        RELATED_ITEMS: {"itemId"},
    }[kind]
    optional = {"filterValues"} | ({"userId"} if kind == RELATED_ITEMS else set())
    if not isinstance(value, dict) or not required <= set(value) <= required | optional:
        raise LineError(
            f"Expected an object with {' and '.join(sorted(required))} for a {kind} "
            f"solution version, such as {_EXAMPLES[kind]}"
        )
    for key in ("userId", "itemId"):
        if key in value and (not isinstance(value[key], str) or not value[key].strip()):
            raise LineError(f"{key!r} must be a non-empty string")
    if "itemList" in value:
        item_list = value["itemList"]
        if (
            not isinstance(item_list, list)
            or not item_list
            or not all(isinstance(item, str) and item.strip() for item in item_list)
        ):
            raise LineError("'itemList' must be a non-empty list of item ids (strings)")
        if len(item_list) > MAX_ITEM_LIST:
            raise LineError(
                f"'itemList' has {len(item_list)} items; at most {MAX_ITEM_LIST} can be ranked"
            )
    if kind == RELATED_ITEMS and filter_needs_user and "userId" not in value:
        raise LineError("The filter uses Interactions.EVENT_TYPE, which needs a userId on the line")
    return value


def _rounded(values: np.ndarray[Any, Any]) -> list[float]:
    rounded: list[float] = np.round(values.astype(np.float64), _SCORE_DECIMALS).tolist()
    return rounded

"""`personalize-runner local …`: one function per command, keyword options, an exit status.

What a script wants (an ARN) goes to stdout alone on its line, so that
`ARN=$(personalize-runner local train …)` works; the rest goes to stderr. Expected
failures raise `EngineError`, a `UserError`, for the CLI's error handler.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from runner.engine.datasets import Dataset, read_dataset
from runner.engine.demo import DemoDataset, generate_demo_dataset
from runner.engine.errors import EngineError
from runner.engine.model import SegmentModel
from runner.engine.model import train as train_model
from runner.engine.neighbors import DEFAULT_NEIGHBORS
from runner.engine.recipes import USER_SEGMENTATION, recipe_name, recipe_type
from runner.engine.recommender import RecommendationModel, train_recommender
from runner.engine.store import (
    DEFAULT_ACCOUNT,
    DEFAULT_LOCATION,
    DEFAULT_REGION,
    DEFAULT_ROOT,
    Location,
    ModelStore,
    SolutionVersion,
)


def import_dataset(
    *,
    name: str,
    interactions: Path,
    items: Path | None = None,
    users: Path | None = None,
    store: Path = DEFAULT_ROOT,
) -> int:
    """Read the CSV files into the local dataset `name` (replacing it)."""
    started = time.perf_counter()
    dataset = read_dataset(interactions, items=items, users=users)
    ModelStore(store).save_dataset(name, dataset)
    extras = [
        f"{len(table.ids):,} {kind} with {', '.join(table.names) or 'no attributes'}"
        for kind, table in (("items", dataset.item_attributes), ("users", dataset.user_attributes))
        if table is not None
    ]
    _note(
        f"dataset {name}: {dataset.n_interactions:,} interactions of {len(dataset.user_ids):,} "
        f"users and {len(dataset.item_ids):,} items"
        + "".join(f"; {extra}" for extra in extras)
        + f" ({time.perf_counter() - started:.1f} s)"
    )
    return 0


def train(
    *,
    dataset: str,
    recipe: str,
    solution: str,
    neighbors: int = DEFAULT_NEIGHBORS,
    region: str = DEFAULT_REGION,
    account: str = DEFAULT_ACCOUNT,
    store: Path = DEFAULT_ROOT,
    training_seconds: float = 0.0,
) -> int:
    """Train a solution version of `solution` on `dataset`; print its ARN.

    The local service's `DescribeSolution` and `ListSolutionVersions` show the version as
    created now and CREATE IN_PROGRESS for `training_seconds`, then ACTIVE.
    """
    if training_seconds < 0:
        raise EngineError(f"--training-time {training_seconds:g}: give 0 seconds or more")
    recipe = recipe_name(recipe)
    kind = recipe_type(recipe)
    location = Location(region=region, account=account)
    models = ModelStore(store)
    data = models.load_dataset(dataset)
    started = time.perf_counter()
    version = _train_and_save(
        models,
        data,
        recipe=recipe,
        solution=solution,
        dataset=dataset,
        neighbors=neighbors,
        location=location,
    )
    _register(store, version.arn, recipe=recipe, training_seconds=training_seconds)
    _note(
        f"trained {recipe} ({kind}) on {dataset}: {version.n_users:,} users, "
        f"{version.n_items:,} items "
        f"({time.perf_counter() - started:.1f} s)"
        + (f"; CREATE IN_PROGRESS for {training_seconds:g} s" if training_seconds else "")
    )
    print(version.arn)
    return 0


def _register(store: Path, arn: str, *, recipe: str, training_seconds: float) -> None:
    """Tell the local service of the version: when it was created, when it is trained."""
    from runner.backends.local.solutions import SolutionRegistry

    # The service's folder is the engine's sibling in `.personalize-local`.
    SolutionRegistry(store.parent / "service").add_version(
        arn, created=time.time(), training_seconds=training_seconds, recipe=recipe
    )


def _train_and_save(
    models: ModelStore,
    data: Dataset,
    *,
    recipe: str,
    solution: str,
    dataset: str,
    neighbors: int = DEFAULT_NEIGHBORS,
    location: Location = DEFAULT_LOCATION,
) -> SolutionVersion:
    """Train a solution version of `solution` on `data` (the dataset named `dataset`)."""
    model: SegmentModel | RecommendationModel
    if recipe_type(recipe) == USER_SEGMENTATION:
        model = train_model(data, recipe=recipe, neighbors=neighbors)
    else:
        model = train_recommender(data, recipe=recipe, neighbors=neighbors)
    return models.save_solution_version(
        model,
        solution=solution,
        dataset=dataset,
        # The version's id: the same data, recipe and parameters give the same ARN.
        fingerprint=f"{data.digest()}\0neighbors={neighbors}",
        location=location,
    )


def create_filter(
    *,
    name: str,
    expression: str,
    region: str = DEFAULT_REGION,
    account: str = DEFAULT_ACCOUNT,
    store: Path = DEFAULT_ROOT,
) -> int:
    """Create (or replace) the filter `name`; print its ARN."""
    location = Location(region=region, account=account)
    print(ModelStore(store).save_filter(name, expression, location=location).arn)
    return 0


def list_resources(*, store: Path = DEFAULT_ROOT) -> int:
    """Print the solution versions and filters in the store, one ARN a line."""
    models = ModelStore(store)
    for version in models.solution_versions():
        print(f"{version.arn}\t{version.recipe}\t{version.dataset}")
    for filter_ in models.filters():
        print(f"{filter_.arn}\t{filter_.expression}")
    return 0


def demo(
    *,
    out: Path,
    users: int = 1_000,
    items: int = 200,
    interactions: int = 20_000,
    groups: int = 5,
    seed: int = 0,
) -> int:
    """Write the demo dataset (CSV files and two sample job inputs) into `out`."""
    if not 1 <= groups <= min(users, items, 10):
        raise EngineError("--groups must be from 1 to 10, and at most --users and --items")
    files = generate_demo_dataset(
        n_users=users, n_items=items, n_interactions=interactions, n_groups=groups, seed=seed
    ).write(out)
    for path in (
        files.interactions,
        files.items,
        files.users,
        files.item_queries,
        files.attribute_queries,
    ):
        print(path)
    return 0


def _note(message: str) -> None:
    print(message, file=sys.stderr)


# What `local demo` sets up for the example specs in `specs/`: their solution versions,
# filters and input objects. Training is deterministic, so the ARNs in the specs stay valid.
DEMO_DATASET = "demo"
DEMO_SOLUTIONS = {
    "item-affinity": "aws-item-affinity",
    "item-attribute-affinity": "aws-item-attribute-affinity",
    "user-personalization": "aws-user-personalization-v2",
    "similar-items": "aws-similar-items",
    "personalized-ranking": "aws-personalized-ranking-v2",
}
DEMO_FILTERS = {
    "exclude-bronze": 'EXCLUDE UserID WHERE Users.MEMBERSHIP IN ("bronze")',
    "adults-only": "INCLUDE UserID WHERE Users.AGE >= 18",
    "not-purchased": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
}
DEMO_BUCKET = "acme-personalize"
DEMO_INPUTS = {
    "batch/in/holiday-items.jsonl": "item_queries",
    "batch/in/winback/items.jsonl": "item_queries",
    "batch/in/genres/all-genres.jsonl": "attribute_queries",
}


def setup_demo(*, root: Path) -> int:
    """Everything the example specs need, in the local backend's folder `root`."""
    started = time.perf_counter()
    demo_dataset = generate_demo_dataset()
    files = demo_dataset.write(root / "demo")
    models = ModelStore(root / "engine")
    dataset = read_dataset(files.interactions, items=files.items, users=files.users)
    models.save_dataset(DEMO_DATASET, dataset)
    for solution, recipe in DEMO_SOLUTIONS.items():
        version = _train_and_save(
            models, dataset, recipe=recipe, solution=solution, dataset=DEMO_DATASET
        )
        print(f"solution version  {version.arn}  ({recipe})")
    for name, expression in DEMO_FILTERS.items():
        print(f"filter            {models.save_filter(name, expression).arn}  ({expression})")
    for key, source in DEMO_INPUTS.items():
        target = root / "s3" / DEMO_BUCKET / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(getattr(files, source).read_bytes())
        print(f"input             s3://{DEMO_BUCKET}/{key}")
    for key, lines in _inference_inputs(demo_dataset).items():
        target = root / "s3" / DEMO_BUCKET / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        print(f"input             s3://{DEMO_BUCKET}/{key}")
    _note(
        f"demo dataset: {dataset.n_interactions:,} interactions of {len(dataset.user_ids):,} "
        f"users and {len(dataset.item_ids):,} items, in {root} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


def _inference_inputs(demo: DemoDataset) -> dict[str, list[dict[str, object]]]:
    """Input files of batch inference jobs: users, items and rankings across the groups."""
    groups = int(demo.user_groups.max()) + 1
    users = [demo.user_ids[k] for k in range(2 * groups)]  # two users of each group
    items = [demo.item_ids[k] for k in range(groups)]  # one item of each group
    return {
        "batch/in/users/users.jsonl": [{"userId": user} for user in users],
        "batch/in/related/items.jsonl": [{"itemId": item} for item in items],
        "batch/in/ranking/ranking.jsonl": [{"userId": user, "itemList": items} for user in users],
    }

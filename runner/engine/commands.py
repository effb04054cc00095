"""`personalize-runner local …`: one function per command, keyword options, an exit status.

What a script wants (an ARN) goes to stdout alone on its line, so that
`ARN=$(personalize-runner local train …)` works; the rest goes to stderr. Expected
failures raise `EngineError`, a `UserError`, for the CLI's error handler.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from runner.engine.datasets import read_dataset
from runner.engine.demo import generate_demo_dataset
from runner.engine.errors import EngineError
from runner.engine.model import DEFAULT_NEIGHBORS, RECIPES
from runner.engine.model import train as train_model
from runner.engine.store import DEFAULT_ACCOUNT, DEFAULT_REGION, DEFAULT_ROOT, ModelStore

_RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"


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
) -> int:
    """Train a solution version of `solution` on `dataset`; print its ARN."""
    recipe = recipe.removeprefix(_RECIPE_ARN_PREFIX)
    if recipe not in RECIPES:
        raise EngineError(f"recipe {recipe!r} does not make segments; use {' or '.join(RECIPES)}")
    models = ModelStore(store)
    data = models.load_dataset(dataset)
    started = time.perf_counter()
    model = train_model(data, recipe=recipe, neighbors=neighbors)
    version = models.save_solution_version(
        model,
        solution=solution,
        dataset=dataset,
        fingerprint=f"{data.digest()}\0neighbors={neighbors}",
        region=region,
        account=account,
    )
    _note(
        f"trained {recipe} on {dataset}: {version.n_users:,} users, {version.n_items:,} items "
        f"({time.perf_counter() - started:.1f} s)"
    )
    print(version.arn)
    return 0


def create_filter(
    *,
    name: str,
    expression: str,
    region: str = DEFAULT_REGION,
    account: str = DEFAULT_ACCOUNT,
    store: Path = DEFAULT_ROOT,
) -> int:
    """Create (or replace) the filter `name`; print its ARN."""
    print(ModelStore(store).save_filter(name, expression, region=region, account=account).arn)
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

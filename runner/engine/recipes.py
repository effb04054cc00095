"""Personalize's recipes: which type each one is, and which ones the local engine trains.

A recipe's type decides what a job asks of a solution version trained with it (the
developer guide, "Choosing a recipe" and "Batch inference job output examples"):

- USER_SEGMENTATION (aws-item-affinity, aws-item-attribute-affinity): batch segment
  jobs, lines `{"itemId": …}` or `{"itemAttributes": …}`.
- USER_PERSONALIZATION (aws-user-personalization-v2, aws-user-personalization) and
  POPULAR_ITEMS (aws-popularity-count): batch inference jobs, lines `{"userId": …}`.
- PERSONALIZED_RANKING (aws-personalized-ranking-v2, aws-personalized-ranking): lines
  `{"userId": …, "itemList": […]}`.
- RELATED_ITEMS (aws-similar-items, aws-sims): lines `{"itemId": …}`.

Trending-Now (POPULAR_ITEMS) and Next-Best-Action (PERSONALIZED_ACTIONS) have no batch
recommendations at the service, so the local engine, which only runs batch jobs, does not
train them: `local train` refuses them and says why.
"""

from __future__ import annotations

from runner.engine.errors import EngineError

RECIPE_ARN_PREFIX = "arn:aws:personalize:::recipe/"

USER_SEGMENTATION = "USER_SEGMENTATION"
USER_PERSONALIZATION = "USER_PERSONALIZATION"
POPULAR_ITEMS = "POPULAR_ITEMS"
PERSONALIZED_RANKING = "PERSONALIZED_RANKING"
RELATED_ITEMS = "RELATED_ITEMS"

# Recipe name -> recipe type, for the recipes the local engine trains.
RECIPE_TYPES: dict[str, str] = {
    "aws-item-affinity": USER_SEGMENTATION,
    "aws-item-attribute-affinity": USER_SEGMENTATION,
    "aws-user-personalization-v2": USER_PERSONALIZATION,
    "aws-user-personalization": USER_PERSONALIZATION,
    "aws-popularity-count": POPULAR_ITEMS,
    "aws-personalized-ranking-v2": PERSONALIZED_RANKING,
    "aws-personalized-ranking": PERSONALIZED_RANKING,
    "aws-similar-items": RELATED_ITEMS,
    "aws-sims": RELATED_ITEMS,
}
# The recipe types whose solution versions batch inference jobs use.
INFERENCE_TYPES = (USER_PERSONALIZATION, POPULAR_ITEMS, PERSONALIZED_RANKING, RELATED_ITEMS)

# Recipes of the service that the local engine knows of but refuses, with the reason.
_REFUSED = {
    "aws-trending-now": (
        "aws-trending-now (POPULAR_ITEMS) has no batch recommendations at the service "
        "(only a campaign serves it), and the local engine runs only batch jobs"
    ),
    "aws-next-best-action": (
        "aws-next-best-action (PERSONALIZED_ACTIONS) has no batch recommendations at the "
        "service, and the local engine runs only batch jobs"
    ),
}


def recipe_name(recipe: str) -> str:
    """A recipe given by name or by ARN, as its name."""
    return recipe.removeprefix(RECIPE_ARN_PREFIX)


def recipe_type(recipe: str) -> str:
    """The type of a recipe the local engine trains; `EngineError` for any other."""
    name = recipe_name(recipe)
    if name in _REFUSED:
        raise EngineError(f"recipe {_REFUSED[name]}; train another recipe")
    if name not in RECIPE_TYPES:
        raise EngineError(
            f"unknown recipe {name!r}; the local engine trains {', '.join(RECIPE_TYPES)}"
        )
    return RECIPE_TYPES[name]

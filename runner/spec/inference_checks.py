"""Checks across the fields of a batch inference spec that the schema cannot make.

- `theme-generation-config`: `batchInferenceJobMode: THEME_GENERATION` needs
  `themeGenerationConfig` (the column of item names the themes are made from), and
  `themeGenerationConfig` is for that mode only: the service refuses either half alone.

`rankingInfluence` (the keys POPULARITY and FRESHNESS, each 0.0 to 1.0) and the mode's
values are the schema's (`runner.spec.inference_model`).
"""

from __future__ import annotations

from typing import Any

from runner.findings import Finding
from runner.yaml.document import Document

MODE = "batchInferenceJobMode"
THEME_CONFIG = "themeGenerationConfig"
THEME_GENERATION = "THEME_GENERATION"


def check_inference(file: str, document: Document) -> list[Finding]:
    """The checks of one valid `BatchInferenceJob` document."""
    data: dict[str, Any] = document.data
    theme = data.get(MODE) == THEME_GENERATION
    if theme and THEME_CONFIG not in data:
        return [
            Finding(
                file,
                document.locate((MODE,)),
                "theme-generation-config",
                f"{MODE}: THEME_GENERATION needs {THEME_CONFIG}.fieldsForThemeGeneration."
                "itemName, the Items dataset column that holds the item names the themes are "
                "made from; add it",
            )
        ]
    if not theme and THEME_CONFIG in data:
        mode = data.get(MODE)
        given = "left out (BATCH_INFERENCE by default)" if mode is None else mode
        return [
            Finding(
                file,
                document.locate((THEME_CONFIG,), key=True),
                "theme-generation-config",
                f"{THEME_CONFIG}: only a theme generation job takes it, and {MODE} is "
                f"{given}; set {MODE}: THEME_GENERATION, or remove {THEME_CONFIG}",
            )
        ]
    return []

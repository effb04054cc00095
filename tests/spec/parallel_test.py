"""Many spec files are parsed by forked workers: the result is the one parsing here gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from runner.spec import LoadResult, loader

EXAMPLES = Path(__file__).resolve().parent.parent / "lint"


def _copy_examples(target: Path) -> None:
    for folder in ("positive", "negative"):
        for path in sorted((EXAMPLES / folder).rglob("*.yaml")):
            relative = path.relative_to(EXAMPLES)
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / relative)


def _summary(result: LoadResult) -> tuple[object, ...]:
    return (
        [(spec.file, spec.index, spec.job_name, spec.request_digest) for spec in result.specs],
        [(f.path, f.span, f.rule, f.message) for f in result.findings],
        result.files,
    )


def test_workers_find_what_one_process_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy_examples(tmp_path)
    monkeypatch.setattr(loader, "PARALLEL_MIN_FILES", 10**9)
    alone = loader.load_specs([tmp_path], root=tmp_path)
    monkeypatch.setattr(loader, "PARALLEL_MIN_FILES", 2)

    shared = loader.load_specs([tmp_path], root=tmp_path)

    if loader._workers() < 2:
        pytest.skip("one core: no workers")
    assert alone.findings, "the negative examples have findings"
    assert _summary(shared) == _summary(alone)
    # Positions of a spec parsed by a worker are found here, from its text.
    assert shared.specs[0].document.locate(("jobName",)).line > 0

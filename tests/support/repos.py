"""A repository for the command line to run in, and its state file."""

from __future__ import annotations

from pathlib import Path

from runner.state import State

# Where the runner keeps the state of a repository without a `state:` setting.
STATE = ".personalize-runner/state.json"


def make_repo(root: Path, backend: str = "aws") -> Path:
    """A repository at `root`: an empty `specs/` and a `personalize-runner.yaml` naming
    `backend` (`aws`: the jobs go to the HTTP stand-in, `local`: to the local service)."""
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text(f"backend: {backend}\n", encoding="utf-8")
    return root


def state_path(repo: Path) -> Path:
    return repo / STATE


def read_state(repo: Path) -> State:
    return State.from_json(state_path(repo).read_bytes(), source="test")

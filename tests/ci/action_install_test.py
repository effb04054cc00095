"""action.yml's install steps, run as GitHub runs them: what they install for each command,
and the pip cache's key and folder, which actions/cache restores and saves.

The step's `run:` script goes to bash with the step's `env:`, whose `${{ … }}` are filled in
from the inputs and the earlier steps' outputs. The action's checkout is a copy of this
working tree (what `uses: <owner>/personalize-runner@<commit>` downloads), so that pip
builds nothing in the repository itself.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ci.support import ACTION, fill, read_yaml, snapshot, step_named

CHOOSE = "Choose what to install"
INSTALL = "Install personalize-runner"


@dataclass(frozen=True)
class Runner:
    """The folders GitHub gives a job: the action's checkout and the runner's temp."""

    action_path: Path
    temp: Path

    def step(self, name: str, outputs: dict[str, dict[str, str]], **inputs: str) -> dict[str, str]:
        """Run the step called `name`; its outputs (what it wrote to GITHUB_OUTPUT)."""
        action = read_yaml(ACTION)
        values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
        values |= {key.replace("_", "-"): value for key, value in inputs.items()}
        step = step_named(action, name)
        output = self.temp / f"output-{len(outputs)}"
        output.write_text("", encoding="utf-8")
        contexts = {
            "runner.temp": str(self.temp),
            "steps.python.outputs.python-path": sys.executable,
            "steps.python.outputs.python-version": platform.python_version(),
            **{f"inputs.{key}": value for key, value in values.items()},
            **{
                f"steps.{step_id}.outputs.{key}": value
                for step_id, written in outputs.items()
                for key, value in written.items()
            },
        }
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GITHUB_", "RUNNER_", "INPUT_", "VIRTUAL_ENV"))
        }
        env |= {
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_OUTPUT": str(output),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": str(self.temp),
        }
        env |= {key: fill(str(value), contexts) for key, value in step["env"].items()}
        ran = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.temp,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        written = {}
        for line in output.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            written[key] = value
        return written

    def choose(self, **inputs: str) -> dict[str, str]:
        return self.step(CHOOSE, {}, **inputs)


@pytest.fixture(scope="module")
def action_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("actions") / "personalize-runner"
    snapshot(path)
    return path


@pytest.fixture
def runner(action_path: Path, tmp_path: Path) -> Runner:
    return Runner(action_path=action_path, temp=tmp_path)


def test_lint_installs_the_core_and_the_other_commands_the_aws_extra(runner: Runner) -> None:
    lint = runner.choose(command="lint")
    plan = runner.choose(command="plan")
    reconcile = runner.choose(command="reconcile")
    local = runner.choose(command="reconcile", backend="local")

    assert lint["package"] == str(runner.action_path)
    assert (lint["extras"], plan["extras"], reconcile["extras"]) == ("", "aws", "aws")
    assert local["extras"] == "aws,local"
    assert runner.choose(command="plan", extras="none")["extras"] == ""
    assert runner.choose(command="lint", extras="local, aws")["extras"] == "local,aws"


def test_the_cache_key_follows_the_package_the_extras_and_the_python(runner: Runner) -> None:
    lint = runner.choose(command="lint")
    plan = runner.choose(command="plan")
    pinned = runner.choose(command="lint", version="personalize-runner==0.1.0")
    other = runner.choose(command="lint", version="personalize-runner==0.2.0")
    prefix = f"personalize-runner-pip-Linux-X64-python-{platform.python_version()}-"

    assert runner.choose(command="lint") == lint
    assert {lint["cache-prefix"], plan["cache-prefix"], pinned["cache-prefix"]} == {prefix}
    keys = [found["cache-key"] for found in (lint, plan, pinned, other)]
    assert all(key.startswith(prefix) and len(key) > len(prefix) for key in keys)
    assert len(set(keys)) == 4
    assert pinned["package"] == "personalize-runner==0.1.0"
    assert lint["pip-cache"] == str(runner.temp / "personalize-runner-pip-cache")


def test_the_cache_key_changes_with_the_actions_pyproject(
    runner: Runner, tmp_path: Path, action_path: Path
) -> None:
    before = runner.choose(command="lint")["cache-key"]
    changed = tmp_path / "changed"
    changed.mkdir()
    pyproject = (action_path / "pyproject.toml").read_text(encoding="utf-8")
    (changed / "pyproject.toml").write_text(
        pyproject.replace('version = "', 'version = "9', 1), encoding="utf-8"
    )

    after = Runner(action_path=changed, temp=runner.temp).choose(command="lint")["cache-key"]

    assert after != before


def installed(venv: Path, *modules: str) -> dict[str, bool]:
    """Which of `modules` the venv's Python can import."""
    code = (
        "import importlib.util, sys\n"
        "print(' '.join(str(importlib.util.find_spec(m) is not None) for m in sys.argv[1:]))"
    )
    ran = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code, *modules],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(zip(modules, (word == "True" for word in ran.stdout.split()), strict=True))


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder actions/cache restores: one for the module, as one for the repository."""
    return tmp_path_factory.mktemp("pip-cache")


def install(runner: Runner, pip_cache: Path, **inputs: str) -> Path:
    """The venv that the install step makes, after the cache step restored `pip_cache`."""
    chosen = runner.choose(**inputs) | {"pip-cache": str(pip_cache)}
    runner.step(INSTALL, {"package": chosen}, **inputs)
    return runner.temp / "personalize-runner-venv"


def test_the_cache_step_saves_the_folder_pip_uses() -> None:
    action = read_yaml(ACTION)
    (cache,) = (
        step
        for step in action["runs"]["steps"]
        if step.get("uses", "").startswith("actions/cache@")
    )

    assert cache["with"]["path"] == "${{ steps.package.outputs.pip-cache }}"
    assert cache["with"]["key"] == "${{ steps.package.outputs.cache-key }}"
    assert step_named(action, INSTALL)["env"]["PIP_CACHE_DIR"] == cache["with"]["path"]
    steps = [step.get("name") for step in action["runs"]["steps"]]
    assert steps.index(CHOOSE) < steps.index(cache["name"]) < steps.index(INSTALL)


@pytest.mark.install
def test_lint_gets_the_core_only_and_it_lints(
    runner: Runner, action_path: Path, pip_cache: Path
) -> None:
    venv = install(runner, pip_cache, command="lint")

    assert installed(venv, "runner", "pydantic", "boto3", "botocore", "numpy", "scipy") == {
        "runner": True,
        "pydantic": True,
        "boto3": False,
        "botocore": False,
        "numpy": False,
        "scipy": False,
    }
    linted = subprocess.run(
        [str(venv / "bin" / "personalize-runner"), "lint", str(action_path / "specs")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert any(pip_cache.rglob("*"))


@pytest.mark.install
def test_reconcile_gets_boto3(runner: Runner, pip_cache: Path) -> None:
    venv = install(runner, pip_cache, command="reconcile")

    assert installed(venv, "runner", "boto3", "numpy") == {
        "runner": True,
        "boto3": True,
        "numpy": False,
    }

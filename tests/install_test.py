"""The core install (`pip install .`, no extras): small, enough for lint and plan (issue 9).

One fresh virtual environment per test session, installed from a copy of this checkout
(so that building leaves nothing in the working tree); pip's cache makes it quick after
the first run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.state.file import FileStateStore
from tests.state.support import make_state

ROOT = Path(__file__).resolve().parent.parent
MAX_SITE_PACKAGES = 60 * 1000 * 1000
EXTRA_ONLY = ("numpy", "scipy", "boto3", "botocore")
# What a build and a demo repository need: the package and the example specs.
COPIED = ("pyproject.toml", "README.md", "runner", "specs", "personalize-runner.yaml")

pytestmark = pytest.mark.install


@dataclass(frozen=True)
class CoreInstall:
    venv: Path
    repo: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "personalize-runner"), *args],
            cwd=self.repo,
            env=_outside_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def python(self, code: str) -> str:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            env=_outside_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout


def _outside_env() -> dict[str, str]:
    """This process's environment without what points Python at the checkout or its venv."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PYTHON") and key != "VIRTUAL_ENV"
    }


@pytest.fixture(scope="session")
def core(tmp_path_factory: pytest.TempPathFactory) -> CoreInstall:
    base = tmp_path_factory.mktemp("core-install")
    repo = base / "repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".personalize-*")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, repo / name)
    venv = base / "venv"
    env = _outside_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], env=env, check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(repo)],
        env=env,
        check=True,
        timeout=600,
    )
    return CoreInstall(venv, repo)


def test_the_core_install_has_no_extra_libraries(core: CoreInstall) -> None:
    installed = json.loads(
        core.python(
            "import importlib.metadata as m, json;"
            "print(json.dumps(sorted({d.metadata['Name'].lower() for d in m.distributions()})))"
        )
    )
    assert "personalize-runner" in installed
    assert [name for name in EXTRA_ONLY if name in installed] == []


def test_the_core_install_is_small(core: CoreInstall) -> None:
    (site_packages,) = (core.venv / "lib").glob("python3*/site-packages")
    size = sum(path.stat().st_size for path in site_packages.rglob("*") if path.is_file())
    assert size <= MAX_SITE_PACKAGES, f"site-packages is {size / 1e6:.1f} MB"


def test_lint_works_without_extras(core: CoreInstall) -> None:
    done = core.run("lint", "specs")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.endswith(" specs: no findings\n"), done.stdout


def test_plan_works_without_extras(core: CoreInstall) -> None:
    done = core.run("plan")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr


def _names_the_extra(done: subprocess.CompletedProcess[str], extra: str) -> None:
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert f"pip install 'personalize-runner[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("reconcile", "--backend", "aws"), "aws"),
        (("reconcile", "--backend", "local"), "local"),
        (("local", "demo"), "local"),
        (("local", "list"), "local"),
    ],
)
def test_a_command_without_its_extra_names_it(
    core: CoreInstall, args: tuple[str, ...], extra: str
) -> None:
    _names_the_extra(core.run(*args), extra)


def test_a_refresh_with_a_job_to_ask_about_names_the_aws_extra(
    core: CoreInstall, tmp_path: Path
) -> None:
    # A refresh asks the service only about recorded unfinished jobs: with none it needs no
    # backend, with one it needs boto3. The state is written by this checkout's own store
    # (recording a job in the core install would need a backend, hence an extra).
    state = tmp_path / "state.json"
    empty = core.run("status", "--state", str(state), "--refresh", "--backend", "aws")
    FileStateStore(state).write(make_state(), expected=None)

    pending = core.run("status", "--state", str(state), "--refresh", "--backend", "aws")

    assert (empty.returncode, empty.stdout, empty.stderr) == (0, "No jobs recorded.\n", "")
    _names_the_extra(pending, "aws")


def _readme_commands() -> list[str]:
    """The README's two commands, in the order it gives them."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Two commands", 1)[1]
    section = section.split("\n## ", 1)[0]
    blocks = section.split("```sh\n")[1:]
    return [block.split("```", 1)[0].strip() for block in blocks]


def test_the_readme_gives_two_commands() -> None:
    first, second = _readme_commands()
    assert "personalize-runner reconcile" in first
    assert "pytest" in second


def test_the_readmes_first_command_runs_the_demo_on_a_fresh_machine(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Verbatim, in a fresh copy of the checkout: it installs what the demo needs."""
    first, _ = _readme_commands()
    repo = tmp_path_factory.mktemp("readme") / "repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".personalize-*")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, repo / name)
    (repo / ".git").mkdir()
    done = subprocess.run(
        ["sh", "-c", first],
        cwd=repo,
        env=_outside_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    again = subprocess.run(
        [str(repo / ".venv" / "bin" / "personalize-runner"), "plan", "--detailed-exitcode"],
        cwd=repo,
        env=_outside_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr

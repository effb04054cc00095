"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit in another repository.

pre-commit installs a hook from a commit: the hook repository here is a copy of this working
tree as one commit (tests.ci.support.snapshot). `try-repo` is what a hook author runs; `run`
with a configuration is what the README tells a user to write. Each environment is built with
pip, from the package index, as pre-commit does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ci.support import REPO, git, read_yaml, snapshot

pytestmark = pytest.mark.install

LINT = "personalize-runner-lint"
LINT_ALL = "personalize-runner-lint-all"
README = REPO / "README.md"


SOLUTION_VERSION = "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/69d9c6df"


def spec(job_name: str) -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: personalize-runner/v1
        kind: BatchSegmentJob
        jobName: {job_name}
        solutionVersionArn: {SOLUTION_VERSION}
        jobInput:
          s3DataSource:
            path: s3://acme-personalize/batch/in/{job_name}/
        jobOutput:
          s3DataDestination:
            path: s3://acme-personalize/batch/out/{job_name}/
        roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
        """
    )


BROKEN = "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobname: typo-2026-12\n"


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@dataclass(frozen=True)
class Ran:
    status: int
    output: str


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    path = tmp_path_factory.mktemp("hooks") / "personalize-runner"
    return HookRepo(path=path, rev=snapshot(path))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's store (clones and environments), shared by this module's runs."""
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(*args: str, cwd: Path, home: Path) -> Ran:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PRE_COMMIT")}
    env |= {"PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "SKIP": ""}
    ran = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Ran(ran.returncode, ran.stdout + ran.stderr)


def repository(path: Path, files: dict[str, str]) -> Path:
    """A git repository holding `files`, all staged, as before `git commit`."""
    path.mkdir()
    git("init", "--quiet", cwd=path)
    write(path, files)
    return path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    git("add", "--all", cwd=root)


def try_repo(hooks: HookRepo, hook: str, *files: str, cwd: Path, home: Path) -> Ran:
    """`pre-commit try-repo`: builds the hook's environment afresh, every time."""
    return pre_commit(
        "try-repo", str(hooks.path), hook, "--ref", hooks.rev, "--files", *files, cwd=cwd, home=home
    )


def configuration(hooks: HookRepo) -> str:
    """A .pre-commit-config.yaml with both hooks, as a user writes it."""
    return (
        f"repos:\n  - repo: {hooks.path}\n    rev: {hooks.rev}\n    hooks:\n"
        f"      - id: {LINT}\n      - id: {LINT_ALL}\n"
    )


def run(hook: str, *files: str, cwd: Path, home: Path) -> Ran:
    """`pre-commit run HOOK --files FILES` with the repository's configuration."""
    return pre_commit("run", hook, "--files", *files, cwd=cwd, home=home)


def test_lint_all_lints_the_folder_that_the_configuration_names(
    hook_repo: HookRepo, home: Path, tmp_path: Path
) -> None:
    specs = repository(
        tmp_path / "segments",
        {
            ".pre-commit-config.yaml": configuration(hook_repo),
            "personalize-runner.yaml": "specs: jobs\n",
            "jobs/winback.yaml": spec("winback-2026-12"),
            "jobs/promo.yaml": spec("promo-2026-12"),
        },
    )

    clean = run(LINT_ALL, "jobs/promo.yaml", cwd=specs, home=home)
    # A new spec that reuses the jobName of an unchanged one: only the whole folder shows it.
    write(specs, {"jobs/promo-copy.yaml": spec("winback-2026-12")})
    reused = try_repo(hook_repo, LINT_ALL, "jobs/promo-copy.yaml", cwd=specs, home=home)
    # A change to the configuration alone runs it too; a change to no YAML file does not.
    configured = run(LINT_ALL, "personalize-runner.yaml", cwd=specs, home=home)
    write(specs, {"notes.txt": "not YAML\n"})
    unrelated = run(LINT_ALL, "notes.txt", cwd=specs, home=home)

    assert clean.status == 0, clean.output
    assert re.search(
        r"^personalize-runner lint \(whole specs folder\)\.+Passed", clean.output, re.M
    )
    assert reused.status == 1, reused.output
    assert re.search(r"^jobs/promo-copy\.yaml:3:\d+: .*winback-2026-12", reused.output, re.M)
    assert "no such file" not in reused.output
    assert "specs:1:1" not in reused.output
    assert configured.status == 1, configured.output
    assert "jobs/promo-copy.yaml:3:" in configured.output
    assert unrelated.status == 0, unrelated.output
    assert re.search(r"\(no files to check\)Skipped", unrelated.output)


def test_lint_checks_the_changed_spec_files_under_specs(
    hook_repo: HookRepo, home: Path, tmp_path: Path
) -> None:
    specs = repository(
        tmp_path / "segments",
        {
            ".pre-commit-config.yaml": configuration(hook_repo),
            "specs/winback.yaml": spec("winback-2026-12"),
            "specs/broken.yaml": BROKEN,
            ".github/workflows/ci.yml": "on: push\njobs: {}\n",
        },
    )
    changed = ("specs/winback.yaml", "specs/broken.yaml", ".github/workflows/ci.yml")

    ran = try_repo(hook_repo, LINT, *changed, cwd=specs, home=home)
    only_valid = run(LINT, "specs/winback.yaml", ".github/workflows/ci.yml", cwd=specs, home=home)

    assert ran.status == 1, ran.output
    assert re.search(r"^specs/broken\.yaml:3:1: .*jobname", ran.output, re.M)
    assert "ci.yml" not in ran.output
    assert only_valid.status == 0, only_valid.output
    assert re.search(r"^personalize-runner lint\.+Passed", only_valid.output, re.M)


def readme_configuration(hooks: HookRepo) -> tuple[str, str]:
    """The README's .pre-commit-config.yaml pointed at `hooks`, and its `files:` override."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## pre-commit in another repository") :]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2, blocks
    configuration, override = blocks
    configuration = re.sub(r"repo: \S+", f"repo: {hooks.path}", configuration)
    configuration = re.sub(r"rev: [0-9a-f]{40}", f"rev: {hooks.rev}", configuration)
    assert str(hooks.path) in configuration
    assert hooks.rev in configuration
    return configuration, override


def test_the_readme_configuration_with_specs_in_another_folder(
    hook_repo: HookRepo, home: Path, tmp_path: Path
) -> None:
    configuration, override = readme_configuration(hook_repo)
    # The override replaces the configuration's line of the same hook.
    (override_id,) = re.findall(r"- id: (\S+)", override)
    lines = configuration.splitlines()
    (at,) = (i for i, line in enumerate(lines) if re.search(rf"- id: {override_id}\s", line + " "))
    indent = lines[at][: lines[at].index("-")]
    lines[at : at + 1] = [indent + line for line in textwrap.dedent(override).splitlines()]
    specs = repository(
        tmp_path / "segments",
        {
            ".pre-commit-config.yaml": "\n".join(lines) + "\n",
            "personalize-runner.yaml": "specs: jobs\n",
            "jobs/winback.yaml": spec("winback-2026-12"),
            "jobs/broken.yaml": BROKEN,
        },
    )

    ran = pre_commit("run", "--files", "jobs/broken.yaml", cwd=specs, home=home)

    assert ran.status == 1, ran.output
    assert re.search(r"^personalize-runner lint\.+Failed", ran.output, re.M)
    assert re.search(r"^personalize-runner lint \(whole specs folder\)\.+Failed", ran.output, re.M)
    assert len(re.findall(r"^jobs/broken\.yaml:3:1: ", ran.output, re.M)) == 2


def test_the_hooks_environment_has_the_core_only(
    hook_repo: HookRepo, home: Path, tmp_path: Path
) -> None:
    configuration, _ = readme_configuration(hook_repo)
    specs = repository(tmp_path / "segments", {".pre-commit-config.yaml": configuration})
    installed = pre_commit("install-hooks", cwd=specs, home=home)
    assert installed.status == 0, installed.output
    (python,) = home.glob("repo*/py_env-*/bin/python")

    ran = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u\n"
            "for m in ('runner', 'pydantic', 'boto3', 'botocore', 'numpy', 'scipy'):\n"
            "    print(m, u.find_spec(m) is not None)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert ran.stdout.split("\n") == [
        "runner True",
        "pydantic True",
        "boto3 False",
        "botocore False",
        "numpy False",
        "scipy False",
        "",
    ]


def test_autoupdate_freeze_moves_the_pin_to_the_newest_commit(
    hook_repo: HookRepo, home: Path, tmp_path: Path
) -> None:
    """What the README says of `pre-commit autoupdate --freeze`, without tags and with one."""
    upstream = tmp_path / "upstream"
    git("clone", "--quiet", str(hook_repo.path), str(upstream), cwd=tmp_path)
    git("commit", "--quiet", "--allow-empty", "--message", "newer", cwd=upstream)
    newest = git("rev-parse", "HEAD", cwd=upstream).strip()
    configuration, _ = readme_configuration(HookRepo(path=upstream, rev=hook_repo.rev))
    specs = repository(tmp_path / "segments", {".pre-commit-config.yaml": configuration})

    untagged = pre_commit("autoupdate", "--freeze", cwd=specs, home=home)
    after_untagged = (specs / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    git("commit", "--quiet", "--allow-empty", "--message", "release", cwd=upstream)
    git("tag", "v0.2.0", cwd=upstream)
    release = git("rev-parse", "HEAD", cwd=upstream).strip()
    git("commit", "--quiet", "--allow-empty", "--message", "after the release", cwd=upstream)
    tagged = pre_commit("autoupdate", "--freeze", cwd=specs, home=home)
    after_tagged = (specs / ".pre-commit-config.yaml").read_text(encoding="utf-8")

    assert untagged.status == 0, untagged.output
    assert re.findall(r"rev: (\S+)(.*)", after_untagged) == [(newest, "")]
    assert tagged.status == 0, tagged.output
    assert re.findall(r"rev: (\S+)(.*)", after_tagged) == [(release, "  # frozen: v0.2.0")]
    assert read_yaml(specs / ".pre-commit-config.yaml")["repos"][0]["rev"] == release

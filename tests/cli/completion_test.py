"""Shell completion: `completion SHELL` prints a script that the shell loads, and that
completes command names and options through the command line's completion protocol."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import PROJECT_ROOT, run_cli


@pytest.fixture
def on_path(tmp_path: Path) -> dict[str, str]:
    """An environment with `personalize-runner` on PATH, running this checkout."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "personalize-runner"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m runner "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return {
        "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(PROJECT_ROOT),
        "HOME": str(tmp_path),
        "TERM": "dumb",
    }


def shell(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=env["HOME"]
    )
    assert (done.returncode, done.stderr) == (0, ""), done
    return done.stdout


def needs(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} is not installed")


@pytest.mark.parametrize("name", ["bash", "zsh", "fish"])
def test_each_shell_has_a_script(name: str) -> None:
    ran = run_cli("completion", name)

    assert (ran.status, ran.err) == (0, "")
    assert f"_PERSONALIZE_RUNNER_COMPLETE=complete_{name}" in ran.out
    assert "personalize-runner" in ran.out


@needs("bash")
def test_bash_loads_the_script_and_completes(on_path: dict[str, str]) -> None:
    def complete(*words: str) -> list[str]:
        out = shell(
            "bash",
            "--norc",
            "--noprofile",
            "-c",
            'eval "$(personalize-runner completion bash)"\n'
            f"COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}\n"
            "_personalize_runner_completion personalize-runner\n"
            'printf "%s\\n" "${COMPREPLY[@]}"',
            env=on_path,
        )
        return out.splitlines()

    registered = shell(
        "bash", "-c", 'eval "$(personalize-runner completion bash)"; complete -p', env=on_path
    )

    assert (
        "complete -o default -F _personalize_runner_completion personalize-runner\n" in registered
    )
    assert complete("personalize-runner", "rec") == ["reconcile"]
    assert complete("personalize-runner", "state", "mi") == ["migrate"]
    assert complete("personalize-runner", "plan", "--det") == ["--detailed-exitcode"]
    assert complete("personalize-runner", "plan", "--format", "") == ["text", "json", "markdown"]


@needs("zsh")
def test_zsh_loads_the_script_and_completes(on_path: dict[str, str]) -> None:
    out = shell(
        "zsh",
        "-f",
        "-c",
        f"autoload -Uz compinit && compinit -u -d {on_path['HOME']}/.zcompdump\n"
        'eval "$(personalize-runner completion zsh)"\n'
        'print -r -- "${_comps[personalize-runner]}"\n'
        # Outside a completion widget, show what the function asks zsh to offer.
        '_arguments() { print -r -- "$@" }\n'
        "words=(personalize-runner rec); CURRENT=2\n"
        "_personalize_runner_completion",
        env=on_path,
    )

    registered, offered = out.splitlines()
    assert registered == "_personalize_runner_completion"
    assert offered.startswith('*: :(("reconcile":"Submit the new jobs')


@needs("fish")
def test_fish_loads_the_script_and_completes(on_path: dict[str, str]) -> None:
    out = shell(
        "fish",
        "--no-config",
        "-c",
        "personalize-runner completion fish | source\n"
        'complete -C "personalize-runner rec"\n'
        'complete -C "personalize-runner plan --det"',
        env=on_path,
    )

    assert out.splitlines() == [
        "reconcile\tSubmit the new jobs exactly once and...",
        "--detailed-exitcode\tExit 2 when there are jobs to submit.",
    ]

"""`--help` of every command shows every option's default (issue 14).

The commands are found as a person finds them: from the `Commands:` sections of the help.
"""

from __future__ import annotations

import itertools
import re

import pytest

from tests.support.cli import run_cli

# An entry of an `Options:` or `Arguments:` section: its names at two spaces of indent.
ENTRY = re.compile(r"^  (-\S+|[A-Z][A-Z_.]*)", re.MULTILINE)
SECTION = re.compile(r"^(\w[\w ]*):\n((?:  .*\n|\n)+)", re.MULTILINE)
DEFAULT = re.compile(r" \[default: [^]]+\]$| \[required\]$")


def help_of(*command: str) -> str:
    ran = run_cli(*command, "--help")
    assert (ran.status, ran.err) == (0, ""), ran
    return ran.out


def sections(text: str) -> dict[str, str]:
    return {match.group(1): match.group(2) for match in SECTION.finditer(text)}


def entries(section: str) -> dict[str, tuple[str, str]]:
    """Each entry by its names (`-o, --output`): its metavar (`<path>`, "" for a flag) and
    its help, the wrapped lines joined."""
    starts = [match.start() for match in ENTRY.finditer(section)]
    found = {}
    for start, end in itertools.pairwise([*starts, len(section)]):
        words = section[start:end].split()
        names = list(itertools.takewhile(lambda word: word[0] == "-" or word.isupper(), words))
        rest = words[len(names) :]
        metavar = rest[0] if rest and rest[0].startswith("<") else ""
        found[" ".join(names)] = (metavar, " ".join(rest[1 if metavar else 0 :]))
    return found


def commands(*path: str) -> list[tuple[str, ...]]:
    """`path` and every command under it."""
    listed = sections(help_of(*path)).get("Commands", "")
    found = [path]
    for line in listed.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            found.extend(commands(*path, line.split()[0]))
    return found


COMMANDS = commands()


def test_every_command_is_found() -> None:
    assert sorted(" ".join(command) for command in COMMANDS) == [
        "",
        "completion",
        "lint",
        "local",
        "local demo",
        "local filter",
        "local import",
        "local list",
        "local train",
        "plan",
        "reconcile",
        "schema",
        "state",
        "state forget",
        "state import",
        "state list",
        "state migrate",
        "state show",
        "state unlock",
        "status",
        "wait",
    ]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_option_shows_its_default(command: tuple[str, ...]) -> None:
    parts = sections(help_of(*command))
    options = entries(parts["Options"])
    arguments = entries(parts.get("Arguments", ""))
    assert "-h, --help" in options

    for name, (metavar, text) in options.items():
        if metavar:
            assert DEFAULT.search(text), (command, name, text)
        else:
            # A flag (off unless given), or one that prints something and exits.
            assert "[default:" not in text
    for name, (_, text) in arguments.items():
        assert DEFAULT.search(text), (command, name, text)


@pytest.mark.parametrize(
    ("command", "option", "default"),
    [
        ("lint", "--format", "text"),
        ("lint", "--specs", "specs"),
        ("lint", "--color", "auto"),
        ("lint", "PATH...", "the specs folder"),
        ("plan", "--state", ".personalize-runner/state.json"),
        ("plan", "--backend", "local"),
        ("plan", "--out", "not saved"),
        ("reconcile", "--lock-timeout", "60.0"),
        ("reconcile", "--timeout", "no limit"),
        ("wait", "--timeout", "3600.0"),
        ("state list", "--format", "text"),
        ("local train", "--region", "us-east-1"),
    ],
)
def test_the_default_shown(command: str, option: str, default: str) -> None:
    parts = sections(help_of(*command.split()))
    shown = {**entries(parts["Options"]), **entries(parts.get("Arguments", ""))}

    assert shown[option][1].endswith(f"[default: {default}]")

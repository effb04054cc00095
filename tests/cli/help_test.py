"""`--help` of every command shows every option's default (issue 14).

The commands are found as a person finds them: from the `Commands:` sections of the help.
"""

from __future__ import annotations

import re

import pytest

from tests.cli.support import commands, entries, help_of, sections

DEFAULT = re.compile(r" \[default: [^]]+\]$| \[required\]$")
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
        ("lint", "PATH...", "--specs"),
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

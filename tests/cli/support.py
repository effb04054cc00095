"""Reading `--help` as a person does: its sections, their entries, the commands it lists."""

from __future__ import annotations

import itertools
import re

from tests.support.cli import run_cli

# An entry of an `Options:` or `Arguments:` section: its names at two spaces of indent.
ENTRY = re.compile(r"^  (-\S+|[A-Z][A-Z_.]*)", re.MULTILINE)
SECTION = re.compile(r"^(\w[\w ]*):\n((?:  .*\n|\n)+)", re.MULTILINE)


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

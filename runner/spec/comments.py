"""What lint reads from a spec file's comments: ignore comments and schema modelines.

The YAML readers skip comments (the fast one never sees them), so these are found in the
file's text, and only when a marker occurs in it: a file without a comment that starts
`# personalize-runner` and says `ignore`, or without a second document, costs one search.

- `# personalize-runner: ignore[rule-id, ...]` at the end of a line silences those rules
  for the findings that start on that line; alone on its line, for the next line that is
  not a comment. `# personalize-runner: ignore-file[rule-id, ...]` silences them in the
  whole file. `lint.ignore` in personalize-runner.yaml silences them everywhere.
- Only rules marked ignorable can be silenced (runner/rules/); an ignore comment naming
  another rule, or no rule, is an `ignore-comment` warning and silences nothing, and so is
  a comment meant as one that is not of that form (`ignore` alone, `ignore [id]`, no colon,
  an unclosed bracket, capitals): it would otherwise silence nothing unseen.
- `schema-modeline`: in a file whose first document has a `# yaml-language-server:
  $schema=` comment, a later document (after `---`) without one. yaml-language-server reads
  the modeline per document, so the others get no completion or diagnostics.
- `schema-modeline-kind`: a modeline that names the schema of another kind of job than its
  document's (`batch-segment-job.v1.json` above a `kind: BatchInferenceJob`): the editor
  would check the document against the wrong fields.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Sequence

from runner.findings import Finding
from runner.rules import RULES, ignore_problem
from runner.yaml.document import Document
from runner.yaml.span import Span

# What a comment meant as an ignore comment starts with, well formed or not ("ignored" and
# "ignores" are prose); `_IGNORE` is the form, matched where `_MEANT` matches.
_MEANT = re.compile(r"#[ \t]*personalize-runner[ \t]*:?[ \t]*ignore(?:-file)?\b", re.IGNORECASE)
_IGNORE = re.compile(r"#[ \t]*personalize-runner:[ \t]*ignore(-file)?\[([^\]\n]*)\]")
_FORM = "`# personalize-runner: ignore[rule-id, ...]`"
_RULE_ID = re.compile(r"[^,\s]+")
MODELINE = "yaml-language-server"
_MODELINE = re.compile(r"^[ \t]*#[ \t]*yaml-language-server:[ \t]*\$schema=", re.MULTILINE)
_SEPARATOR = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)
_MODELINE_SCHEMA = re.compile(
    r"^[ \t]*#[ \t]*yaml-language-server:[ \t]*\$schema=([^\s#]+)", re.MULTILINE
)


class Comments:
    """The ignore comments of one file, with the rules `lint.ignore` silences."""

    def __init__(self, name: str, text: str, ignore: Collection[str] = ()) -> None:
        self.name = name
        self.text = text
        self.everywhere = frozenset(ignore)
        self.by_line: dict[int, set[str]] = {}
        self.problems: list[Finding] = []
        if _MEANT.search(text):
            self._read_ignores()

    def _read_ignores(self) -> None:
        pending: set[str] = set()
        for number, line in enumerate(self.text.splitlines(keepends=True), start=1):
            stripped = line.strip()
            if pending and stripped and not stripped.startswith("#"):
                self.by_line.setdefault(number, set()).update(pending)
                pending = set()
            for meant in _MEANT.finditer(line):
                match = _IGNORE.match(line, meant.start())
                if match is None:
                    self._problem(
                        number,
                        meant.start(),
                        meant.end(),
                        f"write it as {_FORM} (or ignore-file[…])",
                    )
                    continue
                rules = self._rules(number, match)
                if match.group(1):
                    self.everywhere |= rules
                elif line[: match.start()].strip():
                    self.by_line.setdefault(number, set()).update(rules)
                else:
                    pending |= rules

    def _problem(self, number: int, start: int, end: int, problem: str) -> None:
        span = Span(number, start + 1, number, end + 1)
        self.problems.append(
            Finding(self.name, span, "ignore-comment", f"ignore comment: {problem}")
        )

    def _rules(self, number: int, match: re.Match[str]) -> frozenset[str]:
        rules = set()
        named = False
        for found in _RULE_ID.finditer(match.group(2)):
            named = True
            rule_id = found.group()
            start = match.start(2) + found.start()
            problem = ignore_problem(rule_id)
            if problem is None:
                rules.add(rule_id)
            else:
                self._problem(number, start, start + len(rule_id), problem)
        if not named:
            self._problem(
                number, match.start(), match.end(), f"it names no rule: write it as {_FORM}"
            )
        return frozenset(rules)

    def silence(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings that no ignore comment or `lint.ignore` silences."""
        if not self.everywhere and not self.by_line:
            return list(findings)
        return [finding for finding in findings if not self._silenced(finding)]

    def _silenced(self, finding: Finding) -> bool:
        rule = RULES.get(finding.rule)
        if rule is None or not rule.ignorable:
            return False
        return finding.rule in self.everywhere or finding.rule in self.by_line.get(
            finding.span.line, ()
        )

    def findings(self, documents: Sequence[Document]) -> list[Finding]:
        """The file's own findings: modelines missing, ignore comments that silence nothing."""
        return (
            self.silence(
                modeline_findings(self.name, self.text, documents)
                + modeline_kind_findings(self.name, self.text, documents)
            )
            + self.problems
        )


def _line_numbers(text: str, pattern: re.Pattern[str]) -> list[int]:
    """The line of each match of `pattern` in `text`, in order."""
    numbers = []
    line, counted = 1, 0
    for match in pattern.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        numbers.append(line)
    return numbers


def modeline_findings(name: str, text: str, documents: Sequence[Document]) -> list[Finding]:
    """`schema-modeline`: later documents without the modeline that the first one has."""
    if len(documents) < 2 or MODELINE not in text:
        return []
    # Line numbers in order, found in one pass each, and looked up by bisection: a file of
    # n documents takes n steps, not n² (issue 10).
    separators = _line_numbers(text, _SEPARATOR)
    modelines = _line_numbers(text, _MODELINE)
    # Each document's lines: from the `---` before its first node to the next `---`.
    starts = [1]
    for document in documents[1:]:
        line = document.locate(()).line
        before = bisect_right(separators, line)
        starts.append(separators[before - 1] if before else line)
    ends = [*starts[1:], len(text.splitlines()) + 2]

    def has_modeline(position: int) -> bool:
        first = bisect_left(modelines, starts[position])
        return first < len(modelines) and modelines[first] < ends[position]

    if not has_modeline(0):
        return []
    findings = []
    for position in range(1, len(documents)):
        if has_modeline(position):
            continue
        line = starts[position]
        findings.append(
            Finding(
                name,
                Span(line, 1, line, 4),
                "schema-modeline",
                f"document {position + 1} has no `# yaml-language-server: $schema=…` line, "
                "which the first document has: editors check and complete only the documents "
                "that have one; copy it below this `---` (or map the folder to the schema in "
                "`yaml.schemas` and ignore this rule)",
            )
        )
    return findings


def modeline_kind_findings(name: str, text: str, documents: Sequence[Document]) -> list[Finding]:
    """`schema-modeline-kind`: a modeline naming the schema of another kind than the one of
    the document it heads (a schema file of this release's, by its name)."""
    if MODELINE not in text or not documents:
        return []
    from runner.spec.schema import KIND_SCHEMA_FILES

    kind_of_file = {file: kind for (_, kind), file in KIND_SCHEMA_FILES.items()}
    separators = _line_numbers(text, _SEPARATOR)
    # The first line of each document: after the `---` that precedes its first node.
    starts = [1]
    for document in documents[1:]:
        line = document.locate(()).line
        before = bisect_right(separators, line)
        starts.append(separators[before - 1] if before else line)
    findings = []
    line, counted = 1, 0
    for match in _MODELINE_SCHEMA.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        named = kind_of_file.get(match.group(1).rsplit("/", 1)[-1])
        data = documents[max(0, bisect_right(starts, line) - 1)].data
        kind = data.get("kind") if isinstance(data, dict) else None
        if named is None or kind not in kind_of_file.values() or kind == named:
            continue
        col = match.start(1) - text.rfind("\n", 0, match.start(1))
        wanted = next(file for file, of in kind_of_file.items() if of == kind)
        findings.append(
            Finding(
                name,
                Span(line, col, line, col + len(match.group(1))),
                "schema-modeline-kind",
                f"the modeline names {match.group(1)}, the schema of {named} specs, above a "
                f"document of kind {kind}: editors would check it against the wrong fields; "
                f"name {wanted}",
            )
        )
    return findings

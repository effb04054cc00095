"""Rules about files and YAML: what stops a file from being read as specs at all."""

from __future__ import annotations

from runner.rules.rule import Rule, Severity

TITLE = "Files and YAML"

_SPEC_END = """\
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/items.jsonl
jobOutput:
  s3DataDestination:
    path: s3://acme-personalize/batch/out/weekly/
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""

RULES = (
    Rule(
        "no-such-file",
        "A path given to lint does not exist.",
        "A file or folder named on the command line (or the `specs` folder of "
        "`personalize-runner.yaml`) is not there. Check the path; with the specs elsewhere "
        "than `specs/`, set `specs:` in `personalize-runner.yaml`.",
        "# personalize-runner lint specs/typo.yaml, with no specs/typo.yaml\n",
    ),
    Rule(
        "unreadable",
        "The file cannot be read.",
        "Reading the file failed (permissions, a file removed while lint ran). The message "
        "carries the system's reason.",
        "# specs/weekly.yaml after chmod 000 specs/weekly.yaml\n",
    ),
    Rule(
        "file-too-large",
        "The file is larger than a spec can be.",
        "A spec file holds a few hundred bytes per spec; lint reads at most 1 MiB of one "
        "file and reports a larger one instead of reading it, so that a data file saved "
        "under `specs/` by mistake costs nothing.",
        "# 2 MB of JSON Lines saved as specs/items.yaml\n",
    ),
    Rule(
        "special-file",
        "A FIFO, socket or device where a spec file is expected.",
        "Lint reads regular files only: a special file named `*.yaml` (or given on the "
        "command line) is reported and never opened, so a FIFO cannot block the run. Remove "
        "it, or rename it.",
        "# mkfifo specs/pipe.yaml\n",
    ),
    Rule(
        "symlink-dangling",
        "A symbolic link to nothing.",
        "A link under the specs folder whose target does not exist: its specs, if it had "
        "any, would be silently missing. Fix or remove the link.",
        "# ln -s ../gone.yaml specs/old.yaml\n",
    ),
    Rule(
        "symlink-loop",
        "A symbolic link that leads to itself or to a folder that holds it.",
        "Links are followed, but a loop is not: it is reported once. Remove the link.",
        "# ln -s .. specs/growth/up\n",
    ),
    Rule(
        "symlink-repeat",
        "A symbolic link to a folder that is read already.",
        "A folder reached twice (through a link and directly) is read once, under its first "
        "name, so that its specs are not counted twice. Remove the link.",
        "# ln -s ../growth specs/content/growth\n",
    ),
    Rule(
        "file-name",
        "A file name that is not UTF-8, or that holds a control character.",
        "A spec file's name is shown in every output format and recorded in the state, which "
        "need text: a name whose bytes are not UTF-8, or that holds a control character (a "
        "line break would split a finding's line, an escape sequence would drive the "
        "terminal), is reported (escaped) and the file is not read. Rename it.",
        "# specs/caf\\xe9.yaml, the name in Latin-1\n",
    ),
    Rule(
        "too-many-errors",
        "More errors in one file than lint shows.",
        "Lint shows the first 100 errors of a file and counts the others in this finding, so "
        "that a broken or generated file cannot flood the output. Fix those shown and lint "
        "again.",
        "# a file with 150 errors: 100 shown, then '50 more errors in this file'\n",
    ),
    Rule(
        "too-many-warnings",
        "More warnings in one file than lint shows.",
        "As `too-many-errors`, for warnings: the first 100 of a file are shown.",
        "# a file with 150 warnings: 100 shown, then '50 more warnings in this file'\n",
        level=Severity.WARNING,
    ),
    Rule(
        "encoding",
        "The file is not UTF-8.",
        "YAML files are UTF-8 (a byte-order mark is allowed). The finding points at the "
        "first byte that is not: save the file as UTF-8.",
        "jobName: caf\\xe9   # the byte 0xe9 of Latin-1, not UTF-8\n",
    ),
    Rule(
        "empty-file",
        "The file holds no spec.",
        "A `.yaml` file under the specs folder with only comments, or nothing: write a spec "
        "in it, or delete it.",
        "# to do: the spring campaign\n",
    ),
    Rule(
        "yaml-syntax",
        "The file is not valid YAML.",
        "The YAML parser stopped: an unclosed quote or bracket, a bad indentation, an "
        "undefined alias. The position is where the parser noticed, often just after the "
        "mistake.",
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: [weekly\n",
    ),
    Rule(
        "yaml-tab",
        "A tab indents YAML, which allows only spaces.",
        "YAML forbids tabs in indentation; some parsers guess, this one reports it. Indent "
        "with spaces.",
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: weekly\n"
        "jobInput:\n  s3DataSource:\n\t  path: s3://acme-personalize/batch/in/items.jsonl\n",
    ),
    Rule(
        "yaml-tag",
        "An explicit YAML tag that a spec does not use.",
        "Tags such as `!!float` or `!Ref` change how a value is read; a spec is plain "
        "mappings, lists, strings and numbers. Remove the tag.",
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: weekly\n"
        "numResults: !!float 25\n" + _SPEC_END,
    ),
    Rule(
        "yaml-too-large",
        "Nesting, alias expansion or an integer far beyond any spec.",
        "Aliases that repeat one another (a 'billion laughs' document), nesting hundreds "
        "deep or an integer written in more than 1,000 characters are refused as soon as "
        "they are seen, before they cost time or memory.",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: [*d, *d]\n",
    ),
    Rule(
        "duplicate-key",
        "A key given twice in one mapping.",
        "YAML parsers differ on which of two equal keys wins; the runner takes neither and "
        "reports both places. Keep one.",
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: weekly\n"
        "jobName: weekly-2\n" + _SPEC_END,
    ),
    Rule(
        "not-a-spec",
        "A document that is not a mapping of spec fields.",
        "Every document of a spec file is one spec: a mapping with `apiVersion`, `kind` and "
        "the job's fields. A list or a single value is not.",
        "- apiVersion: personalize-runner/v1\n- kind: BatchSegmentJob\n",
    ),
)

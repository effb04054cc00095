"""Rules about the file as editors and lint itself read it: modelines, ignore comments."""

from __future__ import annotations

from runner.rules.rule import Rule, Severity

TITLE = "Editors and ignore comments"

_SPEC = """\
apiVersion: personalize-runner/v1
kind: BatchSegmentJob
solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c
jobInput:
  s3DataSource:
    path: s3://acme-personalize/batch/in/items.jsonl
roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole
"""

RULES = (
    Rule(
        "schema-modeline",
        "A document after `---` without the schema modeline that the file's first one has.",
        "yaml-language-server (VS Code's YAML extension, and other editors through the "
        "language server) reads a `# yaml-language-server: $schema=…` comment per document: "
        "in a file of several documents, the first document's modeline does not cover the "
        "others, which then get no completion, hover or diagnostics. Copy the modeline "
        "below each `---`, or map the spec folder to the schema in the editor's "
        "`yaml.schemas` setting (see the README) and silence this rule in "
        "`personalize-runner.yaml`.",
        "# yaml-language-server: $schema=../schemas/batch-segment-job.v1.json\n"
        + _SPEC
        + "jobName: weekly-items\njobOutput:\n  s3DataDestination:\n"
        "    path: s3://acme-personalize/batch/out/items/\n"
        "---\n" + _SPEC + "jobName: weekly-genres\njobOutput:\n  s3DataDestination:\n"
        "    path: s3://acme-personalize/batch/out/genres/\n",
        level=Severity.WARNING,
        ignorable=True,
    ),
    Rule(
        "schema-modeline-kind",
        "A modeline naming the schema of another kind of job than its document's.",
        "Each kind of job has its schema (`batch-segment-job.v1.json`, "
        "`batch-inference-job.v1.json`): a `# yaml-language-server: $schema=…` line that "
        "names another kind's makes the editor flag the document's own fields and complete "
        "the other kind's. Name the schema of the document's `kind`.",
        "# yaml-language-server: $schema=../schemas/batch-segment-job.v1.json\n"
        + _SPEC.replace("kind: BatchSegmentJob", "kind: BatchInferenceJob")
        + "jobName: nightly-recs\njobOutput:\n  s3DataDestination:\n"
        "    path: s3://acme-personalize/batch/out/recs/\n",
        level=Severity.WARNING,
        ignorable=True,
    ),
    Rule(
        "ignore-comment",
        "An ignore comment that silences nothing: no rule, an unknown one, or a malformed one.",
        "`# personalize-runner: ignore[rule-id, …]` silences the named rules on its line "
        "(or, alone on a line, on the next one); `# personalize-runner: ignore-file[…]` in "
        "the whole file. A rule id it does not know, or one of a rule that cannot be "
        "silenced (the document would not be read, or a guarantee would break), silences "
        "nothing and is reported. So is a comment meant as one but not of that form, which "
        "would otherwise silence nothing unseen: `ignore` without brackets, empty brackets, "
        "a space before the bracket, no colon after `personalize-runner`, capitals.",
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\n"
        "jobName: weekly  # personalize-runner: ignore[job-name]\n"
        "solutionVersionArn: "
        "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c\n"
        "jobInput:\n  s3DataSource:\n    path: s3://acme-personalize/batch/in/items.jsonl\n"
        "jobOutput:\n  s3DataDestination:\n    path: s3://acme-personalize/batch/out/weekly/\n"
        "roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole\n",
        level=Severity.WARNING,
    ),
)

"""Rules of the spec format's JSON Schema: one field at a time."""

from __future__ import annotations

from runner.rules.rule import Rule

TITLE = "Fields (the JSON Schema)"

RULES = (
    Rule(
        "api-version",
        "A missing or unknown apiVersion.",
        "`apiVersion` names the spec format, `personalize-runner/v1`; it chooses the schema "
        "the document is checked against, so nothing else is checked without it. The "
        "message lists the versions this release knows: a newer one needs a newer runner.",
        "apiVersion: personalize-runner/v9\n",
    ),
    Rule(
        "required",
        "A required field is missing.",
        "The create request needs the field (`jobName`, `solutionVersionArn`, `jobInput`, "
        "`jobOutput`, `roleArn`, and their `path`s). The finding is at the mapping that "
        "lacks it.",
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: weekly\n"
        "solutionVersionArn: "
        "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c\n"
        "jobInput:\n  s3DataSource:\n    path: s3://acme-personalize/batch/in/items.jsonl\n"
        "roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole\n",
    ),
    Rule(
        "unknown-key",
        "A field the spec format does not have.",
        "Every key is a field of the kind's create request, spelled as the API spells it; a "
        "misspelt key would otherwise be dropped without a word. The message suggests the "
        "closest field.",
        "numResult: 100\n",
    ),
    Rule(
        "type",
        "A value of the wrong type.",
        "A string where a number is needed, a list where a mapping is, and so on. Quote a "
        "value that YAML would read as a number or a boolean but that must be a string.",
        'numResults: "many"\n',
    ),
    Rule(
        "const",
        "A value other than the one its field allows.",
        "A field with exactly one allowed value in its schema (`kind` in the schema of one "
        "kind of job; `kind` chooses the schema, so an unknown kind is an `enum` finding).",
        "kind: BatchSegmentJob   # in a document checked as a BatchInferenceJob\n",
    ),
    Rule(
        "enum",
        "A value outside the allowed set.",
        "A field whose value is one of a list: `kind` (`BatchSegmentJob`, "
        "`BatchInferenceJob`), `batchInferenceJobMode`. The message gives the list and the "
        "closest value.",
        "kind: BatchSegmentJobs\n",
    ),
    Rule(
        "pattern",
        "A value that does not match its field's pattern.",
        "The service's patterns, taken from its API model (ARNs, S3 paths, tag characters) "
        "and anchored at both ends: `jobName` is letters, digits, `-` and `_`, starting with "
        "a letter or digit. The message names the first character that does not fit.",
        "jobName: weekly affinity\n",
    ),
    Rule(
        "length",
        "A string or list that is too short or too long.",
        "Lengths come from the service's API model: `jobName` 1 to 63 characters, at most "
        "200 tags, tag keys 1 to 128 characters and values up to 256.",
        "jobName: " + "a" * 64 + "\n",
    ),
    Rule(
        "range",
        "A number out of its field's range.",
        "`numResults` is 1 to 5,000,000 for a segment job (the service counts users per segment).",
        "numResults: 0\n",
    ),
)

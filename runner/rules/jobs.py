"""Rules across the fields of a job, across specs, and against the state."""

from __future__ import annotations

from runner.rules.rule import Rule, Severity

TITLE = "Jobs"

_ONE_PLACE = (
    "A batch job reads and writes in the account and region of its solution version; the "
    "service refuses, or the job fails later, when the filter, the role or a KMS key is "
    "elsewhere. A KMS key in another account can be made usable by its key policy: if that "
    "is the case, silence the rule for that line."
)

RULES = (
    Rule(
        "arn-format",
        "An ARN that is not of the kind the field needs.",
        "The field takes the ARN of one kind of resource (a solution version, a filter, a "
        "solution for `latestOf`); the message shows the expected form.",
        "filterArn: arn:aws:personalize:us-east-1:123456789012:campaign/spring\n",
    ),
    Rule(
        "solution-not-version",
        "A solution ARN where a solution version ARN is needed.",
        "A batch job runs one trained version of a solution: "
        "`…:solution/<name>/<version id>`. `aws personalize list-solution-versions` lists "
        "them; `solutionVersionArn: {latestOf: <solution ARN>}` takes the newest ACTIVE one "
        "when the job is submitted.",
        "solutionVersionArn: arn:aws:personalize:us-east-1:123456789012:solution/item-affinity\n",
    ),
    Rule(
        "latest-of-version",
        "A solution version ARN where latestOf needs a solution ARN.",
        "`latestOf` resolves the newest ACTIVE version of a solution, so it takes the "
        "solution's ARN; to pin one version, give it as `solutionVersionArn` itself.",
        "solutionVersionArn:\n  latestOf: "
        "arn:aws:personalize:us-east-1:123456789012:solution/item-affinity/4fd8ee1c\n",
    ),
    Rule(
        "partition-mismatch",
        "ARNs of one job in different partitions.",
        "The filter, role or KMS key is in another partition (`aws`, `aws-cn`, …) than the "
        "solution version: partitions share nothing, the job cannot use it.",
        "roleArn: arn:aws-cn:iam::123456789012:role/PersonalizeBatchRole\n",
    ),
    Rule(
        "account-mismatch",
        "ARNs of one job in different accounts.",
        _ONE_PLACE,
        "roleArn: arn:aws:iam::210987654321:role/PersonalizeBatchRole\n",
        ignorable=True,
    ),
    Rule(
        "region-mismatch",
        "ARNs of one job in different regions.",
        _ONE_PLACE,
        "filterArn: arn:aws:personalize:eu-west-1:123456789012:filter/active-users\n",
        ignorable=True,
    ),
    Rule(
        "region-unsupported",
        "A region or partition where Amazon Personalize is not offered.",
        "From botocore's endpoint data at release time: a job in a region without the "
        "service cannot be created. If AWS has opened the region since, upgrade the runner, "
        "or silence the rule.",
        "solutionVersionArn: "
        "arn:aws:personalize:eu-north-1:123456789012:solution/item-affinity/4fd8ee1c\n"
        "roleArn: arn:aws:iam::123456789012:role/PersonalizeBatchRole\n",
        ignorable=True,
    ),
    Rule(
        "output-in-input",
        "The output path is, or lies inside, the input path.",
        "The job writes `<input file>.out` files under its output path; inside the input "
        "prefix, a rerun reads them back as input. Write the output elsewhere.",
        "jobOutput:\n  s3DataDestination:\n    path: s3://acme-personalize/batch/in/out/\n"
        "jobInput:\n  s3DataSource:\n    path: s3://acme-personalize/batch/in/\n",
        ignorable=True,
    ),
    Rule(
        "input-prefix-slash",
        "An input folder prefix without a trailing '/'.",
        "An input path that names a folder reads every object under that prefix: without "
        "the `/`, `…/in/holiday` also reads `…/in/holiday-other/`. End it with `/`, or name "
        "one file (`.json`, `.jsonl`). Silence it when a prefix of names is what you mean.",
        "jobInput:\n  s3DataSource:\n    path: s3://acme-personalize/batch/in/holiday\n",
        ignorable=True,
    ),
    Rule(
        "bucket-name",
        "An S3 bucket name outside today's naming rules.",
        "Bucket names are 3 to 63 lower-case letters, digits, dots and hyphens, starting "
        "and ending with a letter or digit. Only buckets created long ago in us-east-1 can "
        "have other names, so this is a warning: check the name.",
        "jobInput:\n  s3DataSource:\n    path: s3://Acme_Personalize/batch/in/items.jsonl\n",
        level=Severity.WARNING,
        ignorable=True,
    ),
    Rule(
        "theme-generation-config",
        "A theme generation job without its config, or the config without that mode.",
        "`batchInferenceJobMode: THEME_GENERATION` needs `themeGenerationConfig` (the "
        "Items column of item names the themes are made from), and `themeGenerationConfig` "
        "is for that mode only: the service refuses either half alone.",
        "kind: BatchInferenceJob\nbatchInferenceJobMode: THEME_GENERATION\n",
    ),
    Rule(
        "tag-reserved",
        "A tag key with the reserved prefix 'aws:'.",
        "AWS reserves tag keys that start with `aws:`; the service refuses them.",
        "tags:\n  - tagKey: aws:createdBy\n    tagValue: me\n",
    ),
    Rule(
        "tag-duplicate",
        "Two tags with the same key.",
        "A resource has one value per tag key; the service refuses a request that gives a "
        "key twice. Keep one.",
        "tags:\n  - {tagKey: team, tagValue: growth}\n  - {tagKey: team, tagValue: content}\n",
    ),
    Rule(
        "duplicate-job-name",
        "The same jobName in two specs of one kind (periods included).",
        "The job name is the only idempotency key the service has: two specs (or two "
        "periods of recurring specs) with one name would be one job. Rename one. Names are "
        "unique per kind: a batch segment job and a batch inference job may share one.",
        "# specs/a.yaml and specs/b.yaml, both with\njobName: weekly\n",
    ),
    Rule(
        "spec-changed",
        "A spec changed after its job was submitted.",
        "Batch jobs are immutable: the state records the request each job was created with, "
        "and a spec that no longer gives it would never take effect. Restore the spec and "
        "put the change in a new spec with a new `jobName`. Lint checks this when the state "
        "is a local file; `plan` always does.",
        "# submitted with numResults: 100, then edited to\nnumResults: 200\n",
    ),
)

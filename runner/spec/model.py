"""The spec model, version 1: the source of the published JSON Schema.

Apart from `apiVersion`, `kind` and `schedule` (a recurring spec's, PRODUCT.md "Recurring
specs"), every field is exactly a `CreateBatchSegmentJob`
request field, with the same name and nesting, so what the AWS documentation shows can be
pasted in. Limits come from botocore's Personalize service model (a test checks them
against it), made stricter where the service is known to be.

`lint` does not import this module (pydantic's import would double its start-up time): it
validates against the generated schema, and a test proves the two agree.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from runner.spec import API_VERSION_V1, KIND

# From botocore's model (shape `Name`), anchored at both ends: the service matches the whole
# value.
JOB_NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$"
JOB_NAME_MAX = 63
# The schema's: a recurring spec's jobName holds placeholders (`{date}`); lint checks each
# placeholder, and the name of every period against JOB_NAME_PATTERN
# (`runner.spec.recurring`).
JOB_NAME_TEMPLATE_PATTERN = r"^[a-zA-Z0-9{][a-zA-Z0-9\-_{}]*$"
# Shape `Arn`.
PERSONALIZE_ARN_PATTERN = r"^arn:([a-z\d-]+):personalize:.*:.*:.+$"
ARN_MAX = 256
# Shape `RoleArn`.
ROLE_ARN_PATTERN = r"^arn:([a-z\d-]+):iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
# Shape `KmsKeyArn`.
KMS_KEY_ARN_PATTERN = r"^arn:aws.*:kms:.*:[0-9]{12}:key/.*$"
KMS_KEY_ARN_MAX = 2048
# Shape `S3Location` allows http(s) too; batch jobs read and write S3 only. The bucket is
# what any bucket's name can hold, legacy ones in us-east-1 included (capitals and
# underscores, up to 255 characters); names outside today's rules (3-63 lower-case letters,
# digits, dots and hyphens) are a warning of lint's (`checks.py`), not an error.
S3_PATH_PATTERN = r"^s3://[A-Za-z0-9._\-]+(/.*)?$"
S3_PATH_MAX = 256
# Batch segment jobs: at most 5 million users per segment; the service's default is 25.
NUM_RESULTS_MIN = 1
NUM_RESULTS_MAX = 5_000_000
NUM_RESULTS_DEFAULT = 25
# Shapes `TagKey`/`TagValue`, as the model has it: Unicode letters, separators and numbers
# and `_.:/=+-@`. `\p{…}` is ECMA-262 with the `u` flag, which JSON Schema patterns are read
# as by check-jsonschema and by the JSON and YAML language servers of editors; lint reads it
# from a committed table of code points (`runner.spec.unicode_ranges`).
TAG_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
TAG_PATTERN_COMMENT = (
    "\\p{L}, \\p{Z}, \\p{N}: Unicode letters, separators and numbers (ECMA-262 with the u "
    "flag), as the service's API model has it: an emoji, a symbol such as € or a control "
    "character is refused."
)
# Tag values of recurring specs hold placeholders too.
TAG_VALUE_TEMPLATE_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@{}]*)$"
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAGS_MAX = 200

_EXAMPLE_ACCOUNT = "123456789012"
_EXAMPLE_REGION = "us-east-1"


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


KmsKeyArn = Annotated[
    str, StringConstraints(max_length=KMS_KEY_ARN_MAX, pattern=KMS_KEY_ARN_PATTERN)
]
PersonalizeArn = Annotated[
    str, StringConstraints(max_length=ARN_MAX, pattern=PERSONALIZE_ARN_PATTERN)
]


def _integral(value: Any) -> Any:
    # JSON Schema's integers include 100.0, and so do lint's; the request sends 100.
    return int(value) if type(value) is float and value.is_integer() else value


NumResults = Annotated[
    int, Field(ge=NUM_RESULTS_MIN, le=NUM_RESULTS_MAX), BeforeValidator(_integral)
]
# Optional fields are typed `X | SkipJsonSchema[None]`: they may be left out, not set to null.


class S3DataSource(_Strict):
    """Where the job reads its input: JSON Lines files in S3."""

    path: Annotated[
        str,
        Field(
            title="Input path",
            description=(
                "S3 path of the input: one JSON Lines file, or a folder prefix ending in `/` "
                "(every file under it is read; at most 1,000 files and 1 GB per job). Each line "
                'is one query: `{"itemId": "105"}` for aws-item-affinity, '
                '`{"itemAttributes": "ITEMS.genres = \\"Comedy\\""}` for '
                "aws-item-attribute-affinity. In a recurring spec it may hold placeholders, "
                "filled in for each period (`s3://acme-personalize/batch/in/{date}/`)."
            ),
            max_length=S3_PATH_MAX,
            pattern=S3_PATH_PATTERN,
            examples=[
                "s3://acme-personalize/batch/in/holiday-items.jsonl",
                "s3://acme-personalize/batch/in/{date}/items.jsonl",
            ],
        ),
    ]
    kmsKeyArn: Annotated[
        KmsKeyArn | SkipJsonSchema[None],
        Field(
            title="KMS key",
            description=(
                "ARN of the KMS key the input is encrypted with. The job's role must be allowed "
                "to use it."
            ),
            examples=[
                f"arn:aws:kms:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:key/"
                "1234abcd-12ab-34cd-56ef-1234567890ab"
            ],
        ),
    ] = None


class S3DataDestination(_Strict):
    """Where the job writes its output."""

    path: Annotated[
        str,
        Field(
            title="Output path",
            description=(
                "S3 folder the job writes `<input file name>.out` to, one line per query: "
                '`{"input": {"itemId": "105"}, "output": {"recommendedUsers": [...]}}` for '
                'aws-item-affinity, `{"itemAttributes": "ITEMS.genres = \\"Comedy\\"", '
                '"output": {"recommendedUsers": [...]}}` (no `input` wrapper) for '
                "aws-item-attribute-affinity. It must not be, or lie inside, the input path. In "
                "a recurring spec, with placeholders: each period's output path is its own."
            ),
            max_length=S3_PATH_MAX,
            pattern=S3_PATH_PATTERN,
            examples=[
                "s3://acme-personalize/batch/out/holiday-promo-2026-11/",
                "s3://acme-personalize/batch/out/genre-fans/{date}/",
            ],
        ),
    ]
    kmsKeyArn: Annotated[
        KmsKeyArn | SkipJsonSchema[None],
        Field(
            title="KMS key",
            description="ARN of the KMS key to encrypt the output with.",
            examples=[
                f"arn:aws:kms:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:key/"
                "1234abcd-12ab-34cd-56ef-1234567890ab"
            ],
        ),
    ] = None


class JobInput(_Strict):
    """`BatchSegmentJobInput`."""

    s3DataSource: Annotated[
        S3DataSource, Field(title="S3 data source", description="The input files in S3.")
    ]


class JobOutput(_Strict):
    """`BatchSegmentJobOutput`."""

    s3DataDestination: Annotated[
        S3DataDestination,
        Field(title="S3 data destination", description="The output folder in S3."),
    ]


class Tag(_Strict):
    """A tag put on the job when it is created."""

    tagKey: Annotated[
        str,
        Field(
            title="Key",
            description=(
                "1 to 128 Unicode letters, numbers, spaces and `_ . : / = + - @`; unique within "
                "the spec; may not start with `aws:` (reserved by AWS)."
            ),
            min_length=1,
            max_length=TAG_KEY_MAX,
            pattern=TAG_PATTERN,
            examples=["team"],
            json_schema_extra={"$comment": TAG_PATTERN_COMMENT},
        ),
    ]
    tagValue: Annotated[
        str,
        Field(
            title="Value",
            description=(
                "0 to 256 Unicode letters, numbers, spaces and `_ . : / = + - @`. In a "
                "recurring spec it may hold placeholders (`{date}`, `{week}`, …), filled in "
                "for each period."
            ),
            min_length=0,
            max_length=TAG_VALUE_MAX,
            pattern=TAG_VALUE_TEMPLATE_PATTERN,
            examples=["growth", "week-{week}"],
            json_schema_extra={"$comment": TAG_PATTERN_COMMENT},
        ),
    ]


class Schedule(_Strict):
    """When a recurring spec's periods begin: one job per tick of `cron` in `timezone`."""

    cron: Annotated[
        str,
        Field(
            title="Cron expression",
            description=(
                "Five fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or "
                "JAN-DEC), day of week (0-7 or SUN-SAT, 0 and 7 both Sunday); each `*`, a value, "
                "a range (`MON-FRI`), a list (`1,15`) or a step (`*/15`, `1-10/2`). When both day "
                "fields are restricted, a day matching either counts (as in Vixie cron). Each "
                "tick, in `timezone`, begins a period whose job is submitted once. Quote it in "
                "YAML."
            ),
            min_length=1,
            examples=["0 6 * * 1", "30 1 * * *", "0 0 1 * *"],
        ),
    ]
    timezone: Annotated[
        str | SkipJsonSchema[None],
        Field(
            title="Time zone",
            description=(
                "The IANA time zone the ticks and the placeholders are in. A tick that the "
                "clock skips (a daylight-saving gap) is no tick; one it passes twice happens "
                "once, at its first occurrence."
            ),
            min_length=1,
            examples=["Europe/Berlin", "Asia/Tokyo", "UTC"],
            json_schema_extra={"default": "UTC"},
        ),
    ] = None
    start: Annotated[
        # The pattern on the string itself: on the union, pydantic leaves it out of the schema.
        Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
        | SkipJsonSchema[None],
        Field(
            title="Start",
            description=(
                "A date (YYYY-MM-DD) in the time zone: no period before its midnight. Needed "
                "by `catchUp: all`."
            ),
            examples=["2026-11-02"],
        ),
    ] = None
    catchUp: Annotated[
        Literal["latest", "all"] | SkipJsonSchema[None],
        Field(
            title="Catch up",
            description=(
                "Which due periods a run submits: `latest`, only the newest period whose tick "
                "is at or before now; `all`, every period from `start` that has no job yet "
                "(at most 100)."
            ),
            examples=["latest", "all"],
            json_schema_extra={"default": "latest"},
        ),
    ] = None


class LatestOf(_Strict):
    """The newest ACTIVE version of a solution, found when the job is submitted."""

    latestOf: Annotated[
        str,
        Field(
            title="Solution",
            description=(
                "ARN of the *solution* (`arn:aws:personalize:<region>:<account>:solution/"
                "<name>`, not a version): the job runs on its newest ACTIVE version when it "
                "is submitted, and that version is recorded. While none is ACTIVE (the first "
                "still training), the job waits for a later run."
            ),
            max_length=ARN_MAX,
            pattern=PERSONALIZE_ARN_PATTERN,
            examples=[
                f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:solution/item-affinity"
            ],
        ),
    ]


class BatchSegmentJobSpec(_Strict):
    """A batch segment job of Amazon Personalize, submitted once by `personalize-runner`.

    Apart from `apiVersion`, `kind` and `schedule`, every field is a
    `CreateBatchSegmentJob` request field, with the same name and nesting. Jobs are
    immutable: once submitted, a spec must not change; to run a job again, write a new spec
    with a new `jobName`. A spec with `schedule` stands for one job per period, each
    submitted once; editing it changes the jobs of later periods only.
    """

    model_config = ConfigDict(
        title="Amazon Personalize batch segment job (personalize-runner/v1)",
    )

    apiVersion: Annotated[
        Literal["personalize-runner/v1"],
        Field(
            title="API version",
            description=f"The spec format's version: `{API_VERSION_V1}`.",
            examples=[API_VERSION_V1],
        ),
    ]
    kind: Annotated[
        Literal["BatchSegmentJob"],
        Field(title="Kind", description=f"What the spec describes: `{KIND}`.", examples=[KIND]),
    ]
    schedule: Annotated[
        Schedule | SkipJsonSchema[None],
        Field(
            title="Schedule",
            description=(
                "Makes the spec recurring: one job per tick of `cron`, named by `jobName` "
                "with its placeholders filled in with the tick's local time: `{date}` "
                "(YYYY-MM-DD), `{year}`, `{month}`, `{day}`, `{hour}`, `{minute}`, `{week}` "
                "(ISO week, 2026-W49). Placeholders may also be in the S3 paths and tag values."
            ),
            examples=[{"cron": "0 6 * * 1", "timezone": "Europe/Berlin", "start": "2026-11-02"}],
        ),
    ] = None
    jobName: Annotated[
        str,
        Field(
            title="Job name",
            description=(
                "The job's name: unique per account and region, and the runner's only "
                "idempotency key (a job is submitted at most once per name). 1 to 63 letters, "
                "digits, `-` and `_`, starting with a letter or digit. In a recurring spec, "
                "with placeholders (`genre-fans-{date}`): each period's name is the job's, and "
                "every one must fit these rules."
            ),
            min_length=1,
            max_length=JOB_NAME_MAX,
            pattern=JOB_NAME_TEMPLATE_PATTERN,
            examples=["holiday-promo-2026-11", "genre-fans-{date}"],
        ),
    ]
    solutionVersionArn: Annotated[
        Annotated[
            str,
            Field(
                max_length=ARN_MAX,
                pattern=PERSONALIZE_ARN_PATTERN,
                examples=[
                    f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:"
                    "solution/item-affinity/4fd8ee1c"
                ],
            ),
        ]
        | LatestOf,
        Field(
            title="Solution version",
            description=(
                "ARN of the solution version that makes the segments, trained with the "
                "aws-item-affinity or aws-item-attribute-affinity recipe: "
                "`arn:aws:personalize:<region>:<account>:solution/<name>/<version id>` — a "
                "solution *version*, not the solution. Its region and account are the job's. "
                "Or `{latestOf: <solution ARN>}`: the solution's newest ACTIVE version when the "
                "job is submitted."
            ),
            examples=[
                f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:"
                "solution/item-affinity/4fd8ee1c",
                {
                    "latestOf": f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:"
                    "solution/item-affinity"
                },
            ],
        ),
    ]
    filterArn: Annotated[
        PersonalizeArn | SkipJsonSchema[None],
        Field(
            title="Filter",
            description=(
                "ARN of a filter to apply to the segments, in the same account and region as "
                "the solution version."
            ),
            examples=[
                f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:filter/exclude-churned"
            ],
        ),
    ] = None
    numResults: Annotated[
        NumResults | SkipJsonSchema[None],
        Field(
            title="Users per segment",
            description=(
                f"How many users each segment holds: {NUM_RESULTS_MIN} to 5,000,000; the "
                f"service's default is {NUM_RESULTS_DEFAULT}."
            ),
            examples=[250000],
            json_schema_extra={"default": NUM_RESULTS_DEFAULT},
        ),
    ] = None
    jobInput: Annotated[
        JobInput, Field(title="Input", description="The queries: JSON Lines files in S3.")
    ]
    jobOutput: Annotated[
        JobOutput, Field(title="Output", description="Where the segments are written in S3.")
    ]
    roleArn: Annotated[
        str,
        Field(
            title="Role",
            description=(
                "ARN of the IAM role Amazon Personalize assumes to read the input and write the "
                "output (and use the KMS keys). It trusts `personalize.amazonaws.com`; the caller "
                "needs `iam:PassRole` on it."
            ),
            max_length=ARN_MAX,
            pattern=ROLE_ARN_PATTERN,
            examples=[f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:role/PersonalizeBatchRole"],
        ),
    ]
    tags: Annotated[
        Annotated[list[Tag], Field(max_length=TAGS_MAX)] | SkipJsonSchema[None],
        Field(
            title="Tags",
            description="Up to 200 tags put on the job when it is created.",
            examples=[[{"tagKey": "team", "tagValue": "growth"}]],
        ),
    ] = None

    def request(self) -> dict[str, Any]:
        """The `CreateBatchSegmentJob` request this spec asks for."""
        return self.model_dump(exclude={"apiVersion", "kind", "schedule"}, exclude_none=True)

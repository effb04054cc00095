"""The spec model, version 1: the source of the published JSON Schema.

Apart from `apiVersion` and `kind`, every field is exactly a `CreateBatchSegmentJob`
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
                "aws-item-attribute-affinity."
            ),
            max_length=S3_PATH_MAX,
            pattern=S3_PATH_PATTERN,
            examples=["s3://acme-personalize/batch/in/holiday-items.jsonl"],
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
                "aws-item-attribute-affinity. It must not be, or lie inside, the input path."
            ),
            max_length=S3_PATH_MAX,
            pattern=S3_PATH_PATTERN,
            examples=["s3://acme-personalize/batch/out/holiday-promo-2026-11/"],
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
            description="0 to 256 Unicode letters, numbers, spaces and `_ . : / = + - @`.",
            min_length=0,
            max_length=TAG_VALUE_MAX,
            pattern=TAG_PATTERN,
            examples=["growth"],
            json_schema_extra={"$comment": TAG_PATTERN_COMMENT},
        ),
    ]


class BatchSegmentJobSpec(_Strict):
    """A batch segment job of Amazon Personalize, submitted once by `personalize-runner`.

    Apart from `apiVersion` and `kind`, every field is a `CreateBatchSegmentJob` request
    field, with the same name and nesting. Jobs are immutable: once submitted, a spec must
    not change; to run a job again, write a new spec with a new `jobName`.
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
    jobName: Annotated[
        str,
        Field(
            title="Job name",
            description=(
                "The job's name: unique per account and region, and the runner's only "
                "idempotency key (a job is submitted at most once per name). 1 to 63 letters, "
                "digits, `-` and `_`, starting with a letter or digit."
            ),
            min_length=1,
            max_length=JOB_NAME_MAX,
            pattern=JOB_NAME_PATTERN,
            examples=["holiday-promo-2026-11"],
        ),
    ]
    solutionVersionArn: Annotated[
        str,
        Field(
            title="Solution version",
            description=(
                "ARN of the solution version that makes the segments, trained with the "
                "aws-item-affinity or aws-item-attribute-affinity recipe: "
                "`arn:aws:personalize:<region>:<account>:solution/<name>/<version id>` — a "
                "solution *version*, not the solution. Its region and account are the job's."
            ),
            max_length=ARN_MAX,
            pattern=PERSONALIZE_ARN_PATTERN,
            examples=[
                f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:"
                "solution/item-affinity/4fd8ee1c"
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
        return self.model_dump(exclude={"apiVersion", "kind"}, exclude_none=True)

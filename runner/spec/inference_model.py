"""The spec model of batch inference jobs, version 1: the source of
`schemas/batch-inference-job.v1.json`.

Apart from `apiVersion`, `kind` and `schedule`, every field is exactly a
`CreateBatchInferenceJob` request field, with the same name and nesting. Limits come from
botocore's Personalize service model (`RankingInfluence`: the keys POPULARITY and FRESHNESS,
each 0.0 to 1.0; `ColumnName` for the theme's item name field), made stricter where the
service is known to be. What both kinds share (tags, the schedule, `latestOf`, the ARN and
S3 patterns) is `runner.spec.model`'s.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from runner.kinds import BATCH_INFERENCE_JOB
from runner.spec.model import (
    ARN_MAX,
    JOB_NAME_MAX,
    JOB_NAME_TEMPLATE_PATTERN,
    PERSONALIZE_ARN_PATTERN,
    S3_PATH_MAX,
    S3_PATH_PATTERN,
    TAGS_MAX,
    BatchSegmentJobSpec,
    KmsKeyArn,
    LatestOf,
    PersonalizeArn,
    Schedule,
    Tag,
    _integral,
    _Strict,
)

KIND = BATCH_INFERENCE_JOB.name
# The developer guide ("Creating a batch inference job"): 25 by default, at most 500
# recommendations per line. The model (`NumBatchResults`) states no bounds.
NUM_RESULTS_MIN = 1
NUM_RESULTS_MAX = 500
NUM_RESULTS_DEFAULT = 25
# Shape `ColumnName`, anchored: the service matches the whole value.
COLUMN_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
COLUMN_NAME_MAX = 150
# Shape `HyperParameters` (the exploration settings): values up to 1,000 characters.
PARAMETER_VALUE_MAX = 1000
BATCH_INFERENCE = "BATCH_INFERENCE"
THEME_GENERATION = "THEME_GENERATION"
_EXAMPLE_ACCOUNT = "123456789012"
_EXAMPLE_REGION = "us-east-1"
_KMS_EXAMPLE = (
    f"arn:aws:kms:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)


class InferenceDataSource(_Strict):
    """Where the job reads its input: JSON Lines files in S3."""

    path: Annotated[
        str,
        Field(
            title="Input path",
            description=(
                "S3 path of the input: one JSON Lines file, or a folder prefix ending in `/` "
                "(every file under it is read; at most 1,000 files and 1 GB per job). Each line "
                "is one query, by the recipe of the solution version: "
                '`{"userId": "4638"}` for User-Personalization and Popularity-Count, '
                '`{"itemId": "105"}` for Similar-Items and SIMS (related items), '
                '`{"userId": "891", "itemList": ["27", "886"]}` for Personalized-Ranking. In a '
                "recurring spec it may hold placeholders, filled in for each period "
                "(`s3://acme-personalize/batch/in/{date}/`)."
            ),
            max_length=S3_PATH_MAX,
            pattern=S3_PATH_PATTERN,
            examples=[
                "s3://acme-personalize/batch/in/users.jsonl",
                "s3://acme-personalize/batch/in/{date}/users.jsonl",
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
            examples=[_KMS_EXAMPLE],
        ),
    ] = None


class InferenceDataDestination(_Strict):
    """Where the job writes its output."""

    path: Annotated[
        str,
        Field(
            title="Output path",
            description=(
                "S3 folder the job writes `<input file name>.out` to, one line per query: "
                '`{"input": {"userId": "4638"}, "output": {"recommendedItems": [...], '
                '"scores": [...]}, "error": null}`, or the line\'s error in `error`. It must '
                "not be, or lie inside, the input path. In a recurring spec, with "
                "placeholders: each period's output path is its own."
            ),
            max_length=S3_PATH_MAX,
            pattern=S3_PATH_PATTERN,
            examples=[
                "s3://acme-personalize/batch/out/nightly-recs-2026-11-30/",
                "s3://acme-personalize/batch/out/nightly-recs/{date}/",
            ],
        ),
    ]
    kmsKeyArn: Annotated[
        KmsKeyArn | SkipJsonSchema[None],
        Field(
            title="KMS key",
            description="ARN of the KMS key to encrypt the output with.",
            examples=[_KMS_EXAMPLE],
        ),
    ] = None


class InferenceJobInput(_Strict):
    """`BatchInferenceJobInput`."""

    s3DataSource: Annotated[
        InferenceDataSource,
        Field(title="S3 data source", description="The input files in S3."),
    ]


class InferenceJobOutput(_Strict):
    """`BatchInferenceJobOutput`."""

    s3DataDestination: Annotated[
        InferenceDataDestination,
        Field(title="S3 data destination", description="The output folder in S3."),
    ]


class ItemExplorationConfig(_Strict):
    """How much User-Personalization explores new and less relevant items (strings, as the
    API's map of hyperparameters takes them)."""

    explorationWeight: Annotated[
        Annotated[str, StringConstraints(pattern=r"^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$")]
        | SkipJsonSchema[None],
        Field(
            title="Exploration weight",
            description=(
                "0 to 1, as a string: how often recommendations include items with little "
                "interaction data. Closer to 1, more exploration; the service's default is "
                '`"0.3"`. Quote it in YAML.'
            ),
            min_length=1,
            max_length=PARAMETER_VALUE_MAX,
            examples=["0.3"],
        ),
    ] = None
    explorationItemAgeCutOff: Annotated[
        Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+)?$")] | SkipJsonSchema[None],
        Field(
            title="Exploration item age cut-off",
            description=(
                "Days, as a string: only items this young (since their latest interaction) "
                'are explored; the service\'s default is `"30"`. Quote it in YAML.'
            ),
            min_length=1,
            max_length=PARAMETER_VALUE_MAX,
            examples=["30"],
        ),
    ] = None


RankingWeight = Annotated[float, Field(ge=0, le=1)]


class RankingInfluence(_Strict):
    """How much popularity and freshness weigh in the ranking (User-Personalization-v2 and
    Personalized-Ranking-v2)."""

    POPULARITY: Annotated[
        RankingWeight | SkipJsonSchema[None],
        Field(
            title="Popularity",
            description=(
                "0.0 to 1.0: closer to 1.0, popular items rank higher; 0.0 when left out."
            ),
            examples=[0.5],
        ),
    ] = None
    FRESHNESS: Annotated[
        RankingWeight | SkipJsonSchema[None],
        Field(
            title="Freshness",
            description="0.0 to 1.0: closer to 1.0, new items rank higher; 0.0 when left out.",
            examples=[0.2],
        ),
    ] = None


class BatchInferenceJobConfig(_Strict):
    """`BatchInferenceJobConfig`: settings of the recipe's model for this job."""

    itemExplorationConfig: Annotated[
        ItemExplorationConfig | SkipJsonSchema[None],
        Field(
            title="Item exploration",
            description=(
                "Exploration of new items, for User-Personalization solution versions: "
                "`explorationWeight` and `explorationItemAgeCutOff`."
            ),
            examples=[{"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}],
        ),
    ] = None
    rankingInfluence: Annotated[
        RankingInfluence | SkipJsonSchema[None],
        Field(
            title="Ranking influence",
            description=(
                "The weight of `POPULARITY` and `FRESHNESS` in the ranking, each 0.0 to 1.0 "
                "(0.0 when left out), for User-Personalization-v2 and Personalized-Ranking-v2 "
                "solution versions."
            ),
            examples=[{"POPULARITY": 0.5, "FRESHNESS": 0.2}],
        ),
    ] = None


class FieldsForThemeGeneration(_Strict):
    """`FieldsForThemeGeneration`."""

    itemName: Annotated[
        str,
        Field(
            title="Item name column",
            description=(
                "The column of the Items dataset that holds each item's name: letters, digits "
                "and `_`, not starting with a digit, up to 150 characters."
            ),
            min_length=1,
            max_length=COLUMN_NAME_MAX,
            pattern=COLUMN_NAME_PATTERN,
            examples=["TITLE"],
        ),
    ]


class ThemeGenerationConfig(_Strict):
    """`ThemeGenerationConfig`: what a theme generation job names its themes from."""

    fieldsForThemeGeneration: Annotated[
        FieldsForThemeGeneration,
        Field(title="Fields for theme generation", description="The item name column."),
    ]


class BatchInferenceJobSpec(_Strict):
    """A batch inference job of Amazon Personalize, submitted once by `personalize-runner`.

    Apart from `apiVersion`, `kind` and `schedule`, every field is a
    `CreateBatchInferenceJob` request field, with the same name and nesting. Jobs are
    immutable: once submitted, a spec must not change; to run a job again, write a new spec
    with a new `jobName`. A spec with `schedule` stands for one job per period, each
    submitted once; editing it changes the jobs of later periods only.
    """

    model_config = ConfigDict(
        title="Amazon Personalize batch inference job (personalize-runner/v1)",
    )

    apiVersion: Annotated[
        Literal["personalize-runner/v1"], BatchSegmentJobSpec.model_fields["apiVersion"]
    ]
    kind: Annotated[
        Literal["BatchInferenceJob"],
        Field(title="Kind", description=f"What the spec describes: `{KIND}`.", examples=[KIND]),
    ]
    schedule: Annotated[
        Schedule | SkipJsonSchema[None], BatchSegmentJobSpec.model_fields["schedule"]
    ] = None
    jobName: Annotated[
        str,
        Field(
            title="Job name",
            description=(
                "The job's name: unique among the batch inference jobs of its account and "
                "region (a batch segment job may have the same name), and the runner's only "
                "idempotency key (a job is submitted at most once per name). 1 to 63 letters, "
                "digits, `-` and `_`, starting with a letter or digit. In a recurring spec, "
                "with placeholders (`nightly-recs-{date}`): each period's name is the job's, "
                "and every one must fit these rules."
            ),
            min_length=1,
            max_length=JOB_NAME_MAX,
            pattern=JOB_NAME_TEMPLATE_PATTERN,
            examples=["nightly-recs-2026-11-30", "nightly-recs-{date}"],
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
                    "solution/user-personalization/5fb79a52"
                ],
            ),
        ]
        | LatestOf,
        Field(
            title="Solution version",
            description=(
                "ARN of the solution version that makes the recommendations, trained with a "
                "USER_PERSONALIZATION (User-Personalization, Popularity-Count), RELATED_ITEMS "
                "(Similar-Items, SIMS) or PERSONALIZED_RANKING recipe (Trending-Now and "
                "Next-Best-Action have no batch recommendations): "
                "`arn:aws:personalize:<region>:<account>:solution/<name>/<version id>` — a "
                "solution *version*, not the solution. Its region and account are the job's. "
                "Or `{latestOf: <solution ARN>}`: the solution's newest ACTIVE version when the "
                "job is submitted."
            ),
            examples=[
                f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:"
                "solution/user-personalization/5fb79a52",
                {
                    "latestOf": f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:"
                    "solution/user-personalization"
                },
            ],
        ),
    ]
    filterArn: Annotated[
        PersonalizeArn | SkipJsonSchema[None],
        Field(
            title="Filter",
            description=(
                "ARN of a filter to apply to the recommendations, in the same account and "
                "region as the solution version. A filter with placeholders takes its values "
                "from each input line's `filterValues`."
            ),
            examples=[
                f"arn:aws:personalize:{_EXAMPLE_REGION}:{_EXAMPLE_ACCOUNT}:filter/not-purchased"
            ],
        ),
    ] = None
    numResults: Annotated[
        Annotated[int, Field(ge=NUM_RESULTS_MIN, le=NUM_RESULTS_MAX), BeforeValidator(_integral)]
        | SkipJsonSchema[None],
        Field(
            title="Recommendations per line",
            description=(
                f"How many items each input line gets: {NUM_RESULTS_MIN} to {NUM_RESULTS_MAX}; "
                f"the service's default is {NUM_RESULTS_DEFAULT}."
            ),
            examples=[50],
            json_schema_extra={"default": NUM_RESULTS_DEFAULT},
        ),
    ] = None
    jobInput: Annotated[
        InferenceJobInput, Field(title="Input", description="The queries: JSON Lines files in S3.")
    ]
    jobOutput: Annotated[
        InferenceJobOutput,
        Field(title="Output", description="Where the recommendations are written in S3."),
    ]
    roleArn: Annotated[str, BatchSegmentJobSpec.model_fields["roleArn"]]
    batchInferenceJobConfig: Annotated[
        BatchInferenceJobConfig | SkipJsonSchema[None],
        Field(
            title="Job configuration",
            description="Item exploration and ranking influence, for the recipes that have them.",
            examples=[{"rankingInfluence": {"POPULARITY": 0.5}}],
        ),
    ] = None
    batchInferenceJobMode: Annotated[
        Literal["BATCH_INFERENCE", "THEME_GENERATION"] | SkipJsonSchema[None],
        Field(
            title="Mode",
            description=(
                "`BATCH_INFERENCE` (the service's default): recommendations. "
                "`THEME_GENERATION`: related items in groups with a descriptive theme each, "
                "for Similar-Items solution versions; it needs `themeGenerationConfig`, costs "
                "extra, and cannot run on the local backend."
            ),
            examples=[BATCH_INFERENCE, THEME_GENERATION],
            json_schema_extra={"default": BATCH_INFERENCE},
        ),
    ] = None
    themeGenerationConfig: Annotated[
        ThemeGenerationConfig | SkipJsonSchema[None],
        Field(
            title="Theme generation",
            description=(
                "For `batchInferenceJobMode: THEME_GENERATION` only: the Items dataset column "
                "that holds the item names the themes are made from."
            ),
            examples=[{"fieldsForThemeGeneration": {"itemName": "TITLE"}}],
        ),
    ] = None
    tags: Annotated[
        Annotated[list[Tag], Field(max_length=TAGS_MAX)] | SkipJsonSchema[None],
        BatchSegmentJobSpec.model_fields["tags"],
    ] = None

    def request(self) -> dict[str, Any]:
        """The `CreateBatchInferenceJob` request this spec asks for."""
        return self.model_dump(exclude={"apiVersion", "kind", "schedule"}, exclude_none=True)

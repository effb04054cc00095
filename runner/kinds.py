"""Job kinds: what is specific to each kind of Personalize job, as plain data.

A kind is looked up by its name (the spec's `kind`, `BatchSegmentJob`) or by the resource
type of a job's ARN (`batch-segment-job`). The backends call a kind's operations by their
API names and read its responses by these keys; the reconciler keeps a kind's quota of
jobs in flight per account and region; the local service runs a kind's jobs with the
runner it registers for the name. A new kind is one more `JobKind` in `KINDS`, plus the
modules that run it locally and check its specs.

Nothing here imports more than the standard library: every command may read this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.arn import Arn

# Jobs of one kind pending or in progress per account and region: the service's default.
DEFAULT_QUOTA = 5


@dataclass(frozen=True)
class JobKind:
    name: str
    """The spec's `kind`, and the API's noun: `BatchSegmentJob`."""
    resource_type: str
    """The ARN's resource type: `arn:…:batch-segment-job/<name>`."""
    noun: str
    """For people: `batch segment job`."""
    request_fields: tuple[str, ...]
    """The create request's fields that the describe answer reports back (tags come from
    `ListTagsForResource`): what a job is compared with its spec on."""
    create_operation: str
    describe_operation: str
    list_operation: str
    arn_key: str
    """The job's ARN in the create answer, a summary, a description and the describe
    request: `batchSegmentJobArn`."""
    describe_key: str
    """The description in the describe answer: `batchSegmentJob`."""
    list_key: str
    """The summaries in a list answer: `batchSegmentJobs`."""
    request_defaults: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """What the service fills in for request fields a create leaves out."""
    open_fields: tuple[str, ...] = ()
    """Request fields (mappings) that the service may fill in with defaults the runner does
    not know (a recipe's exploration settings): a job matches a spec that leaves one out,
    and one that gives part of it when the job has that part."""
    quota: int = DEFAULT_QUOTA
    label: str = ""
    """For people, after the name of a job of a kind other than batch segment jobs (the
    product's first kind, unmarked): `nightly-recs [inference]`."""
    quota_setting: str | None = None
    """The key of `quotas:` in `personalize-runner.yaml` that sets the quota in place of
    `quota`, for a kind whose quota the service lets be raised; None when it is fixed."""

    def key(self, name: str) -> str:
        """The key of the job `name` of this kind among jobs of every kind (the state's):
        the name itself for batch segment jobs, as states have always keyed them, and
        `<resource type>/<name>` for the others (a job name holds no `/`), so that a
        segment job and an inference job may share a name."""
        return name if self.name == DEFAULT_KIND.name else f"{self.resource_type}/{name}"

    def display(self, name: str) -> str:
        """The job `name` of this kind as outputs for people show it, beside jobs of other
        kinds of the same name: `promo`, `promo [inference]`."""
        return f"{name} [{self.label}]" if self.label else name

    def job_arn(self, partition: str, region: str, account: str, name: str) -> str:
        """The ARN the service gives a job of this kind named `name`."""
        return str(Arn(partition, "personalize", region, account, f"{self.resource_type}/{name}"))

    def job_arn_for(self, model_arn: str, name: str) -> str:
        """The ARN of the job `name` of a model (solution version): same partition, region
        and account."""
        model = Arn.parse(model_arn)
        return self.job_arn(model.partition, model.region, model.account, name)


BATCH_SEGMENT_JOB = JobKind(
    name="BatchSegmentJob",
    resource_type="batch-segment-job",
    noun="batch segment job",
    request_fields=(
        "jobName",
        "solutionVersionArn",
        "filterArn",
        "numResults",
        "jobInput",
        "jobOutput",
        "roleArn",
    ),
    create_operation="CreateBatchSegmentJob",
    describe_operation="DescribeBatchSegmentJob",
    list_operation="ListBatchSegmentJobs",
    arn_key="batchSegmentJobArn",
    describe_key="batchSegmentJob",
    list_key="batchSegmentJobs",
    request_defaults={"numResults": 25},
)

BATCH_INFERENCE_JOB = JobKind(
    name="BatchInferenceJob",
    resource_type="batch-inference-job",
    noun="batch inference job",
    request_fields=(
        "jobName",
        "solutionVersionArn",
        "filterArn",
        "numResults",
        "jobInput",
        "jobOutput",
        "roleArn",
        "batchInferenceJobConfig",
        "batchInferenceJobMode",
        "themeGenerationConfig",
    ),
    create_operation="CreateBatchInferenceJob",
    describe_operation="DescribeBatchInferenceJob",
    list_operation="ListBatchInferenceJobs",
    arn_key="batchInferenceJobArn",
    describe_key="batchInferenceJob",
    list_key="batchInferenceJobs",
    request_defaults={"numResults": 25, "batchInferenceJobMode": "BATCH_INFERENCE"},
    open_fields=("batchInferenceJobConfig",),
    label="inference",
    # Adjustable at the service (Service Quotas): `quotas: {batch_inference_jobs: N}`.
    quota_setting="batch_inference_jobs",
)

KINDS: Mapping[str, JobKind] = {
    kind.name: kind for kind in (BATCH_SEGMENT_JOB, BATCH_INFERENCE_JOB)
}
"""Every kind, by name."""

DEFAULT_KIND = BATCH_SEGMENT_JOB
"""The kind of a job whose ARN names no resource type of the table, and of a state record
that says no kind (records written before there were other kinds)."""

_BY_RESOURCE_TYPE = {kind.resource_type: kind for kind in KINDS.values()}


def kind_named(name: str) -> JobKind:
    """The kind called `name`; `KeyError` if there is none."""
    return KINDS[name]


_ORDER = {name: index for index, name in enumerate(KINDS)}


def job_order(name: str, kind: str) -> tuple[str, int]:
    """The order of jobs in outputs: by name, and the jobs of one name side by side in the
    order of the table (segment jobs first)."""
    return (name, _ORDER[kind])


def split_key(key: str) -> tuple[JobKind, str]:
    """The kind and the job name of a key made by `JobKind.key`."""
    resource_type, slash, name = key.rpartition("/")
    if not slash:
        return DEFAULT_KIND, key
    kind = _BY_RESOURCE_TYPE.get(resource_type)
    if kind is None or kind is DEFAULT_KIND:
        raise ValueError(f"{key!r} is not the key of a job")
    return kind, name


def kind_of_arn(arn: str) -> JobKind:
    """The kind of the job `arn` names, by its resource type (the default kind for an ARN
    that names none this table knows)."""
    parsed = Arn.try_parse(arn)
    if parsed is None:
        return DEFAULT_KIND
    return _BY_RESOURCE_TYPE.get(parsed.resource.partition("/")[0], DEFAULT_KIND)

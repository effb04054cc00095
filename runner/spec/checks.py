"""Checks that need more than one field, more than one file, or the state.

Each takes valid documents (the schema passed) and returns findings; none raises.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from runner.arn import Arn
from runner.findings import Finding, Related
from runner.kinds import BATCH_INFERENCE_JOB
from runner.spec import JobSpec
from runner.spec.inference_checks import check_inference
from runner.spec.regions import PERSONALIZE_REGIONS, REGIONS
from runner.times import format_minute
from runner.yaml.document import Document, Path_

if TYPE_CHECKING:
    from runner.state import State

RESERVED_TAG_PREFIX = "aws:"
# S3's rules for bucket names today: 3 to 63 lower-case letters, digits, dots and hyphens,
# starting and ending with a letter or digit. Older buckets in us-east-1 may have capitals
# and underscores, and the API model takes any name, so a name outside them is a warning.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_S3_PATHS: tuple[Path_, ...] = (
    ("jobInput", "s3DataSource", "path"),
    ("jobOutput", "s3DataDestination", "path"),
)
_KMS_KEYS: tuple[Path_, ...] = (
    ("jobInput", "s3DataSource", "kmsKeyArn"),
    ("jobOutput", "s3DataDestination", "kmsKeyArn"),
)
# File name endings that mark an input path as one file rather than a folder prefix.
_FILE_SUFFIXES = (".json", ".jsonl", ".ndjson", ".txt", ".gz")


def _at(file: str, document: Document, path: Path_, rule: str, message: str) -> Finding:
    return Finding(file, document.locate(path), rule, message)


def check_document(file: str, document: Document) -> list[Finding]:
    """The checks across the fields of one valid spec document."""
    data: dict[str, Any] = document.data
    findings: list[Finding] = []
    findings += _check_arns(file, document, data)
    findings += _check_paths(file, document, data)
    findings += _check_bucket_names(file, document, data)
    findings += _check_tags(file, document, data.get("tags") or [])
    if data.get("kind") == BATCH_INFERENCE_JOB.name:
        findings += check_inference(file, document)
    return findings


def _check_arns(file: str, document: Document, data: dict[str, Any]) -> list[Finding]:
    if isinstance(data["solutionVersionArn"], dict):
        found, latest = _check_latest_of(file, document, data)
        return found + _check_others(file, document, data, latest)
    findings: list[Finding] = []
    solution = Arn.try_parse(data["solutionVersionArn"])
    problem = _arn_problem(solution)
    if problem is not None:
        findings.append(
            _at(
                file,
                document,
                ("solutionVersionArn",),
                "arn-format",
                f"solutionVersionArn: {problem}; expected "
                "arn:<partition>:personalize:<region>:<account id>:solution/<name>/<version id>",
            )
        )
        # The filter is still checked on its own; there is nothing to compare it with.
        solution = None
    elif solution is not None:
        unsupported = _region_problem(solution.partition, solution.region)
        if unsupported is not None:
            findings.append(
                _at(file, document, ("solutionVersionArn",), "region-unsupported", unsupported)
            )
    parts = solution.resource.split("/") if solution is not None else []
    if not parts:
        pass  # already reported
    elif parts[0] == "solution" and len(parts) == 2:
        findings.append(
            _at(
                file,
                document,
                ("solutionVersionArn",),
                "solution-not-version",
                "solutionVersionArn: this is the ARN of a solution, not of a solution version; "
                f"use one of its versions, {data['solutionVersionArn']}/<version id> "
                "(`aws personalize list-solution-versions` lists them)",
            )
        )
    elif parts[0] != "solution" or len(parts) != 3 or not all(parts):
        findings.append(
            _at(
                file,
                document,
                ("solutionVersionArn",),
                "solution-not-version",
                f"solutionVersionArn: a {parts[0]!r} ARN where a solution version ARN is needed "
                "(…:solution/<name>/<version id>)",
            )
        )

    return findings + _check_others(file, document, data, solution)


def _check_latest_of(
    file: str, document: Document, data: dict[str, Any]
) -> tuple[list[Finding], Arn | None]:
    """`solutionVersionArn: {latestOf: …}`: the ARN of a solution, not of a version."""
    path: Path_ = ("solutionVersionArn", "latestOf")
    text = data["solutionVersionArn"]["latestOf"]
    solution = Arn.try_parse(text)
    problem = _arn_problem(solution)
    if problem is not None or solution is None:
        message = (
            f"solutionVersionArn.latestOf: {problem}; expected "
            "arn:<partition>:personalize:<region>:<account id>:solution/<name>"
        )
        return [_at(file, document, path, "arn-format", message)], None
    findings = []
    unsupported = _region_problem(solution.partition, solution.region)
    if unsupported is not None:
        findings.append(_at(file, document, path, "region-unsupported", unsupported))
    parts = solution.resource.split("/")
    if parts[0] == "solution" and len(parts) == 3 and all(parts):
        findings.append(
            _at(
                file,
                document,
                path,
                "latest-of-version",
                "solutionVersionArn.latestOf: this is the ARN of a solution version; latestOf "
                f"takes the solution's, {text.rsplit('/', 1)[0]} (or give this version as "
                "solutionVersionArn itself)",
            )
        )
    elif parts[0] != "solution" or len(parts) != 2 or not parts[1]:
        findings.append(
            _at(
                file,
                document,
                path,
                "arn-format",
                f"solutionVersionArn.latestOf: a {parts[0]!r} ARN where a solution ARN is "
                "needed (…:solution/<name>)",
            )
        )
    return findings, solution


def _check_others(
    file: str, document: Document, data: dict[str, Any], solution: Arn | None
) -> list[Finding]:
    """The filter, the role and the KMS keys, and where they are against the solution."""
    findings: list[Finding] = []
    others: list[tuple[Path_, Arn, bool]] = []
    if "filterArn" in data:
        arn = Arn.try_parse(data["filterArn"])
        if arn is None or not arn.resource.startswith("filter/"):
            findings.append(
                _at(
                    file,
                    document,
                    ("filterArn",),
                    "arn-format",
                    "filterArn: expected the ARN of a filter, "
                    "arn:<partition>:personalize:<region>:<account id>:filter/<name>",
                )
            )
        else:
            others.append((("filterArn",), arn, True))
    role = Arn.try_parse(data["roleArn"])
    if role is not None:
        others.append((("roleArn",), role, False))
    for path in _KMS_KEYS:
        key = _get(data, path)
        arn = Arn.try_parse(key) if isinstance(key, str) else None
        if arn is not None:
            others.append((path, arn, True))
    if solution is None:
        return findings
    for path, arn, regional in others:
        field = _label(path)
        if arn.partition != solution.partition:
            findings.append(
                _at(
                    file,
                    document,
                    path,
                    "partition-mismatch",
                    f"{field}: in partition {arn.partition!r} but the solution version is in "
                    f"{solution.partition!r}",
                )
            )
        if arn.account != solution.account:
            findings.append(
                _at(
                    file,
                    document,
                    path,
                    "account-mismatch",
                    f"{field}: in account {arn.account} but the solution version is in account "
                    f"{solution.account}; a job uses resources of one account",
                )
            )
        if regional and arn.region != solution.region:
            findings.append(
                _at(
                    file,
                    document,
                    path,
                    "region-mismatch",
                    f"{field}: in region {arn.region} but the solution version is in "
                    f"{solution.region}; a job uses resources of one region",
                )
            )
    return findings


def _region_problem(partition: str, region: str) -> str | None:
    """Why a job cannot run in `region` of `partition`, from botocore's endpoint data."""
    offered = PERSONALIZE_REGIONS.get(partition)
    where = "solutionVersionArn: "
    if offered is None:
        return (
            f"{where}{partition!r} is not an AWS partition; the partitions are {', '.join(REGIONS)}"
        )
    if region in offered:
        return None
    owner = next((name for name, regions in REGIONS.items() if region in regions), None)
    if owner is not None and owner != partition:
        return f"{where}region {region} is in partition {owner!r}, not {partition!r}"
    if not offered:
        return (
            f"{where}Amazon Personalize is not offered anywhere in partition {partition!r} "
            f"(region {region}): the job cannot run there"
        )
    if owner is None:
        return (
            f"{where}{region} is not a region of {partition!r} this release knows; Amazon "
            f"Personalize is offered in {', '.join(offered)} (upgrade personalize-runner "
            "if AWS has opened a region since)"
        )
    return (
        f"{where}Amazon Personalize is not offered in region {region}; in {partition!r} it is "
        f"offered in {', '.join(offered)}"
    )


def _get(data: dict[str, Any], path: Path_) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _label(path: Path_) -> str:
    return ".".join(str(part) for part in path)


def _check_bucket_names(file: str, document: Document, data: dict[str, Any]) -> list[Finding]:
    findings = []
    for path in _S3_PATHS:
        bucket = str(_get(data, path)).removeprefix("s3://").split("/", 1)[0]
        if _BUCKET_NAME.fullmatch(bucket) and ".." not in bucket:
            continue
        findings.append(
            Finding(
                file,
                document.locate(path),
                "bucket-name",
                f"{_label(path)}: the bucket name {bucket!r} breaks S3's naming rules (3 to 63 "
                "lower-case letters, digits, dots and hyphens, starting and ending with a "
                "letter or digit); only a bucket created long ago in us-east-1 can have it: "
                "check the name",
            )
        )
    return findings


def _arn_problem(arn: Arn | None) -> str | None:
    if arn is None:
        return "not a full ARN"
    if not _is_region(arn.region):
        return f"{arn.region!r} is not a region" if arn.region else "the region is missing"
    if not _is_account(arn.account):
        return f"the account id {arn.account!r} is not 12 digits"
    return None


def _is_region(text: str) -> bool:
    return bool(text) and all(part.isalnum() for part in text.split("-"))


def _is_account(text: str) -> bool:
    return len(text) == 12 and text.isdigit()


def _check_paths(file: str, document: Document, data: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    input_path: str = data["jobInput"]["s3DataSource"]["path"]
    output_path: str = data["jobOutput"]["s3DataDestination"]["path"]
    input_folder = input_path.rstrip("/") + "/"
    output_folder = output_path.rstrip("/") + "/"
    if output_folder == input_folder:
        findings.append(
            _at(
                file,
                document,
                ("jobOutput", "s3DataDestination", "path"),
                "output-in-input",
                "jobOutput.s3DataDestination.path: the output path is the input path; the job "
                "would read its own output on a rerun: write it elsewhere",
            )
        )
    elif output_folder.startswith(input_folder):
        findings.append(
            _at(
                file,
                document,
                ("jobOutput", "s3DataDestination", "path"),
                "output-in-input",
                "jobOutput.s3DataDestination.path: the output path lies inside the input path "
                f"{input_path}; the job would read its own output on a rerun: write it elsewhere",
            )
        )
    last = input_path.removeprefix("s3://").split("/", 1)
    key = last[1] if len(last) == 2 else ""
    if not input_path.endswith("/") and not key.lower().endswith(_FILE_SUFFIXES):
        findings.append(
            _at(
                file,
                document,
                ("jobInput", "s3DataSource", "path"),
                "input-prefix-slash",
                "jobInput.s3DataSource.path: looks like a folder prefix without a trailing '/': "
                f"it would also match {input_path}-other/…; end it with '/' "
                "(or name a file ending in .json or .jsonl)",
            )
        )
    return findings


def _check_tags(file: str, document: Document, tags: list[dict[str, str]]) -> list[Finding]:
    findings: list[Finding] = []
    first_seen: dict[str, int] = {}
    for index, tag in enumerate(tags):
        key = tag["tagKey"]
        path: Path_ = ("tags", index, "tagKey")
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            findings.append(
                _at(
                    file,
                    document,
                    path,
                    "tag-reserved",
                    f"tags[{index}].tagKey: {key!r} starts with 'aws:', a prefix reserved by AWS",
                )
            )
        if key in first_seen:
            first = document.locate(("tags", first_seen[key], "tagKey"))
            findings.append(
                Finding(
                    file,
                    document.locate(path),
                    "tag-duplicate",
                    f"tags[{index}].tagKey: {key!r} is already the key of tags[{first_seen[key]}] "
                    f"(line {first.line}); tag keys are unique",
                    related=(Related(file, first, "first use of the key"),),
                )
            )
        else:
            first_seen[key] = index
    return findings


# How many of the other specs with its jobName a duplicate-job-name finding names.
_LISTED_OTHERS = 5


def check_job_names(specs: Iterable[JobSpec]) -> list[Finding]:
    """The same `jobName` in two specs of one kind: both places are reported (names are
    unique per resource type: a segment job and an inference job may share one)."""
    by_name: dict[str, list[JobSpec]] = defaultdict(list)
    for spec in specs:
        by_name[spec.key].append(spec)
    findings: list[Finding] = []
    for same in by_name.values():
        name = same[0].job_name
        if len(same) < 2:
            continue
        for spec in same:
            # The first few others by name; a count for the rest, so that n specs of one
            # name take n findings, not n² places.
            others = [other for other in same[: _LISTED_OTHERS + 1] if other is not spec]
            others = others[:_LISTED_OTHERS]
            where = ", ".join(f"{other.file}:{_name_span(other).line}" for other in others)
            unlisted = len(same) - 1 - len(others)
            if unlisted:
                where += f" and {unlisted:,} more"
            findings.append(
                Finding(
                    spec.file,
                    _name_span(spec),
                    "duplicate-job-name",
                    f"jobName: {name!r} is also the name of the job in {where}; "
                    "job names are the idempotency key and must be unique",
                    related=tuple(
                        Related(other.file, _name_span(other), "the same jobName")
                        for other in others
                    ),
                )
            )
    return findings


def _name_span(spec: JobSpec) -> Any:
    return spec.document.locate(("jobName",))


def check_against_state(specs: Sequence[JobSpec], state: State) -> list[Finding]:
    """A spec whose content changed after its job was submitted (jobs are immutable)."""
    findings: list[Finding] = []
    for spec in specs:
        record = state.jobs.get(spec.key)
        if record is None or record.request_digest == spec.request_digest:
            continue
        if record.period is not None or spec.period is not None:
            # A recurring spec's edit applies to later periods; a recorded one keeps its job.
            continue
        submitted = format_minute(record.submitted_at)
        findings.append(
            Finding(
                spec.file,
                _name_span(spec),
                "spec-changed",
                f"jobName: job {spec.job_name!r} was submitted on {submitted} ({record.arn}) "
                "and this spec changed since; jobs are immutable: restore this spec and put the "
                "change in a new spec with a new jobName",
            )
        )
    return findings

"""The IAM policies of README.md's "GitOps set-up": valid JSON, well-formed, each one cited."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from runner.kinds import KINDS, JobKind
from tests.ci.support import REPO

IAM = REPO / "docs" / "iam"
POLICIES = sorted(IAM.glob("*.json"))
STATEMENT_KEYS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}


def read(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((IAM / name).read_text(encoding="utf-8"))
    return document


def statements(name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = read(name)["Statement"]
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


@pytest.mark.parametrize("path", POLICIES, ids=[path.name for path in POLICIES])
def test_a_policy_is_well_formed(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))

    assert set(document) == {"Version", "Statement"}
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in document["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in document["Statement"]:
        assert set(statement) <= STATEMENT_KEYS
        assert statement["Effect"] == "Allow"
        assert actions(statement)
        # A trust or bucket policy names who; an identity policy names what.
        assert ("Principal" in statement) != path.name.endswith("role-policy.json")
        if not path.name.endswith("trust-policy.json"):
            assert statement["Resource"]


@pytest.mark.parametrize("path", POLICIES, ids=[path.name for path in POLICIES])
def test_the_readme_cites_each_policy(path: Path) -> None:
    assert f"(docs/iam/{path.name})" in (REPO / "README.md").read_text(encoding="utf-8")


def test_the_ci_role_may_pass_the_batch_role_to_personalize_only() -> None:
    (pass_role,) = (s for s in statements("ci-role-policy.json") if "iam:PassRole" in actions(s))

    assert pass_role["Resource"] == "arn:aws:iam::123456789012:role/PersonalizeBatchRole"
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}
    }


def test_the_ci_role_has_what_reconcile_calls_and_nothing_more() -> None:
    granted = sorted(a for s in statements("ci-role-policy.json") for a in actions(s))

    assert sorted(set(granted)) == [
        "iam:PassRole",
        "personalize:CreateBatchInferenceJob",
        "personalize:CreateBatchSegmentJob",
        "personalize:DescribeBatchInferenceJob",
        "personalize:DescribeBatchSegmentJob",
        "personalize:DescribeSolution",
        "personalize:ListBatchInferenceJobs",
        "personalize:ListBatchSegmentJobs",
        "personalize:ListSolutionVersions",
        "personalize:ListTagsForResource",
        "personalize:TagResource",
        "s3:DeleteObject",
        "s3:GetBucketVersioning",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
    ]
    assert not any("*" in action for action in granted)


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_the_ci_role_may_call_each_kinds_operations_on_its_jobs(kind: JobKind) -> None:
    """Every call the backends make for a kind (`runner.kinds`), on that kind's jobs."""
    policy = statements("ci-role-policy.json")

    def allowed(action: str, resource: str) -> bool:
        return any(
            action in actions(statement)
            and any(
                fnmatch.fnmatchcase(resource, pattern)
                for pattern in (
                    [statement["Resource"]]
                    if isinstance(statement["Resource"], str)
                    else statement["Resource"]
                )
            )
            for statement in policy
        )

    job = kind.job_arn("aws", "us-east-1", "123456789012", "nightly")
    for operation in (kind.create_operation, kind.describe_operation):
        assert allowed(f"personalize:{operation}", job)
    assert allowed("personalize:TagResource", job)
    assert allowed("personalize:ListTagsForResource", job)
    assert allowed(f"personalize:{kind.list_operation}", "*")


def _allowed(policy: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(
        action in actions(statement)
        and any(
            fnmatch.fnmatchcase(resource, pattern)
            for pattern in (
                [statement["Resource"]]
                if isinstance(statement["Resource"], str)
                else statement["Resource"]
            )
        )
        for statement in policy
    )


STATE = "arn:aws:s3:::acme-personalize-state/segments/state.json"
BUCKET = "arn:aws:s3:::acme-personalize-state"


def test_the_ci_role_may_read_write_and_remove_the_states_objects() -> None:
    """The state, its deltas (issue 11: `state.json.deltas/<lineage>/<serial>.json`), its
    lock and the probe of conditional writes; the listing of the deltas."""
    policy = statements("ci-role-policy.json")
    delta = f"{STATE}.deltas/0f3c9a2e-5d4b-4c1a-9e7f-2b8d6a1c3e5f/000000000012.json"
    for key in (STATE, delta, f"{STATE}.lock", f"{STATE}.probe-1234"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            assert _allowed(policy, action, key), (action, key)
    assert not _allowed(policy, "s3:PutObject", f"{STATE}.other")
    assert _allowed(policy, "s3:ListBucket", BUCKET)


def test_the_pull_request_role_reads_the_state_and_its_deltas_only() -> None:
    policy = statements("pull-request-role-policy.json")
    delta = f"{STATE}.deltas/0f3c9a2e-5d4b-4c1a-9e7f-2b8d6a1c3e5f/000000000012.json"
    for key in (STATE, delta):
        assert _allowed(policy, "s3:GetObject", key)
        assert not _allowed(policy, "s3:PutObject", key)
    assert _allowed(policy, "s3:ListBucket", BUCKET)


def test_only_github_workflows_on_main_may_take_the_ci_role() -> None:
    (trust,) = statements("ci-role-trust-policy.json")

    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"]["Federated"].endswith(
        ":oidc-provider/token.actions.githubusercontent.com"
    )
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/segments:ref:refs/heads/main",
        }
    }


def test_the_batch_role_trusts_personalize_of_its_account() -> None:
    (trust,) = statements("personalize-role-trust-policy.json")

    assert trust["Principal"] == {"Service": "personalize.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}

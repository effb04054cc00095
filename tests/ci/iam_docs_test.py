"""The IAM policies of README.md's "GitOps set-up": valid JSON, well-formed, each one cited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
        "personalize:CreateBatchSegmentJob",
        "personalize:DescribeBatchSegmentJob",
        "personalize:DescribeSolution",
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

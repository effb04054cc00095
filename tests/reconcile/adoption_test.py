"""Onboarding a repository whose jobs already exist (issue 11 point 2), through the command
line against the HTTP stand-in: the describes and tag listings of the jobs to adopt run a
few at a time (`concurrency: {describe: N}`, 8 by default), and the service's throttling
slows them down (botocore's adaptive retries) instead of failing them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from runner.config import load_settings
from runner.errors import ConfigError
from runner.spec.loader import load_specs
from tests.support.cli import run_cli
from tests.support.clock import ManualClock
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer

DESCRIBE = "DescribeBatchSegmentJob"


def _succeed(request: Mapping[str, Any], *, s3_root: Path) -> str | None:
    return None


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def _existing(
    repo: Path, server: PersonalizeServer, clock: ManualClock, count: int, *, config: str = ""
) -> None:
    """`count` specs whose jobs the service has already (created as the runner would, and
    finished), and no state: the next reconcile adopts them."""
    write_specs(repo / "specs", [f"job-{index:02d}" for index in range(count)])
    (repo / "personalize-runner.yaml").write_text(f"backend: aws\n{config}", encoding="utf-8")
    loaded = load_specs([repo / "specs"], root=repo)
    assert not loaded.findings
    server.service.run_job = _succeed
    for spec in loaded.specs:
        server.service.create_job(spec.kind, spec.request)
        # Past the quota of jobs in flight: each one done before the next.
        clock.advance(100)
    server.clear_calls()


def test_the_jobs_to_adopt_are_described_eight_at_a_time(
    repo: Path, personalize_server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    _existing(repo, personalize_server, manual_clock, 16)
    # Each describe takes 0.3 s: one at a time, 16 would take 4.8 s; 8 at a time, 2 rounds
    # of 0.3 s. The plan's describes are the adoption's: each job is described once.
    personalize_server.delay(0.3, 16, operation=DESCRIBE)

    began = time.monotonic()
    ran = run_cli("reconcile")
    elapsed = time.monotonic() - began

    assert ran.status == 0, ran.err
    assert ran.out.endswith("Reconcile: 16 adopted (state serial 16).\n"), ran.out
    assert personalize_server.count(DESCRIBE) == 16
    assert personalize_server.count("ListTagsForResource") == 16
    assert elapsed < 3, elapsed


def test_concurrency_describe_one_describes_one_at_a_time(
    repo: Path, personalize_server: PersonalizeServer, manual_clock: ManualClock
) -> None:
    _existing(repo, personalize_server, manual_clock, 8, config="concurrency: {describe: 1}\n")
    personalize_server.delay(0.3, 8, operation=DESCRIBE)

    began = time.monotonic()
    ran = run_cli("reconcile")

    assert ran.status == 0, ran.err
    assert ran.out.endswith("Reconcile: 8 adopted (state serial 8).\n"), ran.out
    # 8 describes of 0.3 s, one after the other.
    assert time.monotonic() - began >= 2.4


def test_throttled_describes_slow_down_instead_of_failing(
    repo: Path,
    personalize_server: PersonalizeServer,
    manual_clock: ManualClock,
    fast_retries: None,
) -> None:
    _existing(repo, personalize_server, manual_clock, 8)
    personalize_server.throttle(6, operation=DESCRIBE)
    personalize_server.throttle(4, operation="ListTagsForResource")

    ran = run_cli("reconcile")

    assert ran.status == 0, ran.err
    assert ran.out.endswith("Reconcile: 8 adopted (state serial 8).\n"), ran.out
    assert personalize_server.count(DESCRIBE) == 8 + 6


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            "concurrency: {describe: 0}",
            "personalize-runner.yaml:1:25: concurrency.describe is how many describes and "
            "tag listings run at once per account and region: 1 to 64 (default 8), not 0",
        ),
        (
            "concurrency: {describe: many}",
            "personalize-runner.yaml:1:25: concurrency.describe is how many describes and "
            "tag listings run at once per account and region: 1 to 64 (default 8), not 'many'",
        ),
        (
            "concurrency: {list: 2}",
            "personalize-runner.yaml:1:14: 'concurrency' takes one setting, 'describe': how "
            "many describes and tag listings run at once per account and region",
        ),
    ],
)
def test_a_bad_concurrency_setting_says_what_it_takes(
    repo: Path, setting: str, message: str
) -> None:
    (repo / "personalize-runner.yaml").write_text(setting + "\n", encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load_settings(cwd=repo)

    assert str(error.value) == f"{repo}/{message}"


def test_concurrency_defaults_to_eight(repo: Path) -> None:
    assert load_settings(cwd=repo).describe_concurrency == 8
    (repo / "personalize-runner.yaml").write_text("concurrency: {describe: 3}\n", "utf-8")
    assert load_settings(cwd=repo).describe_concurrency == 3

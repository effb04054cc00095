"""Two processes sharing one local service folder."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from runner.backends.local.service import PersonalizeService
from tests.support.job_requests import job_request

# Each process waits for the `go` file, then creates its jobs and prints the outcomes.
_CREATE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from runner.backends import ServiceError
    from runner.backends.local.service import PersonalizeService

    root, go, requests = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
    service = PersonalizeService.in_folder(root, pending_seconds=600, running_seconds=600)
    while not go.exists():
        time.sleep(0.001)
    outcomes = []
    for request in requests:
        try:
            outcomes.append(service.create_batch_segment_job(request)["batchSegmentJobArn"])
        except ServiceError as error:
            outcomes.append(error.code)
    print(json.dumps(outcomes))
    """
)


def create_concurrently(root: Path, *batches: list[dict[str, object]]) -> list[list[str]]:
    go = root.parent / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATE, str(root), str(go), json.dumps(batch)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for batch in batches
    ]
    time.sleep(0.3)  # let both import and reach the starting line
    go.touch()
    outcomes = []
    for process in processes:
        stdout, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        outcomes.append(json.loads(stdout))
    return outcomes


def test_two_processes_creating_the_same_names_each_win_once(tmp_path: Path) -> None:
    root = tmp_path / ".personalize-local"
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
    requests = [
        job_request(f"job-{index}", region=region) for index in range(3) for region in regions
    ]

    first, second = create_concurrently(root, requests, requests)

    for mine, theirs in zip(first, second, strict=True):
        assert sorted([mine.split(":")[0], theirs.split(":")[0]]) == [
            "ResourceAlreadyExistsException",
            "arn",
        ]
    jobs = PersonalizeService.in_folder(root).list_batch_segment_jobs({})["batchSegmentJobs"]
    assert len(jobs) == len(requests)


def test_two_processes_never_lose_each_other_s_jobs(tmp_path: Path) -> None:
    root = tmp_path / ".personalize-local"
    regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]

    outcomes = create_concurrently(
        root,
        [job_request(f"left-{index}", region=region) for index in range(2) for region in regions],
        [job_request(f"right-{index}", region=region) for index in range(2) for region in regions],
    )

    assert all(outcome.startswith("arn:") for outcome in outcomes[0] + outcomes[1])
    jobs = PersonalizeService.in_folder(root).list_batch_segment_jobs({})["batchSegmentJobs"]
    assert len(jobs) == 20

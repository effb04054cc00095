"""`plan --refresh`'s view of the service: list pages where summaries are enough, a
describe only for a job whose summary cannot settle the question (issue 5)."""

from __future__ import annotations

from runner.backends.aws import AwsBackend
from runner.kinds import BATCH_SEGMENT_JOB
from runner.planner import Change, make_plan
from runner.remote import fetch_remote_view
from runner.state import State
from tests.state.support import make_record
from tests.support.clock import ManualClock
from tests.support.job_specs import make_spec
from tests.support.personalize_server import PersonalizeServer


def test_refresh_lists_pages_and_describes_only_what_summaries_cannot_answer(
    personalize_server: PersonalizeServer, aws_backend: AwsBackend, manual_clock: ManualClock
) -> None:
    service = personalize_server.service
    for index in range(250):
        service.create_batch_segment_job(make_spec(f"unrelated-{index:03d}").request)
        manual_clock.advance(71)  # done: the quota is free again
    service.create_batch_segment_job(make_spec("same").request)
    other_version = make_spec("other-version").request
    service.create_batch_segment_job(
        {**other_version, "solutionVersionArn": other_version["solutionVersionArn"] + "0"}
    )
    specs = [make_spec(name) for name in ("done", "same", "other-version", "new")]
    state = State.new().with_job(make_record("done", status="ACTIVE"))
    personalize_server.clear_calls()

    remote = fetch_remote_view(aws_backend, specs, state)

    # 252 jobs: three pages of at most 100; one describe (and its tags) for the job whose
    # summary shows the same solution version; nothing at all for the recorded job.
    assert personalize_server.count("ListBatchSegmentJobs") == 3
    assert personalize_server.count("DescribeBatchSegmentJob") == 1
    assert personalize_server.count("ListTagsForResource") == 1
    assert personalize_server.count() == 5
    described = [
        call.body for call in personalize_server.calls if "batchSegmentJobArn" in call.body
    ]
    assert [body["batchSegmentJobArn"].rsplit("/", 1)[1] for body in described] == ["same"]
    plan = make_plan(specs, None, remote)
    assert {job.name: job.change for job in plan.jobs} == {
        "done": Change.CREATE,  # no snapshot given to the plan here
        "same": Change.ADOPT,
        "other-version": Change.CONFLICT,
        "new": Change.CREATE,
    }
    # The jobs in flight that hold quota slots, for the reconciler to count.
    assert remote.in_flight == {
        (BATCH_SEGMENT_JOB, ("aws", "us-east-1", "123456789012")): {"same", "other-version"}
    }

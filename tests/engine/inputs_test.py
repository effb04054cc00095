from __future__ import annotations

from pathlib import Path

import pytest

from runner.engine.errors import JobFailed
from runner.engine.inputs import QueryLimit, job_request, local_path, read_job_input


def test_a_query_limit_fails_the_job_at_the_first_file_over_it(tmp_path: Path) -> None:
    for name, count in (("a.jsonl", 2), ("b.jsonl", 3)):
        path = tmp_path / "bucket" / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"userId": "u"}\n' * count, encoding="utf-8")
    read = read_job_input("s3://bucket/in/", s3_root=tmp_path, limit=QueryLimit(3))
    assert [len(item.queries) for item in read] == [2, 3]
    with pytest.raises(JobFailed) as failure:
        read_job_input("s3://bucket/in/", s3_root=tmp_path, limit=QueryLimit(2, queries="lines"))
    assert str(failure.value) == "input file in/b.jsonl has 3 lines; a file may hold at most 2"


def test_a_request_is_checked_in_the_order_the_job_reads_it(tmp_path: Path) -> None:
    request = {
        "jobInput": {"s3DataSource": {"path": "s3://bucket/in/"}},
        "jobOutput": {"s3DataDestination": {"path": "s3://bucket//out/x/"}},
        "solutionVersionArn": "arn:aws:personalize:us-east-1:123456789012:solution/s/0badc0de",
    }
    job = job_request(request, default_num_results=25, max_num_results=500)
    assert (job.num_results, job.filter_arn) == (25, None)
    assert local_path(job.output_path, s3_root=tmp_path) == tmp_path / "bucket" / "out" / "x"
    with pytest.raises(JobFailed, match="numResults must be an integer from 1 to 5,000,000"):
        job_request(
            {**request, "numResults": True, "jobInput": {}},
            default_num_results=25,
            max_num_results=5_000_000,
        )
    with pytest.raises(JobFailed, match=r"the request has no jobInput\.s3DataSource\.path"):
        job_request({**request, "jobInput": {}}, default_num_results=25, max_num_results=500)

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runner.backends.local.jobs import local_path, run_batch_segment_job
from tests.support.job_requests import job_request, json_lines, write_object


def run(s3_root: Path, input_path: str, output_path: str = "s3://bucket/out/") -> str | None:
    request = job_request(input_path=input_path, output_path=output_path)
    return run_batch_segment_job(request, s3_root=s3_root)


@pytest.mark.parametrize(
    ("s3_path", "expected"),
    [
        ("s3://bucket/in/items.jsonl", "bucket/in/items.jsonl"),
        ("s3://bucket/in/", "bucket/in"),
        ("s3://bucket", "bucket"),
        ("s3://bucket/../etc/passwd", None),
        ("s3:///key", None),
        ("https://bucket.s3.amazonaws.com/key", None),
    ],
)
def test_s3_paths_map_onto_the_s3_root(s3_path: str, expected: str | None) -> None:
    root = Path("/s3")

    assert local_path(s3_path, s3_root=root) == (None if expected is None else root / expected)


def test_a_file_of_json_objects_is_good_input(tmp_path: Path) -> None:
    write_object(tmp_path, "s3://bucket/in/items.jsonl", json_lines([{"itemId": "105"}] * 3))

    assert run(tmp_path, "s3://bucket/in/items.jsonl") is None


def test_a_folder_prefix_reads_every_object_under_it(tmp_path: Path) -> None:
    write_object(tmp_path, "s3://bucket/in/a.jsonl", json_lines([{"itemId": "105"}]))
    write_object(tmp_path, "s3://bucket/in/deeper/b.jsonl", "\n")
    write_object(tmp_path, "s3://bucket/in/deeper/c.jsonl", '{"itemId": "106"}\n[]\n')

    assert run(tmp_path, "s3://bucket/in/") == (
        "Invalid input data in s3://bucket/in/deeper/c.jsonl at line 2: the input must be "
        "JSON Lines, one JSON object per line."
    )


def test_a_folder_prefix_with_only_empty_objects_is_empty(tmp_path: Path) -> None:
    write_object(tmp_path, "s3://bucket/in/a.jsonl", "")

    assert run(tmp_path, "s3://bucket/in/") == (
        "Input data at s3://bucket/in/ is empty: it has no JSON records."
    )


@pytest.mark.parametrize(
    "path", ["s3://bucket/in/missing.jsonl", "s3://bucket/in/", "s3://bucket/in/a.jsonl/"]
)
def test_missing_input_fails(tmp_path: Path, path: str) -> None:
    write_object(tmp_path, "s3://bucket/in/a.jsonl", "")
    (tmp_path / "bucket/in/a.jsonl").unlink()

    assert run(tmp_path, path) == f"no input file under {path}"


def test_input_that_is_not_utf8_is_invalid(tmp_path: Path) -> None:
    write_object(tmp_path, "s3://bucket/in.jsonl", b'{"itemId": "\xff"}\n')

    assert run(tmp_path, "s3://bucket/in.jsonl") == (
        "Invalid input data in s3://bucket/in.jsonl at line 1: the input must be JSON Lines, "
        "one JSON object per line."
    )


def test_paths_outside_s3_fail(tmp_path: Path) -> None:
    assert run(tmp_path, "https://example.com/in.jsonl") == (
        "Input path https://example.com/in.jsonl is not a valid S3 location (s3://bucket/key)."
    )
    assert run(tmp_path, "s3://bucket/in.jsonl", "http://example.com/out/") == (
        "Output path http://example.com/out/ is not a valid S3 location (s3://bucket/prefix/)."
    )


def test_a_dangling_link_among_the_input_fails_the_job(tmp_path: Path) -> None:
    write_object(tmp_path, "s3://bucket/in/a.jsonl", json_lines([{"itemId": "105"}]))
    (tmp_path / "bucket/in/b.jsonl").symlink_to(tmp_path / "nowhere")

    assert run(tmp_path, "s3://bucket/in/") == (
        "Could not read input data s3://bucket/in/b.jsonl: No such file or directory."
    )


def test_a_socket_among_the_input_is_refused_unopened(tmp_path: Path) -> None:
    write_object(tmp_path, "s3://bucket/in/a.jsonl", json_lines([{"itemId": "105"}]))
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(tmp_path / "bucket/in/b.jsonl"))

        assert run(tmp_path, "s3://bucket/in/") == (
            "Could not read input data s3://bucket/in/b.jsonl: it is a socket, not a file."
        )

from __future__ import annotations

import io
import json

import pytest

from runner.jsonread import JsonLimitError, Limits, parse, read_limited


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": [1, -2, 3.5, "x", null, true]}', {"a": [1, -2, 3.5, "x", None, True]}),
        # Brackets inside strings are not nesting.
        ('["' + "[" * 100 + '"]', ["[" * 100]),
        ('["\\"[[[[", {"b": "]]]"}]', ['"[[[[', {"b": "]]]"}]),
        (json.dumps([[[[1]]]]), [[[[1]]]]),
        ("1" * 30, int("1" * 30)),
    ],
)
def test_what_json_is_read_as_json_reads_it(text: str, value: object) -> None:
    assert parse(text) == value
    assert parse(text.encode()) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" * 65 + "]" * 65, "it nests arrays and objects more than 64 levels deep"),
        ('{"a": ' * 65 + "1" + "}" * 65, "it nests arrays and objects more than 64 levels deep"),
        # Unbalanced on purpose: still too deep before the parser would see it.
        ("[" * 100_000, "it nests arrays and objects more than 64 levels deep"),
        ('{"serial": ' + "7" * 5000 + "}", "it has an integer of 5,000 digits (at most 30)"),
        ("[-" + "1" * 31 + "]", "it has an integer of 31 digits (at most 30)"),
        ("[NaN]", "it has NaN, which is not a JSON number"),
        ("[-Infinity]", "it has -Infinity, which is not a JSON number"),
    ],
)
def test_what_is_over_the_limits_is_a_clear_error(text: str, problem: str) -> None:
    with pytest.raises(JsonLimitError) as info:
        parse(text)
    assert str(info.value) == problem


def test_without_a_depth_limit_only_the_parser_guards() -> None:
    limits = Limits(max_depth=None)
    assert parse("[" * 200 + "]" * 200, limits=limits) == parse(
        "[" * 200 + "]" * 200, limits=Limits(max_depth=200)
    )
    with pytest.raises(
        JsonLimitError, match=r"^it nests arrays and objects deeper than the JSON parser goes$"
    ):
        parse("[" * 100_000 + "]" * 100_000, limits=limits)


def test_size_limit() -> None:
    with pytest.raises(
        JsonLimitError, match=r"^it is 11 bytes, more than the 10 this reader accepts$"
    ):
        parse('"123456789"', limits=Limits(max_bytes=10))
    assert read_limited(io.BytesIO(b"x" * 10), limits=Limits(max_bytes=10)) == b"x" * 10
    with pytest.raises(JsonLimitError, match=r"^it is more than the 10 bytes this reader accepts$"):
        read_limited(io.BytesIO(b"x" * 11), limits=Limits(max_bytes=10))


def test_not_json_is_json_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        parse("{")
    with pytest.raises(UnicodeDecodeError):
        parse(b"\xff")


def test_a_large_document_with_brackets_in_its_strings_is_read_whole() -> None:
    # The depth check strips strings, then removes innermost pairs at most `max_depth` times
    # (each pass linear): brackets inside strings count for nothing. Its cost is measured by
    # the benchmarks (the state of 10,000 records in `python -m bench.scale`), not timed here.
    record = {"arn": "arn:aws:personalize:x", "path": "s3://b/[x]/{y}", "n": [1, 2, {"c": "]"}]}
    document = {f"job-{i}": record for i in range(20_000)}
    deepest = Limits().max_depth
    assert deepest is not None
    nested: object = "[[[{{{"
    for _ in range(deepest):
        nested = [nested]

    assert parse(json.dumps(document)) == document
    assert parse(json.dumps(nested)) == nested

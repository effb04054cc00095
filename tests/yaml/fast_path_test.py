"""The fast path of `runner.yaml` reads what libyaml reads, or leaves the text to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.yaml.document import (
    MAX_DEPTH,
    MAX_DOCUMENTS,
    Document,
    Path_,
    Positions,
    YamlSyntaxError,
)
from runner.yaml.events import decode_events
from runner.yaml.fast import decode_plain_blocks
from runner.yaml.reader import decode
from runner.yaml.span import Marks, Span

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted([*REPO.glob("specs/**/*.yaml"), *REPO.glob("tests/lint/**/*.yaml")], key=str)


def _by_events(text: str) -> Any:
    try:
        decoded = decode_events(text, positions=False)
    except YamlSyntaxError:
        return "error"
    return [(document.index, document.data) for document in decoded.documents]


def _by_lines(text: str) -> Any:
    documents = decode_plain_blocks(text)
    if documents is None:
        return None
    return [(document.index, document.data) for document in documents]


def _assert_same(text: str) -> bool:
    fast = _by_lines(text)
    if fast is not None:
        assert fast == _by_events(text), text
    return fast is not None


def test_the_example_specs_take_the_fast_path() -> None:
    for path in REPO.glob("specs/**/*.yaml"):
        assert _assert_same(path.read_text(encoding="utf-8")), path


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_file_reads_the_same(path: Path) -> None:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: the loader reports it before decoding")
    _assert_same(text)


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("", True),
        ("# only a comment\n", True),
        ("---\n", True),
        ("---\n---\n", True),
        ("a: 1\n---\n", True),
        ("a:\n- x\n- y\nb: 2\n", True),
        ("- a: 1\n  b:\n  - 2\n", True),
        ("a: 'x # y' # c\n", True),
        ("a: yes\nb: ~\nc: 0x1F\nd: 1_000\ne: .5\nf: -1\n", True),
        ("a: b\n  c: d\n", False),
        ("a: b:\n", False),
        ("a: 'it''s'\n", False),
        ("a: [1]\n", False),
        ("a: 1\na: 2\n", False),
        ("a: &x 1\nb: *x\n", False),
        ("a: |\n  text\n", False),
        ("a:\tb\n", False),
        ("a: b\r\nc: d\r\n", False),
        ('a: "tab\\t"\n', False),
        ("null: 1\n", False),
        ("jobName: weekly-{week}\n", True),
        ("a: x, {y}\n", True),
        ("a: {y}\n", False),
        # Characters YAML does not allow, even in a comment: libyaml says where they are.
        ("a: 1  # \x00\n", False),
        ("# \x07\na: 1\n", False),
        # libyaml's limit on a key: at most 1,024 characters up to its `:`.
        ("k" * 1024 + ": 1\n", True),
        ("k" * 1025 + ": 1\n", False),
        ("- " + "k" * 1024 + ": 1\n", True),
        ("- " + "k" * 1025 + ": 1\n", False),
        ("a:\n  " + "k" * 1025 + ":\n    b: 1\n", False),
        ("a: 1\n" + "k" * 1025 + ": 1\n", False),
        ("'" + "k" * 1022 + "': 1\n", False),
        ("'" + "k" * 1023 + "': 1\n", False),
        ("k" * 1024 + " : 1\n", False),
        # The runner's limit on an integer: 1,000 characters.
        ("a: " + "1" * 1000 + "\n", True),
        ("a: " + "1" * 1001 + "\n", False),
        ("a: -" + "1" * 999 + "\n", True),
        ("a: 0x" + "f" * 998 + "\n", True),
        ("a: 0x" + "f" * 999 + "\n", False),
        ("a: " + "1" * 5000 + ".5\n", True),
        ("- " + "1" * 1001 + "\n", False),
        ("a: !!int " + "1" * 1001 + "\n", False),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, str) else str(value),
)
def test_what_takes_the_fast_path(text: str, fast: bool) -> None:
    assert _assert_same(text) is fast


def _nested(depth: int) -> str:
    return "".join(f"{'  ' * level}a:\n" for level in range(depth - 1)) + "  " * depth + "a: 1\n"


@pytest.mark.parametrize(
    ("text", "fast", "rule"),
    [
        ("k" * 1025 + ": 1\n", False, "yaml-syntax"),
        ("a: " + "1" * 1001 + "\n", False, "yaml-too-large"),
        (_nested(MAX_DEPTH), True, None),
        (_nested(MAX_DEPTH + 1), False, "yaml-too-large"),
        ("---\na: 1\n" * MAX_DOCUMENTS, True, None),
        ("---\na: 1\n" * (MAX_DOCUMENTS + 1), False, "yaml-too-large"),
    ],
    ids=["key", "integer", "depth", "deeper", "documents", "more-documents"],
)
def test_at_a_limit_both_read_it_and_past_it_libyaml_refuses_it(
    text: str, fast: bool, rule: str | None
) -> None:
    assert _assert_same(text) is fast
    if rule is None:
        decode_events(text, positions=False)
    else:
        with pytest.raises(YamlSyntaxError) as raised:
            decode(text)
        assert raised.value.rule == rule


def test_a_key_over_the_limit_is_reported_from_its_first_character() -> None:
    with pytest.raises(YamlSyntaxError) as raised:
        decode("a:\n- " + "k" * 1030 + ": 1\n")
    assert raised.value.span == Span(2, 3, 2, 1033)
    assert raised.value.message == (
        "invalid YAML: a key of 1,030 characters; YAML allows at most 1,024 before the `:`: "
        "shorten it"
    )


def test_an_error_finding_positions_is_kept_not_raised() -> None:
    # Both decoders accept the same texts, so this cannot happen but through a bug: then
    # the documents are placed at the error, which the loader reports as the file's finding.
    error = YamlSyntaxError("invalid YAML: found later", Span(3, 4, 3, 4))

    def refuse(text: str) -> list[tuple[dict[Path_, Marks], Span]]:
        raise error

    shared = Positions("a: 1\n", refuse)
    document = Document(0, {"a": 1}, Span(1, 1, 1, 1), shared=shared)
    before = document.syntax_error
    assert document.locate(("a",)) == Span(3, 4, 3, 4)
    assert (before, document.syntax_error) == (None, error)
    assert Document(1, None, Span(1, 1, 1, 1), shared=shared).locate(()) == Span(3, 4, 3, 4)


_KEYS = st.sampled_from(
    ["a", "b", "jobName", "tags", "tagKey", "x_1", "a.b", "null", "true", "k" * 1024, "k" * 1025]
)
_VALUES = st.sampled_from(
    [
        "",
        "1",
        "-1",
        "0x1F",
        "1.5",
        ".inf",
        "~",
        "null",
        "yes",
        "true",
        "arn:aws:personalize:us-east-1:123456789012:solution/x/y",
        "s3://bucket/in/",
        "a b",
        "a: b",
        "a:",
        "-",
        "- x",
        "#c",
        "x # c",
        "x#c",
        "'q'",
        "'q' # c",
        "'it''s'",
        '"q"',
        '"a\\tb"',
        '"a # b"',
        "[1, 2]",
        "{a: 1}",
        "&a x",
        "*a",
        "!!str 1",
        "|",
        ">",
        "%x",
        "@x",
        "`x",
        "é",
        "a-{b}",
        "a{",
        "{a}",
        "a}b: c",
        '"0 6 * * MON"',
        "'&x'",
        "a*b",
        "a&b",
        "*",
        "& x",
        "1" * 1000,
        "1" * 1001,
        "0x" + "f" * 999,
    ]
)


@st.composite
def _texts(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        indent = " " * draw(st.integers(min_value=0, max_value=6))
        kind = draw(st.sampled_from(["key", "dash-key", "dash", "scalar", "doc", "comment"]))
        if kind == "key":
            lines.append(
                f"{indent}{draw(_KEYS)}:{' ' + draw(_VALUES) if draw(st.booleans()) else ''}"
            )
        elif kind == "dash-key":
            lines.append(f"{indent}- {draw(_KEYS)}: {draw(_VALUES)}")
        elif kind == "dash":
            lines.append(f"{indent}- {draw(_VALUES)}".rstrip())
        elif kind == "scalar":
            lines.append(f"{indent}{draw(_VALUES)}")
        elif kind == "doc":
            lines.append(draw(st.sampled_from(["---", "...", "--- x"])))
        else:
            lines.append(f"{indent}# note")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_texts())
def test_the_fast_path_agrees_with_libyaml(text: str) -> None:
    _assert_same(text)


_LEAVES = st.sampled_from(
    ["x", "s3://b/k/", "arn:aws:iam::123456789012:role/R", "1", "-2", "true", "~", "'q r'", '"s"']
)
_NAMES = st.sampled_from(["a", "b", "c", "jobName", "tags", "tagKey", "tagValue"])
_TREES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3),
        st.dictionaries(_NAMES, children, min_size=1, max_size=3),
    ),
    max_leaves=12,
)


def _emit(node: Any, indent: int) -> list[str]:
    """Block-style YAML for a tree whose leaves are already YAML scalars."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                lines.append(f"{pad}{key}:")
                lines += _emit(value, indent + 2)
            else:
                lines.append(f"{pad}{key}: {value}")
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, list):
                lines.append(f"{pad}-")
                lines += _emit(item, indent + 2)
            elif isinstance(item, dict):
                nested = _emit(item, indent + 2)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines += nested[1:]
            else:
                lines.append(f"{pad}- {item}")
    else:
        lines.append(f"{pad}{node}")
    return lines


@settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_TREES.filter(lambda tree: isinstance(tree, (dict, list))), min_size=1, max_size=3))
def test_block_documents_take_the_fast_path_and_agree(trees: list[Any]) -> None:
    text = "---\n".join("\n".join(_emit(tree, 0)) + "\n" for tree in trees)

    assert _assert_same(text)


def test_a_character_yaml_refuses_is_located_where_it_stands() -> None:
    # libyaml gives the offset in UTF-8 bytes; a position is in characters.
    text = "a: é\n# ok \u00e9\x00 no\n"
    with pytest.raises(YamlSyntaxError) as raised:
        decode(text)
    assert raised.value.span == Span(2, 7, 2, 8)
    assert "U+0000 (a NUL byte)" in raised.value.message

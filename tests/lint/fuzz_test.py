"""`lint` never crashes or hangs: arbitrary bytes, arbitrary YAML trees, and mutations of
them give findings (exit 1) or none (exit 0), never a traceback."""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lint.support import EXAMPLES, run_lint

# Per-example deadlines fail at random on a loaded machine; a hang is caught by the alarm
# in `_assert_lint_survives` instead. Derandomized, so that CI is repeatable: run with
# `--hypothesis-seed=random` to explore further.
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Far more than a lint of one small file takes, even on a busy machine.
HANG_SECONDS = 20
SPEC_KEYS = [
    "apiVersion",
    "kind",
    "jobName",
    "solutionVersionArn",
    "filterArn",
    "numResults",
    "jobInput",
    "s3DataSource",
    "jobOutput",
    "s3DataDestination",
    "path",
    "kmsKeyArn",
    "roleArn",
    "tags",
    "tagKey",
    "tagValue",
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["personalize-runner/v1", "BatchSegmentJob", "s3://a-b/c/", "aws:x"]),
)
_trees = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(SPEC_KEYS), st.text(max_size=8)), inner, max_size=5
        ),
    ),
    max_leaves=25,
)
_SNIPPETS = [
    "\t",
    "&a ",
    "*a",
    "---\n",
    "...\n",
    ": ",
    "- ",
    "!!str ",
    "!x ",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "#",
    "\n  ",
    "? ",
    "|\n",
    ">-\n",
    "%YAML 1.2\n",
    "\x00",
    "\ufeff",
    "<<: *a\n",
]


def _scalar_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)


def block(value: Any, indent: int = 0) -> str:
    """`value` as block-style YAML (strings quoted as JSON, which YAML reads the same)."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        return "".join(
            f"{pad}{json.dumps(key, ensure_ascii=False)}:"
            + (f"\n{block(item, indent + 2)}" if _nested(item) else f" {_scalar_text(item)}\n")
            for key, item in value.items()
        )
    if isinstance(value, list) and value:
        return "".join(
            f"{pad}-"
            + (f"\n{block(item, indent + 2)}" if _nested(item) else f" {_scalar_text(item)}\n")
            for item in value
        )
    empty = json.dumps(value) if isinstance(value, (dict, list)) else _scalar_text(value)
    return f"{pad}{empty}\n"


def _nested(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    tree = draw(_trees)
    text = block(tree) if draw(st.booleans()) else json.dumps(tree, ensure_ascii=False, default=str)
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        how = draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if how == "insert":
            text = text[:at] + draw(st.sampled_from(_SNIPPETS)) + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + draw(st.integers(min_value=1, max_value=5)) :]
        else:
            text += "\n" + text[:at]
    return text


@contextlib.contextmanager
def _no_hang() -> Iterator[None]:
    def hung(signum: int, frame: FrameType | None) -> None:
        raise AssertionError(f"lint took more than {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _assert_lint_survives(path: Path, capsys: pytest.CaptureFixture[str], state: Path) -> None:
    for output_format in ("text", "json", "sarif", "github"):
        with _no_hang():
            status, out, err = run_lint(capsys, "--format", output_format, str(path), state=state)
        assert status in (0, 1), (status, err)
        assert "Traceback" not in err, err
        assert "internal error" not in err, err
        assert err == ""
        if output_format in ("json", "sarif"):
            json.loads(out)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    _assert_lint_survives(path, capsys, tmp_path / "state.json")


@FUZZ
@given(text=yaml_texts())
def test_arbitrary_yaml_trees(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _assert_lint_survives(path, capsys, tmp_path / "state.json")


_EXAMPLE_TEXTS = [path.read_bytes() for path in sorted((EXAMPLES / "positive").glob("*.yaml"))]


@FUZZ
@given(
    source=st.sampled_from(_EXAMPLE_TEXTS),
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4000), st.binary(max_size=4), st.integers(0, 6)
        ),
        max_size=5,
    ),
)
def test_mutated_valid_specs(
    source: bytes,
    edits: list[tuple[int, bytes, int]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = source
    for offset, insert, remove in edits:
        at = offset % (len(data) + 1)
        data = data[:at] + insert + data[at + remove :]
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    _assert_lint_survives(path, capsys, tmp_path / "state.json")

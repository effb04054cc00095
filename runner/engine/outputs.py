"""Writing a batch job's output: for each input file, `<input file name>.out` under the
output path (a file in a subfolder of the input prefix keeps that subfolder), one line per
query, in order, written atomically."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from runner.engine.inputs import InputQueries, local_path
from runner.fs import write_atomically

Answer = Callable[[list[dict[str, Any]]], list[str]]


def write_outputs(
    read: list[InputQueries], output_path: str, *, s3_root: Path, answer: Answer
) -> list[Path]:
    """Each input file's answers (`answer` of its queries: one JSON line each) in its output
    file under `output_path`; the files written."""
    out_root = local_path(output_path, s3_root=s3_root)
    written = []
    for item in read:
        target = out_root / item.file.output_name
        write_atomically(target, partial(write_lines, answer(item.queries)))
        written.append(target)
    return written


def write_lines(lines: list[str], stream: BinaryIO) -> None:
    stream.write("".join(line + "\n" for line in lines).encode())

"""`personalize-runner schema`: print or write the published JSON Schema."""

from __future__ import annotations

import sys
from pathlib import Path

from runner.errors import ExitStatus
from runner.kinds import DEFAULT_KIND
from runner.spec.schema import render


def run(*, output: Path | None, check: bool, kind: str = DEFAULT_KIND.name) -> int:
    text = render(kind=kind)
    if output is None:
        sys.stdout.write(text)
        return ExitStatus.OK
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            option = "" if kind == DEFAULT_KIND.name else f" --kind {kind}"
            print(
                f"{output}: out of date; run `personalize-runner schema{option} --output {output}`",
                file=sys.stderr,
            )
            return ExitStatus.ERROR
        return ExitStatus.OK
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
    return ExitStatus.OK

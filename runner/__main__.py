"""`python -m runner` and the `personalize-runner` script: the one place errors become statuses."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import NoReturn

from runner import signals
from runner.errors import ExitStatus, UserError
from runner.output.terminal import COLOR_CHOICES, choose_color
from runner.output.writers import formats
from runner.service import BACKEND_NAMES

# `lint` runs in a pre-commit hook on every commit, where start-up time is most of its time:
# a plain `lint` invocation is parsed here, without importing typer (half of the start-up).
# Anything else (help, a wrong option) goes through the full command line. A test checks
# that these options are exactly those of `cli.lint`.
LINT_OPTIONS = frozenset({"--format", "--specs", "--state", "--backend", "--color"})
LINT_FLAGS = frozenset({"--strict", "--list-rules"})
LINT_CHOICES = {"--format": formats("lint"), "--backend": BACKEND_NAMES, "--color": COLOR_CHOICES}
# `plan` too: in CI and before a commit, `plan` of a repository that the state records is
# mostly start-up (issue 11: 10,000 recorded specs in 0.5 s). A test checks these against
# `cli.plan`.
PLAN_OPTIONS = frozenset(
    {"--specs", "--state", "--backend", "--format", "--out", "--now", "--color"}
)
PLAN_FLAGS = frozenset({"--refresh", "--detailed-exitcode"})
PLAN_CHOICES = {"--format": formats("plan"), "--backend": BACKEND_NAMES, "--color": COLOR_CHOICES}


@dataclass(frozen=True)
class LintArgs:
    paths: list[str]
    output_format: str
    specs: str | None
    state: str | None
    backend: str | None
    color: str
    strict: bool = False
    list_rules: bool = False


@dataclass(frozen=True)
class PlanArgs:
    output_format: str
    specs: str | None
    state: str | None
    backend: str | None
    out: str | None
    now: str | None
    color: str
    refresh: bool = False
    detailed_exitcode: bool = False


def parse_plan(args: list[str]) -> PlanArgs | None:
    """The options of a plain `plan` invocation, or None to leave it to the full parser."""
    parsed = _parse_plain(args, PLAN_OPTIONS, PLAN_FLAGS, PLAN_CHOICES)
    if parsed is None or parsed[0]:
        # `plan` takes no argument: the full parser says so.
        return None
    _, options, flags = parsed
    return PlanArgs(
        output_format=options.get("--format", PLAN_CHOICES["--format"][0]),
        specs=options.get("--specs"),
        state=options.get("--state"),
        backend=options.get("--backend"),
        out=options.get("--out"),
        now=options.get("--now"),
        color=options.get("--color", COLOR_CHOICES[0]),
        refresh="--refresh" in flags,
        detailed_exitcode="--detailed-exitcode" in flags,
    )


def parse_lint(args: list[str]) -> LintArgs | None:
    """The options of a plain `lint` invocation, or None to leave it to the full parser."""
    parsed = _parse_plain(args, LINT_OPTIONS, LINT_FLAGS, LINT_CHOICES)
    if parsed is None:
        return None
    paths, options, flags = parsed
    return LintArgs(
        paths=paths,
        output_format=options.get("--format", LINT_CHOICES["--format"][0]),
        specs=options.get("--specs"),
        state=options.get("--state"),
        backend=options.get("--backend"),
        color=options.get("--color", COLOR_CHOICES[0]),
        strict="--strict" in flags,
        list_rules="--list-rules" in flags,
    )


def _parse_plain(
    args: list[str],
    known: frozenset[str],
    known_flags: frozenset[str],
    choices: dict[str, tuple[str, ...]],
) -> tuple[list[str], dict[str, str], set[str]] | None:
    """The arguments, options and flags of a plain invocation (each option at most once,
    with a value among its choices), or None to leave it to the full parser."""
    options: dict[str, str] = {}
    flags: set[str] = set()
    paths: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            paths.extend(rest)
            break
        if not arg.startswith("-") or arg == "-":
            paths.append(arg)
            continue
        name, equals, value = arg.partition("=")
        if name in known_flags and not equals and name not in flags:
            flags.add(name)
            continue
        if name not in known or name in options:
            return None
        if not equals:
            value = next(rest, "")
            if not value or value.startswith("-"):
                return None
        if value not in choices.get(name, (value,)):
            return None
        options[name] = value
    return paths, options, flags


def _lint(args: LintArgs) -> int:
    from runner.commands import lint
    from runner.config import load_settings

    choose_color(args.color)
    settings = load_settings(specs=args.specs, state=args.state, backend=args.backend)
    return lint.run(
        settings,
        paths=args.paths,
        output_format=args.output_format,
        strict=args.strict,
        list_rules=args.list_rules,
    )


def _plan(args: PlanArgs) -> int:
    import gc
    from pathlib import Path

    from runner.commands import plan
    from runner.config import load_settings

    choose_color(args.color)
    settings = load_settings(specs=args.specs, state=args.state, backend=args.backend)
    # A plan of 10,000 recorded specs makes some 60,000 objects that live to its end, and
    # few cycles: collecting them every 700 cost it 60 ms (issue 11). Every 100,000; as
    # they were after (tests run many commands in one process).
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        return plan.run(
            settings,
            refresh=args.refresh,
            output_format=args.output_format,
            out=None if args.out is None else Path(args.out),
            detailed_exitcode=args.detailed_exitcode,
            now=args.now,
        )
    finally:
        gc.set_threshold(*thresholds)


def _cli(argv: list[str]) -> int:
    from runner.cli import run

    return run(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; its exit status, the one place errors become statuses."""
    args = sys.argv[1:] if argv is None else argv
    lint_args = parse_lint(args[1:]) if args[:1] == ["lint"] else None
    plan_args = parse_plan(args[1:]) if args[:1] == ["plan"] else None
    try:
        with signals.handled():
            if lint_args is not None:
                return _lint(lint_args)
            if plan_args is not None:
                return _plan(plan_args)
            return _cli(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status
    except (KeyboardInterrupt, signals.Interrupted) as interrupt:
        print(signals.message(interrupt), file=sys.stderr)
        return signals.exit_status(interrupt)
    except BrokenPipeError:
        # The reader went away (`lint | head`): nothing more to say to it.
        return ExitStatus.ERROR
    except Exception:
        import traceback

        traceback.print_exc()
        print(
            "personalize-runner: internal error (this is a bug in personalize-runner, "
            "please report it with the traceback above)",
            file=sys.stderr,
        )
        return ExitStatus.ERROR
    finally:
        # `--color` holds for one invocation (tests run many in one process).
        choose_color(COLOR_CHOICES[0])


def script() -> NoReturn:
    """The process's entry (`python -m runner`, the `personalize-runner` script): `main`,
    then its exit status.

    When nothing is left that the interpreter's exit would do (no other thread, no exit
    handler, no logging to flush, no profiler: a `plan` or `lint` without a backend), the
    process ends at once after flushing its output: freeing the objects of a plan of
    10,000 recorded specs one by one cost it 20-45 ms (issue 11)."""
    status = main()
    import atexit
    import os
    import threading

    if (
        threading.active_count() == 1
        and atexit._ncallbacks() == 0
        and "logging" not in sys.modules
        # A profiler or tracer (`python -m cProfile`) writes what it found after this.
        and sys.getprofile() is None
        and sys.gettrace() is None
    ):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            status = ExitStatus.ERROR
        except OSError:
            sys.exit(status)  # the interpreter says what went wrong, as without this
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    script()

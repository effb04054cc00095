"""Every command's exit statuses, through the command line (PRODUCT.md, "Commands").

1 is every error, usage errors included; 2 is only `plan --detailed-exitcode` with jobs to
submit, 3 only `reconcile` leaving jobs for a later run: a CI step can never take a typo for
a plan with changes (issue 14).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.backends.local.service import PersonalizeService
from tests.support.cli import PROJECT_ROOT, run_cli, succeed
from tests.support.clock import ManualClock
from tests.support.job_specs import spec_yaml, write_specs
from tests.support.personalize_server import PersonalizeServer

FAILING = "s3://acme-personalize/batch/in/missing.jsonl"


def fail_some(request: object, *, s3_root: Path) -> str | None:
    assert isinstance(request, dict)
    if request["jobInput"]["s3DataSource"]["path"] == FAILING:
        return "Input data not found"
    return succeed(request, s3_root=s3_root)


@pytest.fixture
def server(
    s3_root: Path, manual_clock: ManualClock, aws_environment: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PersonalizeServer]:
    """The HTTP stand-in on a manual clock: a job pends 10 s, then runs 60 s."""
    service = PersonalizeService.in_memory(
        s3_root=s3_root,
        clock=manual_clock,
        pending_seconds=10,
        running_seconds=60,
        run_job=fail_some,
    )
    with PersonalizeServer(service) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_PERSONALIZE", server.endpoint_url)
        yield server


@pytest.fixture
def repo(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared repository (jobs to the stand-in, the `aws` backend), with no backend
    chosen by the environment."""
    monkeypatch.delenv("PERSONALIZE_RUNNER_BACKEND", raising=False)
    return repo


Setup = Callable[[Path, ManualClock], None]


def nothing(repo: Path, clock: ManualClock) -> None:
    pass


def two_specs(repo: Path, clock: ManualClock) -> None:
    write_specs(repo / "specs", ["alpha", "beta"])


def six_specs(repo: Path, clock: ManualClock) -> None:
    # One more than the 5 segment jobs a region may have in flight.
    write_specs(repo / "specs", [f"job-{i}" for i in range(6)])


def an_invalid_spec(repo: Path, clock: ManualClock) -> None:
    two_specs(repo, clock)
    (repo / "specs" / "broken.yaml").write_text(
        "apiVersion: personalize-runner/v1\nkind: BatchSegmentJob\njobName: broken\n",
        encoding="utf-8",
    )


def submitted(repo: Path, clock: ManualClock) -> None:
    two_specs(repo, clock)
    assert run_cli("reconcile").status == 0


def all_active(repo: Path, clock: ManualClock) -> None:
    submitted(repo, clock)
    clock.advance(100)


def one_failed(repo: Path, clock: ManualClock) -> None:
    failing = spec_yaml("gamma").replace("s3://acme-personalize/batch/in/items.jsonl", FAILING)
    assert FAILING in failing
    (repo / "specs" / "gamma.yaml").write_text(failing, encoding="utf-8")
    all_active(repo, clock)


def forgotten(repo: Path, clock: ManualClock) -> None:
    """Submitted, then its record removed: the job is at the service only."""
    submitted(repo, clock)
    assert run_cli("state", "forget", "alpha", "--yes").status == 0


def interactions(repo: Path, clock: ManualClock) -> None:
    (repo / "interactions.csv").write_text(
        "USER_ID,ITEM_ID,TIMESTAMP\n1,10,1700000000\n2,11,1700000001\n", encoding="utf-8"
    )


def a_dataset(repo: Path, clock: ManualClock) -> None:
    interactions(repo, clock)
    assert run_cli("local", "import", "movies", "--interactions", "interactions.csv").status == 0


def stale_schema(repo: Path, clock: ManualClock) -> None:
    (repo / "schema.json").write_text("{}\n", encoding="utf-8")


def fresh_schema(repo: Path, clock: ManualClock) -> None:
    assert run_cli("schema", "--output", "schema.json").status == 0


def unreadable_state(repo: Path, clock: ManualClock) -> None:
    (repo / ".personalize-runner").mkdir()
    (repo / ".personalize-runner" / "state.json").write_text("{not json", encoding="utf-8")


CASES: list[tuple[Setup, tuple[str, ...], int]] = [
    (nothing, ("--version",), 0),
    (two_specs, ("lint",), 0),
    (two_specs, ("lint", "--format", "json", "specs/alpha.yaml"), 0),
    (an_invalid_spec, ("lint",), 1),
    (an_invalid_spec, ("lint", "--format", "sarif"), 1),
    (nothing, ("lint", "no-such-file.yaml"), 1),
    (two_specs, ("plan",), 0),
    (two_specs, ("plan", "--detailed-exitcode"), 2),
    (two_specs, ("plan", "--detailed-exitcode", "--format", "json"), 2),
    (two_specs, ("plan", "--detailed-exitcode", "--refresh"), 2),
    (submitted, ("plan", "--detailed-exitcode"), 0),
    (an_invalid_spec, ("plan",), 1),
    (an_invalid_spec, ("plan", "--detailed-exitcode"), 1),
    (unreadable_state, ("plan", "--detailed-exitcode"), 1),
    (two_specs, ("reconcile",), 0),
    (two_specs, ("reconcile", "--dry-run"), 0),
    (submitted, ("reconcile",), 0),
    (six_specs, ("reconcile", "--timeout", "0"), 3),
    (an_invalid_spec, ("reconcile",), 1),
    (two_specs, ("reconcile", "--plan", "no-such-plan.json"), 1),
    (two_specs, ("reconcile", "--timeout", "-1"), 1),
    (nothing, ("status",), 0),
    (submitted, ("status",), 0),
    (submitted, ("status", "--refresh", "--format", "json"), 0),
    (unreadable_state, ("status",), 1),
    (all_active, ("wait",), 0),
    (one_failed, ("wait",), 1),
    (submitted, ("wait", "--timeout", "0"), 1),
    (submitted, ("wait", "nobody"), 1),
    (nothing, ("schema",), 0),
    (fresh_schema, ("schema", "--output", "schema.json", "--check"), 0),
    (stale_schema, ("schema", "--output", "schema.json", "--check"), 1),
    (nothing, ("completion", "bash"), 0),
    (submitted, ("state", "list"), 0),
    (submitted, ("state", "show", "alpha"), 0),
    (submitted, ("state", "show", "nobody"), 1),
    (unreadable_state, ("state", "list"), 1),
    (forgotten, ("state", "import", "alpha"), 0),
    (submitted, ("state", "import", "nobody"), 1),
    (submitted, ("state", "forget", "alpha", "--yes"), 0),
    (submitted, ("state", "forget", "nobody", "--yes"), 1),
    (submitted, ("state", "migrate", "--to", "not-a-bucket"), 1),
    (submitted, ("state", "unlock", "some-lock", "--yes"), 1),
    (nothing, ("local", "demo"), 0),
    (nothing, ("local", "list"), 0),
    (interactions, ("local", "import", "movies", "--interactions", "interactions.csv"), 0),
    (
        a_dataset,
        (
            "local",
            "train",
            "--dataset",
            "movies",
            "--recipe",
            "aws-item-affinity",
            "--solution",
            "s",
        ),
        0,
    ),
    (
        nothing,
        ("local", "filter", "adults", "--expression", "EXCLUDE UserID WHERE Users.AGE < 18"),
        0,
    ),
    (nothing, ("local", "filter", "bad", "--expression", "NONSENSE"), 1),
    (nothing, ("local", "import", "movies", "--interactions", "no-such.csv"), 1),
    (
        nothing,
        ("local", "train", "--dataset", "none", "--recipe", "aws-item-affinity", "--solution", "s"),
        1,
    ),
]


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [pytest.param(*case, id=f"{' '.join(case[1])}-{case[0].__name__}") for case in CASES],
)
@pytest.mark.usefixtures("server")
def test_exit_status(
    repo: Path, manual_clock: ManualClock, setup: Setup, args: tuple[str, ...], expected: int
) -> None:
    setup(repo, manual_clock)

    ran = run_cli(*args)

    assert ran.status == expected, ran.out + ran.err
    # An error is one the user can act on, never a bug's traceback.
    assert "Traceback" not in ran.err


# Every command and sub-command: an unknown option, a bad value, a missing value or
# argument, an unknown command. Each is a usage error, status 1.
USAGE_ERRORS: list[tuple[str, ...]] = [
    ("--refesh",),
    ("nonsense",),
    ("lint", "--refesh"),
    ("lint", "--format", "yaml"),
    ("lint", "--color", "sometimes"),
    ("lint", "--format"),
    ("plan", "--refesh"),
    ("plan", "--format", "yaml"),
    ("plan", "--backend", "gcp"),
    ("plan", "--detailed-exitcode", "--refesh"),
    ("plan", "surplus"),
    ("reconcile", "--refesh"),
    ("reconcile", "--timeout", "soon"),
    ("reconcile", "--lock-timeout"),
    ("reconcile", "--color", "blue"),
    ("status", "--refesh"),
    ("status", "--format", "markdown-ish"),
    ("wait", "--refesh"),
    ("wait", "--timeout", "forever"),
    # Seconds are finite and not negative: `nan` would mean no limit at all.
    ("reconcile", "--timeout", "nan", "--dry-run"),
    ("reconcile", "--timeout", "-1", "--dry-run"),
    ("reconcile", "--lock-timeout", "-5", "--dry-run"),
    ("reconcile", "--lock-timeout", "inf", "--dry-run"),
    ("status", "--refresh", "--timeout", "nan"),
    ("wait", "--timeout", "nan"),
    ("wait", "--timeout", "-inf"),
    ("state", "forget", "x", "--lock-timeout", "nan"),
    (
        "local",
        "train",
        "--dataset",
        "d",
        "--recipe",
        "r",
        "--solution",
        "s",
        "--training-time",
        "nan",
    ),
    ("schema", "--refesh"),
    ("schema", "--output"),
    ("completion",),
    ("completion", "tcsh"),
    ("state",),
    ("state", "frobnicate"),
    ("state", "list", "--refesh"),
    ("state", "list", "--format", "yaml"),
    ("state", "show"),
    ("state", "import"),
    ("state", "forget"),
    ("state", "forget", "alpha", "--lock-timeout", "long"),
    ("state", "migrate"),
    ("state", "unlock"),
    ("local",),
    ("local", "frobnicate"),
    ("local", "demo", "--refesh"),
    ("local", "import", "movies"),
    ("local", "train", "--dataset", "movies"),
    ("local", "filter", "no-expression"),
    ("local", "list", "surplus"),
]


@pytest.mark.parametrize("args", [pytest.param(args, id=" ".join(args)) for args in USAGE_ERRORS])
def test_a_usage_error_exits_1(repo: Path, args: tuple[str, ...]) -> None:
    ran = run_cli(*args)

    assert ran.status == 1, ran.out + ran.err
    assert ran.out == ""
    assert ran.err.startswith("error: ")
    # What to do: the command's usage, or where its help is.
    assert "Usage: personalize-runner" in ran.err or "Try 'personalize-runner -h'" in ran.err


def test_an_unknown_option_says_which_and_what_to_do(repo: Path) -> None:
    ran = run_cli("plan", "--refesh")

    assert ran.err == (
        "error: No such option: --refesh (Possible options: --refresh)\n"
        "Usage: personalize-runner plan [OPTIONS]\n"
        "Try 'personalize-runner plan -h' for help.\n"
    )


def test_no_command_shows_the_help_and_exits_1(repo: Path) -> None:
    ran = run_cli()

    assert ran.status == 1
    assert ran.err.startswith("error: personalize-runner: a command is missing\n\nUsage: ")
    assert "\nCommands:\n" in ran.err


@pytest.mark.parametrize(
    "command",
    [
        (),
        ("lint",),
        ("plan",),
        ("reconcile",),
        ("status",),
        ("wait",),
        ("schema",),
        ("completion",),
        ("state",),
        ("state", "show"),
        ("local",),
        ("local", "train"),
    ],
    ids=" ".join,
)
def test_help_exits_0(repo: Path, command: tuple[str, ...]) -> None:
    ran = run_cli(*command, "--help")

    assert (ran.status, ran.err) == (0, "")
    assert ran.out.startswith(f"Usage: personalize-runner {' '.join(command)}".rstrip())


def test_the_process_exits_1_on_a_typo(repo: Path) -> None:
    # What a CI step sees: the status of the process, not of `main`.
    done = subprocess.run(
        [sys.executable, "-m", "runner", "plan", "--detailed-exitcode", "--refesh"],
        cwd=repo,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("error: No such option: --refesh")


def _every_usage_error() -> list[tuple[str, ...]]:
    """Found from the help as a person reads it, for every command and option: an unknown
    option; each option that takes a value, without it; each option of numbers or of
    choices, with a word that is neither; a command without its required arguments and
    options."""
    from tests.cli.support import commands, entries, help_of, sections

    found: list[tuple[str, ...]] = []
    for command in commands():
        parts = sections(help_of(*command))
        options = entries(parts["Options"])
        arguments = entries(parts.get("Arguments", ""))
        found.append((*command, "--refesh"))
        for names, (metavar, _) in options.items():
            option = next(name for name in names.split() if name.startswith("--")).rstrip(",")
            if metavar:
                found.append((*command, option))
            if metavar in ("<float>", "<integer>") or "|" in metavar:
                found.append((*command, option, "bogus"))
        if any(text.endswith("[required]") for _, text in [*options.values(), *arguments.values()]):
            found.append(command)
    return sorted(set(found))


@pytest.mark.parametrize(
    "args", [pytest.param(args, id=" ".join(args)) for args in _every_usage_error()]
)
def test_every_option_of_every_command_exits_1_on_a_usage_error(
    repo: Path, args: tuple[str, ...]
) -> None:
    ran = run_cli(*args)

    assert ran.status == 1, ran.out + ran.err
    assert ran.out == ""
    assert ran.err.startswith("error: ")
    assert "Traceback" not in ran.err

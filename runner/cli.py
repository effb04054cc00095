"""The command line: the only module that imports typer.

Each command fills a `Settings` and hands over to `runner.commands.<name>.run`, imported
only when that command runs, so `lint` never pays for what `reconcile` needs. Help is plain
text (`rich_markup_mode=None`): in typer's default, Rich markup, a `[default: specs]` in a
help string is taken for a style tag and dropped.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from runner import __version__
from runner.commands.choices import (
    FORMATS,
    SHELLS,
    BackendName,
    ColorChoice,
    KindName,
    LintFormat,
    PlanFormat,
    ReconcileFormat,
    ShellName,
    StateListFormat,
    StateShowFormat,
    StatusFormat,
    listed,
)
from runner.config import CONFIG_FILE, DEFAULT_BACKEND, DEFAULT_SPECS, DEFAULT_STATE
from runner.errors import ConfigError
from runner.kinds import DEFAULT_KIND, KINDS
from runner.output.terminal import COLOR_CHOICES, choose_color

if TYPE_CHECKING:
    from runner.config import Settings

PROG = "personalize-runner"
# The variable of typer's (click's) completion protocol: `_PERSONALIZE_RUNNER_COMPLETE`.
COMPLETE_VAR = f"_{PROG.replace('-', '_').upper()}_COMPLETE"
_HELP = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name=PROG,
    help="Declarative, GitOps runner for Amazon Personalize batch segment and inference jobs.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=_HELP,
)


def _format(command: str, what: str = "") -> Any:
    """`--format`, its choices in the order of the writers' table, the first the default."""
    return typer.Option("--format", help=f"{listed(FORMATS[command])}{what}.")


# An option whose default is not a value of its own (it comes from the configuration, or
# means "none") says so in its help; typer shows the others' `[default: ...]` itself.
SpecsOption = Annotated[
    Path | None,
    typer.Option(
        "--specs",
        help=f"Folder of spec files; `specs` in {CONFIG_FILE} sets another.  "
        f"[default: {DEFAULT_SPECS}]",
    ),
]
StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        help=f"State file, or s3://bucket/key; `state` in {CONFIG_FILE} sets another.  "
        f"[default: {DEFAULT_STATE}]",
    ),
]
BackendOption = Annotated[
    BackendName | None,
    typer.Option(
        "--backend",
        help="Where jobs run: aws, or the embedded local stand-in; PERSONALIZE_RUNNER_BACKEND, "
        f"then `backend` in {CONFIG_FILE}, set another.  [default: {DEFAULT_BACKEND}]",
    ),
]


def _choose_color(choice: ColorChoice) -> ColorChoice:
    choose_color(str(choice))
    return choice


# Applied by its callback, as the command line is read: the commands do not pass it on.
ColorOption = Annotated[
    ColorChoice,
    typer.Option(
        "--color",
        callback=_choose_color,
        help="always, never, or auto: on a terminal unless NO_COLOR is set or TERM=dumb, "
        "and wherever FORCE_COLOR is; the option wins over both.",
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
NowOption = Annotated[str | None, typer.Option(help="Plan at this ISO 8601 time.  [default: now]")]


def _seconds(value: float | None) -> float | None:
    """A number of seconds: finite and not negative (`nan` would mean no limit at all)."""
    if value is not None and not 0 <= value < math.inf:
        raise typer.BadParameter(f"{value:g} is not a number of seconds (0 or more)")
    return value


LockTimeoutOption = Annotated[
    float,
    typer.Option("--lock-timeout", callback=_seconds, help="Seconds to wait for the state lock."),
]


def _exit(status: int) -> NoReturn:
    raise typer.Exit(status)


def _click_class(name: str) -> Any:
    # A base of `BadParameter`: typer 0.28 vendors click (`typer._click`), earlier ones import it.
    return next(base for base in typer.BadParameter.__mro__ if base.__name__ == name)


_USAGE_ERROR = _click_class("UsageError")
_CLICK_EXCEPTION = _click_class("ClickException")


def _usage_message(error: Any) -> str:
    ctx = error.ctx
    if ctx is None:
        # click's parser leaves some errors (an option without its value) without a context.
        return f"{error.format_message()}\nTry '{PROG} -h' for help."
    if type(error).__name__ == "NoArgsIsHelpError":
        return f"{ctx.command_path}: a command is missing\n\n{ctx.get_help()}"
    return f"{error.format_message()}\n{ctx.get_usage()}\nTry '{ctx.command_path} -h' for help."


def run(argv: list[str]) -> int:
    """The exit status of the command line `argv`. A usage error is a `ConfigError`, status 1:
    click's own, 2, means "the plan has jobs to submit" here (issue 14)."""
    if os.environ.get(COMPLETE_VAR):
        # typer registers its completion classes only with `add_completion=True`.
        from typer._completion_classes import completion_init

        completion_init()
    command = typer.main.get_command(app)
    try:
        status = command.main(args=argv, prog_name=PROG, standalone_mode=False)
    except SystemExit as done:
        # Completion answers, and a closed standard output, end by `sys.exit`.
        code = done.code
        return code if isinstance(code, int) else 0 if code is None else 1
    except typer.Abort:
        raise ConfigError("aborted") from None
    except _USAGE_ERROR as error:
        raise ConfigError(_usage_message(error)) from None
    except _CLICK_EXCEPTION as error:
        raise ConfigError(error.format_message()) from None
    return status if isinstance(status, int) else 0


def _settings(specs: Path | None, state: str | None, backend: BackendName | None) -> Settings:
    from runner.config import load_settings

    return load_settings(
        specs=str(specs) if specs else None,
        state=state,
        backend=str(backend) if backend else None,
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"personalize-runner {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Declarative, GitOps runner for Amazon Personalize batch segment and inference jobs."""


@app.command()
def lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PATH...", help="Spec files or folders.  [default: --specs]"),
    ] = None,
    output_format: Annotated[LintFormat, _format("lint")] = FORMATS["lint"][0],
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="List the rules.")] = False,
    specs: SpecsOption = None,
    state: StateOption = None,
    backend: BackendOption = None,
    color: ColorOption = COLOR_CHOICES[0],
) -> None:
    """Validate spec files: schema, cross-field and cross-file checks. Exit 1 on errors."""
    from runner.commands import lint as command

    _exit(
        command.run(
            _settings(specs, state, backend),
            paths=[str(path) for path in paths or []],
            output_format=str(output_format),
            strict=strict,
            list_rules=list_rules,
        )
    )


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write it to this file.  [default: standard output]"),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if --output differs from the generated schema.")
    ] = False,
    kind: Annotated[KindName, typer.Option(help=f"The job kind: {listed(tuple(KINDS))}.")] = (
        DEFAULT_KIND.name
    ),
) -> None:
    """Print or write the JSON Schema of a kind's spec files (batch-segment-job.v1.json)."""
    from runner.commands import schema as command

    _exit(command.run(output=output, check=check, kind=str(kind)))


@app.command()
def completion(
    shell: Annotated[ShellName, typer.Argument(metavar="SHELL", help=f"{listed(SHELLS)}.")],
) -> None:
    """Print the shell's completion script. `eval "$(personalize-runner completion bash)"`
    in ~/.bashrc (zsh: ~/.zshrc, after compinit), or for fish into
    ~/.config/fish/completions/personalize-runner.fish."""
    # typer's public `--show-completion` guesses the shell from the parent process.
    from typer._completion_shared import get_completion_script

    typer.echo(get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=str(shell)))
    _exit(0)


@app.command()
def plan(
    specs: SpecsOption = None,
    state: StateOption = None,
    backend: BackendOption = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the service too (needs credentials).")
    ] = False,
    output_format: Annotated[PlanFormat, _format("plan")] = FORMATS["plan"][0],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Save the plan for `reconcile --plan`.  [default: not saved]"),
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when there are jobs to submit."),
    ] = False,
    now: NowOption = None,
    color: ColorOption = COLOR_CHOICES[0],
) -> None:
    """Show what `reconcile` would do: the specs against the state.

    Exit status: 0; with --detailed-exitcode, 2 when there are jobs to submit; 1 on error.
    """
    from runner.commands import plan as command

    _exit(
        command.run(
            _settings(specs, state, backend),
            refresh=refresh,
            output_format=str(output_format),
            out=out,
            detailed_exitcode=detailed_exitcode,
            now=now,
        )
    )


@app.command()
def reconcile(
    specs: SpecsOption = None,
    state: StateOption = None,
    backend: BackendOption = None,
    saved_plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="Apply a saved plan if the state has not moved.  [default: none]"
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the submitted jobs to a final status.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Stop after the plan.")] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            callback=_seconds,
            help="Seconds the whole run may take (lock wait, calls to the service, quota "
            "slots, --wait); what is left is deferred (exit 3).  [default: no limit]",
        ),
    ] = None,
    output_format: Annotated[ReconcileFormat, _format("reconcile", " (the report)")] = FORMATS[
        "reconcile"
    ][0],
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the JSON report here.  [default: not written]"),
    ] = None,
    lock_timeout: LockTimeoutOption = 60.0,
    now: NowOption = None,
    color: ColorOption = COLOR_CHOICES[0],
) -> None:
    """Submit the new jobs exactly once and record their ARNs.

    Exit status: 0 done, 1 any error, 3 jobs left for a later run (quota, --timeout, latestOf).
    """
    from runner.commands import reconcile as command

    _exit(
        command.run(
            _settings(specs, state, backend),
            saved_plan=saved_plan,
            wait=wait,
            dry_run=dry_run,
            timeout=timeout,
            output_format=str(output_format),
            report=report,
            lock_timeout=lock_timeout,
            now=now,
        )
    )


@app.command()
def status(
    specs: SpecsOption = None,
    state: StateOption = None,
    backend: BackendOption = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the service about unfinished jobs.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", callback=_seconds, help="Seconds --refresh may take, calls included."
        ),
    ] = 60.0,
    output_format: Annotated[StatusFormat, _format("status")] = FORMATS["status"][0],
    color: ColorOption = COLOR_CHOICES[0],
) -> None:
    """The recorded jobs and their last known status."""
    from runner.commands import status as command

    settings = _settings(specs, state, backend)
    _exit(command.run(settings, refresh=refresh, output_format=str(output_format), timeout=timeout))


@app.command()
def wait(
    jobs: Annotated[
        list[str] | None,
        typer.Argument(metavar="JOB...", help="Job names.  [default: every unfinished job]"),
    ] = None,
    specs: SpecsOption = None,
    state: StateOption = None,
    backend: BackendOption = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", callback=_seconds, help="Give up after this many seconds, calls included."
        ),
    ] = 3600.0,
    color: ColorOption = COLOR_CHOICES[0],
) -> None:
    """Poll until the jobs are final. Exit 0 if all ACTIVE, 1 if any failed or timed out."""
    from runner.commands import wait as command

    _exit(command.run(_settings(specs, state, backend), jobs=jobs or [], timeout=timeout))


state_app = typer.Typer(
    help="Look at the recorded jobs; import, forget, migrate, unlock.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=_HELP,
)
app.add_typer(state_app, name="state")


@state_app.command("list")
def state_list(
    state: StateOption = None,
    output_format: Annotated[StateListFormat, _format("state list")] = FORMATS["state list"][0],
) -> None:
    """The recorded jobs."""
    from runner.commands import state as command

    _exit(command.list_jobs(_settings(None, state, None), output_format=str(output_format)))


@state_app.command("show")
def state_show(
    job: Annotated[str, typer.Argument(metavar="JOB", help="The job's name (jobName).")],
    state: StateOption = None,
    output_format: Annotated[StateShowFormat, _format("state show")] = FORMATS["state show"][0],
) -> None:
    """Everything recorded about one job."""
    from runner.commands import state as command

    _exit(command.show(_settings(None, state, None), job=job, output_format=str(output_format)))


@state_app.command("import")
def state_import(
    job: Annotated[str, typer.Argument(metavar="JOB", help="The job's name (jobName) in a spec.")],
    specs: SpecsOption = None,
    state: StateOption = None,
    backend: BackendOption = None,
    lock_timeout: LockTimeoutOption = 60.0,
) -> None:
    """Record an existing job, after checking it against its spec."""
    from runner.commands import state as command

    _exit(command.import_job(_settings(specs, state, backend), job=job, lock_timeout=lock_timeout))


@state_app.command("forget")
def state_forget(
    job: Annotated[str, typer.Argument(metavar="JOB", help="The job's name (jobName).")],
    state: StateOption = None,
    yes: YesOption = False,
    lock_timeout: LockTimeoutOption = 60.0,
) -> None:
    """Remove a job's record (the job itself stays at the service)."""
    from runner.commands import state as command

    _exit(command.forget(_settings(None, state, None), job=job, yes=yes, lock_timeout=lock_timeout))


@state_app.command("migrate")
def state_migrate(
    to: Annotated[str, typer.Option("--to", help="The new state: s3://bucket/key.")],
    state: StateOption = None,
    lock_timeout: LockTimeoutOption = 60.0,
) -> None:
    """Copy the local state file into S3, once (refused if the target exists)."""
    from runner.commands import state as command

    _exit(command.migrate(_settings(None, state, None), to=to, lock_timeout=lock_timeout))


@state_app.command("unlock")
def state_unlock(
    lock_id: Annotated[
        str, typer.Argument(metavar="LOCK_ID", help="The lock id the waiting run reported.")
    ],
    state: StateOption = None,
    yes: YesOption = False,
) -> None:
    """Remove the state lock of a run that died (S3 state)."""
    from runner.commands import state as command

    _exit(command.unlock(_settings(None, state, None), lock_id=lock_id, yes=yes))


local_app = typer.Typer(
    help="The local engine: its datasets, solution versions, filters.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings=_HELP,
)
app.add_typer(local_app, name="local")


def _local_root() -> Path:
    from runner.backends.local import default_root

    return default_root()


def _engine() -> Path:
    return _local_root() / "engine"


@local_app.command("demo")
def local_demo() -> None:
    """Set up what the example specs in specs/ need: a demo dataset, its solution versions,
    filters and input files, all in .personalize-local/."""
    from runner.commands import local as commands

    _exit(commands.setup_demo(root=_local_root()))


@local_app.command("import")
def local_import(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The dataset's name.")],
    interactions: Annotated[
        Path, typer.Option("--interactions", help="CSV: USER_ID,ITEM_ID,TIMESTAMP[,EVENT_TYPE].")
    ],
    items: Annotated[
        Path | None,
        typer.Option("--items", help="CSV: ITEM_ID and attribute columns.  [default: none]"),
    ] = None,
    users: Annotated[
        Path | None,
        typer.Option("--users", help="CSV: USER_ID and attribute columns.  [default: none]"),
    ] = None,
) -> None:
    """Import interactions (and items, users) CSV files as a local dataset."""
    from runner.commands import local as commands

    _exit(
        commands.import_dataset(
            name=name, interactions=interactions, items=items, users=users, store=_engine()
        )
    )


@local_app.command("train")
def local_train(
    dataset: Annotated[str, typer.Option("--dataset", help="A dataset imported before.")],
    recipe: Annotated[
        str, typer.Option("--recipe", help="aws-item-affinity or aws-item-attribute-affinity.")
    ],
    solution: Annotated[str, typer.Option("--solution", help="The solution's name.")],
    region: Annotated[str, typer.Option("--region", help="Its ARN's region.")] = "us-east-1",
    account: Annotated[str, typer.Option("--account", help="Its ARN's account.")] = "123456789012",
    training_time: Annotated[
        float, typer.Option(callback=_seconds, help="Seconds it stays CREATE IN_PROGRESS.")
    ] = 0,
) -> None:
    """Train a solution version (a new one of --solution); print its ARN."""
    from runner.commands import local as commands

    _exit(
        commands.train(
            dataset=dataset,
            recipe=recipe,
            solution=solution,
            region=region,
            account=account,
            store=_engine(),
            training_seconds=training_time,
        )
    )


@local_app.command("filter")
def local_filter(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The filter's name.")],
    expression: Annotated[
        str, typer.Option("--expression", help="e.g. EXCLUDE UserID WHERE Users.AGE < 18")
    ],
    region: Annotated[str, typer.Option("--region", help="Its ARN's region.")] = "us-east-1",
    account: Annotated[str, typer.Option("--account", help="Its ARN's account.")] = "123456789012",
) -> None:
    """Create or replace a filter; print its ARN (for a spec's filterArn)."""
    from runner.commands import local as commands

    _exit(
        commands.create_filter(
            name=name, expression=expression, region=region, account=account, store=_engine()
        )
    )


@local_app.command("list")
def local_list() -> None:
    """The local solution versions and filters."""
    from runner.commands import local as commands

    _exit(commands.list_resources(store=_engine()))

"""Settings shared by the commands: options, then `personalize-runner.yaml`, then defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import ConfigError
from runner.fs import NotRegularFile, read_regular_file
from runner.parallel import DESCRIBE_CONCURRENCY
from runner.service import BACKEND_NAMES

if TYPE_CHECKING:
    from runner.yaml.document import Document

CONFIG_FILE = "personalize-runner.yaml"
MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_SPECS = "specs"
DEFAULT_STATE = ".personalize-runner/state.json"
DEFAULT_BACKEND = "local"
SETTINGS = ("accounts", "backend", "concurrency", "lint", "quotas", "specs", "state")
# `concurrency: {describe: N}`: describes and tag listings at once per account and region
# (adoption, `plan --refresh`; issue 11).
DEFAULT_DESCRIBE_CONCURRENCY = DESCRIBE_CONCURRENCY
MAX_DESCRIBE_CONCURRENCY = 64
# `quotas:`: the in-flight limits the service lets be raised, by setting (`runner.kinds`).
MAX_QUOTA = 1000
ACCOUNT_SETTINGS = ("profile", "role_arn", "external_id", "session_name", "duration_seconds")
DEFAULT_SESSION_NAME = "personalize-runner"
# AssumeRole's limits: 15 minutes to 12 hours (the role's maximum session duration).
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43_200

# Python's file calls raise ValueError on a NUL byte (issue 10: a traceback); a `specs`
# path holding one is the spec tree's no-such-file finding (`runner.spec.tree`), so that
# `lint` shows it with the specs' other findings.
_NUL_IN_STATE = "holds a NUL byte (\\0), which no file's path nor S3 key can hold"

_ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}", re.ASCII)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)


@dataclass(frozen=True)
class AccountAccess:
    """How the `aws` backend reaches one account: a named profile, or a role to assume.

    An account without an entry in `personalize-runner.yaml` uses boto3's default chain.
    """

    account: str
    profile: str | None = None
    role_arn: str | None = None
    """Assumed through STS with the default chain's credentials."""
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    duration_seconds: int | None = None
    """None: STS's default, one hour; the credentials are refreshed before they expire."""

    def __str__(self) -> str:
        if self.profile is not None:
            return f"the profile {self.profile!r}"
        return f"the role {self.role_arn}"

    def remedy(self) -> str:
        """What to check when the account cannot be reached this way."""
        if self.profile is not None:
            return (
                f"Check the profile {self.profile!r} in the AWS configuration "
                "(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, ~/.aws), or the account's "
                "entry in personalize-runner.yaml."
            )
        return (
            f"Check that the role {self.role_arn} exists and trusts the runner's own "
            "credentials (the default AWS credential chain), the external_id if it asks for "
            "one, and the account's entry in personalize-runner.yaml."
        )


@dataclass(frozen=True)
class Settings:
    root: Path
    """The repository root: where `personalize-runner.yaml` or `.git` is."""
    specs: Path
    state: str
    """A path, or later `s3://bucket/key`."""
    backend: str
    accounts: Mapping[str, AccountAccess] = field(default_factory=dict)
    """How the `aws` backend reaches each account, by account id."""
    config_file: Path | None = None
    lint_ignore: frozenset[str] = frozenset()
    """Rules that `lint.ignore` silences in every spec (runner/rules/: ignorable ones)."""
    quotas: Mapping[str, int] = field(default_factory=dict)
    """Jobs in flight per account and region, by kind name, where `quotas:` raises the
    kind's default (`batch_inference_jobs`: batch inference jobs)."""
    describe_concurrency: int = DEFAULT_DESCRIBE_CONCURRENCY
    """Describes and tag listings at once per account and region (`concurrency:
    {describe: N}`), when many jobs are adopted or compared (`plan --refresh`)."""


def find_root(start: Path | None = None) -> Path:
    """The nearest folder, from `start` up, holding the config file or `.git`; else `start`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).exists() or (folder / ".git").exists():
            return folder
    return here


def _read_config(path: Path) -> dict[str, Any]:
    from runner.yaml.document import YamlSyntaxError
    from runner.yaml.reader import decode

    try:
        # Never waits on a FIFO in the file's place (issue 10): refused by name.
        text = read_regular_file(path, limit=MAX_CONFIG_BYTES).decode("utf-8")
        decoded = decode(text)
    except NotRegularFile as error:
        raise ConfigError(
            f"{path}: {error.what}, not a regular file: the configuration is a YAML file; "
            "remove it, or put the file in its place"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error}") from None
    except YamlSyntaxError as error:
        raise ConfigError(f"{path}:{error.span.line}:{error.span.col}: {error.message}") from None
    if decoded.duplicate_keys:
        dup = decoded.duplicate_keys[0]
        raise ConfigError(f"{path}:{dup.span.line}:{dup.span.col}: duplicate key {dup.key!r}")
    if not decoded.documents or decoded.documents[0].data is None:
        return {}
    document = decoded.documents[0]
    data = document.data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: expected a mapping of settings")
    settings: dict[str, Any] = {}
    for key, value in data.items():
        span = document.locate((key,), key=True)
        where = f"{path}:{span.line}:{span.col}"
        if key not in SETTINGS:
            raise ConfigError(f"{where}: unknown setting {key!r}{_suggest(key, SETTINGS)}")
        if key == "accounts":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: 'accounts' maps account ids to settings")
            settings[key] = {
                account: _account_access(path, document, account, entry)
                for account, entry in value.items()
            }
            continue
        if key == "lint":
            settings[key] = _lint_ignore(path, document, value)
            continue
        if key == "quotas":
            settings[key] = _quotas(path, document, value)
            continue
        if key == "concurrency":
            settings[key] = _concurrency(path, document, value)
            continue
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key!r} must be a string")
        if key == "state" and "\0" in value:
            span = document.locate((key,), key=False)
            raise ConfigError(f"{path}:{span.line}:{span.col}: 'state' {_NUL_IN_STATE}")
        settings[key] = value
    return settings


def _lint_ignore(path: Path, document: Document, value: object) -> frozenset[str]:
    """`lint: {ignore: [rule-id, ...]}`: rules silenced in every spec (ignorable ones)."""
    from runner.rules import ignore_problem

    def where(*keys: str | int, key: bool = False) -> str:
        span = document.locate(("lint", *keys), key=key)
        return f"{path}:{span.line}:{span.col}"

    if not isinstance(value, dict) or set(value) - {"ignore"}:
        raise ConfigError(f"{where()}: 'lint' takes one setting, 'ignore': a list of rule ids")
    rules = value.get("ignore") or []
    if not isinstance(rules, list):
        raise ConfigError(f"{where('ignore')}: 'lint.ignore' must be a list of rule ids")
    for index, rule in enumerate(rules):
        problem = ignore_problem(rule) if isinstance(rule, str) else "a rule id is a string"
        if problem is not None:
            raise ConfigError(f"{where('ignore', index)}: lint.ignore: {problem}")
    return frozenset(rules)


def _quotas(path: Path, document: Document, value: object) -> dict[str, int]:
    """`quotas: {batch_inference_jobs: N}`: the kind's jobs in flight per account and
    region, for a kind whose quota the service lets be raised; by kind name."""
    from runner.kinds import KINDS

    settable = {kind.quota_setting: kind for kind in KINDS.values() if kind.quota_setting}
    fixed = {kind.resource_type.replace("-", "_") + "s": kind for kind in KINDS.values()}

    def where(*keys: str, key: bool = False) -> str:
        span = document.locate(("quotas", *keys), key=key)
        return f"{path}:{span.line}:{span.col}"

    if not isinstance(value, dict):
        raise ConfigError(f"{where()}: 'quotas' maps {', '.join(settable)} to a number of jobs")
    quotas = {}
    for name, limit in value.items():
        kind = settable.get(name)
        if kind is None:
            if name in fixed:
                raise ConfigError(
                    f"{where(name, key=True)}: the quota of {fixed[name].noun}s is fixed at "
                    f"{fixed[name].quota} per region by the service: it cannot be set"
                )
            raise ConfigError(
                f"{where(name, key=True)}: unknown quota {name!r}"
                f"{_suggest(str(name), tuple(settable))}"
            )
        if type(limit) is not int or not 1 <= limit <= MAX_QUOTA:
            raise ConfigError(
                f"{where(name)}: quotas.{name} is the number of {kind.noun}s pending or in "
                f"progress per account and region: 1 to {MAX_QUOTA} (the service's default is "
                f"{kind.quota}, raised through Service Quotas), not {limit!r}"
            )
        quotas[kind.name] = limit
    return quotas


def _concurrency(path: Path, document: Document, value: object) -> int:
    """`concurrency: {describe: N}`: describes and tag listings at once per account and
    region (the service's throttling slows them further: adaptive retries)."""
    span = document.locate(("concurrency",), key=False)
    if not isinstance(value, dict) or set(value) - {"describe"}:
        raise ConfigError(
            f"{path}:{span.line}:{span.col}: 'concurrency' takes one setting, 'describe': "
            "how many describes and tag listings run at once per account and region"
        )
    count = value.get("describe", DEFAULT_DESCRIBE_CONCURRENCY)
    if type(count) is not int or not 1 <= count <= MAX_DESCRIBE_CONCURRENCY:
        span = document.locate(("concurrency", "describe"), key=False)
        raise ConfigError(
            f"{path}:{span.line}:{span.col}: concurrency.describe is how many describes and "
            f"tag listings run at once per account and region: 1 to "
            f"{MAX_DESCRIBE_CONCURRENCY} (default {DEFAULT_DESCRIBE_CONCURRENCY}), not {count!r}"
        )
    return count


def _account_access(path: Path, document: Document, account: str, entry: object) -> AccountAccess:
    def where(*keys: str, key: bool = True) -> str:
        span = document.locate(("accounts", account, *keys), key=key)
        return f"{path}:{span.line}:{span.col}"

    if not _ACCOUNT_ID.fullmatch(account):
        hint = ""
        if account.isascii() and account.isdigit() and len(account) < 12:
            # YAML reads an unquoted 012345678901 as the number 12345678901.
            hint = " (if it starts with 0, quote it: YAML drops the leading zeros of a number)"
        raise ConfigError(f"{where()}: account id {account!r} is not 12 digits{hint}")
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{where(key=False)}: account {account} needs a mapping with 'profile' or 'role_arn'"
        )
    for key, value in entry.items():
        if key not in ACCOUNT_SETTINGS:
            raise ConfigError(
                f"{where(key)}: unknown setting {key!r} of account {account}"
                f"{_suggest(key, ACCOUNT_SETTINGS)}"
            )
        expected = int if key == "duration_seconds" else str
        if type(value) is not expected or value == "":
            kind = "an integer" if expected is int else "a non-empty string"
            raise ConfigError(f"{where(key, key=False)}: {key!r} must be {kind}")
    if "profile" in entry and "role_arn" in entry:
        raise ConfigError(
            f"{where('role_arn')}: account {account} has both 'profile' and 'role_arn': keep one"
        )
    if "profile" not in entry and "role_arn" not in entry:
        raise ConfigError(
            f"{where()}: account {account} needs 'profile' (a named AWS profile) "
            "or 'role_arn' (a role to assume)"
        )
    if "profile" in entry:
        for key in ACCOUNT_SETTINGS[2:]:
            if key in entry:
                raise ConfigError(
                    f"{where(key)}: {key!r} goes with 'role_arn'; account {account} uses a profile"
                )
        return AccountAccess(account, profile=entry["profile"])
    role_arn = entry["role_arn"]
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ConfigError(
            f"{where('role_arn', key=False)}: 'role_arn' must be an IAM role ARN, "
            f"arn:aws:iam::{account}:role/NAME, not {role_arn!r}"
        )
    if match.group(1) != account:
        raise ConfigError(
            f"{where('role_arn', key=False)}: the role {role_arn} is in account "
            f"{match.group(1)}, not {account}: assuming it gives credentials of its own account"
        )
    checks = (
        ("external_id", _EXTERNAL_ID, "2 to 1224 letters, digits or +=,.@:/-"),
        ("session_name", _SESSION_NAME, "2 to 64 letters, digits or +=,.@-"),
    )
    for key, pattern, what in checks:
        if key in entry and not pattern.fullmatch(entry[key]):
            raise ConfigError(
                f"{where(key, key=False)}: {key!r} must be {what}, not {entry[key]!r}"
            )
    duration = entry.get("duration_seconds")
    if duration is not None and not MIN_DURATION_SECONDS <= duration <= MAX_DURATION_SECONDS:
        raise ConfigError(
            f"{where('duration_seconds', key=False)}: 'duration_seconds' must be from "
            f"{MIN_DURATION_SECONDS} to {MAX_DURATION_SECONDS}, not {duration}"
        )
    return AccountAccess(
        account,
        role_arn=role_arn,
        external_id=entry.get("external_id"),
        session_name=entry.get("session_name", DEFAULT_SESSION_NAME),
        duration_seconds=duration,
    )


def _suggest(key: str, known: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f": did you mean {close[0]!r}?"
    return f"; known: {', '.join(known)}"


def load_settings(
    *,
    specs: str | None = None,
    state: str | None = None,
    backend: str | None = None,
    cwd: Path | None = None,
) -> Settings:
    root = find_root(cwd)
    config_path = root / CONFIG_FILE
    config = _read_config(config_path) if config_path.exists() else {}
    backend = backend or os.environ.get("PERSONALIZE_RUNNER_BACKEND") or config.get("backend")
    backend = backend or DEFAULT_BACKEND
    if backend not in BACKEND_NAMES:
        raise ConfigError(f"unknown backend {backend!r}: use one of {', '.join(BACKEND_NAMES)}")
    if state is not None and "\0" in state:
        raise ConfigError(f"--state {_NUL_IN_STATE}")
    specs_path = Path(specs) if specs else root / config.get("specs", DEFAULT_SPECS)
    state_location = state or config.get("state") or str(root / DEFAULT_STATE)
    if "://" not in state_location and not Path(state_location).is_absolute() and not state:
        state_location = str(root / state_location)
    return Settings(
        root=root,
        specs=specs_path,
        state=state_location,
        backend=backend,
        accounts=config.get("accounts", {}),
        config_file=config_path if config_path.is_file() else None,
        lint_ignore=config.get("lint", frozenset()),
        quotas=config.get("quotas", {}),
        describe_concurrency=config.get("concurrency", DEFAULT_DESCRIBE_CONCURRENCY),
    )

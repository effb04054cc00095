"""`personalize-runner.yaml`: the settings, and how each account is reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.config import AccountAccess, load_settings
from runner.errors import ConfigError
from tests.support.cli import run_cli
from tests.support.job_specs import write_specs
from tests.support.personalize_server import PersonalizeServer


def settings_error(tmp_path: Path, text: str) -> str:
    (tmp_path / "personalize-runner.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cwd=tmp_path)
    return str(info.value).replace(f"{tmp_path.resolve()}/", "")


def test_accounts_by_profile_and_by_role(tmp_path: Path) -> None:
    (tmp_path / "personalize-runner.yaml").write_text(
        "backend: aws\n"
        "accounts:\n"
        '  "123456789012":\n'
        "    profile: growth-prod\n"
        '  "210987654321":\n'
        "    role_arn: arn:aws:iam::210987654321:role/ci/personalize-runner\n"
        "    external_id: acme-7f3c\n"
        "    session_name: ci-run-42\n"
        "    duration_seconds: 7200\n"
        '  "000123456789":\n'
        "    role_arn: arn:aws-cn:iam::000123456789:role/personalize-runner\n",
        encoding="utf-8",
    )

    settings = load_settings(cwd=tmp_path)

    assert settings.backend == "aws"
    assert settings.accounts == {
        "123456789012": AccountAccess("123456789012", profile="growth-prod"),
        "210987654321": AccountAccess(
            "210987654321",
            role_arn="arn:aws:iam::210987654321:role/ci/personalize-runner",
            external_id="acme-7f3c",
            session_name="ci-run-42",
            duration_seconds=7200,
        ),
        "000123456789": AccountAccess(
            "000123456789",
            role_arn="arn:aws-cn:iam::000123456789:role/personalize-runner",
            session_name="personalize-runner",
        ),
    }
    assert str(settings.accounts["123456789012"]) == "the profile 'growth-prod'"
    assert str(settings.accounts["000123456789"]) == (
        "the role arn:aws-cn:iam::000123456789:role/personalize-runner"
    )


def test_the_inference_quota_is_a_setting(tmp_path: Path) -> None:
    (tmp_path / "personalize-runner.yaml").write_text(
        "quotas:\n  batch_inference_jobs: 20\n", encoding="utf-8"
    )
    assert load_settings(cwd=tmp_path).quotas == {"BatchInferenceJob": 20}
    (tmp_path / "personalize-runner.yaml").write_text("backend: local\n", encoding="utf-8")
    # The kinds' own quotas (5 each) apply.
    assert load_settings(cwd=tmp_path).quotas == {}


def test_no_configuration_means_no_accounts(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()

    assert load_settings(cwd=tmp_path).accounts == {}


def test_an_unquoted_twelve_digit_account_id_is_read_as_written(tmp_path: Path) -> None:
    (tmp_path / "personalize-runner.yaml").write_text(
        "accounts:\n  123456789012: {profile: growth-prod}\n", encoding="utf-8"
    )

    assert list(load_settings(cwd=tmp_path).accounts) == ["123456789012"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "acounts: {}\n",
            "personalize-runner.yaml:1:1: unknown setting 'acounts': did you mean 'accounts'?",
            id="unknown-setting-close",
        ),
        pytest.param(
            "regions: {}\n",
            "personalize-runner.yaml:1:1: unknown setting 'regions'; "
            "known: accounts, backend, concurrency, lint, quotas, specs, state",
            id="unknown-setting",
        ),
        pytest.param(
            "accounts:\n  - 123456789012\n",
            "personalize-runner.yaml:1:1: 'accounts' maps account ids to settings",
            id="accounts-not-a-mapping",
        ),
        pytest.param(
            'accounts:\n  "12345678901": {profile: growth}\n',
            "personalize-runner.yaml:2:3: account id '12345678901' is not 12 digits "
            "(if it starts with 0, quote it: YAML drops the leading zeros of a number)",
            id="eleven-digits",
        ),
        pytest.param(
            "accounts:\n  012345678901: {profile: growth}\n",
            "personalize-runner.yaml:2:3: account id '12345678901' is not 12 digits "
            "(if it starts with 0, quote it: YAML drops the leading zeros of a number)",
            id="unquoted-leading-zero",
        ),
        pytest.param(
            'accounts:\n  "1234567890123": {profile: growth}\n',
            "personalize-runner.yaml:2:3: account id '1234567890123' is not 12 digits",
            id="thirteen-digits",
        ),
        pytest.param(
            "accounts:\n  growth-prod: {profile: growth}\n",
            "personalize-runner.yaml:2:3: account id 'growth-prod' is not 12 digits",
            id="name-not-id",
        ),
        pytest.param(
            'accounts:\n  "123456789012": growth-prod\n',
            "personalize-runner.yaml:2:19: account 123456789012 needs a mapping with "
            "'profile' or 'role_arn'",
            id="entry-not-a-mapping",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    profil: growth-prod\n',
            "personalize-runner.yaml:3:5: unknown setting 'profil' of account 123456789012: "
            "did you mean 'profile'?",
            id="unknown-account-setting-close",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    region: us-east-1\n',
            "personalize-runner.yaml:3:5: unknown setting 'region' of account 123456789012; "
            "known: profile, role_arn, external_id, session_name, duration_seconds",
            id="unknown-account-setting",
        ),
        pytest.param(
            'accounts:\n  "123456789012": {}\n',
            "personalize-runner.yaml:2:3: account 123456789012 needs 'profile' "
            "(a named AWS profile) or 'role_arn' (a role to assume)",
            id="neither",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    profile: growth\n'
            "    role_arn: arn:aws:iam::123456789012:role/runner\n",
            "personalize-runner.yaml:4:5: account 123456789012 has both 'profile' and "
            "'role_arn': keep one",
            id="both",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    profile: 42\n',
            "personalize-runner.yaml:3:14: 'profile' must be a non-empty string",
            id="profile-not-a-string",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    profile: ""\n',
            "personalize-runner.yaml:3:14: 'profile' must be a non-empty string",
            id="profile-empty",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    profile: growth\n    external_id: x7\n',
            "personalize-runner.yaml:4:5: 'external_id' goes with 'role_arn'; "
            "account 123456789012 uses a profile",
            id="external-id-with-profile",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    role_arn: arn:aws:iam::123456789012:user/runner\n',
            "personalize-runner.yaml:3:15: 'role_arn' must be an IAM role ARN, "
            "arn:aws:iam::123456789012:role/NAME, not 'arn:aws:iam::123456789012:user/runner'",
            id="user-arn",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    role_arn: personalize-runner\n',
            "personalize-runner.yaml:3:15: 'role_arn' must be an IAM role ARN, "
            "arn:aws:iam::123456789012:role/NAME, not 'personalize-runner'",
            id="role-name",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n    role_arn: arn:aws:iam::210987654321:role/runner\n',
            "personalize-runner.yaml:3:15: the role arn:aws:iam::210987654321:role/runner "
            "is in account 210987654321, not 123456789012: assuming it gives credentials "
            "of its own account",
            id="role-of-another-account",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n'
            "    role_arn: arn:aws:iam::123456789012:role/runner\n"
            "    session_name: ci run\n",
            "personalize-runner.yaml:4:19: 'session_name' must be 2 to 64 letters, digits "
            "or +=,.@-, not 'ci run'",
            id="session-name",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n'
            "    role_arn: arn:aws:iam::123456789012:role/runner\n"
            '    external_id: "x"\n',
            "personalize-runner.yaml:4:18: 'external_id' must be 2 to 1224 letters, digits "
            "or +=,.@:/-, not 'x'",
            id="external-id",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n'
            "    role_arn: arn:aws:iam::123456789012:role/runner\n"
            "    duration_seconds: 1h\n",
            "personalize-runner.yaml:4:23: 'duration_seconds' must be an integer",
            id="duration-not-an-integer",
        ),
        pytest.param(
            'accounts:\n  "123456789012":\n'
            "    role_arn: arn:aws:iam::123456789012:role/runner\n"
            "    duration_seconds: 600\n",
            "personalize-runner.yaml:4:23: 'duration_seconds' must be from 900 to 43200, not 600",
            id="duration-too-short",
        ),
        pytest.param(
            "quotas:\n  batch_segment_jobs: 10\n",
            "personalize-runner.yaml:2:3: the quota of batch segment jobs is fixed at 5 per "
            "region by the service: it cannot be set",
            id="segment-quota-fixed",
        ),
        pytest.param(
            "quotas:\n  batch_inference_job: 10\n",
            "personalize-runner.yaml:2:3: unknown quota 'batch_inference_job': did you mean "
            "'batch_inference_jobs'?",
            id="unknown-quota",
        ),
        pytest.param(
            "quotas:\n  batch_inference_jobs: 0\n",
            "personalize-runner.yaml:2:25: quotas.batch_inference_jobs is the number of batch "
            "inference jobs pending or in progress per account and region: 1 to 1000 (the "
            "service's default is 5, raised through Service Quotas), not 0",
            id="quota-zero",
        ),
        pytest.param(
            "quotas: 10\n",
            "personalize-runner.yaml:1:9: 'quotas' maps batch_inference_jobs to a number of jobs",
            id="quotas-not-a-mapping",
        ),
    ],
)
def test_configuration_errors(tmp_path: Path, text: str, message: str) -> None:
    assert settings_error(tmp_path, text) == message


# A NUL byte in the state's location (issue 10): Python's file calls raise ValueError on one,
# a traceback in plan, status and reconcile. Refused up front, naming where it came from.

NUL_REFUSAL = "holds a NUL byte (\\0), which no file's path nor S3 key can hold"
COMMANDS = [
    ("lint",),
    ("plan",),
    ("plan", "--refresh"),
    ("status",),
    ("status", "--refresh"),
    ("reconcile",),
    ("wait", "--timeout", "0"),
    ("state", "list"),
]


@pytest.fixture
def recorded_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, personalize_server: PersonalizeServer
) -> Path:
    """A repository whose job alpha is recorded (unfinished), at the HTTP stand-in."""
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    (root / "personalize-runner.yaml").write_text("backend: aws\n", encoding="utf-8")
    monkeypatch.chdir(root)
    write_specs(root / "specs", ["alpha"])
    assert run_cli("reconcile").status == 0
    personalize_server.clear_calls()
    return root


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_state_setting_holding_a_nul_byte_is_refused(
    recorded_repo: Path, personalize_server: PersonalizeServer, args: tuple[str, ...]
) -> None:
    state = recorded_repo / ".personalize-runner" / "state.json"
    before = state.read_bytes()
    config = recorded_repo / "personalize-runner.yaml"
    config.write_text('backend: aws\nstate: "a\\0b"\n', encoding="utf-8")

    ran = run_cli(*args)

    assert (ran.status, ran.out) == (1, "")
    assert ran.err == f"error: {config.resolve()}:2:8: 'state' {NUL_REFUSAL}\n"
    assert state.read_bytes() == before
    assert personalize_server.calls == []


@pytest.mark.parametrize("location", ["a\0b", "s3://acme-state/runner/a\0b.json"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_state_option_holding_a_nul_byte_is_refused(
    recorded_repo: Path, personalize_server: PersonalizeServer, args: tuple[str, ...], location: str
) -> None:
    # No command line of a process can carry a NUL byte; a caller in the process can.
    state = recorded_repo / ".personalize-runner" / "state.json"
    before = state.read_bytes()

    ran = run_cli(*args, "--state", location)

    assert (ran.status, ran.out) == (1, "")
    assert ran.err == f"error: --state {NUL_REFUSAL}\n"
    assert state.read_bytes() == before
    assert personalize_server.calls == []

"""Settings shared by the commands: options, then `personalize-runner.yaml`, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import ConfigError

CONFIG_FILE = "personalize-runner.yaml"
DEFAULT_SPECS = "specs"
DEFAULT_STATE = ".personalize-runner/state.json"
DEFAULT_BACKEND = "local"
BACKENDS = ("aws", "local")


@dataclass(frozen=True)
class Settings:
    root: Path
    """The repository root: where `personalize-runner.yaml` or `.git` is."""
    specs: Path
    state: str
    """A path, or later `s3://bucket/key`."""
    backend: str
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    config_file: Path | None = None


def find_root(start: Path | None = None) -> Path:
    """The nearest folder, from `start` up, holding the config file or `.git`; else `start`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() or (folder / ".git").exists():
            return folder
    return here


def _read_config(path: Path) -> dict[str, Any]:
    from runner.yamlfile import YamlSyntaxError, decode

    try:
        text = path.read_text(encoding="utf-8")
        decoded = decode(text)
    except (OSError, UnicodeDecodeError) as error:
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
    known = {"specs", "state", "backend", "accounts"}
    for key, value in data.items():
        span = document.locate((key,), key=True)
        where = f"{path}:{span.line}:{span.col}"
        if key not in known:
            raise ConfigError(
                f"{where}: unknown setting {key!r}; known: {', '.join(sorted(known))}"
            )
        if key == "accounts":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: 'accounts' maps account ids to settings")
        elif not isinstance(value, str):
            raise ConfigError(f"{where}: {key!r} must be a string")
    return data


def load_settings(
    *,
    specs: str | None = None,
    state: str | None = None,
    backend: str | None = None,
    cwd: Path | None = None,
) -> Settings:
    root = find_root(cwd)
    config_path = root / CONFIG_FILE
    config = _read_config(config_path) if config_path.is_file() else {}
    backend = backend or os.environ.get("PERSONALIZE_RUNNER_BACKEND") or config.get("backend")
    backend = backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    specs_path = Path(specs) if specs else root / config.get("specs", DEFAULT_SPECS)
    state_location = state or config.get("state") or str(root / DEFAULT_STATE)
    if "://" not in state_location and not Path(state_location).is_absolute() and not state:
        state_location = str(root / state_location)
    return Settings(
        root=root,
        specs=specs_path,
        state=state_location,
        backend=backend,
        accounts=dict(config.get("accounts", {})),
        config_file=config_path if config_path.is_file() else None,
    )

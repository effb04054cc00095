"""A recorded spec file's digest taken unread (issue 11) only where the rule of
`runner.spec.fingerprints` allows: a file whose bytes changed is always read again, even
with its size and modification time put back as they were."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.digest import sha256_hex
from runner.spec import RecordedFile
from runner.spec.fingerprints import GRANULARITY_NS, Digests
from runner.spec.loader import load_specs
from tests.support.job_specs import spec_yaml

NAME = "specs/alpha.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    return root


def _write_old(path: Path, text: str) -> None:
    """`text` in `path`, modified well before now (more than the granularity)."""
    path.write_text(text, encoding="utf-8")
    old = path.stat().st_mtime_ns - 10 * GRANULARITY_NS
    os.utime(path, ns=(old, old))


def _load(root: Path, digest: str) -> list[str]:
    """The files found unchanged, recorded with `digest`."""
    recorded = {NAME: RecordedFile(digest, ("alpha",))}
    return list(load_specs([root / "specs"], root=root, recorded=recorded).unchanged_files)


def test_an_unchanged_file_is_taken_from_the_cache_without_reading(repo: Path) -> None:
    path = repo / NAME
    _write_old(path, spec_yaml("alpha"))
    digest = sha256_hex(path.read_bytes())

    assert _load(repo, digest) == [NAME]

    # The next load takes it from the cache: its fingerprint is the one cached.
    assert Digests(repo).cached(NAME, path.stat()) == digest
    assert _load(repo, digest) == [NAME]


def test_a_changed_file_is_read_again_even_with_its_times_and_size_put_back(repo: Path) -> None:
    path = repo / NAME
    text = spec_yaml("alpha")
    _write_old(path, text)
    digest = sha256_hex(path.read_bytes())
    assert _load(repo, digest) == [NAME]
    before = path.stat()

    # The same size and modification time: the change time moves, and tells.
    path.write_text(text.replace("alpha", "gamma"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size

    assert _load(repo, digest) == []


def test_a_file_modified_just_before_it_was_hashed_is_not_cached(repo: Path) -> None:
    path = repo / NAME
    path.write_text(spec_yaml("alpha"), encoding="utf-8")
    digest = sha256_hex(path.read_bytes())

    assert _load(repo, digest) == [NAME]

    assert Digests(repo).entries == {}


def test_an_unreadable_cache_is_no_cache(repo: Path) -> None:
    path = repo / NAME
    _write_old(path, spec_yaml("alpha"))
    digest = sha256_hex(path.read_bytes())
    assert _load(repo, digest) == [NAME]
    Digests(repo).path.write_text("{not json", encoding="utf-8")

    assert _load(repo, digest) == [NAME]
    assert NAME in Digests(repo).entries

"""Spec files' digests without reading the files that cannot have changed (issue 11).

`plan` and `reconcile` skip parsing a file whose bytes still have the digest the state
records (`load_specs(recorded=...)`); telling that took reading and hashing every file
(0.15 s of 10,000). A cache of this machine's, in the user's cache folder
(`$XDG_CACHE_HOME/personalize-runner/digests/`, one file per repository root; never in the
repository), keeps for each file the digest it had and the file's fingerprint then:
device, inode, size, modification and change times in nanoseconds.

The rule: a cached digest is taken for the file's without reading it only if the file's
fingerprint now is the one cached, and the file's modification time was older, when its
digest was computed, than that moment by more than `GRANULARITY` (2 s, the coarsest
timestamps of a file system a repository may be on). A write in the same tick as the
hashing could leave the times as they were; any later write moves the modification time
(or, if a tool sets that back, the change time, which no tool can) past the cached one.
A fingerprint alone is never trusted: a file is read and hashed whenever anything differs,
and a file modified within `GRANULARITY` of its hashing is not cached at all. A cache that
cannot be read or written is no cache: the digests are computed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from runner.digest import sha256_hex
from runner.fs import cache_home, read_regular_file, write_atomically

GRANULARITY_NS = 2_000_000_000
# 2: an entry is one string, "<fingerprint> <digest>" (1: a list of both), which a cache of
# 10,000 files reads in a sixth of the time.
_VERSION = 2
# A few hundred bytes a spec file.
_MAX_BYTES = 256 * 1024 * 1024


def fingerprint(status: os.stat_result) -> str:
    """Device, inode, size, modification and change times (ns) of a file, as one string."""
    return (
        f"{status.st_dev} {status.st_ino} {status.st_size} {status.st_mtime_ns} "
        f"{status.st_ctime_ns}"
    )


class Digests:
    """The cache of one repository, read when made, written by `save` if it changed."""

    def __init__(self, root: Path) -> None:
        self.path = cache_folder() / f"{sha256_hex(os.fsencode(os.path.abspath(root)))[:32]}.json"
        # By file name: "<fingerprint> <digest>".
        self.entries: dict[str, str] = {}
        self.changed = False
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            # Never waits on a FIFO in the cache's place (issue 10): no cache then.
            document = json.loads(read_regular_file(self.path, limit=_MAX_BYTES))
            if document.get("version") == _VERSION and isinstance(document["files"], dict):
                self.entries = document["files"]

    def cached(self, name: str, status: os.stat_result) -> str | None:
        """The digest of `name` if the rule (see the module) lets it be taken unread."""
        entry = self.entries.get(name)
        if type(entry) is not str:
            return None
        cached_fingerprint, _, digest = entry.rpartition(" ")
        return digest if cached_fingerprint == fingerprint(status) else None

    def unchanged(self, name: str, status: os.stat_result, digest: str) -> bool:
        """Whether the rule lets `name` be taken unread for a file whose digest is `digest`
        (`cached(name, status) == digest`, in one comparison: 10,000 files a plan)."""
        return self.entries.get(name) == f"{fingerprint(status)} {digest}"

    def remember(self, name: str, status: os.stat_result, digest: str, *, hashed_at: int) -> None:
        """`digest` of `name`, read after `status` was taken at `hashed_at` (ns, the clock
        of the file system's times): cached only if the file was not modified shortly
        before."""
        if hashed_at - status.st_mtime_ns <= GRANULARITY_NS:
            if self.entries.pop(name, None) is not None:
                self.changed = True
            return
        entry = f"{fingerprint(status)} {digest}"
        if self.entries.get(name) != entry:
            self.entries[name] = entry
            self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        with contextlib.suppress(OSError):
            data = json.dumps({"version": _VERSION, "files": self.entries}, sort_keys=True)
            write_atomically(self.path, data.encode())
        self.changed = False


def now_ns() -> int:
    return time.time_ns()


def cache_folder() -> Path:
    return cache_home() / "digests"

"""The file store's journal (`<state>.journal`): the deltas recorded since the snapshot.

Each change is one line, appended and flushed to disk (`fsync`) before the runner goes on:

    <length> <sha256> <delta>

where `<length>` is the delta's size in bytes and `<sha256>` its digest (both decimal and
lowercase hex), so that a line a crash cut short (a torn tail) is told from a whole one.
The first line is the journal's header, in the same frame: `{"journal": 1, "lineage": …,
"base_serial": …, "base_sha256": …}`, the snapshot it continues. A torn last line is
ignored (the job it was recording is not recorded: the next reconcile adopts it) and cut
off before the next append; a damaged line with whole lines after it is no crash's doing
and makes the state unreadable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from runner import faults
from runner.errors import StateError
from runner.fs import NotRegularFile, open_regular, read_regular_file
from runner.jsonread import DEFAULT_LIMITS, Limits, parse
from runner.state.delta import Delta

JOURNAL_VERSION = 1
_HEADER_LIMITS = Limits(max_bytes=64 * 1024, max_depth=2)


@dataclass(frozen=True)
class Header:
    lineage: str
    base_serial: int
    base_sha256: str

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "journal": JOURNAL_VERSION,
                "lineage": self.lineage,
                "base_serial": self.base_serial,
                "base_sha256": self.base_sha256,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")


@dataclass(frozen=True)
class Journal:
    """A journal as read: its header (None: empty, or only a torn header), its deltas,
    and how many of its bytes are whole lines (what follows is a torn tail)."""

    header: Header | None
    deltas: list[Delta]
    valid_bytes: int
    torn_bytes: int

    @property
    def token(self) -> str:
        """What tells this journal from a longer or shorter one, for a version token."""
        return f"{self.valid_bytes}"


def frame(payload: bytes) -> bytes:
    return b"%d %s %s\n" % (len(payload), hashlib.sha256(payload).hexdigest().encode(), payload)


def _unframe(line: bytes) -> bytes | None:
    """The payload of a whole line (without its newline), or None if it is damaged."""
    length, _, rest = line.partition(b" ")
    digest, _, payload = rest.partition(b" ")
    if not length.isdigit() or int(length) != len(payload):
        return None
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        return None
    return payload


def read(path: Path, *, where: str) -> Journal | None:
    """The journal at `path`, or None if there is none."""
    try:
        data = read_regular_file(path, limit=DEFAULT_LIMITS.max_bytes)
    except FileNotFoundError:
        return None
    except NotRegularFile as error:
        raise StateError(
            f"{where} is {error.what}, not a regular file: the runner neither reads nor "
            "replaces it. Remove it (the runner makes the journal when it needs one)."
        ) from None
    except OSError as error:
        raise StateError(
            f"cannot read {where}: {error.strerror}. Check its permissions; the runner will "
            "not overwrite it."
        ) from None
    lines = data.split(b"\n")
    # What follows the last newline: empty, or a torn line.
    complete, tail = lines[:-1], lines[-1]
    payloads: list[bytes] = []
    valid = 0
    for number, line in enumerate(complete, start=1):
        payload = _unframe(line)
        if payload is None:
            if number == len(complete) and not tail:
                # The last line, torn in a way that kept a newline: still a torn tail.
                tail = line
                break
            raise StateError(
                f"cannot read {where}: line {number} is damaged (its length or digest does not "
                "match) and whole lines follow it, which no crash leaves. Restore the state "
                "from version control or its backup; the runner will not overwrite it."
            )
        payloads.append(payload)
        valid += len(line) + 1
    if not payloads:
        return Journal(None, [], 0, len(data))
    try:
        document = parse(payloads[0], limits=_HEADER_LIMITS)
        header = Header(
            lineage=str(document["lineage"]),
            base_serial=int(document["base_serial"]),
            base_sha256=str(document["base_sha256"]),
        )
        if document.get("journal") != JOURNAL_VERSION:
            raise ValueError("version")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StateError(
            f"cannot read {where}: its first line is not a journal header this "
            f"personalize-runner writes (version {JOURNAL_VERSION}). Upgrade personalize-runner, "
            "or restore the state; the runner will not overwrite it."
        ) from None
    deltas = [
        Delta.from_json(payload, source=f"{where}, line {number}")
        for number, payload in enumerate(payloads[1:], start=2)
    ]
    return Journal(header, deltas, valid, len(data) - valid)


def append(path: Path, *, header: Header | None, delta: Delta, valid_bytes: int) -> int:
    """Append `delta` (after `header`, for a new journal) and flush it to disk; a torn tail
    beyond `valid_bytes` is cut off first. Returns the journal's length after it."""
    line = frame(delta.to_json())
    if header is not None:
        line = frame(header.to_json()) + line
    new = not path.exists()
    fd = open_regular(path, os.O_WRONLY | os.O_CREAT)
    try:
        if os.fstat(fd).st_size != valid_bytes:
            os.ftruncate(fd, valid_bytes)
        os.lseek(fd, valid_bytes, os.SEEK_SET)
        if faults.at("journal-torn"):
            os.write(fd, line[: len(line) // 2])
            faults.crash()
        _write_all(fd, line)
        faults.crash_at("journal-written")
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        _fsync_directory(path.parent)
    faults.crash_at("journal-synced")
    return valid_bytes + len(line)


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    _fsync_directory(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)

"""Large states' records as decoded before, by the sha256 of the bytes they came from
(issue 11: decoding 10,000 records was a quarter of a `plan` of an up-to-date repository).

A state of at least `MIN_BYTES`, once the codec has read it (and so checked it), is kept
decoded in the user's cache folder (`$XDG_CACHE_HOME/personalize-runner/states/`, never in
the repository), one file per state named by the sha256 of its bytes. A later read of the
same bytes takes the records from there: what the codec made of those bytes, since the
bytes are the same. A state written anew has a new digest, so nothing is ever looked up by
a file's name, time or size.

An entry is a header line (the format, the record's fields and the runner's version, a
CRC-32 of the rest) and a pickle read by an unpickler that makes nothing but datetimes and
the plain values of a record: an entry from another version, torn, changed or anything
else is no entry, and the bytes are decoded. At most `KEEP` entries are kept (the newest).
A cache that cannot be read or written is no cache.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import os
import pickle
import zlib
from dataclasses import fields
from pathlib import Path
from typing import Any

from runner import __version__
from runner.fs import cache_home, read_regular_file, write_atomically
from runner.state.record import JobRecord

# Below this, the codec decodes a state in a few milliseconds: not worth a file.
MIN_BYTES = 256 * 1024
KEEP = 4
_SUFFIX = ".records"
# What an entry's header says: a change of the runner or of the record's fields is a new
# key, so an entry is read only by the runner that wrote it.
_FIELDS = ",".join(field.name for field in fields(JobRecord))
_KEY = hashlib.sha256(f"1 {__version__} {_FIELDS}".encode()).hexdigest()[:16].encode()
# What a state's cached records may be made of besides plain values (`JobRecord`'s times).
_CLASSES = {
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "timezone"): datetime.timezone,
    ("datetime", "timedelta"): datetime.timedelta,
}
_SHARED = (str, datetime.datetime)
_new_record = object.__new__
_set_attributes = object.__setattr__

Decoded = tuple[int, str, int, dict[str, JobRecord]]


def folder() -> Path:
    return cache_home() / "states"


def load(sha256: str) -> Decoded | None:
    """The format version, lineage, serial and records of the state whose bytes have
    `sha256`, as decoded before; None if no entry holds them."""
    try:
        data = read_regular_file(folder() / f"{sha256}{_SUFFIX}", limit=1 << 30)
        header, _, body = data.partition(b"\n")
        key, crc = header.split(b" ")
        if key != _KEY or int(crc) != zlib.crc32(body):
            return None
        version, lineage, serial, jobs = _Unpickler(io.BytesIO(body)).load()
        if not (type(version) is int and type(lineage) is str and type(serial) is int):
            return None
        records: dict[str, JobRecord] = {}
        for name, attributes in jobs.items():
            record = _new_record(JobRecord)
            _set_attributes(record, "__dict__", attributes)
            records[name] = record
    except Exception:  # anything an entry can hold is no entry
        return None
    return version, lineage, serial, records


def store(sha256: str, decoded: Decoded) -> None:
    """Keep what the codec decoded from the bytes whose digest is `sha256`."""
    version, lineage, serial, records = decoded
    # Equal values as one object (a region, a status, a commit of many records): the
    # pickle holds each once, and the records read back share it (a third less to make).
    shared: dict[object, object] = {}
    jobs = {
        name: {
            field: shared.setdefault(value, value) if type(value) in _SHARED else value
            for field, value in vars(record).items()
        }
        for name, record in records.items()
    }
    body = pickle.dumps((version, lineage, serial, jobs), protocol=pickle.HIGHEST_PROTOCOL)
    with contextlib.suppress(OSError):
        path = folder() / f"{sha256}{_SUFFIX}"
        write_atomically(path, b"%s %d\n%s" % (_KEY, zlib.crc32(body), body))
        _prune(path)


def _prune(kept: Path) -> None:
    """Remove all but the `KEEP` newest entries, `kept` (the one just written) among them."""
    entries = []
    for entry in os.scandir(kept.parent):
        if entry.name.endswith(_SUFFIX) and entry.name != kept.name:
            with contextlib.suppress(OSError):
                entries.append((entry.stat().st_mtime_ns, entry.path))
    for _, path in sorted(entries, reverse=True)[KEEP - 1 :]:
        with contextlib.suppress(OSError):
            os.unlink(path)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = _CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a record's")
        return found

"""The S3 store's deltas: each change of the state under the lock is a small object,
`<key>.deltas/<lineage>/<serial>.json` (`runner.state.delta`), so that recording a job
uploads that job's record, not the whole state (issue 11).

Why this is safe without the lock (the lock is a lease, and a lapsed holder may still
write): a delta is written with `If-None-Match: *`, so two runs that both extend serial
`n` cannot both write `n + 1`: the second is refused (412), re-reads, and stops. The
snapshot is a checkpoint of the chain: compaction writes the state at serial `s` over
the snapshot it read (`If-Match` its ETag), then removes the deltas up to `s`; a delta
written meanwhile (`s + 1`) stays and still follows the new snapshot. A delta whose key
was free because a compaction had removed it (its serial is in the new snapshot already,
so readers skip it) is told apart after the write: the writer looks at the snapshot's
ETag, and if the snapshot moved past its delta's serial, the write is refused as a
conflict (it may or may not have been folded: the run stops, and the next run reads what
is there). A reader lists the deltas after reading the snapshot; a gap after the
snapshot's serial means a compaction ran in between, and the reader reads again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from runner.boto import s3_errors
from runner.errors import StateError
from runner.service import S3Error, S3Unreachable
from runner.state.delta import Delta
from runner.state.s3objects import S3Objects

# Zero-padded so that S3 lists the deltas in serial order.
_SERIAL_DIGITS = 12


def prefix(key: str, lineage: str) -> str:
    return f"{key}.deltas/{lineage}/"


def delta_key(key: str, lineage: str, serial: int) -> str:
    return f"{prefix(key, lineage)}{serial:0{_SERIAL_DIGITS}d}.json"


@dataclass(frozen=True)
class Listed:
    serial: int
    key: str


def listed(objects: S3Objects, key: str, lineage: str) -> list[Listed]:
    """The deltas of `lineage` beside the state `key`, in serial order."""
    where = objects.url(prefix(key, lineage))
    found = []
    try:
        for name in _list(objects, prefix(key, lineage)):
            stem = name.rpartition("/")[2].removesuffix(".json")
            if stem.isdigit() and name == delta_key(key, lineage, int(stem)):
                found.append(Listed(int(stem), name))
    except S3Error as error:
        if error.denied:
            raise StateError(
                f"cannot list the state's deltas {where}*: {error}. The role needs "
                f"s3:ListBucket on the bucket {objects.bucket} (for the prefix {key}.deltas/) "
                "and s3:GetObject, s3:PutObject and s3:DeleteObject on "
                f"s3://{objects.bucket}/{key}.deltas/*."
            ) from None
        raise objects.failure("list", where, error) from None
    except S3Unreachable as error:
        raise objects.unreachable("list", where, error) from None
    return sorted(found, key=lambda delta: delta.serial)


def _list(objects: S3Objects, prefix: str) -> Iterator[str]:
    token: str | None = None
    while True:
        with s3_errors():
            if token is None:
                page = objects.client.list_objects_v2(Bucket=objects.bucket, Prefix=prefix)
            else:
                page = objects.client.list_objects_v2(
                    Bucket=objects.bucket, Prefix=prefix, ContinuationToken=token
                )
        for entry in page.get("Contents", ()):
            yield entry["Key"]
        if not page.get("IsTruncated"):
            return
        token = page.get("NextContinuationToken")
        if not token:
            return


def read_deltas(
    objects: S3Objects, key: str, lineage: str, after: int
) -> tuple[list[Delta], list[Listed], str | None] | None:
    """The deltas after serial `after` (the snapshot's), the deltas listed (all serials),
    and the ETag of the last one read; None if they do not follow `after` without a gap
    (a compaction ran since the snapshot was read: read again)."""
    every = listed(objects, key, lineage)
    deltas: list[Delta] = []
    etag = None
    serial = after
    for entry in every:
        if entry.serial <= after:
            continue
        if entry.serial != serial + 1:
            return None
        got = objects.get(entry.key, what=objects.url(entry.key))
        if got is None:
            # Removed by a compaction between the listing and now.
            return None
        delta = Delta.from_json(got.data, source=objects.url(entry.key))
        if (delta.lineage, delta.serial) != (lineage, entry.serial):
            raise StateError(
                f"cannot read the state delta {objects.url(entry.key)}: it holds serial "
                f"{delta.serial} of lineage {delta.lineage}, not what its key says. Remove it "
                "if it was put there by hand; the runner will not overwrite it."
            )
        deltas.append(delta)
        etag = got.etag
        serial = entry.serial
    return deltas, every, etag


def put_delta(objects: S3Objects, key: str, delta: Delta) -> tuple[str, bool]:
    """Write `delta` if no delta of its serial exists: its ETag, and whether it was
    written (False: another run's delta of that serial is there)."""
    name = delta_key(key, delta.lineage, delta.serial)
    data = delta.to_json()
    try:
        with s3_errors():
            response = objects.client.put_object(
                Bucket=objects.bucket,
                Key=name,
                Body=data,
                ContentType="application/json",
                IfNoneMatch="*",
            )
    except S3Error as error:
        if not error.conflict:
            raise objects.failure("write", objects.url(name), error) from None
        # A retried request whose first attempt was written is this run's own delta.
        got = objects.get(name, what=objects.url(name))
        if got is not None and got.data == data:
            return got.etag, True
        return "", False
    except S3Unreachable as error:
        raise objects.unreachable("write", objects.url(name), error) from None
    return response["ETag"], True


def stored_etag(objects: S3Objects, key: str, *, what: str) -> str | None:
    """The snapshot's ETag now (None: there is none), from a HEAD request."""
    try:
        with s3_errors():
            response = objects.client.head_object(Bucket=objects.bucket, Key=key)
    except S3Error as error:
        if error.missing:
            return None
        raise objects.failure("read", what, error) from None
    except S3Unreachable as error:
        raise objects.unreachable("read", what, error) from None
    etag: str = response["ETag"]
    return etag


def remove_deltas(objects: S3Objects, deltas: list[Listed], *, upto: int) -> None:
    """Remove the deltas of serial `upto` or lower (folded into the snapshot)."""
    for entry in deltas:
        if entry.serial <= upto:
            objects.delete(entry.key, etag=None)

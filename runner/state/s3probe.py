"""What the S3 store proves of a bucket before it trusts it with a run's records.

Once per store, `check_conditional_writes`: the store honours `If-None-Match: *` and
`If-Match` on PutObject, on an object that exists and on one that does not (some
S3-compatible stores accept the headers and ignore them; two runs could then overwrite each
other's records). It works on a probe object of its own, `<key>.probe-<uuid>`.

Before a run's first create, `check_run_writes`: every kind of write the run will make is
allowed, so that a role whose policy lacks one is refused before a job exists, not after
(when the job's ARN could not be recorded). A run writes:

- deltas, `<key>.deltas/<lineage>/<serial>.json` (PutObject, `If-None-Match: *`), removed
  once folded (DeleteObject): proven by writing and deleting `<key>.deltas/probe-<uuid>`,
  under the same prefix but outside every lineage's folder, so a reader never lists it;
- the state object `<key>` itself (PutObject): its first version when there is none, and
  the deltas folded into it when the lock is released. It must be proven without ever
  writing it: a PutObject with `If-Match` on an ETag that no object has. S3 checks the
  permission before the condition, so a role that may not write the key is answered 403,
  and one that may is answered 412 (the object exists) or 404 (it does not); the condition
  can never hold, and `check_conditional_writes` has already shown that this store honours
  it, on an object that exists and on one that does not;
- and the next run reads the deltas back by listing them (ListBucket on the prefix), which
  a run over an existing state has already done when it read it.
"""

from __future__ import annotations

import contextlib
import uuid

from runner.boto import s3_errors
from runner.errors import StateError
from runner.service import S3Error, S3Unreachable
from runner.state.s3objects import S3Objects

# A real ETag is never this (it is an MD5 or an MD5 with a part count).
IMPOSSIBLE_ETAG = '"00000000000000000000000000000000-0"'
_NOT_WRITTEN = b"must not be written\n"


def check_conditional_writes(objects: S3Objects, key: str) -> None:
    """`StateError` if the store behind `objects` does not honour conditional writes."""
    bucket = objects.bucket
    probe = f"{key}.probe-{uuid.uuid4()}"
    absent = f"{probe}.absent"
    where = objects.url(probe)
    ignored: list[str] = []
    written = [probe]
    # Each attempt must be refused: the header it tries, the object, whether "no such key"
    # is a refusal too (the object does not exist).
    attempts = (
        ("If-None-Match: *", probe, False),
        ("If-Match", probe, False),
        ("If-Match", absent, True),
    )
    try:
        with s3_errors():
            objects.client.put_object(Bucket=bucket, Key=probe, Body=b"probe\n")
        for header, name, missing_refuses in attempts:
            try:
                with s3_errors():
                    if header == "If-Match":
                        objects.client.put_object(
                            Bucket=bucket, Key=name, Body=_NOT_WRITTEN, IfMatch=IMPOSSIBLE_ETAG
                        )
                    else:
                        objects.client.put_object(
                            Bucket=bucket, Key=name, Body=_NOT_WRITTEN, IfNoneMatch="*"
                        )
            except S3Error as error:
                if not (error.conflict or (missing_refuses and error.missing)):
                    raise
            else:
                if name not in written:
                    written.append(name)
                if header not in ignored:
                    ignored.append(header)
    except S3Error as error:
        raise objects.failure("check conditional writes on", where, error) from None
    except S3Unreachable as error:
        raise objects.unreachable("check conditional writes on", where, error) from None
    finally:
        for name in written:
            with contextlib.suppress(S3Unreachable, StateError):
                objects.delete(name, etag=None)
    if ignored:
        raise StateError(
            f"the store behind s3://{bucket} ignores conditional writes "
            f"({' and '.join(ignored)} on PutObject): two runs could overwrite each "
            "other's records there, so the runner refuses to keep its state in it. Use "
            "Amazon S3, or an S3-compatible store that implements conditional writes, or "
            "a local state file."
        )


def check_run_writes(objects: S3Objects, key: str, *, deltas_listed: bool) -> None:
    """`StateError` if the credentials may not make a run's writes to the state `key`
    (see the module's docstring); `deltas_listed`: the run read a state, deltas listed."""
    bucket = objects.bucket
    deltas = f"{key}.deltas/"
    probe = f"{deltas}probe-{uuid.uuid4()}"
    grant = (
        f"s3:GetObject, s3:PutObject and s3:DeleteObject on s3://{bucket}/{key} and "
        f"s3://{bucket}/{deltas}*, and s3:ListBucket on the bucket {bucket} (for the prefix "
        f"{deltas})"
    )

    def refused(action: str, where: str, error: S3Error | S3Unreachable) -> StateError:
        if isinstance(error, S3Unreachable):
            return objects.unreachable(action, where, error)
        if not error.denied:
            return objects.failure(action, where, error)
        return StateError(
            f"cannot {action} {where}: {error}. A run writes there as it records its jobs, "
            f"so nothing was submitted: the role needs {grant}."
        )

    try:
        with s3_errors():
            objects.client.put_object(Bucket=bucket, Key=probe, Body=b"probe\n", IfNoneMatch="*")
    except (S3Error, S3Unreachable) as error:
        raise refused("write", objects.url(probe), error) from None
    try:
        with s3_errors():
            objects.client.delete_object(Bucket=bucket, Key=probe)
    except (S3Error, S3Unreachable) as error:
        raise refused("delete", objects.url(probe), error) from None
    try:
        with s3_errors():
            objects.client.put_object(
                Bucket=bucket, Key=key, Body=_NOT_WRITTEN, IfMatch=IMPOSSIBLE_ETAG
            )
    except S3Error as error:
        if not (error.conflict or error.missing):
            raise refused("write", objects.url(key), error) from None
    except S3Unreachable as error:
        raise refused("write", objects.url(key), error) from None
    else:
        raise StateError(
            f"the store behind s3://{bucket} wrote {objects.url(key)} under an If-Match that "
            "no object matches: it ignores conditional writes, and the state there may be "
            "damaged. Restore an earlier version of the object; the runner will not keep its "
            "state in that store."
        )
    if not deltas_listed:
        try:
            with s3_errors():
                objects.client.list_objects_v2(Bucket=bucket, Prefix=deltas, MaxKeys=1)
        except (S3Error, S3Unreachable) as error:
            raise refused("list", objects.url(deltas) + "*", error) from None

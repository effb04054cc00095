"""A state's records of the usual form, checked a field of all of them at a time.

The usual record (every field, where its spec stood in its file, no optional field, a batch
segment job) is most of any state. `usual_records` makes the checks of
`runner.state.codec`'s reader for each record, but over each field's values at once: for
10,000 records a few passes in C instead of some forty checks each in Python (issue 11: a
`plan`'s state). It says only whether all are well-formed; the codec checks any that are
not one at a time, for the message that names the record and the field.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Sequence
from itertools import repeat
from typing import Any, cast

from runner.state.record import RECORDED_BY, JobRecord

# The fields of a record of the usual form, in the order `usual_records` takes them.
FIELDS = (
    "arn",
    "partition",
    "region",
    "account",
    "status",
    "spec_file",
    "spec_digest",
    "request_digest",
    "recorded_by",
    "git_commit",
    "failure_reason",
    "submitted_at",
    "created_at",
    "updated_at",
    "status_checked_at",
    "spec_index",
    "spec_documents",
)
_USUAL_FIELDS = operator.itemgetter(*FIELDS)
_HEX_RUN = re.compile(r"[0-9a-f]*")
_RECORDED_BY_SET = frozenset(RECORDED_BY)
_STR = frozenset((str,))
_OPTIONAL_STR = frozenset((str, type(None)))
_INT = frozenset((int,))
_NONE = frozenset((type(None),))


def usual_records(names: list[str], objects: list[dict[str, Any]]) -> dict[str, JobRecord] | None:
    """The records of `names` (each keyed by its name, of the default kind) made of
    `objects` (each a dict with exactly the fields of a record of the usual form, which
    become its attributes), or None unless every one is well-formed as
    `runner.state.codec`'s reader of one record would find it."""
    if not names:
        return {}
    (
        arns,
        partitions,
        regions,
        accounts,
        statuses,
        files,
        spec_digests,
        request_digests,
        recorded_by,
        commits,
        reasons,
        submitted,
        created,
        updated,
        checked,
        indexes,
        counts,
    ) = zip(*map(_USUAL_FIELDS, objects), strict=True)
    try:
        file_lines = "\n" + "\n".join(files)
        if not (
            all(_texts(column) for column in (arns, partitions, regions, accounts, statuses))
            and all(map(str.endswith, arns, map("/".__add__, names)))
            and _texts(files)
            and "\n/" not in file_lines
            and "\\" not in file_lines
            and _digests(spec_digests)
            and _digests(request_digests)
            and _RECORDED_BY_SET.issuperset(recorded_by)
            and _optional_texts(commits)
            and _optional_texts(reasons)
            and _types(submitted) == _STR
            and all(map(str.endswith, submitted, repeat("Z")))
            and _optional_times(created)
            and _optional_times(updated)
            and _optional_times(checked)
            and _types(indexes) == _INT
            and _types(counts) == _INT
            and min(indexes) >= 0
            and all(map(operator.lt, indexes, counts))
        ):
            return None
        submitted_at = list(map(_fromisoformat, submitted))
        # A field that no record has a time in (None in each) stays as it is.
        times = [
            (field, _utc_times(column))
            for field, column in (
                ("created_at", created),
                ("updated_at", updated),
                ("status_checked_at", checked),
            )
            if _types(column) != _NONE
        ]
    except (TypeError, ValueError):
        return None
    for field, values in times:
        for obj, value in zip(objects, values, strict=True):
            obj[field] = value
    records = {}
    for name, obj, at in zip(names, objects, submitted_at, strict=True):
        # The decoded object, this record's own, becomes the record's attributes.
        obj["name"] = name
        obj["submitted_at"] = at
        record = _new_record(JobRecord)
        _set_attributes(record, "__dict__", obj)
        records[name] = record
    return records


def _types(values: Sequence[object]) -> set[type]:
    return set(map(type, values))


def _texts(values: Sequence[object]) -> bool:
    return _types(values) == _STR and "" not in values


def _optional_texts(values: Sequence[object]) -> bool:
    return _types(values) <= _OPTIONAL_STR and "" not in values


def _digests(values: Sequence[object]) -> bool:
    return (
        _types(values) == _STR
        and set(map(len, cast(Sequence[str], values))) == {64}
        and _HEX_RUN.fullmatch("".join(cast(Sequence[str], values))) is not None
    )


def _optional_times(values: Sequence[object]) -> bool:
    return _types(values) <= _OPTIONAL_STR and all(
        value is None or cast(str, value).endswith("Z") for value in values
    )


def _utc_times(values: Sequence[str | None]) -> list[datetime.datetime | None]:
    return [None if value is None else _fromisoformat(value) for value in values]


_fromisoformat = datetime.datetime.fromisoformat
_new_record = object.__new__
_set_attributes = object.__setattr__

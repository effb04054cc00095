"""A state in its canonical form, read line by line without a JSON parser (issue 11).

`runner.state.codec.encode_state` writes one record per line, its keys sorted, every
string as JSON's encoder escapes it. A state that is exactly that form, with no escape in
any string and no job of another kind than batch segment jobs, is read here: each line
matched by one regular expression that admits only what the codec's reader admits (the
fields in their order, each of its type: non-empty text, a lowercase sha256, a UTC time,
a count, one of the `recorded_by` values), and the records made of the lines' groups.
A JSON string without an escape is its own text, so the values are what a JSON parser
would give; the JSON tree of 10,000 records, which nothing needs, is never built (a
plan of 10,000 recorded specs spent a third of its time parsing it and checking it).

`decode` says None for anything else (another layout, an escape, a record of another kind,
a line that does not match, a time that does not parse, two records of one name): the
codec then reads it with the JSON parser and its own checks, which make the message of
anything wrong. So a state read here is one that reader reads, as the same records.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from runner.state.record import JobRecord

# A JSON string's text, in a state with no escape (checked first, at C speed): what a
# JSON parser makes of the string. A control character, which JSON forbids raw, is none.
_TEXT = r'[^"\x00-\x1f]+'
_ANY_TEXT = r'[^"\x00-\x1f]*'
# A time as the encoder writes one (`runner.times.format_time`); `fromisoformat` checks
# the date.
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?Z"
_DIGEST = r"[0-9a-f]{64}"
# The codec's reader takes integers of at most 30 digits (`runner.jsonread.Limits`).
_COUNT = r"0|[1-9][0-9]{0,29}"


def _optional(name: str, pattern: str) -> str:
    """The group `name`: a string of `pattern`, or null."""
    return rf'(?:"(?P<{name}>{pattern})"|null)'


_HEADER = re.compile(r'\{\n  "format_version": ([23]),\n  "jobs": \{')
_FOOTER = re.compile(
    r',\n  "lineage": "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",\n'
    rf'  "serial": ({_COUNT})\n\}}\n'
)
# One record's line, its fields in the order the encoder sorts them, each a group of its
# name: `groupdict` is the record's attributes.
_RECORD = re.compile(
    rf'\n    "(?P<name>{_ANY_TEXT})": \{{'
    rf'"account": "(?P<account>{_TEXT})", '
    rf'"arn": "(?P<arn>{_TEXT})", '
    rf'"created_at": {_optional("created_at", _TIME)}, '
    rf'"failure_reason": {_optional("failure_reason", _TEXT)}, '
    rf'"git_commit": {_optional("git_commit", _TEXT)}, '
    rf'"partition": "(?P<partition>{_TEXT})", '
    rf'(?:"period": "(?P<period>{_TEXT})", )?'
    r'"recorded_by": "(?P<recorded_by>created|adopted|imported)", '
    rf'"region": "(?P<region>{_TEXT})", '
    rf'"request_digest": "(?P<request_digest>{_DIGEST})", '
    rf'(?:"solution_version_arn": "(?P<solution_version_arn>{_TEXT})", )?'
    rf'"spec_digest": "(?P<spec_digest>{_DIGEST})", '
    rf'"spec_documents": (?P<spec_documents>{_COUNT}), '
    rf'"spec_file": "(?P<spec_file>{_TEXT})", '
    rf'"spec_index": (?P<spec_index>{_COUNT}), '
    rf'"status": "(?P<status>{_TEXT})", '
    rf'"status_checked_at": {_optional("status_checked_at", _TIME)}, '
    rf'"submitted_at": "(?P<submitted_at>{_TIME})", '
    rf'"updated_at": {_optional("updated_at", _TIME)}'
    r"\}"
)
_OPTIONAL_TIMES = ("created_at", "status_checked_at", "updated_at")
# Written only when they have a value: absent, the record's own default (None).
_OPTIONAL = ("period", "solution_version_arn")
_fromisoformat = datetime.datetime.fromisoformat
_new_record = object.__new__
_set_attributes = object.__setattr__


def decode(text: str) -> tuple[int, str, int, dict[str, JobRecord]] | None:
    """The format version, lineage, serial and records of the state `text` holds if it is
    in the canonical form (see the module), else None."""
    if not text.isascii() or "\\" in text:
        # The encoder escapes every character outside ASCII: an escape, or a character it
        # would have escaped, is for the JSON parser.
        return None
    header = _HEADER.match(text)
    if header is None:
        return None
    version = int(header.group(1))
    jobs: dict[str, JobRecord] = {}
    lines = 0
    position = header.end()
    match_record = _RECORD.match
    try:
        if text.startswith("}", position):
            position += 1
        else:
            while True:
                match = match_record(text, position)
                if match is None:
                    return None
                fields: dict[str, Any] = match.groupdict()
                name = fields["name"]
                for field in _OPTIONAL:
                    if fields[field] is None:
                        del fields[field]
                    elif version < 3:
                        return None
                index = fields["spec_index"] = int(fields["spec_index"])
                documents = fields["spec_documents"] = int(fields["spec_documents"])
                if (
                    index >= documents
                    or not fields["arn"].endswith("/" + name)
                    or fields["spec_file"][0] == "/"
                ):
                    return None
                fields["submitted_at"] = _fromisoformat(fields["submitted_at"])
                for field in _OPTIONAL_TIMES:
                    value = fields[field]
                    if value is not None:
                        fields[field] = _fromisoformat(value)
                record = _new_record(JobRecord)
                _set_attributes(record, "__dict__", fields)
                jobs[name] = record
                lines += 1
                position = match.end()
                if not text.startswith(",", position):
                    break
                position += 1
            if not text.startswith("\n  }", position):
                return None
            position += 4
    except ValueError:
        # A time that does not parse: the codec's reader says which.
        return None
    footer = _FOOTER.fullmatch(text, position)
    if footer is None or len(jobs) != lines:
        # Two records of one name: the codec's reader names it.
        return None
    lineage, serial = footer.groups()
    return version, lineage, int(serial), jobs

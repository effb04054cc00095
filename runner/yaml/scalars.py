"""Plain (unquoted) scalars resolved by the YAML 1.2 core schema, for both decoders."""

from __future__ import annotations

import math
import re
from typing import Any

NULL = frozenset({"", "~", "null", "Null", "NULL"})
TRUE = frozenset({"true", "True", "TRUE"})
FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = frozenset({".inf", ".Inf", ".INF"})
_NAN = frozenset({".nan", ".NaN", ".NAN"})
_RESOLVABLE_START = frozenset("0123456789+-.~nNtTfF")
# An integer is written in at most this many characters: a spec's numbers are far shorter,
# and Python refuses to convert one of more than 4,300 decimal digits (or to print one,
# however it was written: 0x and 1,000 hex digits are 1,205 decimal ones).
MAX_INT_CHARS = 1_000


class IntegerTooLong(ValueError):
    """A plain scalar that is an integer of more than MAX_INT_CHARS characters."""


def resolve_plain(text: str) -> Any:
    if not text or text[0] in _RESOLVABLE_START:
        if text in NULL:
            return None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        if _INT.fullmatch(text):
            if len(text) > MAX_INT_CHARS:
                raise IntegerTooLong(text)
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text)
        if _FLOAT.fullmatch(text):
            return float(text)
        if text.lstrip("+-") in _INF:
            return -math.inf if text.startswith("-") else math.inf
        if text in _NAN:
            return math.nan
    return text

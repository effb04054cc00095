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


def resolve_plain(text: str) -> Any:
    if not text or text[0] in _RESOLVABLE_START:
        if text in NULL:
            return None
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        if _INT.fullmatch(text):
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

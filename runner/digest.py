"""Content digests: how the runner tells whether a spec, a request or a file changed."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json_digest(value: Any) -> str:
    """The sha256 of a JSON value's canonical form, e.g. a `CreateBatchSegmentJob` request."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(text.encode())

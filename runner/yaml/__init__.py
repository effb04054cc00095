"""YAML decoding into plain values, with a position for every key and value on demand.

Most spec files are read by the fast path (`runner.yaml.fast`: plain block YAML, line by
line); everything else, and the positions of nodes, come from libyaml's events in
`runner.yaml.events`, the one module that imports ruamel.yaml, loaded only then.
"""

from __future__ import annotations

from runner.yaml.document import Decoded, Document, DuplicateKey, Path_, YamlSyntaxError
from runner.yaml.fast import decode_plain_blocks
from runner.yaml.span import Span

__all__ = ["Decoded", "Document", "DuplicateKey", "Path_", "Span", "YamlSyntaxError", "decode"]


def decode(text: str, *, positions: bool = False) -> Decoded:
    """Every document of `text`; raises YamlSyntaxError for anything the runner refuses.

    With `positions`, every node's position is recorded while decoding; otherwise it is
    found again from `text` when first asked for.
    """
    if not positions:
        documents = decode_plain_blocks(text)
        if documents is not None:
            return Decoded(documents, [])
    from runner.yaml.events import decode_events

    return decode_events(text, positions=positions)

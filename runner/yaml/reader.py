"""`decode`: a text's YAML documents, by the fast path where it can, else libyaml's events."""

from __future__ import annotations

import re

from runner.yaml.document import Decoded, YamlSyntaxError
from runner.yaml.span import char_span

# Line breaks to YAML 1.1 (libyaml) that editors, diffs and code review do not show as
# breaks: every line after one would be counted apart from the file's own lines, and a
# comment holding one would end there. Refused where they stand.
_HIDDEN_BREAK = re.compile("[\x85\u2028\u2029]")
_BREAK_NAMES = {"\x85": "NEXT LINE", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}


def decode(text: str, *, positions: bool = False) -> Decoded:
    """Every document of `text`; raises YamlSyntaxError for anything the runner refuses.

    With `positions`, every node's position is recorded while decoding; otherwise it is
    found again from `text` when first asked for.
    """
    hidden = _HIDDEN_BREAK.search(text)
    if hidden is not None:
        char = hidden.group()
        raise YamlSyntaxError(
            f"invalid YAML: the character U+{ord(char):04X} ({_BREAK_NAMES[char]}), which "
            f"YAML reads as a line break and editors do not show as one; remove it (in a "
            f'double-quoted string, write it as "\\u{ord(char):04x}")',
            char_span(text, hidden.start()),
        )
    if not positions:
        # Imported with the first text to decode: a plan of recorded files decodes none.
        from runner.yaml.fast import decode_plain_blocks

        documents = decode_plain_blocks(text)
        if documents is not None:
            return Decoded(documents, [])
    from runner.yaml.events import decode_events

    return decode_events(text, positions=positions)

"""Text from outside (senders, subjects, locations, reasons) in the Markdown ops read.

Prefect renders artifacts and the descriptions of questions to ops as Markdown; a customer
who writes `[approve](https://evil.example)` or `**Sender verified by Offstreet**` must be
shown those characters, not a link or a bold claim. `md_text` is the one way such text gets
into Markdown here.
"""

from __future__ import annotations

import re
import unicodedata

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and an escaped
# one is always literal: no emphasis, link, image, HTML, code span, entity or autolink starts.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Line and paragraph breaks would let text start a heading or list of its own; control and
# format characters (bidi overrides, zero-width) could make it read differently than it is.
_BREAKING = {"Cc", "Cf", "Zl", "Zp"}


def md_text(text: object) -> str:
    """`text` as literal Markdown, on one line: what it says is what ops read."""
    flat = "".join(" " if unicodedata.category(c) in _BREAKING else c for c in str(text))
    return _PUNCTUATION.sub(r"\\\1", flat)

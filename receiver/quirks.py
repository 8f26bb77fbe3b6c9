"""TuxSuite's sender quirks, read after the signature was verified over the raw bytes.

A build whose commit subject holds an apostrophe arrives with it escaped as `\\'`, which is not
JSON; the consumers of these callbacks (the RISC-V KernelCI bridge) read it as `'`. That is
the one thing relaxed: the repaired text goes through the same strict parser, so duplicate
keys, NaN and deep nesting stay refused.
"""

from __future__ import annotations

import re

from shared.errors import InvalidJSON
from shared.payload import Event, parse_event

BACKSLASH_QUOTE = "backslash_quote"
DOUBLE_ENCODED = "double_encoded"

# One escape at a time, left to right, so that `\\'` (a backslash, then a quote) is left alone.
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape_quote(match: re.Match[str]) -> str:
    return "'" if match.group(1) == "'" else match.group(0)


def without_backslash_quotes(text: str) -> str:
    return _ESCAPE.sub(_unescape_quote, text) if "\\'" in text else text


def parse_repaired(text: str, repairs: list[str]) -> tuple[Event, str]:
    """The event in `text`, and the text it was read from: `text` itself, or, when it fails to
    parse only because of `\\'` escapes, `text` with them read as `'` (noted in `repairs`)."""
    try:
        return parse_event(text), text
    except InvalidJSON:
        repaired = without_backslash_quotes(text)
        if repaired == text:
            raise
        try:
            event = parse_event(repaired)
        except InvalidJSON:
            pass
        else:
            repairs.append(BACKSLASH_QUOTE)
            return event, repaired
        raise

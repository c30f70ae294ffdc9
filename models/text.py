"""User-written text: checked once on the way in, so that nothing too long or multi-line reaches a column or a
header."""
import re
import unicodedata
from typing import Literal, overload

from portal.core.errors import BadUserInput

# Every control character (Unicode category Cc: C0, DEL and C1, so also \x85 NEXT LINE) and the line and paragraph
# separators (Zl U+2028, Zp U+2029): each of them breaks a line somewhere, in an email header or a log line.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(text: str) -> str:
    """The text on one line: each run of control characters and separators becomes a space."""
    return CONTROL.sub(" ", text).strip()


def header_text(text: str) -> str:
    """For an email header: on one line, and without format characters (Unicode category Cf: U+202E RIGHT-TO-LEFT
    OVERRIDE, the zero-width ones, U+2066-2069 isolates), which make a name in a subject read as other words."""
    return one_line("".join(char for char in text if unicodedata.category(char) != "Cf"))


@overload
def single_line(value: str | None, label: str, *, limit: int, required: Literal[True]) -> str: ...
@overload
def single_line(value: str | None, label: str, *, limit: int, required: bool = False) -> str | None: ...
def single_line(value: str | None, label: str, *, limit: int, required: bool = False) -> str | None:
    """A name-like value: control characters become spaces, ends are trimmed, the length is checked."""
    if value is None:
        if required:
            raise BadUserInput(f"{label} is required.")
        return None
    cleaned = one_line(value)
    if required and not cleaned:
        raise BadUserInput(f"{label} is required.")
    if len(cleaned) > limit:
        raise BadUserInput(f"{label} has at most {limit} characters.")
    return cleaned or None


def clamp(value: str, limit: int) -> str:
    """For text derived from checked parts (a full name, a subject line), which may add up past a column."""
    return value if len(value) <= limit else value[: limit - 1] + "…"

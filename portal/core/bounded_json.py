"""JSON from clients, with its nesting bounded before anything recurses into it.

`json.loads` recurses once per level: a body of 100,000 `[` raises RecursionError, and whatever walks
a value nested a few thousand deep (GraphQL's variable coercion, error shaping) recurses again. So
the depth is measured first, without recursion and at C speed: strings are taken out (a bracket in a
string is no nesting), then every innermost `[]`/`{}` pair is removed once per pass; the number of
passes is the depth, and the passes stop past the limit (or at once on a run of opening brackets).
"""
import json
import re

MAX_JSON_DEPTH = 32  # GraphQL bodies nest about 6 deep (body, variables, input, list, object, …)

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


class JSONTooDeep(json.JSONDecodeError):
    """JSON nested deeper than the limit: refused like malformed JSON, with its own message."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels", "", 0)
        self.max_depth = max_depth


def nesting_exceeds(data: bytes, max_depth: int) -> bool:
    """Whether the brackets of `data` (outside strings) nest deeper than `max_depth`."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    brackets = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS).translate(_ONE_KIND)
    too_deep = b"[" * (max_depth + 1)
    for _ in range(max_depth):
        if too_deep in brackets:  # the usual attack, found at once
            return True
        shorter = brackets.replace(b"[]", b"")
        if not shorter:
            return False
        if len(shorter) == len(brackets):  # unbalanced: json.loads tells what is wrong
            return brackets.count(b"[") > max_depth
        brackets = shorter
    return True


def loads(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> object:
    """`json.loads`, refusing JSON nested deeper than `max_depth` with JSONTooDeep (a JSONDecodeError)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nesting_exceeds(raw, max_depth):
        raise JSONTooDeep(max_depth)
    try:
        return json.loads(data)
    except RecursionError:
        raise JSONTooDeep(max_depth) from None

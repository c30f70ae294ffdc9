"""Relay global IDs: URL-safe unpadded base64 of "Type:primary-key", opaque to clients."""
from collections.abc import Iterable

from portal.core.base64url import decode_base64url, encode_base64url
from portal.core.errors import BadUserInput, NotFound


def to_global_id(type_name: str, pk: int | None) -> str:
    """The id of a saved row; `pk` is None only for a row not yet flushed, which has no id to give."""
    if pk is None:
        raise ValueError(f"An unsaved {type_name} has no id yet.")
    return encode_base64url(f"{type_name}:{pk}".encode())


MAX_PK = 2**31 - 1  # primary keys are INTEGER columns
# The key an id beyond what INTEGER holds is read as: no row has it (keys start at 1), so such an id is answered
# exactly as any missing row of its type is, by whoever looks it up, and never reaches the database out of range.
NO_SUCH_ROW = 0

# The type names ids are issued for: the schema's Node types, registered as the schema is built (schema/node.py).
# An id naming any other type was never issued: it is malformed, where one of another issued type is not found.
ISSUED_TYPES: set[str] = set()


def register_issued_types(type_names: Iterable[str]) -> None:
    ISSUED_TYPES.update(type_names)


def malformed(global_id: str) -> BadUserInput:
    shown = repr(global_id) if len(global_id) <= 40 else repr(global_id[:39]) + "…"
    return BadUserInput(f"Malformed id: {shown}.")


def from_global_id(global_id: str) -> tuple[str, int]:
    """Decode an id written exactly as to_global_id writes it; BadUserInput for anything else."""
    try:
        type_name, _, pk_text = decode_base64url(global_id).decode().partition(":")
        pk = canonical_int(pk_text)
    except ValueError:
        raise malformed(global_id) from None
    return type_name, pk if 1 <= pk <= MAX_PK else NO_SUCH_ROW


def issued_id(global_id: str) -> tuple[str, int]:
    """from_global_id, for an id that must name a type ids are issued for (ISSUED_TYPES)."""
    type_name, pk = from_global_id(global_id)
    if type_name not in ISSUED_TYPES:
        raise malformed(global_id)
    return type_name, pk


def canonical_int(text: str) -> int:
    """An integer written as str() writes it: no "+", spaces, leading zeros or digits of other scripts."""
    number = int(text)
    if str(number) != text:
        raise ValueError(f"Not a canonical integer: {text!r}.")
    return number


def bounded_int(value: int | str) -> int:
    """An integer read back from a cursor, within what the database's INTEGER columns hold."""
    number = int(value)
    if not -MAX_PK <= number <= MAX_PK:
        raise ValueError("out of range")
    return number


def decode_id(global_id: str, *type_names: str) -> int:
    """The primary key of an id that must name one of `type_names`.

    An id of another issued type answers like a missing object, so that ids reveal nothing; an id of a type
    that has no ids is malformed.
    """
    type_name, pk = from_global_id(global_id)
    if type_name in type_names:
        return pk
    if type_name not in ISSUED_TYPES:
        raise malformed(global_id)
    raise NotFound(type_names[0])

"""Relay global IDs: URL-safe unpadded base64 of "Type:primary-key", opaque to clients."""
from portal.core.base64url import decode_base64url, encode_base64url
from portal.core.errors import BadUserInput, NotFound


def to_global_id(type_name: str, pk: int | None) -> str:
    """The id of a saved row; `pk` is None only for a row not yet flushed, which has no id to give."""
    if pk is None:
        raise ValueError(f"An unsaved {type_name} has no id yet.")
    return encode_base64url(f"{type_name}:{pk}".encode())


MAX_PK = 2**31 - 1  # primary keys are INTEGER columns


def from_global_id(global_id: str) -> tuple[str, int]:
    """Decode an id; raise BadUserInput if it is not one of ours at all."""
    try:
        type_name, _, pk_text = decode_base64url(global_id).decode().partition(":")
        pk = canonical_int(pk_text)
    except ValueError:
        raise BadUserInput(f"Malformed id: {global_id!r}.") from None
    if not 1 <= pk <= MAX_PK:
        raise NotFound(type_name if type_name.isidentifier() else "Object")
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

    An id of another type answers like a missing object, so that ids reveal nothing.
    """
    type_name, pk = from_global_id(global_id)
    if type_name not in type_names:
        raise NotFound(type_names[0])
    return pk

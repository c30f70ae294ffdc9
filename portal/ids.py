"""Relay global IDs: base64 of "Type:primary-key", opaque to clients."""
import base64
import binascii

from portal.errors import BadUserInput, NotFound


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int]:
    """Decode an id; raise BadUserInput if it is not one of ours at all."""
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput(f"Malformed id: {global_id!r}.") from None


def decode_id(global_id: str, *type_names: str) -> int:
    """The primary key of an id that must name one of `type_names`.

    An id of another type answers like a missing object, so that ids reveal nothing.
    """
    type_name, pk = from_global_id(global_id)
    if type_name not in type_names:
        raise NotFound(type_names[0])
    return pk

"""URL-safe base64 without padding: how ids and cursors are written, and read back strictly."""
import base64
import re

ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode_base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_base64url(text: str) -> bytes:
    """The bytes `text` encodes; ValueError unless `text` is exactly what encode_base64url writes for them.

    So padding, characters outside the URL-safe alphabet and bits set past the last byte are refused:
    each value has one spelling, and an id or cursor cannot be varied to slip past a comparison.
    """
    if not ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("Not unpadded URL-safe base64.")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if encode_base64url(raw) != text:
        raise ValueError("Bits set past the last byte.")
    return raw

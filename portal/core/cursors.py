"""The cursors handed out for paging, one codec per kind; each reads back only what it writes."""
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from portal.core.base64url import decode_base64url, encode_base64url
from portal.core.errors import BadUserInput
from portal.core.ids import bounded_int, canonical_int


def encode_page_cursor(key: tuple) -> str:
    """A keyset position (dates, strings, integers) as base64 of its JSON list."""
    values = [value.isoformat() if isinstance(value, date) else value for value in key]
    return encode_base64url(json.dumps(values).encode())


def decode_page_cursor(cursor: str, parsers: list[Callable[[Any], Any]]) -> tuple:
    """The key in a page cursor, each value read by its parser; BadUserInput for anything else.

    A cursor is accepted only if it is exactly the one this key is handed out as, so the JSON inside has one
    spelling too (no spaces, no 1.0 for 1, no "7" for 7).
    """
    try:
        values = json.loads(decode_base64url(cursor).decode())
        if not isinstance(values, list) or len(values) != len(parsers):
            raise ValueError("Not a key of this listing.")
        key = tuple(parse(value) for parse, value in zip(parsers, values, strict=True))
        if encode_page_cursor(key) != cursor:
            raise ValueError("Not written as this key is.")
        return key
    except (ValueError, TypeError, OverflowError, RecursionError):
        raise BadUserInput("Invalid cursor.") from None


def encode_activity_cursor(organization_id: int, sequence: int) -> str:
    return encode_base64url(f"activity:{organization_id}:{sequence}".encode())


def decode_activity_cursor(cursor: str, organization_id: int) -> int:
    """The sequence in an activity cursor of this organization; any other cursor is bad input."""
    try:
        label, organization, sequence = decode_base64url(cursor).decode().split(":")
        if label == "activity" and canonical_int(organization) == organization_id:
            return bounded_int(canonical_int(sequence))
    except ValueError:
        pass
    raise BadUserInput("Unknown activity cursor.")


def encode_update_cursor(customer_id: int, sequence: int) -> str:
    return encode_base64url(f"update:{customer_id}:{sequence}".encode())


def decode_update_cursor(cursor: str, customer_id: int) -> int:
    """The sequence in a portal-update cursor of this customer; any other cursor is bad input."""
    try:
        label, customer, sequence = decode_base64url(cursor).decode().split(":")
        if label == "update" and canonical_int(customer) == customer_id:
            return bounded_int(canonical_int(sequence))
    except ValueError:
        pass
    raise BadUserInput("Unknown update cursor.")

"""Reading input objects: what the client sent, what it left out, and where what it sent is wrong."""
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import strawberry
from strawberry.types.unset import UnsetType

from portal.core.errors import BadUserInput

T = TypeVar("T")


def sent(input: object) -> dict[str, object]:
    """Only the fields the client actually sent; an explicit null is kept as None."""
    return {key: value for key, value in vars(input).items() if value is not strawberry.UNSET}


def values(input: object) -> dict[str, object]:
    """Every field, with the ones left out as None."""
    return {key: None if value is strawberry.UNSET else value for key, value in vars(input).items()}


def value(given: T | UnsetType) -> T | None:
    return None if isinstance(given, UnsetType) else given


@contextmanager
def checked(argument: str) -> Iterator[None]:
    """The problems the use case finds in an argument's fields are reported under its name: `input.line_items[0]`."""
    try:
        yield
    except BadUserInput as error:
        raise error.under(argument) from None

"""What every table row has in common."""
from typing import Protocol


class Row(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: Row) -> int:
    """The primary key of a row that has been flushed; asking it of an unsaved row is a programming error."""
    if row.id is None:
        raise ValueError(f"This {type(row).__name__} has not been saved yet.")
    return row.id

"""What an operation asks for below the field being resolved.

A list resolver can then load what its items will ask for before they are completed, so that each item is
answered without awaiting (one query for the page either way; a DataLoader per item costs a future, a task
and a await chain for each).
"""
from collections.abc import Iterable

from strawberry.types.nodes import SelectedField, Selection

from portal.resolvers.context import Info


def asks_for(info: Info, *path: str) -> bool:
    """Whether the operation selects `path` (field names, fragments looked through) under this field."""
    return any(_selects(field.selections, path) for field in info.selected_fields)


def _selects(selections: Iterable[Selection], path: tuple[str, ...]) -> bool:
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and _selects(selection.selections, path[1:]):
                return True
        elif _selects(selection.selections, path):  # a fragment: its fields are this level's
            return True
    return False

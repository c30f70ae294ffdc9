"""What an operation asks for below the field being resolved.

A list resolver can then load what its items will ask for before they are completed, so that each item is
answered without awaiting (one query for the page either way; a DataLoader per item costs a future, a task
and a await chain for each).

Read from the document's own nodes: Strawberry's `info.selected_fields` would first convert the whole
subtree, arguments and all, for a question about one path.
"""
from collections.abc import Iterable, Mapping

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionNode

from portal.resolvers.context import Info


def asks_for(info: Info, *path: str) -> bool:
    """Whether the operation selects `path` (field names, fragments looked through) under this field."""
    raw = info._raw_info
    return any(_below(field, path, raw.fragments) for field in raw.field_nodes)


def _selects(selections: Iterable[SelectionNode], path: tuple[str, ...],
             fragments: Mapping[str, FragmentDefinitionNode]) -> bool:
    """Whether `selections` select the non-empty `path`."""
    for selection in selections:
        if isinstance(selection, FieldNode):
            if selection.name.value == path[0] and _below(selection, path[1:], fragments):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _selects(selection.selection_set.selections, path, fragments):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and _selects(fragment.selection_set.selections, path, fragments):
                return True
    return False


def _below(field: FieldNode, path: tuple[str, ...], fragments: Mapping[str, FragmentDefinitionNode]) -> bool:
    if not path:
        return True
    return field.selection_set is not None and _selects(field.selection_set.selections, path, fragments)

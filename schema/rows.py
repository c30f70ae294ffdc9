"""GraphQL types filled from the rows they show, so that no type restates its row field by field."""
from typing import Any, TypeVar

from strawberry.types.base import get_object_definition

from portal.schema.nodes import global_id

T = TypeVar("T")


def from_row(cls: type[T], source: Any, /, **values: Any) -> T:
    """`cls` with each of its plain fields read from the same-named attribute of `source` (a row or value).

    `values` give the fields that are not the source's own (a private `row`, an enum, a renamed attribute);
    an `id` field is the row's global id, never its primary key.
    """
    definition = get_object_definition(cls, strict=True)
    names = {field.python_name for field in definition.fields if field.base_resolver is None} - values.keys()
    if "id" in names:
        names.remove("id")
        values["id"] = global_id(definition.name, source.id)
    return cls(**{name: getattr(source, name) for name in names}, **values)

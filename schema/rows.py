"""GraphQL types filled from the rows they show, so that no type restates its row field by field."""
import functools
from typing import Any, TypeVar, cast

from strawberry.types.base import get_object_definition

from portal.schema.nodes import global_id

T = TypeVar("T")


@functools.cache
def _plain_fields(cls: Any) -> tuple[str, tuple[str, ...], bool]:
    """`cls`'s GraphQL name, the Python names of its fields without a resolver, and whether it has an `id`."""
    definition = get_object_definition(cls, strict=True)
    names = [field.python_name for field in definition.fields if field.base_resolver is None]
    return definition.name, tuple(name for name in names if name != "id"), "id" in names


def from_row(cls: type[T], source: Any, /, **values: Any) -> T:
    """`cls` with each of its plain fields read from the same-named attribute of `source` (a row or value).

    `values` give the fields that are not the source's own (a private `row`, an enum, a renamed attribute);
    an `id` field is the row's global id, never its primary key.
    """
    type_name, names, has_id = _plain_fields(cast("Any", cls))
    if has_id and "id" not in values:
        values["id"] = global_id(type_name, source.id)
    # An ORM object keeps its loaded columns in its __dict__, where its attributes' descriptors read them
    # too: read there, a page's objects are built in half the time. Anything else (a property, an
    # attribute not loaded, a row) is read as an attribute.
    loaded = getattr(source, "__dict__", _NOTHING_LOADED)
    for name in names:
        if name not in values:
            values[name] = loaded[name] if name in loaded else getattr(source, name)
    return cls(**values)


_NOTHING_LOADED: dict[str, Any] = {}

"""The `node` query, and the one registry of node types it reads: made from the schema, by name."""
import functools
from typing import Annotated

import strawberry
from strawberry.types.base import StrawberryObjectDefinition

from portal.core.ids import register_issued_types
from portal.resolvers import nodes as resolve
from portal.resolvers.context import Info
from portal.resolvers.nodes import LoadVisible
from portal.schema.nodes import Node
from portal.schema.permissions import IsSignedIn, only


@functools.cache
def node_loaders(schema: strawberry.Schema) -> dict[str, LoadVisible]:
    """How each type of `schema` that implements Node loads itself (its `load_visible`), by type name.

    Made once per schema, as it is built (PortalSchema): a Node type that cannot load itself stops
    the build, rather than have `node(id:)` refuse its ids.
    """
    loaders = {definition.name: _loader_of(definition) for definition in _node_types(schema)}
    register_issued_types(loaders)  # ids of any other type were never issued: decode_id refuses them as malformed
    return loaders


def _node_types(schema: strawberry.Schema) -> list[StrawberryObjectDefinition]:
    definitions = [concrete.definition for concrete in schema.schema_converter.type_map.values()]
    return [definition for definition in definitions if isinstance(definition, StrawberryObjectDefinition)
            and not definition.is_interface and issubclass(definition.origin, Node)]


def _loader_of(definition: StrawberryObjectDefinition) -> LoadVisible:
    load = getattr(definition.origin, "load_visible", None)
    if load is None:
        raise TypeError(f"{definition.name} implements Node but cannot load itself: give it load_visible().")
    return load


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()),
                      description="Any object the viewer may see; others answer NOT_FOUND, as if missing.")
    async def node(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(
                       description="A global id, as any object's `id` gives it.")]) -> Node | None:
        return await resolve.node(info.context, id, node_loaders(info.schema))

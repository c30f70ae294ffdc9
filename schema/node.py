"""The `node` query, and the one registry of node types it reads: made from the schema, by name."""
import functools

import strawberry
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition

from portal.resolvers import nodes as resolve
from portal.resolvers.nodes import LoadVisible
from portal.schema.nodes import Node
from portal.schema.permissions import IsSignedIn, only


@functools.cache
def node_loaders(schema: strawberry.Schema) -> dict[str, LoadVisible]:
    """How each type of `schema` that implements Node loads itself (its `load_visible`), by type name.

    Made once per schema, as it is built (PortalSchema): a Node type that cannot load itself stops
    the build rather than answer NOT_FOUND for ever.
    """
    loaders = {}
    for concrete in schema.schema_converter.type_map.values():
        definition = concrete.definition
        if not isinstance(definition, StrawberryObjectDefinition) or not _implements_node(definition):
            continue
        load = getattr(definition.origin, "load_visible", None)
        if load is None:
            raise TypeError(f"{definition.name} implements Node but cannot load itself: give it load_visible().")
        loaders[definition.name] = load
    return loaders


def _implements_node(definition: StrawberryObjectDefinition) -> bool:
    return not definition.is_interface and issubclass(definition.origin, Node)


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()), description="Any object the viewer may see; others answer NOT_FOUND, as if missing.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve.node(info.context, id, node_loaders(info.schema))

"""graphql-core's executor, with plain leaf fields read without its per-field machinery.

Most fields of a page are plain attributes shown as scalars (an invoice's number, a line's amount): the
full path builds a resolve info, checks for awaitables twice and dispatches on the type for each of them.
For a field whose Strawberry resolver is the default attribute read and whose type is a scalar or an
enum, the value is read and coerced here directly, by the same resolver and the same coercion; anything
unusual (a null where one is not allowed, a coercion that fails, field middleware) takes the full path,
which reports it as it always did. `__typename` is answered from the type at hand.
"""
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class LeafRead(NamedTuple):
    resolve: Callable[[Any, None], Any]
    coerce: Callable[[Any], Any]
    nullable: bool


def leaf_reads(schema: GraphQLSchema) -> dict[tuple[str, str], LeafRead]:
    """For each (type, field) that is a plain attribute shown as a scalar or enum: how to read and show it."""
    reads = {}
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in graphql_type.fields.items():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            resolve = field.resolve
            if not isinstance(definition, StrawberryField) or not definition.is_basic_field or resolve is None:
                continue
            nullable = not isinstance(field.type, GraphQLNonNull)
            shown = field.type if nullable else field.type.of_type
            if getattr(resolve, "_is_default", False) and is_leaf_type(shown):
                reads[type_name, field_name] = LeafRead(resolve, shown.coerce_output_value, nullable)
    return reads


class LeanExecution(StrawberryGraphQLCoreExecutionContext):
    """The executor of one operation; `reads` is set per schema (`lean_execution_for`)."""

    reads: ClassVar[dict[tuple[str, str], LeafRead]] = {}

    def execute_field(self, parent_type: GraphQLObjectType, source: Any, field_details_list: Any, path: Path,
                      position_context: Any) -> Any:
        field_name = field_details_list[0].node.name.value
        if field_name == "__typename":  # which clients like Apollo's add to every object they ask for
            return parent_type.name
        read = self.reads.get((parent_type.name, field_name))
        if read is not None and not self._has_middleware():
            try:
                value = read.resolve(source, None)
                if value is None:
                    if read.nullable:
                        return None
                else:
                    shown = read.coerce(value)
                    if shown is not None and shown is not Undefined:
                        return shown
            except Exception:  # the full path below reports it, with its location
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)


    def _has_middleware(self) -> bool:
        # Strawberry always passes a manager: one without middleware (no extension resolves fields) is none.
        return self.middleware_manager is not None and bool(self.middleware_manager.middlewares)


def lean_execution_for(schema: GraphQLSchema) -> type[LeanExecution]:
    return type("LeanExecution", (LeanExecution,), {"reads": leaf_reads(schema)})

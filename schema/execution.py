"""graphql-core's executor, with plain leaf fields read without its per-field machinery.

Most fields of a page are plain attributes shown as scalars (an invoice's number, a line's amount): the
full path makes a response path and a resolve info, calls three layers of resolver and checks for
awaitables twice for each of them. For a field whose Strawberry resolver is the default attribute read
and whose type is a scalar or an enum, the attribute is read and coerced here directly, with the same
coercion; anything unusual (a null where one is not allowed, a coercion that fails, field middleware)
takes the full path, which reports it as it always did. `__typename` is answered from the type at hand.
"""
import operator
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple, cast

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

TYPENAME = "__typename"  # which clients like Apollo's add to every object they ask for


class LeafRead(NamedTuple):
    read: Callable[[Any], Any]
    coerce: Callable[[Any], Any]
    nullable: bool

    def shown(self, source: Any) -> Any:
        """The field's value as the answer shows it; Undefined where the full path must decide."""
        try:
            value = self.read(source)
            if value is None:
                return None if self.nullable else Undefined
            shown = self.coerce(value)
        except Exception:  # the full path reports it, with its location
            return Undefined
        return Undefined if shown is None else shown


Reads = dict[str, dict[str, LeafRead]]  # type name -> field name -> how to read it


def leaf_reads(schema: GraphQLSchema, default_resolver: Callable[[Any, str], object]) -> Reads:
    """For each object type, its fields that are plain attributes shown as a scalar or an enum."""
    reads: Reads = {}
    for type_name, graphql_type in schema.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__"):
            reads[type_name] = {name: read for name, field in graphql_type.fields.items()
                                if (read := _leaf_read(field, default_resolver)) is not None}
    return reads


def _leaf_read(field: Any, default_resolver: Callable[[Any, str], object]) -> LeafRead | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if not getattr(field.resolve, "_is_default", False) or default_resolver is not getattr:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    shown_type = field.type if nullable else field.type.of_type
    if not is_leaf_type(shown_type):
        return None
    return LeafRead(operator.attrgetter(definition.python_name), shown_type.coerce_output_value, nullable)


class LeanExecution(StrawberryGraphQLCoreExecutionContext):
    """The executor of one operation; `reads` is set per schema (`lean_execution_for`)."""

    reads: ClassVar[Reads] = {}

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: dict[str, Any], position_context: Any) -> Any:
        reads = self.reads.get(parent_type.name)
        if reads is None or self._has_middleware():
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            field_name = field_details_list[0].node.name.value
            read = reads.get(field_name)
            if read is not None:
                shown = read.shown(source_value)
            else:
                shown = parent_type.name if field_name == TYPENAME else Undefined
            if shown is Undefined:
                rest[response_name] = field_details_list
            results[response_name] = shown  # holds the field's place in the answer's order
        if not rest:
            return results
        completed = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(completed):
            return _merged_later(results, rest, completed)
        return _merged(results, rest, cast("dict[str, Any]", completed))

    def _has_middleware(self) -> bool:
        # Strawberry always passes a manager: one without middleware (no extension resolves fields) is none.
        return self.middleware_manager is not None and bool(self.middleware_manager.middlewares)


def _merged(results: dict[str, Any], rest: dict[str, Any], completed: dict[str, Any]) -> dict[str, Any]:
    results.update(completed)
    for response_name in rest.keys() - completed.keys():  # no such field: left out, as the full path does
        del results[response_name]
    return results


async def _merged_later(results: dict[str, Any], rest: dict[str, Any], completed: Any) -> dict[str, Any]:
    return _merged(results, rest, await completed)


def lean_execution_for(schema: GraphQLSchema, default_resolver: Callable[[Any, str], object]) -> type[LeanExecution]:
    return type("LeanExecution", (LeanExecution,), {"reads": leaf_reads(schema, default_resolver)})

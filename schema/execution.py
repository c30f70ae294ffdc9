"""graphql-core's executor, with plain leaf fields read and plain resolvers called without the layers between.

Most fields of a page are plain attributes shown as scalars (an invoice's number, a line's amount): the
full path makes a response path and a resolve info, calls three layers of resolver and checks for
awaitables twice for each of them. For a field whose Strawberry resolver is the default attribute read
and whose type is a scalar or an enum, the attribute is read and coerced here directly, with the same
coercion; anything unusual (a null where one is not allowed, a coercion that fails, field middleware)
takes the full path, which reports it as it always did. `__typename` is answered from the type at hand.

A field with a resolver that takes no arguments, has no field extension (permissions are extensions) and
is not a coroutine function (an invoice's status, a document's lines) has nothing for Strawberry's nine
layers around it to do: its resolver is called directly, with the same root and `Info`, and its value is
completed, and its errors reported, exactly as `execute_field` does.
"""
import operator
from collections.abc import Callable
from inspect import isawaitable
from typing import Any, ClassVar, NamedTuple, cast

from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

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


class ResolverCall(NamedTuple):
    """A resolver with nothing around it to do: the call Strawberry would make, made directly."""
    field: GraphQLField
    definition: StrawberryField
    takes_self: bool
    root_name: str | None  # the keyword a `root` or `parent` parameter takes the source as
    info_name: str | None

    def call(self, source: Any, info: Any) -> Any:
        args = (source,) if self.takes_self else ()
        kwargs = {}
        if self.root_name is not None:
            kwargs[self.root_name] = source
        if self.info_name is not None:
            kwargs[self.info_name] = Info(_raw_info=info, _field=self.definition)
        return self.definition.base_resolver(*args, **kwargs)  # type: ignore[misc]


Reads = dict[str, dict[str, LeafRead | ResolverCall]]  # type name -> field name -> how to answer it


def leaf_reads(schema: GraphQLSchema, default_resolver: Callable[[Any, str], object],
               info_class: type = Info) -> Reads:
    """For each object type, its plain leaf fields and the fields whose resolver may be called directly."""
    reads: Reads = {}
    for type_name, graphql_type in schema.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__"):
            reads[type_name] = {name: read for name, field in graphql_type.fields.items()
                                if (read := _leaf_read(field, default_resolver)
                                    or _resolver_call(field, info_class)) is not None}
    return reads


def _resolver_call(field: GraphQLField, info_class: type) -> ResolverCall | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF) if field.extensions else None
    if not isinstance(definition, StrawberryField) or info_class is not Info:
        return None
    resolver = definition.base_resolver
    if resolver is None or resolver.is_async or definition.arguments or definition.extensions or field.args:
        return None
    root = resolver.root_parameter or resolver.parent_parameter
    info = resolver.info_parameter
    return ResolverCall(field, definition, resolver.self_parameter is not None, root.name if root else None,
                        info.name if info else None)


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
        awaited: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                field_name = field_details_list[0].node.name.value
                read = reads.get(field_name)
                if read is None:
                    shown = parent_type.name if field_name == TYPENAME else Undefined
                elif isinstance(read, LeafRead):
                    shown = read.shown(source_value)
                else:
                    shown = self._called(read, parent_type, source_value, Path(path, response_name, parent_type.name),
                                         field_details_list, position_context)
                    if self.is_awaitable(shown):
                        awaited.append(response_name)
                if shown is Undefined:
                    rest[response_name] = field_details_list
                results[response_name] = shown  # holds the field's place in the answer's order
            completed = super().execute_fields(parent_type, source_value, path, rest, position_context) if rest else {}
        except Exception:
            if awaited:  # as graphql-core does: what other fields started may fail too, and is settled
                self.settle_in_background([results[name] for name in awaited])
            raise
        if awaited or self.is_awaitable(completed):
            return _merged_later(results, rest, completed, awaited)
        return _merged(results, rest, cast("dict[str, Any]", completed))

    def _called(self, call: ResolverCall, parent_type: GraphQLObjectType, source: Any, path: Path,
                field_details_list: Any, position_context: Any) -> Any:
        """`execute_field` after its argument and middleware steps, which have nothing to do here."""
        return_type = call.field.type
        info = self.build_resolve_info(call.field, to_nodes(field_details_list), parent_type, path)
        try:
            result = call.call(source, info)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(return_type, field_details_list, info, path, result,
                                                     position_context)
            completed = self.complete_value(return_type, field_details_list, info, path, result, position_context)
            if self.is_awaitable(completed):
                return self._completed_later(completed, return_type, field_details_list, path)
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    async def _completed_later(self, completed: Any, return_type: Any, field_details_list: Any, path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def _has_middleware(self) -> bool:
        # Strawberry always passes a manager: one without middleware (no extension resolves fields) is none.
        return self.middleware_manager is not None and bool(self.middleware_manager.middlewares)


def _merged(results: dict[str, Any], rest: dict[str, Any], completed: dict[str, Any]) -> dict[str, Any]:
    results.update(completed)
    for response_name in rest.keys() - completed.keys():  # no such field: left out, as the full path does
        del results[response_name]
    return results


async def _merged_later(results: dict[str, Any], rest: dict[str, Any], completed: Any,
                        awaited: list[str]) -> dict[str, Any]:
    pending = [results[name] for name in awaited]
    if isawaitable(completed):
        pending.append(completed)
    done = await gather_with_cancel(*pending)
    results.update(zip(awaited, done, strict=False))
    return _merged(results, rest, done[-1] if isawaitable(completed) else completed)


def lean_execution_for(schema: GraphQLSchema, default_resolver: Callable[[Any, str], object],
                       info_class: type = Info) -> type[LeanExecution]:
    return type("LeanExecution", (LeanExecution,), {"reads": leaf_reads(schema, default_resolver, info_class)})

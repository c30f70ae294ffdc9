"""graphql-core's executor, with plain leaf fields read and plain resolvers called without the layers between.

Most fields of a page are plain attributes shown as scalars (an invoice's number, a line's amount): the
full path makes a response path and a resolve info, calls three layers of resolver and checks for
awaitables twice for each of them. For a field whose Strawberry resolver is the default attribute read
and whose type is a scalar or an enum, the attribute is read and coerced here directly, with the same
coercion; anything unusual (a null where one is not allowed, a coercion that fails, field middleware)
takes the full path, which reports it as it always did. `__typename` is answered from the type at hand.
An object read from an attribute (an edge's node) and each object of a list of objects (a page's edges) have
their fields executed straight away, without the five calls of graphql-core's value completion between.

A field with a resolver that takes no arguments, has no field extension (permissions are extensions) and
is not a coroutine function (an invoice's status, a document's lines) has nothing for Strawberry's nine
layers around it to do: its resolver is called directly, with the same root and `Info`, and its value is
completed, and its errors reported, exactly as `execute_field` does.

How each field of a field group is answered (its plan) is worked out once and kept with the cached document,
as the field groups are when no selection in it carries a directive.
"""
import functools
import operator
from collections.abc import Callable
from inspect import CO_ITERABLE_COROUTINE
from types import CoroutineType, GeneratorType, NoneType
from typing import Any, ClassVar, NamedTuple

from graphql import GraphQLField, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, is_leaf_type
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

from portal.schema.document_limits import documents

TYPENAME = "__typename"  # which clients like Apollo's add to every object they ask for


_awaitable_types: dict[type, bool] = {}


def awaitable_by_type(value: Any) -> bool:
    """graphql-core's test, decided once a type (as `await` itself decides, on the type): the per-value test
    asks each value `hasattr(value, "__await__")`, which a SQLAlchemy row answers by raising and catching."""
    kind = type(value)
    awaitable = _awaitable_types.get(kind)
    if awaitable is None:
        if kind is GeneratorType:  # a generator-based coroutine is awaitable, another generator is not
            return bool(value.gi_code.co_flags & CO_ITERABLE_COROUTINE)
        awaitable = _awaitable_types[kind] = kind is CoroutineType or hasattr(kind, "__await__")
    return awaitable


class LeafRead(NamedTuple):
    """A scalar or enum field read from an attribute and coerced (execute_fields answers it)."""
    read: Callable[[Any], Any]
    coerce: Callable[[Any], Any]
    nullable: bool


class ObjectRead(NamedTuple):
    """A field read from an attribute whose type is an object type (an edge's node, a connection's page info)."""
    field: GraphQLField
    read: Callable[[Any], Any]
    object_type: GraphQLObjectType


class ResolverCall(NamedTuple):
    """A resolver with nothing around it to do: the call Strawberry would make, made directly."""
    field: GraphQLField
    definition: StrawberryField
    takes_self: bool
    source_names: tuple[str, ...]  # the keywords a `root` and a `parent` parameter take the source as
    info_name: str | None
    leaf_coerce: Callable[[Any], Any] | None  # for a scalar or enum: its coercion, which completes a value

    def call(self, source: Any, info: Any) -> Any:
        args = (source,) if self.takes_self else ()
        kwargs = dict.fromkeys(self.source_names, source)
        if self.info_name is not None:
            kwargs[self.info_name] = Info(_raw_info=info, _field=self.definition)
        return self.definition.base_resolver(*args, **kwargs)  # type: ignore[misc]


Reads = dict[str, dict[str, LeafRead | ObjectRead | ResolverCall]]  # type name -> field name -> how to answer it


def direct_reads(schema: GraphQLSchema, default_resolver: Callable[[Any, str], object],
               info_class: type = Info, handles_exceptions: bool = False) -> Reads:
    """For each object type, the fields answered without graphql-core's full path: those read from an attribute
    (a leaf or an object) and those whose resolver is called directly."""
    reads: Reads = {}
    for type_name, graphql_type in schema.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__"):
            reads[type_name] = {name: read for name, field in graphql_type.fields.items()
                                if (read := _attribute_read(field, default_resolver)
                                    or _resolver_call(field, info_class, handles_exceptions)) is not None}
    return reads


def _resolver_call(field: GraphQLField, info_class: type, handles_exceptions: bool) -> ResolverCall | None:
    """Fields whose resolver has nothing around it: no arguments to convert, no field extension (permissions),
    no exception handler of the schema's, not a coroutine, not a subscription's source."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF) if field.extensions else None
    if not isinstance(definition, StrawberryField) or info_class is not Info or handles_exceptions:
        return None
    resolver = definition.base_resolver
    if resolver is None or resolver.is_async or definition.is_subscription or definition.arguments \
            or definition.extensions or field.args:
        return None
    sources = tuple(parameter.name for parameter in (resolver.root_parameter, resolver.parent_parameter)
                    if parameter is not None)
    info = resolver.info_parameter
    shown_type = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    leaf_coerce = shown_type.coerce_output_value if is_leaf_type(shown_type) else None
    return ResolverCall(field, definition, resolver.self_parameter is not None, sources, info.name if info else None,
                        leaf_coerce)


def _attribute_read(field: Any, default_resolver: Callable[[Any, str], object]) -> LeafRead | ObjectRead | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if not getattr(field.resolve, "_is_default", False) or default_resolver is not getattr:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    shown_type = field.type if nullable else field.type.of_type
    read = operator.attrgetter(definition.python_name)
    if isinstance(shown_type, GraphQLObjectType):
        return ObjectRead(field, read, shown_type)
    if not is_leaf_type(shown_type):
        return None
    return LeafRead(read, shown_type.coerce_output_value, nullable)


# How a plan's step answers its field. A step: response name, how, read, coerce, passes, nullable, field
# details; `passes` is the type of value its coercion returns unchanged (str for String and ID), NoneType
# where there is none (never a value's type there: a None is dealt with first); for TYPE_NAME, `read` is the
# type's name.
LEAF, TYPE_NAME, OBJECT, CALL, FULL_PATH = "leaf", "type name", "object", "call", "full path"
PLAN = "plan"
Step = tuple[str, str, Any, Any, type, bool, Any]
Plan = tuple[Step, ...]
_PASSED_UNCHANGED: dict[Callable[[Any], Any], type] = {serialize_string: str, serialize_id: str}


def plan_of(parent_type: GraphQLObjectType, reads: dict[str, Any], grouped_field_set: dict[str, Any]) -> Plan:
    """The steps answering an object's fields, in the field set's order."""
    steps: list[Step] = []
    for response_name, field_details_list in grouped_field_set.items():
        field_name = field_details_list[0].node.name.value
        read = reads.get(field_name)
        if isinstance(read, LeafRead):
            passes = _PASSED_UNCHANGED.get(read.coerce, NoneType)
            steps.append((response_name, LEAF, read.read, read.coerce, passes, read.nullable, field_details_list))
        elif read is not None:
            how = OBJECT if isinstance(read, ObjectRead) else CALL
            steps.append((response_name, how, read, None, NoneType, False, field_details_list))
        elif field_name == TYPENAME:
            steps.append((response_name, TYPE_NAME, parent_type.name, None, NoneType, False, field_details_list))
        else:
            steps.append((response_name, FULL_PATH, None, None, NoneType, False, field_details_list))
    return tuple(steps)


class LeanExecution(StrawberryGraphQLCoreExecutionContext):
    """The executor of one operation; `reads` is set per schema (`lean_execution_for`)."""

    reads: ClassVar[Reads] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = awaitable_by_type  # type: ignore[assignment]
        self._held = documents.holding(self.operation)
        # A held document whose selections carry no directive has the same field groups whatever the
        # variables, and streams nothing (@stream is a directive).
        self._fixed_fields = self._held is not None and not self._held.has_directives
        # Strawberry always passes a manager: one without middleware (no extension resolves fields) is none.
        self._middleware = self.middleware_manager is not None and bool(self.middleware_manager.middlewares)

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: dict[str, Any], position_context: Any) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        awaited: list[str] = []
        is_awaitable = self.is_awaitable
        shown: Any
        try:
            for response_name, how, read, coerce, passes, nullable, field_details_list in plan:  # graphql-core's order
                if how is LEAF:  # read and coerced, never awaitable; Undefined where the full path must decide
                    try:
                        value = read(source_value)
                        if value is None:
                            shown = None if nullable else Undefined
                        elif type(value) is passes:
                            shown = value
                        else:
                            shown = coerce(value)
                            if shown is None:
                                shown = Undefined
                    except Exception:  # the full path reports it, with its location
                        shown = Undefined
                elif how is TYPE_NAME:
                    shown = read
                elif how is FULL_PATH:
                    shown = Undefined
                else:
                    if how is OBJECT:
                        shown = self._object(read, parent_type, source_value, path, response_name,
                                             field_details_list, position_context)
                    else:
                        shown = self._called(read, parent_type, source_value,
                                             Path(path, response_name, parent_type.name), field_details_list,
                                             position_context)
                    if is_awaitable(shown):
                        awaited.append(response_name)
                if shown is Undefined:  # graphql-core's full path decides
                    shown = self.execute_field(parent_type, source_value, field_details_list,
                                               Path(path, response_name, parent_type.name), position_context)
                    if shown is Undefined:  # no such field: left out
                        continue
                    if is_awaitable(shown):
                        awaited.append(response_name)
                results[response_name] = shown
        except Exception:
            if awaited:  # as graphql-core does: what other fields started may fail too, and is settled
                self.settle_in_background([results[name] for name in awaited])
            raise
        return _fields_later(results, awaited) if awaited else results

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: dict[str, Any]) -> "Plan | None":
        """How each field of `grouped_field_set` is answered; kept with the cached document when the field set
        is (collect_subfields), worked out again otherwise (an operation's root fields)."""
        reads = self.reads.get(parent_type.name)
        if reads is None or self._has_middleware():
            return None
        held = self._held
        key = (PLAN, id(grouped_field_set))
        kept: Any = held.collected.get(key) if held is not None else None
        if held is None or kept is None:  # a field set of this request only
            return plan_of(parent_type, reads, grouped_field_set)
        if kept[1] is None:
            kept = held.collected[key] = (grouped_field_set, plan_of(parent_type, reads, grouped_field_set))
        return kept[1]

    def _object(self, read: ObjectRead, parent_type: GraphQLObjectType, source: Any, path: Path | None,
                response_name: str, field_details_list: Any, position_context: Any) -> Any:
        """The object's fields executed straight away; Undefined where the full path must decide (a null, an
        awaitable, a value of another type, deferred fragments)."""
        if position_context is not None:
            return Undefined
        try:
            value = read.read(source)
        except Exception:
            return Undefined
        if value is None or isinstance(value, Exception) or self.is_awaitable(value):
            return Undefined
        object_type, field_path = read.object_type, Path(path, response_name, parent_type.name)
        if object_type.is_type_of is not None and not _of_its_own_class(object_type, value):
            info = self.build_resolve_info(read.field, to_nodes(field_details_list), parent_type, field_path)
            if not _plainly_of_type(object_type, value, info):
                return Undefined
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return Undefined
        return self._fields_of(object_type, value, field_path, grouped_field_set, read.field.type, field_details_list)

    def _fields_of(self, object_type: GraphQLObjectType, value: Any, path: Path, grouped_field_set: Any,
                   return_type: Any, field_details_list: Any) -> Any:
        """The object's fields, its errors handled at `path` as graphql-core's value completion handles them."""
        try:
            completed = self.execute_fields(object_type, value, path, grouped_field_set, None)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)  # raises where non-null
            return None
        if self.is_awaitable(completed):
            return self._completed_later(completed, return_type, field_details_list, path)
        return completed

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
            if call.leaf_coerce is not None and result is not None and not isinstance(result, Exception):
                shown = call.leaf_coerce(result)  # complete_leaf_value's coercion: what it raises, raised here
                if shown is not None and shown is not Undefined:
                    return shown
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

    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any, path: Path, result: Any,
                            position_context: Any) -> Any:
        """A list of objects (`[T!]`, T an object type) completed item by item straight into `execute_fields`:
        graphql-core's seven calls a item (non-null, list item, object, subfields...) do nothing else here."""
        item_type = return_type.of_type
        if not (isinstance(result, list) and isinstance(item_type, GraphQLNonNull)
                and isinstance(item_type.of_type, GraphQLObjectType) and position_context is None
                and not self._has_middleware()
                and (self._fixed_fields or self.get_stream_usage(field_details_list, path) is None)):
            return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)
        object_type = item_type.of_type
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if new_defer_usages:
            return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)
        is_awaitable, is_type_of, own_class = self.is_awaitable, object_type.is_type_of, _own_class(object_type)
        completed: list[Any] = []
        awaited: list[int] = []
        try:
            for index, item in enumerate(result):
                item_path = path.add_key(index, None)
                if item is None or is_awaitable(item) or isinstance(item, Exception) \
                        or (is_type_of is not None and not (type(item) is own_class and _uncast(item))
                            and not _plainly_of_type(object_type, item, info)):
                    # graphql-core's own item path, which reports each of these as it always does
                    if is_awaitable(item):
                        completed.append(self.complete_awaitable_list_item_value(
                            item, item_type, field_details_list, info, item_path, position_context))
                        awaited.append(index)
                    elif self.complete_list_item_value(item, completed, item_type, field_details_list, info,
                                                       item_path, position_context):
                        awaited.append(index)
                    continue
                completed.append(self._fields_of(object_type, item, item_path, grouped_field_set, item_type,
                                                 field_details_list))
                if is_awaitable(completed[-1]):
                    awaited.append(index)
        except Exception:
            if awaited:
                self.settle_in_background([completed[index] for index in awaited])
            raise
        return _items_later(completed, awaited) if awaited else completed

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        """graphql-core's, kept with the cached document when no selection in it carries a directive: its
        fields are then the same for every request whatever the variables, and clients send the same few
        documents again and again. Kept on the document cache's entry, it goes when the document goes."""
        held = self._held
        if held is None or not self._fixed_fields or not _without_fragment_variables(field_details_list):
            return super().collect_subfields(return_type, field_details_list)
        if len(field_details_list) == 1:  # by the ids of the nodes of that document
            key: tuple[object, ...] = (return_type.name, id(field_details_list[0].node))
        else:
            key = (return_type.name, *(id(details.node) for details in field_details_list))
        collected = held.collected.get(key)
        if collected is None:
            collected = held.collected[key] = super().collect_subfields(return_type, field_details_list)
            grouped_field_set = collected[0]
            held.collected[(PLAN, id(grouped_field_set))] = (grouped_field_set, None)  # its plan, once asked for
        return collected

    def _has_middleware(self) -> bool:
        return self._middleware


@functools.cache
def _own_class(object_type: GraphQLObjectType) -> type | None:
    """The class a Strawberry type was declared as, when its `is_type_of` is Strawberry's own (an instance of
    that class, not cast to another type, is of the type: asked without a resolve info); else None."""
    definition = object_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_type_of is not None:
        return None
    return definition.origin


def _uncast(value: Any) -> bool:
    return get_strawberry_type_cast(value) is None


def _of_its_own_class(object_type: GraphQLObjectType, value: Any) -> bool:
    return type(value) is _own_class(object_type) and _uncast(value)


def _without_fragment_variables(field_details_list: Any) -> bool:
    if len(field_details_list) == 1:
        return field_details_list[0].fragment_variable_values is None
    return all(details.fragment_variable_values is None for details in field_details_list)


def _plainly_of_type(object_type: GraphQLObjectType, value: Any, info: Any) -> bool:
    """Whether `is_type_of` says yes outright: a no, an awaitable or an exception is the full path's to report."""
    try:
        return object_type.is_type_of(value, info) is True  # type: ignore[misc]
    except Exception:
        return False


async def _fields_later(results: dict[str, Any], awaited: list[str]) -> dict[str, Any]:
    if len(awaited) == 1:  # as graphql-core does: one field needs no gathering
        results[awaited[0]] = await results[awaited[0]]
    else:
        results.update(zip(awaited, await gather_with_cancel(*(results[name] for name in awaited)), strict=True))
    return results


async def _items_later(completed: list[Any], awaited: list[int]) -> list[Any]:
    for index, value in zip(awaited, await gather_with_cancel(*(completed[index] for index in awaited)), strict=True):
        completed[index] = value
    return completed


def lean_execution_for(schema: GraphQLSchema, default_resolver: Callable[[Any, str], object],
                       info_class: type = Info, handles_exceptions: bool = False) -> type[LeanExecution]:
    reads = direct_reads(schema, default_resolver, info_class, handles_exceptions)
    return type("LeanExecution", (LeanExecution,), {"reads": reads})

"""Each GraphQL operation counted and timed by root field, and noted in its request's log line."""
import functools
import time
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from portal.ops.logs import current_request
from portal.ops.metrics import GRAPHQL_DURATION, GRAPHQL_REQUESTS, outcome_code

META_FIELDS = {"query": {"__typename", "__schema", "__type"}, "mutation": {"__typename"},
               "subscription": {"__typename"}}
NO_FIELD = "(none)"  # a document that did not parse or names no operation
OTHER = "(unknown)"  # a name the schema does not have: validation refuses it
MAX_OPERATION_NAME = 100


def root_fields(schema: GraphQLSchema, document: DocumentNode | None,
                operation_name: str | None) -> tuple[str, list[str]]:
    """The operation's type and the root fields it selects, each one the schema has (or OTHER)."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return "unknown", [NO_FIELD]
    kind = operation.operation.value
    root = schema.get_root_type(operation.operation)
    known = set(root.fields) | META_FIELDS[kind] if root is not None else set()
    names = [name if name in known else OTHER for name in _selected(operation.selection_set, document, set())]
    return kind, list(dict.fromkeys(names)) or [NO_FIELD]


def _selected(selections: SelectionSetNode, document: DocumentNode | None, seen: set[str]) -> Iterator[str]:
    fragments = {definition.name.value: definition for definition in (document.definitions if document else ())
                 if isinstance(definition, FragmentDefinitionNode)}
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _selected(selection.selection_set, document, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                seen.add(selection.name.value)
                yield from _selected(fragment.selection_set, document, seen)


REMEMBERED_TEXTS = 512  # operations; each text at most REMEMBERED_CHARACTERS long: 2 MB in all at most
REMEMBERED_CHARACTERS = 4096
_remembered: dict[tuple[str, str | None], tuple[str, list[str]]] = {}


def root_fields_of(schema: GraphQLSchema, query: str | None, document: DocumentNode | None,
                   operation_name: str | None) -> tuple[str, list[str]]:
    """`root_fields`, worked out once for a short document text that has been answered (clients send the
    same few again and again). Only the text and the answer are kept, never the parsed document, which is
    tens of times larger."""
    if query is None or document is None or len(query) > REMEMBERED_CHARACTERS:
        return root_fields(schema, document, operation_name)
    known = _remembered.get((query, operation_name))
    if known is None:
        known = root_fields(schema, document, operation_name)
        if len(_remembered) >= REMEMBERED_TEXTS:
            _remembered.clear()
        _remembered[(query, operation_name)] = known
    return known


@functools.cache
def _counted(field: str, kind: str, outcome: str) -> Any:
    return GRAPHQL_REQUESTS.labels(field=field, operation_type=kind, outcome=outcome)


@functools.cache
def _timed(field: str, kind: str) -> Any:
    return GRAPHQL_DURATION.labels(field=field, operation_type=kind)


class GraphQLMetrics(SchemaExtension):
    """Outermost of the schema's extensions, so that it sees the errors as the client gets them (ErrorCodes)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        refused = False
        try:
            yield
        except GraphQLError:  # a document refused while parsing, answered by Strawberry
            refused = True
            raise
        finally:
            self._count(time.perf_counter() - started, refused)

    def _count(self, seconds: float, refused: bool) -> None:
        context = self.execution_context
        kind, fields = root_fields_of(context.schema._schema, context.query, context.graphql_document,
                                      context.operation_name)
        result = context.result
        errors = result.errors if result is not None and result.errors else []
        outcome = "BAD_USER_INPUT" if refused else outcome_code(
            (error.extensions or {}).get("code") for error in errors)
        for field in fields:  # each a schema's root field, OTHER or NO_FIELD: the label children are few
            _counted(field, kind, outcome).inc()
            if kind != "subscription":  # a subscription lasts as long as its client wants
                _timed(field, kind).observe(seconds)
        record = current_request.get()
        if record is not None and kind != "subscription":
            record.operation_type, record.fields, record.outcome = kind, fields, outcome
            if context.operation_name:
                record.operation_name = context.operation_name[:MAX_OPERATION_NAME]

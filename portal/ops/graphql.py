"""Each GraphQL operation counted and timed by root field, and noted in its request's log line."""
import time
from collections.abc import Iterator

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
        kind, fields = root_fields(context.schema._schema, context.graphql_document, context.operation_name)
        result = context.result
        errors = result.errors if result is not None and result.errors else []
        outcome = "BAD_USER_INPUT" if refused else outcome_code(
            (error.extensions or {}).get("code") for error in errors)
        for field in fields:
            GRAPHQL_REQUESTS.labels(field=field, operation_type=kind, outcome=outcome).inc()
            if kind != "subscription":  # a subscription lasts as long as its client wants
                GRAPHQL_DURATION.labels(field=field, operation_type=kind).observe(seconds)
        record = current_request.get()
        if record is not None and kind != "subscription":
            record.operation_type, record.fields, record.outcome = kind, fields, outcome
            if context.operation_name:
                record.operation_name = context.operation_name[:MAX_OPERATION_NAME]

"""One mapping from domain errors to `extensions.code`; everything unexpected is masked."""
import logging
import re
from collections.abc import Iterable, Iterator

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case

from portal.core.errors import BadUserInput, DomainError

logger = logging.getLogger("portal.graphql")
MASKED = "Internal server error."
VARIABLE_ERROR = re.compile(r"Variable '\$(?P<variable>\w+)' (has invalid value(?: at (?P<path>(\.\w+|\[\d+\])+))?:)?")
MISSING_FIELD = re.compile(r"Expected value of type '[\w!\[\]]+' to include required field '(?P<field>\w+)'")
PYTHON_NAME = re.compile(r"[A-Za-z_]\w*")
NOWHERE = (-1, -1)


def shape_errors(errors: Iterable[GraphQLError], request_id: str,
                 document: DocumentNode | None = None) -> list[GraphQLError]:
    """The errors as the client sees them: refused input gives one error per problem, each naming its field.

    `document`, when given, locates the refused values written in it (literals) by their argument.
    """
    errors = list(errors)
    literals = literal_fields(document) if document is not None and any(error.path is None for error in errors) else {}
    return [shaped for error in errors for shaped in _shape(error, request_id, literals)]


def _shape(error: GraphQLError, request_id: str, literals: dict[tuple[int, int], str]) -> list[GraphQLError]:
    original = error.original_error
    if isinstance(original, BadUserInput):
        return [GraphQLError(problem.message, nodes=error.nodes, path=error.path,
                             extensions=_at_field(original.extensions, api_path(problem.field)))
                for problem in original.problems]
    if isinstance(original, DomainError):
        return [GraphQLError(original.message, nodes=error.nodes, path=error.path, extensions=original.extensions)]
    if original is None or error.path is None:
        # Parse, validation and variable-coercion errors: the client's request is at fault.
        extensions = _at_field({"code": "BAD_USER_INPUT", **(error.extensions or {})},
                               request_field(error, literals))
        return [GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=extensions)]
    logger.error("request %s failed at %s", request_id, error.path, exc_info=original)
    return [GraphQLError(MASKED, nodes=error.nodes, path=error.path,
                         extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})]


def _at_field(extensions: dict[str, object], field: str | None) -> dict[str, object]:
    """`extensions.field`: the path of the refused value, like `input.lineItems[0].name`."""
    return extensions if field is None else {**extensions, "field": field}


def api_path(path: str | None) -> str | None:
    """A path in Python's names (`input.line_items[0].tax_percent`) in the API's (`input.lineItems[0].taxPercent`)."""
    return None if path is None else PYTHON_NAME.sub(lambda name: to_camel_case(name.group()), path)


def request_field(error: GraphQLError, literals: dict[tuple[int, int], str]) -> str | None:
    """Where the value refused by a validation or variable-coercion error is, as `extensions.field` shows it.

    A variable's path is only in graphql-core's message: "Variable '$input' has invalid value at
    .lineItems[0].rate: …" -> "input.lineItems[0].rate" (names hold no quotes, spaces or colons, so what
    the client sent cannot pass for the path). A literal's is found from its place in the document.
    A missing required field is named at the end of the path.
    """
    found = VARIABLE_ERROR.match(error.message)
    if found is not None:
        place, rest = found["variable"] + (found["path"] or ""), error.message[found.end():].lstrip()
    else:
        place = next((literals[key] for node in error.nodes or () if (key := _span(node)) in literals), None)
        rest = error.message
    if place is None:
        return None
    missing = MISSING_FIELD.match(rest)
    return place if missing is None else f"{place}.{missing['field']}"


def literal_fields(document: DocumentNode) -> dict[tuple[int, int], str]:
    """The path of every value written in the document's arguments, by its place: `input.lineItems[0].name`."""
    fields: dict[tuple[int, int], str] = {}
    for definition in document.definitions:
        pending: list[Node] = [definition]
        while pending:
            node = pending.pop()
            if isinstance(node, ArgumentNode):
                _note_value(node.value, node.name.value, fields)
            elif isinstance(node, (OperationDefinitionNode, FragmentDefinitionNode, FieldNode, InlineFragmentNode)):
                pending += getattr(node, "arguments", None) or ()
                pending += node.selection_set.selections if node.selection_set else ()
    fields.pop(NOWHERE, None)  # nodes without a place cannot be told apart
    return fields


def _note_value(value: Node, path: str, fields: dict[tuple[int, int], str]) -> None:
    fields[_span(value)] = path
    if isinstance(value, ObjectValueNode):
        for field in value.fields:
            fields[_span(field)] = f"{path}.{field.name.value}"
            _note_value(field.value, f"{path}.{field.name.value}", fields)
    elif isinstance(value, ListValueNode):
        for index, item in enumerate(value.values):
            _note_value(item, f"{path}[{index}]", fields)


def _span(node: Node) -> tuple[int, int]:
    """A node's place in the document's text: the same in a cached copy of the document."""
    return (node.loc.start, node.loc.end) if node.loc else NOWHERE


def _mark_bad_input(error: GraphQLError) -> None:
    error.extensions = {"code": "BAD_USER_INPUT", **(error.extensions or {})}


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            # A syntax error raised by ParserCache: Strawberry answers with this very error object.
            _mark_bad_input(error)
            raise
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = getattr(self.execution_context.context, "request_id", "-")
            result.errors = shape_errors(result.errors, request_id, self.execution_context.graphql_document)

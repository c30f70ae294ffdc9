"""One rule for every string a client sends: no NUL character and no lone surrogate, anywhere.

PostgreSQL stores neither (its driver fails to encode them, and the request would end in an internal error),
and no name, text, token or id needs them. The rule is checked once per request, over the variables and the
values written in the document alike, before anything runs, so that no resolver has to remember it.
"""
import re
from collections.abc import Iterator

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    ListValueNode,
    Node,
    ObjectValueNode,
    StringValueNode,
    VariableDefinitionNode,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from portal.core.errors import BadUserInput, Problem
from portal.schema.errors import api_path

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "Text cannot contain the NUL character (U+0000) or an unpaired surrogate."


def variable_problems(variables: dict[str, object] | None) -> list[Problem]:
    """Each string in the variables that breaks the rule, at its path (`input.lineItems[0].name`)."""
    problems = []
    pending: list[tuple[object, str]] = [(value, name) for name, value in reversed((variables or {}).items())]
    while pending:  # a loop, not recursion: a deeply nested value must not overflow the stack
        value, path = pending.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                problems.append(Problem(MESSAGE, path))
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if UNSTORABLE.search(str(key)):
                    problems.append(Problem(MESSAGE, path))
                else:
                    pending.append((item, f"{path}.{key}"))
        elif isinstance(value, list):
            pending += [(item, f"{path}[{index}]") for index, item in reversed(list(enumerate(value)))]
    return problems


def literal_problems(document: DocumentNode) -> list[Problem]:
    """Each string written in the document that breaks the rule, at the path of its argument or variable."""
    problems = []
    pending: list[tuple[Node, str | None]] = [(document, None)]
    while pending:
        node, path = pending.pop()
        if isinstance(node, StringValueNode):
            if UNSTORABLE.search(node.value):
                problems.append(Problem(MESSAGE, path))
            continue
        pending += reversed(list(_children(node, path)))
    return problems


def _children(node: Node, path: str | None) -> Iterator[tuple[Node, str | None]]:
    if isinstance(node, ArgumentNode):
        yield node.value, node.name.value
    elif isinstance(node, VariableDefinitionNode):
        if node.default_value is not None:
            yield node.default_value, node.variable.name.value
    elif isinstance(node, ObjectValueNode):
        yield from ((field.value, f"{path}.{field.name.value}") for field in node.fields)
    elif isinstance(node, ListValueNode):
        yield from ((item, f"{path}[{index}]") for index, item in enumerate(node.values))
    else:
        for key in node.keys:
            child = getattr(node, key, None)
            for item in child if isinstance(child, (list, tuple)) else [child]:
                if isinstance(item, Node):
                    yield item, path


# The literals' verdict of each document text, kept while the text maps to the same parsed document: clients
# send the same few documents again and again, and CheckedDocuments parses each once.
_verdicts: dict[str, tuple[DocumentNode, list[Problem]]] = {}
MAX_VERDICTS = 512


def document_problems(query: str | None, document: DocumentNode) -> list[Problem]:
    found = _verdicts.get(query) if query is not None else None
    if found is None or found[0] is not document:
        found = (document, literal_problems(document))
        if query is not None:
            if len(_verdicts) >= MAX_VERDICTS:
                del _verdicts[next(iter(_verdicts))]
            _verdicts[query] = found
    return list(found[1])


def problems_of(context: ExecutionContext) -> list[Problem]:
    problems = variable_problems(context.variables)
    if context.graphql_document is not None:
        problems += document_problems(context.query, context.graphql_document)
    return problems


def refusal(problems: list[Problem]) -> GraphQLError:
    """One error carrying every problem: ErrorCodes answers one BAD_USER_INPUT per problem, at its field."""
    error = BadUserInput.of(problems)
    return GraphQLError(error.message, original_error=error,
                        extensions={"code": "BAD_USER_INPUT", "field": api_path(problems[0].field)})


class StorableText(SchemaExtension):
    """Refuses the whole request, before it runs, with one BAD_USER_INPUT per string that breaks the rule.

    The refusal joins the validation errors of a valid document, so that the WebSocket answers it with an
    `error` message, as any refused input; this needs the validation result, which CheckedDocuments sets
    before this extension's turn. Without one, the refusal comes just before execution instead.
    """

    checked = False

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is not None:
            self.checked = True
            problems = [] if context.pre_execution_errors else problems_of(context)
            if problems:
                context.pre_execution_errors = [refusal(problems)]
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        problems = [] if self.checked else problems_of(context)
        if problems and context.operation_type == OperationType.SUBSCRIPTION:
            raise refusal(problems)  # a subscription runs whatever result is set: stopped by raising
        if problems:
            context.result = GraphQLExecutionResult(data=None, errors=[refusal(problems)])
        yield

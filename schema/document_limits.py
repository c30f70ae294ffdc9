"""What a GraphQL document may cost, checked before it is validated, and the cache of checked documents.

Validation grows faster than the document: OverlappingFieldsCanBeMerged compares fields pairwise,
through every fragment, so 300 small fragments (20 KB, under the token limit) take over a second.
So a document is refused before validation, on what is cheap to count: its size in bytes (before
the lexer, which reads comments and strings character by character), its tokens (while parsing),
then its fragments and selections (on the parsed AST). Within these limits validation takes a few
milliseconds, and each document text is parsed and validated once: clients send the same few
documents again and again. The cache is bounded in entries and in the bytes of text it holds.
"""
import functools
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    parse,
)
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

MAX_DOCUMENT_BYTES = 32 * 1024  # a 5,000-character comment written inline still fits
MAX_TOKENS = 4000
# Within these two, the costliest shapes (every field named alike, fragments spreading one another)
# validate in about 10 ms (30 ms on a loaded machine); 50 and 500 allow 150 ms.
MAX_FRAGMENTS = 32  # fragment definitions; generated clients use a handful
MAX_SELECTIONS = 300  # fields, fragment spreads and inline fragments as written; the introspection query has 80
CACHE_ENTRIES = 512
CACHE_BYTES = 4 * 1024 * 1024


def refusal(message: str, limit: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT", "limit": limit})


def check_size(query: str) -> None:
    size = len(query.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise refusal(f"The GraphQL document has {size:,} bytes; at most {MAX_DOCUMENT_BYTES:,} are accepted.",
                      "documentBytes")


def check_cost(document: DocumentNode) -> None:
    """Fragments and selections, counted on the AST without recursion (a document may nest deep)."""
    fragments = sum(isinstance(definition, FragmentDefinitionNode) for definition in document.definitions)
    if fragments > MAX_FRAGMENTS:
        raise refusal(f"The GraphQL document defines {fragments} fragments; at most {MAX_FRAGMENTS} are accepted.",
                      "fragments")
    selections = 0
    pending: list[Node] = list(document.definitions)
    while pending:
        node = pending.pop()
        if isinstance(node, (FieldNode, FragmentSpreadNode, InlineFragmentNode)):
            selections += 1
        if isinstance(node, (OperationDefinitionNode, FragmentDefinitionNode, FieldNode, InlineFragmentNode)) \
                and node.selection_set is not None:
            if not node.selection_set.selections:  # graphql-core parses `{ }`; the grammar wants a selection
                raise GraphQLError("Syntax Error: Expected a field or fragment inside `{ }`.",
                                   node.selection_set, extensions={"code": "BAD_USER_INPUT"})
            pending += node.selection_set.selections
    if selections > MAX_SELECTIONS:
        raise refusal(f"The GraphQL document has {selections} selections (fields and fragments); at most "
                      f"{MAX_SELECTIONS} are accepted.", "selections")


@dataclass
class CheckedDocument:
    document: DocumentNode
    errors: dict[tuple[type[ASTValidationRule], ...], list[GraphQLError]] = field(default_factory=dict)
    # What the executor works out once for the document (schema/execution.py), kept and let go with it.
    collected: dict[tuple[object, ...], object] = field(default_factory=dict)

    @functools.cached_property
    def has_directives(self) -> bool:
        """Whether any selection carries a directive (@skip, @include, @defer, @stream): then which fields an
        operation has depends on its variables, or some are delivered apart."""
        pending = [definition.selection_set for definition in self.document.definitions
                   if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode))]
        while pending:
            for selection in pending.pop().selections:
                if selection.directives:
                    return True
                children = getattr(selection, "selection_set", None)  # fields and inline fragments have one
                if children is not None:
                    pending.append(children)
        return False


class DocumentCache:
    """Least recently used documents, bounded in number and in the bytes of their text."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.held_bytes = 0
        self._entries: OrderedDict[str, CheckedDocument] = OrderedDict()
        self._by_operation: dict[int, CheckedDocument] = {}  # id of each operation node of a held document

    def get(self, query: str) -> CheckedDocument | None:
        found = self._entries.get(query)
        if found is not None:
            self._entries.move_to_end(query)
        return found

    def put(self, query: str, checked: CheckedDocument) -> None:
        self._entries[query] = checked
        self.held_bytes += len(query)
        for operation in _operations(checked.document):
            self._by_operation[id(operation)] = checked
        while len(self._entries) > self.max_entries or self.held_bytes > self.max_bytes:
            oldest, evicted = self._entries.popitem(last=False)
            self.held_bytes -= len(oldest)
            for operation in _operations(evicted.document):
                if self._by_operation.get(id(operation)) is evicted:
                    del self._by_operation[id(operation)]

    def holding(self, operation: OperationDefinitionNode) -> CheckedDocument | None:
        """The held document this operation node is of; None once the document is let go (or never held).

        By id: a held document keeps its operation nodes alive, so no other object has their ids meanwhile."""
        return self._by_operation.get(id(operation))

    def __len__(self) -> int:
        return len(self._entries)


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [definition for definition in document.definitions if isinstance(definition, OperationDefinitionNode)]


documents = DocumentCache(CACHE_ENTRIES, CACHE_BYTES)


def checked_document(query: str) -> CheckedDocument:
    """The parsed document, from the cache or parsed now; a GraphQLError if it is too large or too costly."""
    found = documents.get(query)
    if found is not None:
        return found
    check_size(query)
    document = parse(query, max_tokens=MAX_TOKENS)
    check_cost(document)
    checked = CheckedDocument(document)
    documents.put(query, checked)
    return checked


class CheckedDocuments(SchemaExtension):
    """Parses and validates through the cache, refusing a costly document before validation.

    A refusal is raised from on_parse, as a syntax error is: the ErrorCodes extension codes it
    BAD_USER_INPUT (and the WebSocket handler answers it as an error message).
    """

    checked: CheckedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query is not None:
            self.checked = checked_document(query)
            self.execution_context.graphql_document = self.checked.document
        yield

    def on_validate(self) -> Iterator[None]:
        checked, context = self.checked, self.execution_context
        if checked is not None and checked.document is context.graphql_document:
            rules = context.validation_rules
            if rules not in checked.errors:
                checked.errors[rules] = validate_document(context.schema._schema, checked.document, rules)
            context.pre_execution_errors = list(checked.errors[rules])
        yield

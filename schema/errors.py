"""One mapping from domain errors to `extensions.code`; everything unexpected is masked."""
import logging

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from portal.core.errors import DomainError

logger = logging.getLogger("portal.graphql")
MASKED = "Internal server error."


def shape_error(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        return GraphQLError(original.message, nodes=error.nodes, path=error.path,
                            extensions=original.extensions)
    if original is None or error.path is None:
        # Parse, validation and variable-coercion errors: the client's request is at fault.
        extensions = {"code": "BAD_USER_INPUT", **(error.extensions or {})}
        return GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=extensions)
    logger.error("request %s failed at %s", request_id, error.path, exc_info=original)
    return GraphQLError(MASKED, nodes=error.nodes, path=error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


def _mark_bad_input(error: GraphQLError) -> None:
    error.extensions = {"code": "BAD_USER_INPUT", **(error.extensions or {})}


class ErrorCodes(SchemaExtension):
    def on_operation(self):
        try:
            yield
        except GraphQLError as error:
            # A syntax error raised by ParserCache: Strawberry answers with this very error object.
            _mark_bad_input(error)
            raise
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            request_id = getattr(self.execution_context.context, "request_id", "-")
            result.errors = [shape_error(error, request_id) for error in result.errors]

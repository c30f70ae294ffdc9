"""The GraphQL schema: every domain's queries and mutations, merged."""
from collections.abc import Callable, Iterable, Mapping

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.base import get_object_definition
from strawberry.types.scalar import ScalarDefinition

from portal.ops.graphql import GraphQLMetrics
from portal.schema import (
    activity,
    auth,
    comments,
    customers,
    dashboard,
    document_actions,
    estimates,
    invoices,
    node,
    organizations,
    payments,
    portal_updates,
    projects,
    reviews,
    transactions,
    webhooks,
)
from portal.schema.commit import CommitOnSuccess
from portal.schema.document_limits import CheckedDocuments
from portal.schema.errors import ErrorCodes
from portal.schema.execution import lean_execution_for
from portal.schema.extension_runner import ExtensionsRunner
from portal.schema.permissions import describe_roles
from portal.schema.scalars import SCALARS
from portal.schema.storable_text import StorableText

Query = merge_types("Query", (
    auth.Query, organizations.Query, customers.Query, estimates.Query, invoices.Query, payments.Query,
    projects.Query, node.Query, dashboard.Query, transactions.Query, reviews.Query, activity.Query,
    webhooks.Query,
))
Mutation = merge_types("Mutation", (
    auth.Mutation, organizations.Mutation, customers.Mutation, estimates.Mutation, invoices.Mutation,
    payments.Mutation, comments.Mutation, projects.Mutation, document_actions.Mutation, reviews.Mutation,
    webhooks.Mutation,
))

Subscription = merge_types("Subscription", (activity.Subscription, portal_updates.Subscription))

for mutation_field in get_object_definition(Mutation, strict=True).fields:
    mutation_field.extensions.append(CommitOnSuccess())
for root in (Query, Mutation, Subscription):
    describe_roles(get_object_definition(root, strict=True).fields)
ROOT_DESCRIPTIONS = {
    Query: "What the viewer may read. Each field says who may call it.",
    Mutation: "What the viewer may change; each field commits on its own. Each field says who may call it.",
    Subscription: "Live updates over WebSocket (graphql-transport-ws). Each field says who may subscribe.",
}
for root, description in ROOT_DESCRIPTIONS.items():
    get_object_definition(root, strict=True).description = description


# Built once: the validation cache is keyed by the rule classes, and each limiter makes new ones.
LIMITS = [*QueryDepthLimiter(max_depth=12).validation_rules, *MaxAliasesLimiter(max_alias_count=30).validation_rules]


class PortalSchema(strawberry.Schema):
    def __init__(self, *, query: type, mutation: type | None = None, subscription: type | None = None,
                 scalar_overrides: Mapping[object, ScalarDefinition] | None = None,
                 extensions: Iterable[type[SchemaExtension] | Callable[[], SchemaExtension]] = ()) -> None:
        super().__init__(query=query, mutation=mutation, subscription=subscription,
                         scalar_overrides=scalar_overrides, extensions=extensions)
        node.node_loaders(self)  # with the schema: a Node type that cannot load itself stops the build
        self.execution_context_class = lean_execution_for(
            self._schema, self.config.default_resolver, self.config.info_class,
            handles_exceptions=bool(self.schema_converter.exception_handlers))

    def create_extensions_runner(self, execution_context: ExecutionContext,
                                 extensions: list[SchemaExtension]) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """ErrorCodes logs what is unexpected, with the request id; expected errors are not news."""


schema = PortalSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    scalar_overrides=SCALARS,
    extensions=[
        GraphQLMetrics,  # first, so that it sees the errors as ErrorCodes shaped them
        ErrorCodes,
        lambda: AddValidationRules(LIMITS),
        # Size, tokens, fragments and selections are capped before validation; each document is parsed and
        # validated once (document_limits.py).
        CheckedDocuments,
        # No NUL or lone surrogate in any string input; after CheckedDocuments, whose validation it joins.
        StorableText,
    ],
)

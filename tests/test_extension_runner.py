"""The schema's extension runner (schema/extension_runner.py) runs every kind of hook as Strawberry's does."""
import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from portal.schema.extension_runner import ExtensionsRunner


def _recording(log: list[str]) -> type[SchemaExtension]:
    class Recording(SchemaExtension):
        def on_operation(self):  # a generator hook, which sees what the operation raises
            log.append("operation starts")
            try:
                yield
            except GraphQLError as error:
                log.append(f"operation raised {error.message}")
                raise
            log.append(f"operation ends with {self.execution_context.result.data}")

        async def on_execute(self):  # an async generator hook
            log.append("execution starts")
            yield
            log.append("execution ends")

        def on_validate(self):  # a plain function as a hook
            log.append("validated")

    return Recording


@strawberry.type
class Query:
    @strawberry.field
    def greeting(self) -> str:
        return "hello"


def _schemas(log: list[str]) -> tuple[strawberry.Schema, strawberry.Schema]:
    class Runner(strawberry.Schema):
        def create_extensions_runner(self, execution_context, extensions):
            return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    extension = _recording(log)
    return Runner(query=Query, extensions=[extension]), strawberry.Schema(query=Query, extensions=[extension])


async def test_hooks_of_every_kind_run_in_the_same_order():
    ours, theirs = [], []
    ours_schema, _ = _schemas(ours)
    _, their_schema = _schemas(theirs)

    for query in ("{ greeting }", "{ greeting", "{ nothing }"):
        ours_result, their_result = await ours_schema.execute(query), await their_schema.execute(query)
        assert (ours_result.data, ours_result.errors) == (their_result.data, their_result.errors)

    assert ours == theirs
    assert "execution ends" in ours and "validated" in ours and "operation ends with {'greeting': 'hello'}" in ours


def test_a_classs_generator_hooks_are_wrapped_once():
    from portal.schema.extension_runner import _generator_hook

    extension = _recording([])
    assert _generator_hook(extension, "on_operation") is _generator_hook(extension, "on_operation")
    assert _generator_hook(extension, "on_execute") is None  # async: Strawberry's own wrapping
    assert _generator_hook(extension, "on_parse") is None  # not overridden

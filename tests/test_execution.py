"""Plain leaf fields are read without graphql-core's per-field path (schema/execution.py), with the same answers."""
import uuid
from collections.abc import AsyncGenerator

import pytest
import strawberry
from graphql.execution.executor import Executor
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from portal.schema import schema
from portal.schema.execution import ResolverCall, lean_execution_for

LINES = [{"name": "Work", "description": "On site", "quantity": "1.5", "rate": "100", "taxPercent": "8.25"},
         {"name": "Parts", "quantity": "2", "rate": "0.1825"}]
PAGE = """{ invoices(first: 20) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { __typename id number kind status date dueDate currency subTotal taxTotal total amountPaid
    balanceDue viewedAt paymentOptions lineItems { name description quantity rate taxPercent amount } } } } }"""


@pytest.fixture
def full_path_fields(monkeypatch) -> list[str]:
    """The fields graphql-core executes along its full path, as `Type.field`."""
    taken: list[str] = []
    full_path = Executor.execute_field

    def noted(self, parent_type, source, field_details_list, *rest):
        taken.append(f"{parent_type.name}.{field_details_list[0].node.name.value}")
        return full_path(self, parent_type, source, field_details_list, *rest)

    monkeypatch.setattr(Executor, "execute_field", noted)
    return taken


async def test_a_page_takes_the_full_path_only_for_objects_and_resolvers_with_more_to_do(business, full_path_fields):
    customer = await business.customer()
    for _ in range(3):
        await business.invoice(customer["id"], LINES)

    full_path_fields.clear()
    page = (await business.staff.data(PAGE))["invoices"]

    assert len(page["edges"]) == 3
    # status and lineItems have plain resolvers, called directly; objects read from attributes (node, pageInfo)
    # are completed directly; Query.invoices has a permission extension; lists of leaves take the full path.
    assert sorted(set(full_path_fields)) == ["Invoice.paymentOptions", "InvoiceConnection.edges", "Query.invoices"]
    assert len(full_path_fields) == 2 + 3  # the root and edges; per invoice its payment options
    node = page["edges"][0]["node"]
    assert list(node) == ["__typename", "id", "number", "kind", "status", "date", "dueDate", "currency", "subTotal",
                          "taxTotal", "total", "amountPaid", "balanceDue", "viewedAt", "paymentOptions", "lineItems"]


async def test_answers_are_those_of_the_full_path(business, monkeypatch, mailbox):
    customer = await business.customer()
    for _ in range(3):
        await business.invoice(customer["id"], LINES)
    portal, _ = await business.portal_user(customer["id"], "reader@example.com", mailbox)

    lean = [await business.staff.data(PAGE), await portal.data(PAGE)]
    monkeypatch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
    full = [await business.staff.data(PAGE), await portal.data(PAGE)]

    assert lean == full
    line = lean[0]["invoices"]["edges"][0]["node"]["lineItems"][1]
    assert line == {"name": "Parts", "description": None, "quantity": "2.00", "rate": "0.1825",
                    "taxPercent": "0.00", "amount": "0.37"}


@strawberry.type
class Probe:
    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError("nullable failed")

    @strawberry.field
    def must(self, info: strawberry.Info) -> str:
        raise ValueError(f"non-null failed at {info.path.key}")

    @strawberry.field
    def later(self, root: "Probe") -> str:
        return _later(root)

    @strawberry.field
    def later_fails(self) -> str | None:
        return _failing_later()

    @strawberry.field
    def fine(self) -> int:
        return 7


async def _later(root: "Probe") -> str:
    return type(root).__name__


async def _failing_later() -> str:
    raise ValueError("awaited failure")


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def probe(self) -> Probe:
        return Probe()

    @strawberry.field
    def strict(self) -> Probe | None:
        return Probe()


async def test_resolvers_called_directly_answer_and_fail_as_the_full_path_does():
    query = "{ probe { fine fails later laterFails } strict { fine must } }"
    lean = strawberry.Schema(query=ProbeQuery)
    lean.execution_context_class = lean_execution_for(lean._schema, lean.config.default_resolver)
    full = strawberry.Schema(query=ProbeQuery)

    direct, through = await lean.execute(query), await full.execute(query)

    assert direct.data == through.data == {"probe": {"fine": 7, "fails": None, "later": "Probe", "laterFails": None},
                                           "strict": None}
    assert [(error.message, error.path) for error in direct.errors] == [
        (error.message, error.path) for error in through.errors]
    assert {error.message for error in direct.errors} == {
        "nullable failed", "awaited failure", "non-null failed at must"}
    reads = lean.execution_context_class.reads["Probe"]
    assert {name for name, read in reads.items() if isinstance(read, ResolverCall)} == {
        "fine", "fails", "must", "later", "laterFails"}


def test_awaitables_are_told_by_their_type():
    import asyncio
    import types

    from portal.schema.execution import awaitable_by_type

    class Row:  # like a SQLAlchemy row: any unknown attribute raises
        def __getattr__(self, name):
            raise AttributeError(name)

    async def coroutine():
        return 1

    @types.coroutine
    def generator_based():
        yield

    def plain_generator():
        yield

    running, loop = coroutine(), asyncio.new_event_loop()
    future = loop.create_future()
    assert [awaitable_by_type(value) for value in (running, future, generator_based(), plain_generator(), Row(),
                                                   "text", None)] == [True, True, True, False, False, False, False]
    running.close()
    loop.close()


@strawberry.type
class Mixed:
    @strawberry.field
    def with_argument(self, x: int = 1) -> str | None:  # an argument: the full path
        raise ValueError(f"with_argument failed ({x})")

    @strawberry.field
    def strict_with_argument(self, x: int = 1) -> str:
        raise ValueError("strict_with_argument failed")

    @strawberry.field
    def plain(self) -> str | None:  # called directly
        raise ValueError("plain failed")


@strawberry.type
class Item:
    name: str

    @classmethod
    def is_type_of(cls, obj, info) -> bool:
        if getattr(obj, "name", "") == "boom":
            raise RuntimeError("is_type_of failed")
        return isinstance(obj, Item)


@strawberry.type
class Holder:
    item: Item | None


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Person(Named):  # Strawberry's own is_type_of: an instance of Person, unless cast to another type
    pass


@strawberry.type
class Place(Named):
    pass


@strawberry.type
class PersonHolder:
    person: Person | None


@strawberry.type
class MixedQuery:
    @strawberry.field
    def mixed(self) -> Mixed | None:
        return Mixed()

    @strawberry.field
    def items(self) -> list[Item] | None:
        return [Item(name="a"), Item(name="boom")]

    @strawberry.field
    def holder(self) -> Holder | None:
        return Holder(item=Item(name="boom"))

    @strawberry.field
    def people(self) -> list[Person] | None:
        return [Person(name="a"), strawberry.cast(Place, Person(name="cast"))]

    @strawberry.field
    def person_holders(self) -> list[PersonHolder]:
        return [PersonHolder(person=Person(name="a")), PersonHolder(person=strawberry.cast(Place, Person(name="b")))]

    @strawberry.field
    def wrong(self) -> list[Item] | None:
        return [Item(name="a"), Holder(item=None)]  # type: ignore[list-item]


def _answer(result) -> tuple:
    return result.data, [(error.message, error.path) for error in result.errors or []]


@pytest.mark.parametrize("query", [
    "{ mixed { withArgument plain } }",  # errors in the order the fields come
    "{ mixed { plain withArgument } }",
    "{ mixed { strictWithArgument plain } }",  # the object fails at its first non-null error; plain never runs
    "{ items { name } }",  # an is_type_of that raises, in a list
    "{ holder { item { name } } }",  # and on an object read from an attribute
    "{ wrong { name } }",  # a value of another type in a list
    "{ people { name } }",  # an instance of the type's class cast to another type, in a list
    "{ personHolders { person { name } } }",  # and on an object read from an attribute
])
async def test_fields_run_and_fail_in_the_order_and_places_of_the_full_path(query):
    lean = strawberry.Schema(query=MixedQuery)
    lean.execution_context_class = lean_execution_for(lean._schema, lean.config.default_resolver)
    full = strawberry.Schema(query=MixedQuery)

    assert _answer(await lean.execute(query)) == _answer(await full.execute(query))


def test_resolvers_with_more_around_them_are_never_called_directly():
    @strawberry.type
    class Ticks:
        @strawberry.subscription
        async def tick(self) -> AsyncGenerator[int, None]:
            yield 1

    probe = strawberry.Schema(query=MixedQuery, subscription=Ticks)
    handled = lean_execution_for(probe._schema, probe.config.default_resolver, handles_exceptions=True)
    plain = lean_execution_for(probe._schema, probe.config.default_resolver)

    assert "tick" not in plain.reads["Ticks"]  # a subscription's source is not its resolver
    assert isinstance(plain.reads["Mixed"]["plain"], ResolverCall)
    assert "withArgument" not in plain.reads["Mixed"]
    assert not any(isinstance(read, ResolverCall) for reads in handled.reads.values() for read in reads.values())


async def test_fields_of_a_document_with_directives_follow_each_requests_variables(business):
    customer = await business.customer()
    await business.invoice(customer["id"], LINES)
    query = """query($lines: Boolean!) { invoices(first: 5) { edges { node { number
      lineItems @include(if: $lines) { name } } } } }"""

    with_lines = await business.staff.data(query, lines=True)
    without = await business.staff.data(query, lines=False)
    again = await business.staff.data(query, lines=True)

    assert with_lines == again and "lineItems" in with_lines["invoices"]["edges"][0]["node"]
    assert list(without["invoices"]["edges"][0]["node"]) == ["number"]


def test_what_the_executor_keeps_for_a_document_goes_with_it_from_the_cache():
    from graphql import parse

    from portal.schema.document_limits import CheckedDocument, DocumentCache

    cache = DocumentCache(max_entries=2, max_bytes=10_000)
    first, second, third = (CheckedDocument(parse(f"{{ a{number} }}")) for number in range(3))
    cache.put("first", first)
    operation = first.document.definitions[0]
    assert cache.holding(operation) is first

    cache.put("second", second)
    cache.put("third", third)  # the first goes: two entries at most

    assert cache.holding(operation) is None
    assert cache.holding(third.document.definitions[0]) is third


async def test_a_cached_documents_field_groups_are_collected_once(business, monkeypatch):
    from graphql.execution import executor

    customer = await business.customer()
    await business.invoice(customer["id"], LINES)
    collected = []
    collect = executor.collect_subfields
    monkeypatch.setattr(executor, "collect_subfields", lambda *args: collected.append(1) or collect(*args))

    page = f"{PAGE}\n# {uuid.uuid4()}"  # a document of its own: not yet in the cache
    first = await business.staff.data(page)
    once = len(collected)
    again = await business.staff.data(page)

    assert first == again and once > 0 and len(collected) == once  # the second request collected nothing

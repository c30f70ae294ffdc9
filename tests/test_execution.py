"""Plain leaf fields are read without graphql-core's per-field path (schema/execution.py), with the same answers."""
import pytest
from graphql.execution.executor import Executor

from portal.schema import schema

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


async def test_a_page_takes_the_full_path_only_for_fields_with_resolvers_or_objects(business, full_path_fields):
    customer = await business.customer()
    for _ in range(3):
        await business.invoice(customer["id"], LINES)

    full_path_fields.clear()
    page = (await business.staff.data(PAGE))["invoices"]

    assert len(page["edges"]) == 3
    assert sorted(set(full_path_fields)) == [
        "Invoice.lineItems", "Invoice.paymentOptions", "Invoice.status", "InvoiceConnection.edges",
        "InvoiceConnection.pageInfo", "InvoiceEdge.node", "Query.invoices"]
    assert len(full_path_fields) == 3 + 3 * 4  # the root, edges and pageInfo; per invoice its node and three
    node = page["edges"][0]["node"]
    assert list(node) == ["__typename", "id", "number", "kind", "status", "date", "dueDate", "currency", "subTotal",
                          "taxTotal", "total", "amountPaid", "balanceDue", "viewedAt", "paymentOptions", "lineItems"]


async def test_answers_are_those_of_the_full_path(business, monkeypatch, mailbox):
    customer = await business.customer()
    for _ in range(3):
        await business.invoice(customer["id"], LINES)
    portal, _ = await business.portal_user(customer["id"], "reader@example.com", mailbox)

    lean = [await business.staff.data(PAGE), await portal.data(PAGE)]
    monkeypatch.setattr(schema.execution_context_class, "reads", {})
    full = [await business.staff.data(PAGE), await portal.data(PAGE)]

    assert lean == full
    line = lean[0]["invoices"]["edges"][0]["node"]["lineItems"][1]
    assert line == {"name": "Parts", "description": None, "quantity": "2.00", "rate": "0.1825",
                    "taxPercent": "0.00", "amount": "0.37"}
